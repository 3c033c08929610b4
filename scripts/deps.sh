#!/usr/bin/env bash
# Installs and starts, on 127.0.0.1, every real backend the tests use: MariaDB, Redis, RocketMQ
# (name server + broker), Consul, plus ffmpeg/ffprobe. Idempotent: what is missing is
# installed, what is not running is started, what already answers is reused and never
# stopped or restarted. Prints one line per backend, then the addresses.
#
# Runs as root on Debian 12. Downloads, builds, data and logs live under one cache dir
# (DOUYIN_DEPS_DIR, default /var/cache/douyin-deps), so a second run takes seconds:
#   consul-<v>/consul        Consul built once from the Go module proxy (not packaged in Debian)
#   jaeger-<v>/jaeger        Jaeger (the OpenTelemetry-collector all-in-one) built once the same way
#   rocketmq-<v>/lib         RocketMQ jars from Maven Central, run with the machine's Java
#   rocketmq-<v>/store       broker data; rocketmq-<v>/home/logs the name server's and broker's logs
#   mariadb/data             MariaDB data dir (ours; a MariaDB already on :3306 is reused instead)
#   logs/, run/              logs and pid files of what this script started
set -euo pipefail

DEPS_DIR=${DOUYIN_DEPS_DIR:-/var/cache/douyin-deps}
LOGS=$DEPS_DIR/logs
RUN=$DEPS_DIR/run

MYSQL_PORT=3306
REDIS_PORT=6379
NAMESRV_PORT=9876
BROKER_PORT=10911 # the broker also opens BROKER_PORT-2 (10909, "VIP" channel) and BROKER_PORT+1 (10912, HA)
CONSUL_PORT=8500  # the dev agent also opens 8300-8302 (server, serf), 8502 (gRPC) and 8600 (DNS)
JAEGER_OTLP_GRPC_PORT=4317
JAEGER_OTLP_HTTP_PORT=4318
JAEGER_QUERY_PORT=16686 # UI and HTTP API; its gRPC query API on 16685

CONSUL_VERSION=1.14.11 # newer versions need nested modules the module proxy does not serve
JAEGER_VERSION=1.75.0
ROCKETMQ_VERSION=5.3.3
ROCKETMQ_CLUSTER=DouyinLocal
ROCKETMQ_TOPICS=(douyin-favorite douyin-publish douyin-activity) # internal/mq: TopicFavorite, TopicPublish, TopicActivity
# Queues per topic. Likes are consumed in order per queue, one message at a time, so the queue
# count bounds how many likes the favorite consumer writes in one group commit: 4 queues
# drained ~700 likes/s into MariaDB, 16 ~2,200/s. Uploads wait on ffmpeg, not on queues.
declare -A ROCKETMQ_QUEUES=([douyin-favorite]=16 [douyin-publish]=4 [douyin-activity]=4)

# The local test account. It guards nothing but throwaway test databases on a loopback-only
# server, which is why the password can live here: it is not a secret.
MYSQL_TEST_USER=douyin
MYSQL_TEST_PASSWORD=douyin-local-test

say() { echo "deps: $*"; }
die() {
	echo "deps: $*" >&2
	exit 1
}

