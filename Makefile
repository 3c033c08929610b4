# The index of everything you can do here; each target delegates to scripts/.
.DEFAULT_GOAL := help
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: help run build test gen check-gen deps lint clean

help: ## list the targets
	@awk 'BEGIN{FS=":.*## "} /^[a-z-]+:.*## /{printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

run: build ## run the whole system on embedded defaults at http://localhost:8080 (data in ./data)
	./bin/douyin -target=all

build: ## build bin/douyin
	go build -ldflags "-X main.version=$(VERSION)" -o bin/douyin ./cmd/douyin

test: ## install/start what the tests need, then run every check and test
	scripts/test.sh

gen: ## regenerate kitex_gen/ and the gateway's HTTP models from idl/
	scripts/gen.sh

check-gen: ## fail when the generated code is not what idl/ generates
	scripts/check-gen.sh

deps: ## install and start the real backends the tests need (idempotent)
	scripts/deps.sh

lint: ## gofmt and go vet
	scripts/lint.sh

clean: ## remove build output (keeps ./data)
	rm -rf bin
