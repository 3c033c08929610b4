{{/* Chart name, truncated to the 63 characters of a DNS label. */}}
{{- define "douyin.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-qualified name; component resources append "-<component>", so keep room for it. */}}
{{- define "douyin.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 50 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "douyin.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels common to every object. */}}
{{- define "douyin.labels" -}}
helm.sh/chart: {{ include "douyin.chart" . }}
app.kubernetes.io/name: {{ include "douyin.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: douyin
{{- end }}

{{/* Selector of every douyin pod of this release (not the evaluation backends). */}}
{{- define "douyin.selectorLabels" -}}
app.kubernetes.io/name: {{ include "douyin.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Selector of one component: call with (dict "root" $ "name" $name). */}}
{{- define "douyin.componentSelector" -}}
{{ include "douyin.selectorLabels" .root }}
app.kubernetes.io/component: {{ .name }}
{{- end }}

{{- define "douyin.componentName" -}}
{{- printf "%s-%s" (include "douyin.fullname" .root) .name }}
{{- end }}

{{- define "douyin.serviceAccountName" -}}
{{- if .root.Values.serviceAccount.create }}
{{- include "douyin.componentName" . }}
{{- else }}
{{- "default" }}
{{- end }}
{{- end }}

{{- define "douyin.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
The workloads to render, as YAML: name → settings. single mode is one workload "all"; distributed
mode is every enabled component. Every template ranges over this, so both modes share one
Deployment/Service/HPA/PDB definition.
*/}}
{{- define "douyin.workloads" -}}
{{- $out := dict }}
{{- if eq .Values.deploymentMode "single" }}
{{- $w := deepCopy .Values.single }}
{{- $_ := set $w "http" true }}
{{- $_ := set $w "rpc" false }}
{{- $_ := set $w "calls" (list) }}
{{- $_ := set $w "needsData" .Values.persistence.enabled }}
{{- $_ := set $out "all" $w }}
{{- else }}
{{- range $name, $c := .Values.components }}
{{- if $c.enabled }}
{{- $_ := set $out $name (deepCopy $c) }}
{{- end }}
{{- end }}
{{- end }}
{{- toYaml $out }}
{{- end }}

{{/* The in-process settings that are secret: refused in .Values.config. */}}
{{- define "douyin.secretSettings" -}}
auth.secret db.dsn db.replicas cache.redis.password blob.qiniu.access-key blob.qiniu.secret-key
{{- end }}

{{/* DOUYIN_* name of a setting: upper case, "." and "-" as "_". */}}
{{- define "douyin.envName" -}}
{{- printf "DOUYIN_%s" (. | upper | replace "." "_" | replace "-" "_") }}
{{- end }}

{{- define "douyin.needsSecret" -}}
{{- if not (and (eq .Values.deploymentMode "single") (eq .Values.database.driver "sqlite")) }}true{{ end }}
{{- end }}

{{/* Fails the render with a clear message on combinations that cannot work. */}}
{{- define "douyin.validate" -}}
{{- $v := .Values }}
{{- $single := eq $v.deploymentMode "single" }}
{{- if and (not $single) (eq $v.database.driver "sqlite") }}
{{- fail "deploymentMode=distributed needs database.driver=mysql: SQLite is a file of one process" }}
{{- end }}
{{- if and (not $single) (eq $v.mq.backend "memory") }}
{{- fail "deploymentMode=distributed needs mq.backend=rocketmq: the memory queue only reaches consumers in the same process" }}
{{- end }}
{{- if and (not $single) (eq $v.cache.backend "memory") }}
{{- fail "deploymentMode=distributed needs cache.backend=redis: per-process caches would serve stale data" }}
{{- end }}
{{- if $single }}
{{- $scaled := or (gt (int $v.single.replicas) 1) $v.single.autoscaling.enabled }}
{{- if and $scaled (or (ne $v.database.driver "mysql") (ne $v.cache.backend "redis") (ne $v.mq.backend "rocketmq")) }}
{{- fail "single mode with more than one replica (or autoscaling) needs database.driver=mysql, cache.backend=redis and mq.backend=rocketmq" }}
{{- end }}
{{- if and $scaled (eq $v.blob.backend "local") (not (has "ReadWriteMany" $v.persistence.accessModes)) }}
{{- fail "more than one replica with blob.backend=local needs persistence.accessModes [ReadWriteMany] (or blob.backend=qiniu)" }}
{{- end }}
{{- else if and (eq $v.blob.backend "local") (not (has "ReadWriteMany" $v.persistence.accessModes)) }}
{{- fail "deploymentMode=distributed with blob.backend=local needs persistence.accessModes [ReadWriteMany]: gateway, video and media share the blobs (or use blob.backend=qiniu)" }}
{{- end }}
{{- if and (or (eq $v.database.driver "sqlite") (eq $v.blob.backend "local")) (not $v.persistence.enabled) }}
{{- fail "database.driver=sqlite and blob.backend=local keep data under /data: set persistence.enabled=true" }}
{{- end }}
{{- if and (include "douyin.needsSecret" .) (not $v.secrets.existingSecret) }}
{{- fail "secrets.existingSecret is required: create a Secret with the token key (and DB DSN, Qiniu keys) first, see docs/operations.md" }}
{{- end }}
{{- if and (eq $v.cache.backend "redis") (not $v.cache.redis.addr) (not $v.evaluation.redis.enabled) }}
{{- fail "cache.backend=redis needs cache.redis.addr (or evaluation.redis.enabled)" }}
{{- end }}
{{- if and (eq $v.mq.backend "rocketmq") (not $v.mq.rocketmq.nameservers) (not $v.evaluation.rocketmq.enabled) }}
{{- fail "mq.backend=rocketmq needs mq.rocketmq.nameservers (or evaluation.rocketmq.enabled)" }}
{{- end }}
{{- if and (not $single) (eq $v.discovery.mode "consul") (not $v.discovery.consulAddr) (not $v.evaluation.consul.enabled) }}
{{- fail "discovery.mode=consul needs discovery.consulAddr (or evaluation.consul.enabled)" }}
{{- end }}
{{- if and (eq $v.blob.backend "qiniu") (or (not $v.blob.qiniu.bucket) (not $v.blob.qiniu.domain)) }}
{{- fail "blob.backend=qiniu needs blob.qiniu.bucket and blob.qiniu.domain" }}
{{- end }}
{{- $secret := splitList " " (include "douyin.secretSettings" .) }}
{{- range $k, $_ := $v.config }}
{{- if has $k $secret }}
{{- fail (printf "config.%s is a secret: put it into the Secret named by secrets.existingSecret, never into values" $k) }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Environment that references the Secret (never its values), shared by the workloads and the
migration Job.
*/}}
{{- /* .component, when set, limits the token key to the component that uses it: only the HTTP
       edge signs and verifies tokens (the media worker, which runs ffmpeg on untrusted files,
       never holds it). */}}
{{- define "douyin.secretEnv" -}}
{{- $v := .Values }}
{{- $s := $v.secrets }}
{{- $tokens := or (not .component) (has .component (list "gateway" "all")) }}
{{- if $s.existingSecret }}
{{- if $tokens }}
- name: DOUYIN_AUTH_SECRET
  valueFrom:
    secretKeyRef: {name: {{ $s.existingSecret | quote }}, key: {{ $s.keys.authSecret | quote }}}
{{- end }}
{{- if and (ne $v.deploymentMode "single") (eq $v.discovery.mode "consul") }}
# Without a mesh, Kitex calls between components are signed with this key and checked.
- name: DOUYIN_RPC_CALLER_KEY
  valueFrom:
    secretKeyRef: {name: {{ $s.existingSecret | quote }}, key: {{ $s.keys.rpcCallerKey | quote }}}
{{- end }}
{{- end }}
{{- if eq $v.database.driver "mysql" }}
{{- if $v.evaluation.mysql.enabled }}
- name: DOUYIN_EVAL_MYSQL_PASSWORD
  valueFrom:
    secretKeyRef: {name: {{ $s.existingSecret | quote }}, key: {{ $s.keys.dbPassword | quote }}}
# Kubernetes expands $(VAR) from the variable above: the password stays in the Secret.
- name: DOUYIN_DB_DSN
  value: {{ printf "douyin:$(DOUYIN_EVAL_MYSQL_PASSWORD)@tcp(%s-mysql:3306)/douyin" (include "douyin.fullname" .) | quote }}
{{- else }}
- name: DOUYIN_DB_DSN
  valueFrom:
    secretKeyRef: {name: {{ $s.existingSecret | quote }}, key: {{ $s.keys.dbDSN | quote }}}
{{- end }}
{{- end }}
{{- if and (eq $v.cache.backend "redis") $v.cache.redis.passwordFromSecret }}
- name: DOUYIN_CACHE_REDIS_PASSWORD
  valueFrom:
    secretKeyRef: {name: {{ $s.existingSecret | quote }}, key: {{ $s.keys.redisPassword | quote }}}
{{- end }}
{{- if eq $v.blob.backend "qiniu" }}
- name: DOUYIN_BLOB_QINIU_ACCESS_KEY
  valueFrom:
    secretKeyRef: {name: {{ $s.existingSecret | quote }}, key: {{ $s.keys.qiniuAccessKey | quote }}}
- name: DOUYIN_BLOB_QINIU_SECRET_KEY
  valueFrom:
    secretKeyRef: {name: {{ $s.existingSecret | quote }}, key: {{ $s.keys.qiniuSecretKey | quote }}}
{{- end }}
{{- end }}

{{/* Non-secret settings as DOUYIN_* variables: the ConfigMap's data. */}}
{{- define "douyin.configEnv" -}}
{{- $v := .Values }}
{{- $fn := include "douyin.fullname" . }}
{{- $env := dict }}
{{- $_ := set $env "data.dir" "/data" }}
{{- if $v.trustedProxies }}{{ $_ := set $env "http.trusted-proxies" $v.trustedProxies }}{{ end }}
{{- if $v.allowedHosts }}{{ $_ := set $env "http.allowed-hosts" $v.allowedHosts }}{{ end }}
{{- if $v.publicBaseURL }}{{ $_ := set $env "http.public-base-url" $v.publicBaseURL }}{{ end }}
{{- $_ := set $env "db.driver" $v.database.driver }}
{{- $_ := set $env "db.max-open-conns" (toString $v.database.maxOpenConns) }}
{{- $_ := set $env "db.max-idle-conns" (toString $v.database.maxIdleConns) }}
{{- $_ := set $env "cache.backend" $v.cache.backend }}
{{- if eq $v.cache.backend "redis" }}
{{- $_ := set $env "cache.redis.addr" (ternary (printf "%s-redis:6379" $fn) $v.cache.redis.addr $v.evaluation.redis.enabled) }}
{{- $_ := set $env "cache.redis.db" (toString $v.cache.redis.db) }}
{{- $_ := set $env "cache.redis.key-prefix" $v.cache.redis.keyPrefix }}
{{- end }}
{{- $_ := set $env "mq.backend" $v.mq.backend }}
{{- if eq $v.mq.backend "rocketmq" }}
{{- $_ := set $env "mq.rocketmq.nameservers" (ternary (printf "%s-rocketmq:9876" $fn) $v.mq.rocketmq.nameservers $v.evaluation.rocketmq.enabled) }}
{{- $_ := set $env "mq.rocketmq.group-prefix" $v.mq.rocketmq.groupPrefix }}
{{- end }}
{{- $_ := set $env "blob.backend" $v.blob.backend }}
{{- if eq $v.blob.backend "qiniu" }}
{{- $_ := set $env "blob.qiniu.bucket" $v.blob.qiniu.bucket }}
{{- $_ := set $env "blob.qiniu.domain" $v.blob.qiniu.domain }}
{{- $_ := set $env "blob.qiniu.private" (toString $v.blob.qiniu.private) }}
{{- if $v.blob.qiniu.region }}{{ $_ := set $env "blob.qiniu.region" $v.blob.qiniu.region }}{{ end }}
{{- end }}
{{- if eq $v.deploymentMode "single" }}
{{- $_ := set $env "rpc.discovery" "none" }}
{{- else }}
{{- $_ := set $env "rpc.discovery" $v.discovery.mode }}
{{- if eq $v.discovery.mode "dns" }}
{{- $_ := set $env "rpc.dns-template" (printf "%s-{component}:8888" $fn) }}
{{- /* Under Istio the sidecars retry and eject instances: no retries stacked on retries. */}}
{{- $_ := set $env "rpc.client-policy" "off" }}
{{- else }}
{{- $_ := set $env "rpc.consul-addr" (ternary (printf "%s-consul:8500" $fn) $v.discovery.consulAddr $v.evaluation.consul.enabled) }}
{{- /* No mesh: the Kitex clients retry idempotent calls and break circuits themselves. */}}
{{- $_ := set $env "rpc.client-policy" "client" }}
{{- end }}
{{- end }}
{{- $otlpPort := ternary "4318" "4317" (eq $v.tracing.otlpProtocol "http") }}
{{- $otlp := ternary (printf "%s-jaeger:%s" $fn $otlpPort) $v.tracing.otlpEndpoint $v.evaluation.jaeger.enabled }}
{{- if $otlp }}
{{- $_ := set $env "telemetry.otlp-endpoint" $otlp }}
{{- $_ := set $env "telemetry.otlp-protocol" $v.tracing.otlpProtocol }}
{{- $_ := set $env "telemetry.sample-ratio" (toString $v.tracing.sampleRatio) }}
{{- end }}
{{- range $k, $val := $v.config }}
{{- $_ := set $env $k (toString $val) }}
{{- end }}
{{- range $k := keys $env | sortAlpha }}
{{ include "douyin.envName" $k }}: {{ get $env $k | quote }}
{{- end }}
{{- end }}

{{/* The ports of a workload that are never public: Kitex and admin. */}}
{{- define "douyin.internalPorts" -}}
{{- if .rpc }}
# Kitex speaks Thrift over TTHeader: "tcp-" makes Istio treat it as opaque TCP.
- name: tcp-rpc
  port: 8888
  targetPort: tcp-rpc
  protocol: TCP
  appProtocol: tcp
{{- end }}
- name: http-admin
  port: 9090
  targetPort: http-admin
  protocol: TCP
  appProtocol: http
{{- end }}