# wait_until SECONDS WHAT CMD...: polls CMD until it succeeds; fails after SECONDS.
wait_until() {
	local limit=$1 what=$2
	local deadline=$((SECONDS + limit))
	shift 2
	until "$@" >/dev/null 2>&1; do
		((SECONDS < deadline)) || die "timed out after ${limit}s waiting for $what"
		sleep 0.5
	done
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# owned NAME PATTERN: the pid file of something this script started names a live process
# whose command line matches PATTERN (so a recycled pid is not mistaken for it).
owned() {
	local pid
	pid=$(cat "$RUN/$1.pid" 2>/dev/null) || return 1
	[ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$2"
}

# spawn NAME LOG CMD...: starts CMD detached from this script (own session, no inherited
# stdio, so a caller reading our output does not wait for it) and records its pid. No other
# descriptor is inherited either: a caller's lock (flock on /tmp/douyin-multiprocess.lock)
# would otherwise be held by the daemon for as long as it runs.
spawn() {
	local name=$1 log=$2
	shift 2
	(
		for fd in /proc/$BASHPID/fd/*; do
			fd=${fd##*/}
			if [ "$fd" -gt 2 ]; then eval "exec $fd>&-"; fi
		done
		exec setsid "$@"
	) >>"$log" 2>&1 </dev/null &
	echo $! >"$RUN/$name.pid"
}

elapsed() { echo "$((SECONDS - $1))s"; }

mkdir -p "$DEPS_DIR" "$LOGS" "$RUN"

# --- Debian packages: one apt-get for everything missing --------------------------------------
need_apt=()
need() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }
need ffmpeg && need ffprobe || need_apt+=(ffmpeg)
need curl || need_apt+=(curl)
# The web app's browser tests (test/browser) drive Debian's Chromium; the CJK fonts draw its
# Chinese UI in screenshots.
need chromium || need_apt+=(chromium)
[ -d /usr/share/fonts/opentype/noto ] || need_apt+=(fonts-noto-cjk)
if ! port_open $MYSQL_PORT; then
	need mariadbd || need_apt+=(mariadb-server)
elif ! need mariadb; then
	need_apt+=(mariadb-client) # to create the test account on the MariaDB we reuse
fi
if ! port_open $REDIS_PORT; then need redis-server || need_apt+=(redis-server); fi
need java || need_apt+=(openjdk-17-jre-headless)
if [ ! -e "$DEPS_DIR/rocketmq-$ROCKETMQ_VERSION/lib/.complete" ]; then need mvn || need_apt+=(maven); fi

