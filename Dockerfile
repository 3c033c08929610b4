# syntax=docker/dockerfile:1
# One image for every target: the container's args choose it (-target=gateway, user, video,
# favorite, comment, relation, message, media or all; `migrate` runs the schema migration).
# ffmpeg is in the runtime image because the media worker (and -target=all) cut covers with it;
# it costs ~100 MB, so an image for the other targets alone could drop it, but one image keeps
# the chart and the rollout simple.

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
# Modules first: this layer is reused as long as go.mod/go.sum do not change.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
# CGO off: the SQLite driver is pure Go, so the binary is static and runs on any base image.
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOWORK=off go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" \
      -o /out/douyin ./cmd/douyin

FROM debian:bookworm-slim AS runtime
# ca-certificates: TLS to Qiniu and other external endpoints; tzdata: http.time-zone
# (Asia/Shanghai by default) must resolve; ffmpeg: video covers.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tzdata ffmpeg \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /data \
 && chown 65532:65532 /data
COPY --from=build /out/douyin /usr/local/bin/douyin
# A fixed numeric non-root user, so Kubernetes' runAsNonRoot can verify it without /etc/passwd.
USER 65532:65532
WORKDIR /data
ENV DOUYIN_DATA_DIR=/data TMPDIR=/tmp
EXPOSE 8080 8888 9090
ENTRYPOINT ["/usr/local/bin/douyin"]
CMD ["-target=all"]