if [ ${#need_apt[@]} -gt 0 ]; then
	[ "$(id -u)" -eq 0 ] || die "missing ${need_apt[*]}; run as root or install them: apt-get install -y ${need_apt[*]}"
	t0=$SECONDS
	# Keep the packages' own init scripts from starting servers: we start them below with the
	# settings the tests expect, and a running Redis with persistence would be reused instead.
	own_policy=false
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		own_policy=true
		trap 'rm -f /usr/sbin/policy-rc.d' EXIT
	fi
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
	if $own_policy; then
		rm -f /usr/sbin/policy-rc.d
		trap - EXIT
	fi
	say "apt       installed ${need_apt[*]} ($(elapsed $t0))"
fi

# --- the backends, started side by side -------------------------------------------------------
# Each runs in its own background subshell: set -e applies inside it (it would not in an
# `if` or `||` context), a failure in one does not stop the others, and Consul's one-time
# build overlaps the Java start-ups.

setup_ffmpeg() {
	say "ffmpeg    ready $(ffmpeg -version | awk 'NR==1{print $3}')$([[ " ${need_apt[*]} " == *" ffmpeg "* ]] && echo ' (installed)')"
	say "chromium  ready $(chromium --version 2>/dev/null | awk '{print $2}')$([[ " ${need_apt[*]} " == *" chromium "* ]] && echo ' (installed)')"
}

mysql_root() {
	# Root logs in over the socket (unix_socket authentication): ours, else Debian's.
	local sock=$DEPS_DIR/mariadb/mysqld.sock
	[ -S "$sock" ] || sock=/run/mysqld/mysqld.sock
	mariadb --protocol=socket --socket="$sock" -uroot "$@"
}

mysql_test_login() {
	MYSQL_PWD=$MYSQL_TEST_PASSWORD mariadb --protocol=tcp -h127.0.0.1 -P$MYSQL_PORT -u$MYSQL_TEST_USER -e 'SELECT 1'
}

setup_mariadb() {
	local t0=$SECONDS action=reused mdb=$DEPS_DIR/mariadb
	if ! port_open $MYSQL_PORT; then
		action=started
		install -d -o mysql -g mysql -m 750 "$mdb" "$mdb/data"
		if [ ! -d "$mdb/data/mysql" ]; then
			mariadb-install-db --no-defaults --user=mysql --datadir="$mdb/data" \
				--auth-root-authentication-method=socket --skip-test-db >"$LOGS/mariadb-install.log" 2>&1 ||
				die "mariadb: mariadb-install-db failed, see $LOGS/mariadb-install.log"
		fi
		# --no-defaults: the server must not depend on /etc/mysql; utf8mb4 as Debian's own
		# configuration sets it (the compiled-in default is latin1).
		start-stop-daemon --start --oknodo --background --pidfile "$mdb/mysqld.pid" --exec /usr/sbin/mariadbd -- \
			--no-defaults --user=mysql --datadir="$mdb/data" --socket="$mdb/mysqld.sock" \
			--pid-file="$mdb/mysqld.pid" --log-error="$mdb/mariadb.log" \
			--bind-address=127.0.0.1 --port=$MYSQL_PORT \
			--character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
			>/dev/null 2>&1 </dev/null
		wait_until 60 "mariadb answering (log: $mdb/mariadb.log)" mariadb-admin --protocol=socket --socket="$mdb/mysqld.sock" -uroot ping
	fi
	# Idempotent: the statements converge to the same account whatever existed before.
	local grants=""
	for host in 127.0.0.1 localhost; do
		grants+="CREATE USER IF NOT EXISTS '$MYSQL_TEST_USER'@'$host' IDENTIFIED BY '$MYSQL_TEST_PASSWORD';"
		grants+="ALTER USER '$MYSQL_TEST_USER'@'$host' IDENTIFIED BY '$MYSQL_TEST_PASSWORD';"
		grants+="GRANT ALL PRIVILEGES ON \`douyin%\`.* TO '$MYSQL_TEST_USER'@'$host';"
	done
	if ! mysql_root -e "$grants" >"$LOGS/mariadb-account.log" 2>&1; then
		# A server we cannot administer (not ours, no root socket) may still have the account.
		mysql_test_login >/dev/null 2>&1 ||
			die "mariadb: cannot create the $MYSQL_TEST_USER account on the server at :$MYSQL_PORT (see $LOGS/mariadb-account.log)"
	fi
	mysql_test_login >/dev/null 2>&1 || die "mariadb: $MYSQL_TEST_USER cannot log in over 127.0.0.1:$MYSQL_PORT"
	say "mariadb   $action 127.0.0.1:$MYSQL_PORT (account $MYSQL_TEST_USER on databases douyin*) ($(elapsed $t0))"
}

redis_ping() {
	# Plain RESP over bash's /dev/tcp: no dependency on redis-cli for a server we reuse.
	(
		exec 4<>"/dev/tcp/127.0.0.1/$REDIS_PORT"
		printf 'PING\r\n' >&4
		read -r -t 2 reply <&4
		[[ $reply == +PONG* ]]
	) 2>/dev/null
}

setup_redis() {
	local t0=$SECONDS action=reused
	if ! redis_ping; then
		port_open $REDIS_PORT && die "redis: something on :$REDIS_PORT does not answer PING"
		action=started
		mkdir -p "$DEPS_DIR/redis"
		redis-server --daemonize yes --bind 127.0.0.1 --port $REDIS_PORT --save "" --appendonly no \
			--dir "$DEPS_DIR/redis" --logfile "$LOGS/redis.log" --pidfile "$RUN/redis.pid"
		wait_until 20 "redis answering PING (log: $LOGS/redis.log)" redis_ping
	fi
	say "redis     $action 127.0.0.1:$REDIS_PORT ($(elapsed $t0))"
}

consul_leader() {
	curl -fsS -m 2 "http://127.0.0.1:$CONSUL_PORT/v1/status/leader" 2>/dev/null | grep -q '^"[^"]\+"$'
}

setup_consul() {
	local t0=$SECONDS action=reused dir=$DEPS_DIR/consul-$CONSUL_VERSION
	if ! consul_leader && port_open $CONSUL_PORT; then
		# Something else answers: an agent still electing itself, or not Consul at all.
		owned consul "consul agent" || action="reused (not ours)"
		wait_until 30 "the agent on :$CONSUL_PORT electing a leader" consul_leader
	elif ! consul_leader; then
		if [ ! -x "$dir/consul" ]; then
			command -v go >/dev/null || die "consul: not installed and no Go toolchain to build it"
			# A throwaway module that requires the consul module, so `go build` resolves its
			# dependencies from the proxy; gocheck's old import path no longer resolves.
			mkdir -p "$dir/src"
			cat >"$dir/src/go.mod" <<-EOF
				module douyin.local/consul

				go 1.26.0

				require github.com/hashicorp/consul v$CONSUL_VERSION

				replace launchpad.net/gocheck => github.com/go-check/check v0.0.0-20140225173054-eb6ee6f84d0a
			EOF
			printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/hashicorp/consul"\n' >"$dir/src/tools.go"
			say "consul    building v$CONSUL_VERSION from the Go module proxy (once; a few minutes)"
			(cd "$dir/src" && GOWORK=off GOFLAGS="-mod=mod -buildvcs=false" GONOSUMDB=github.com/envoyproxy \
				go build -o "$dir/consul.tmp" github.com/hashicorp/consul) >"$LOGS/consul-build.log" 2>&1 ||
				die "consul: build failed, see $LOGS/consul-build.log"
			mv "$dir/consul.tmp" "$dir/consul"
			action="built, started"
		else
			action=started
		fi
		spawn consul "$LOGS/consul.log" "$dir/consul" agent -dev -client 127.0.0.1 -bind 127.0.0.1 -http-port $CONSUL_PORT
		wait_until 60 "consul electing a leader (log: $LOGS/consul.log)" consul_leader
	fi
	say "consul    $action 127.0.0.1:$CONSUL_PORT ($(elapsed $t0))"
}

jaeger_answers() {
	curl -fsS -m 2 "http://127.0.0.1:$JAEGER_QUERY_PORT/api/services" 2>/dev/null | grep -q '"data"'
}

# Jaeger keeps traces in memory (bounded): the tests read back what they just produced, and a
# restart forgets everything, which is what a test box wants.
setup_jaeger() {
	local t0=$SECONDS action=reused dir=$DEPS_DIR/jaeger-$JAEGER_VERSION
	if ! jaeger_answers; then
		for p in $JAEGER_OTLP_GRPC_PORT $JAEGER_OTLP_HTTP_PORT $JAEGER_QUERY_PORT; do
			port_open "$p" && die "jaeger: something that is not Jaeger's query API listens on :$p"
		done
		if [ ! -x "$dir/jaeger" ]; then
			command -v go >/dev/null || die "jaeger: not built and no Go toolchain to build it"
			mkdir -p "$dir/src"
			cat >"$dir/src/go.mod" <<-EOF
				module douyin.local/jaeger

				go 1.26.0

				require github.com/jaegertracing/jaeger v$JAEGER_VERSION
			EOF
			printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/jaegertracing/jaeger/cmd/jaeger"\n' >"$dir/src/tools.go"
			say "jaeger    building v$JAEGER_VERSION from the Go module proxy (once; several minutes)"
			(cd "$dir/src" && GOWORK=off GOFLAGS="-mod=mod -buildvcs=false" \
				go build -o "$dir/jaeger.tmp" github.com/jaegertracing/jaeger/cmd/jaeger) >"$LOGS/jaeger-build.log" 2>&1 ||
				die "jaeger: build failed, see $LOGS/jaeger-build.log"
			mv "$dir/jaeger.tmp" "$dir/jaeger"
			action="built, started"
		else
			action=started
		fi
		# The all-in-one's built-in configuration listens on every interface and on a dozen
		# ports; this one: OTLP in, memory storage, the query UI/API, all on loopback.
		cat >"$dir/config.yaml" <<-EOF
			service:
			  extensions: [jaeger_storage, jaeger_query]
			  pipelines:
			    traces:
			      receivers: [otlp]
			      processors: [batch]
			      exporters: [jaeger_storage_exporter]
			  telemetry:
			    metrics:
			      level: none
			    logs:
			      level: warn
			extensions:
			  jaeger_storage:
			    backends:
			      memstore:
			        memory:
			          max_traces: 50000
			  jaeger_query:
			    storage:
			      traces: memstore
			    enable_tracing: false
			    http:
			      endpoint: 127.0.0.1:$JAEGER_QUERY_PORT
			    grpc:
			      endpoint: 127.0.0.1:$((JAEGER_QUERY_PORT - 1))
			receivers:
			  otlp:
			    protocols:
			      grpc:
			        endpoint: 127.0.0.1:$JAEGER_OTLP_GRPC_PORT
			      http:
			        endpoint: 127.0.0.1:$JAEGER_OTLP_HTTP_PORT
			processors:
			  batch:
			exporters:
			  jaeger_storage_exporter:
			    trace_storage: memstore
		EOF
		spawn jaeger "$LOGS/jaeger.log" "$dir/jaeger" --config "$dir/config.yaml"
		wait_until 60 "jaeger answering on :$JAEGER_QUERY_PORT (log: $LOGS/jaeger.log)" jaeger_answers
	fi
	say "jaeger    $action OTLP 127.0.0.1:$JAEGER_OTLP_GRPC_PORT (gRPC), :$JAEGER_OTLP_HTTP_PORT (HTTP), UI/API http://127.0.0.1:$JAEGER_QUERY_PORT ($(elapsed $t0))"
}

# --- RocketMQ ---------------------------------------------------------------------------------
RMQ=$DEPS_DIR/rocketmq-$ROCKETMQ_VERSION

# mqadmin ARGS...: RocketMQ's admin tool against our name server. ROCKETMQ_HOME is required by
# every RocketMQ main class; user.home moves their logs into the cache dir. Logback prints its
# configuration status ("|-INFO ...") to stdout: dropped.
mqadmin() {
	ROCKETMQ_HOME=$RMQ java -Xms64m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Duser.home="$RMQ/home" \
		-cp "$RMQ/lib/*" org.apache.rocketmq.tools.command.MQAdminStartup "$@" -n 127.0.0.1:$NAMESRV_PORT 2>&1 |
		grep -v '|-' || true
}

# stored_queues TOPIC: the read queue count of TOPIC in our broker's topic table, or nothing.
stored_queues() {
	awk -v topic="\"$1\":{" 'index($0, topic) { found = 1 }
		found && /"readQueueNums"/ { gsub(/[^0-9]/, ""); print; exit }' "$RMQ/store/config/topics.json" 2>/dev/null
}

# topics_in_store: the broker's own topic table (ours) lists every topic.
topics_in_store() {
	local t
	for t in "${ROCKETMQ_TOPICS[@]}"; do
		grep -q "\"$t\"" "$RMQ/store/config/topics.json" 2>/dev/null || return 1
	done
}

# broker_booted LOG OFFSET: the broker started at OFFSET of LOG says it booted.
broker_booted() {
	[ "$(tail -c +"$2" "$1" | grep -c "boot success")" -gt 0 ]
}

# broker_registered: the name server knows a broker on BROKER_PORT.
broker_registered() {
	mqadmin clusterList | grep -Eq "[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+:$BROKER_PORT"
}

setup_rocketmq() {
	local t0=$SECONDS did=()
	mkdir -p "$RMQ/home" "$RMQ/store"

	# The broker refuses writes once its disk is 90% full (diskSpaceWarningLevelRatio) and
	# above 75% (diskMaxUsedSpaceRatio) starts deleting old commit log files, at 85% even
	# unconsumed ones: tests then fail in confusing ways, so say it up front.
	local used
	used=$(df -P "$RMQ/store" | awk 'NR==2{u=$3; a=$4; printf "%d", (u*100 + u + a - 1)/(u + a)}')
	if ((used >= 90)); then
		die "rocketmq: the disk of $RMQ/store is ${used}% full; the broker refuses writes at 90% (free space, or set DOUYIN_DEPS_DIR to another disk)"
	elif ((used >= 75)); then
		say "rocketmq  WARNING: the disk of $RMQ/store is ${used}% full; the broker deletes old messages above 75% and refuses writes at 90%"
	fi

	if [ ! -e "$RMQ/lib/.complete" ]; then
		# A throwaway project whose only job is to let Maven resolve the server jars and
		# their dependencies; the default start scripts are not used (they ask for 4-8 GiB).
		cat >"$RMQ/pom.xml" <<-EOF
			<?xml version="1.0" encoding="UTF-8"?>
			<project xmlns="http://maven.apache.org/POM/4.0.0">
			  <modelVersion>4.0.0</modelVersion>
			  <groupId>douyin.local</groupId>
			  <artifactId>rocketmq-server</artifactId>
			  <version>1</version>
			  <packaging>pom</packaging>
			  <dependencies>
			    <dependency><groupId>org.apache.rocketmq</groupId><artifactId>rocketmq-namesrv</artifactId><version>$ROCKETMQ_VERSION</version></dependency>
			    <dependency><groupId>org.apache.rocketmq</groupId><artifactId>rocketmq-broker</artifactId><version>$ROCKETMQ_VERSION</version></dependency>
			    <dependency><groupId>org.apache.rocketmq</groupId><artifactId>rocketmq-tools</artifactId><version>$ROCKETMQ_VERSION</version></dependency>
			  </dependencies>
			</project>
		EOF
		rm -rf "${RMQ:?}/lib"
		(cd "$RMQ" && mvn -q -B -Dmaven.repo.local="$DEPS_DIR/m2" dependency:copy-dependencies -DoutputDirectory=lib) \
			>"$LOGS/rocketmq-maven.log" 2>&1 || die "rocketmq: downloading the jars failed, see $LOGS/rocketmq-maven.log"
		touch "$RMQ/lib/.complete"
		did+=("downloaded $ROCKETMQ_VERSION jars")
	fi

	local namesrv_started=false broker_started=false
	if ! port_open $NAMESRV_PORT; then
		printf 'listenPort=%s\nbindAddress=127.0.0.1\n' $NAMESRV_PORT >"$RMQ/namesrv.conf"
		spawn rocketmq-namesrv "$LOGS/rocketmq-namesrv.log" \
			env ROCKETMQ_HOME="$RMQ" java -Xms256m -Xmx256m -XX:+ExitOnOutOfMemoryError -Duser.home="$RMQ/home" \
			-cp "$RMQ/lib/*" org.apache.rocketmq.namesrv.NamesrvStartup -c "$RMQ/namesrv.conf"
		wait_until 60 "the rocketmq name server listening (log: $LOGS/rocketmq-namesrv.log)" port_open $NAMESRV_PORT
		did+=("started name server")
		namesrv_started=true
	fi
	local broker_log=$LOGS/rocketmq-broker.log
	if ! port_open $BROKER_PORT; then
		# Small files and heap for a test box: 128 MiB commit log files instead of 1 GiB,
		# 30,000-entry consume queue files, a small index; 512 MiB heap and direct memory.
		# Generous send-queue and page-cache timeouts so a loaded CI machine is slow, not
		# "broker busy".
		cat >"$RMQ/broker.conf" <<-EOF
			brokerClusterName=$ROCKETMQ_CLUSTER
			brokerName=broker-a
			brokerId=0
			namesrvAddr=127.0.0.1:$NAMESRV_PORT
			brokerIP1=127.0.0.1
			bindAddress=127.0.0.1
			listenPort=$BROKER_PORT
			storePathRootDir=$RMQ/store
			storePathCommitLog=$RMQ/store/commitlog
			autoCreateTopicEnable=true
			autoCreateSubscriptionGroup=true
			defaultTopicQueueNums=4
			mappedFileSizeCommitLog=134217728
			mappedFileSizeConsumeQueue=600000
			maxHashSlotNum=100000
			maxIndexNum=400000
			fileReservedTime=24
			waitTimeMillsInSendQueue=1000
			osPageCacheBusyTimeOutMills=3000
		EOF
		local log_from
		log_from=$(($(stat -c %s "$broker_log" 2>/dev/null || echo 0) + 1))
		spawn rocketmq-broker "$broker_log" \
			env ROCKETMQ_HOME="$RMQ" java -Xms512m -Xmx512m -XX:MaxDirectMemorySize=512m -XX:+ExitOnOutOfMemoryError \
			-Duser.home="$RMQ/home" -cp "$RMQ/lib/*" org.apache.rocketmq.broker.BrokerStartup -c "$RMQ/broker.conf"
		# BrokerStartup registers with the name server before it prints "boot success", and
		# reading that line costs nothing where asking the name server costs a JVM start.
		wait_until 120 "the rocketmq broker booting (log: $broker_log)" broker_booted "$broker_log" "$log_from"
		did+=("started broker")
		broker_started=true
	fi

	# Our broker keeps its topic table in its store, so what exists is a file read away; a
	# broker we did not start is asked through the name server (mqadmin, a JVM start each).
	local ours=false missing=() t
	if $broker_started || owned rocketmq-broker BrokerStartup; then ours=true; fi
	if ! $ours || { $namesrv_started && ! $broker_started; }; then
		# A fresh name server learns about a running broker at its next heartbeat (30 s).
		wait_until 120 "a rocketmq broker registered with the name server" broker_registered
	fi
	if $ours; then
		# Missing, or created with another queue count (an older deps.sh): (re)declare it.
		for t in "${ROCKETMQ_TOPICS[@]}"; do
			[ "$(stored_queues "$t")" = "${ROCKETMQ_QUEUES[$t]}" ] || missing+=("$t")
		done
	else
		local listed
		listed=$(mqadmin topicList)
		for t in "${ROCKETMQ_TOPICS[@]}"; do
			grep -qx "$t" <<<"$listed" || missing+=("$t")
		done
	fi
	if [ ${#missing[@]} -gt 0 ]; then
		# A push consumer subscribes only to a topic that exists, and may wait ~20 s for its
		# first rebalance after one appears: create them now, in one batch (one JVM).
		local json="" sep=""
		for t in "${missing[@]}"; do
			json+="$sep{\"topicName\":\"$t\",\"readQueueNums\":${ROCKETMQ_QUEUES[$t]},\"writeQueueNums\":${ROCKETMQ_QUEUES[$t]},\"perm\":6,\"topicFilterType\":\"SINGLE_TAG\",\"topicSysFlag\":0,\"order\":false}"
			sep=","
		done
		echo "[$json]" >"$RMQ/topics-to-create.json"
		mqadmin updateTopicList -b 127.0.0.1:$BROKER_PORT -f "$RMQ/topics-to-create.json" | grep -q success ||
			die "rocketmq: creating topics ${missing[*]} failed"
		if $ours; then
			wait_until 30 "the rocketmq broker storing topics ${missing[*]}" topics_in_store
		fi
		did+=("declared topics ${missing[*]}")
	fi
	[ ${#did[@]} -gt 0 ] || did=(reused)
	local what
	what=$(printf '%s, ' "${did[@]}")
	say "rocketmq  ${what%, }: name server 127.0.0.1:$NAMESRV_PORT, broker 127.0.0.1:$BROKER_PORT (+$((BROKER_PORT - 2)), $((BROKER_PORT + 1))), topics ${ROCKETMQ_TOPICS[*]} ($(elapsed $t0))"
}

parts=(ffmpeg mariadb redis rocketmq consul jaeger)
pids=()
for part in "${parts[@]}"; do
	("setup_$part") &
	pids+=($!)
done
failed=()
for i in "${!parts[@]}"; do
	wait "${pids[$i]}" || failed+=("${parts[$i]}")
done

cat <<EOF
deps: addresses
MYSQL_DSN=$MYSQL_TEST_USER:$MYSQL_TEST_PASSWORD@tcp(127.0.0.1:$MYSQL_PORT)/
REDIS_ADDR=127.0.0.1:$REDIS_PORT
ROCKETMQ_NAMESRV=127.0.0.1:$NAMESRV_PORT
CONSUL_ADDR=127.0.0.1:$CONSUL_PORT
OTLP_ENDPOINT=127.0.0.1:$JAEGER_OTLP_GRPC_PORT
JAEGER_QUERY=http://127.0.0.1:$JAEGER_QUERY_PORT
EOF
[ ${#failed[@]} -eq 0 ] || die "FAILED: ${failed[*]} (the others are up)"
