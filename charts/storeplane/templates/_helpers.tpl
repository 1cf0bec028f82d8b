{{/* The chart name, overridable. */}}
{{- define "storeplane.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The name every object of this release starts with. */}}
{{- define "storeplane.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "storeplane.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "storeplane.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "storeplane.selectorLabels" -}}
app.kubernetes.io/name: {{ include "storeplane.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "storeplane.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "storeplane.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: storeplane
{{- end -}}

{{- define "storeplane.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "storeplane.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "storeplane.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* The Secret holding the PostgreSQL URL, and its key. */}}
{{- define "storeplane.databaseSecretName" -}}
{{- default (printf "%s-database" (include "storeplane.fullname" .)) .Values.database.postgres.existingSecret -}}
{{- end -}}

{{- define "storeplane.databaseSecretKey" -}}
{{- if .Values.database.postgres.existingSecret -}}
{{- .Values.database.postgres.existingSecretKey -}}
{{- else -}}
database-url
{{- end -}}
{{- end -}}

{{/* Where people open storeplane: the explicit value, else the Ingress or HTTPRoute host. */}}
{{- define "storeplane.publicUrl" -}}
{{- if .Values.server.publicUrl -}}
{{- .Values.server.publicUrl | trimSuffix "/" -}}
{{- else if .Values.ingress.enabled -}}
{{- printf "%s://%s" (ternary "https" "http" .Values.ingress.tls.enabled) .Values.ingress.host -}}
{{- else if .Values.httpRoute.enabled -}}
{{- printf "%s://%s" (ternary "https" "http" (include "storeplane.gatewayHttps" . | eq "true")) .Values.httpRoute.host -}}
{{- end -}}
{{- end -}}

{{/* "true" when storeplane's own host is served over HTTPS by the chart's Gateway. */}}
{{- define "storeplane.gatewayHttps" -}}
{{- and .Values.httpRoute.enabled .Values.gateway.create .Values.gateway.listeners.https.enabled | toString -}}
{{- end -}}

{{/* The platform settings as the ConfigMap holds them: the `platform` value, with
     backups.keys_namespace and backups.repository.rest.namespace defaulting to the
     release's namespace, and rest left out when an s3 repository is set (values files
     merge into the default rest). */}}
{{- define "storeplane.platformSettings" -}}
{{- $platform := deepCopy .Values.platform -}}
{{- $backups := $platform.backups | default dict -}}
{{- $_ := set $backups "keys_namespace" ($backups.keys_namespace | default .Release.Namespace) -}}
{{- $repository := $backups.repository | default dict -}}
{{- if $repository.s3 -}}
{{- $_ := unset $repository "rest" -}}
{{- else -}}
{{- $rest := $repository.rest | default dict -}}
{{- $_ := set $rest "namespace" ($rest.namespace | default .Release.Namespace) -}}
{{- $_ := set $repository "rest" $rest -}}
{{- end -}}
{{- $_ := set $backups "repository" $repository -}}
{{- $_ := set $platform "backups" $backups -}}
{{- toYaml $platform -}}
{{- end -}}

{{/* The backup repository of the rendered settings: {rest: {...}} or {s3: {...}}. */}}
{{- define "storeplane.backupRepository" -}}
{{- toYaml (include "storeplane.platformSettings" . | fromYaml).backups.repository -}}
{{- end -}}

{{/* "true" when the chart renders its restic REST server. */}}
{{- define "storeplane.restServer" -}}
{{- $repository := include "storeplane.backupRepository" . | fromYaml -}}
{{- and .Values.backups.restServer.enabled (not $repository.s3) | toString -}}
{{- end -}}

{{/* The REST server's Service name and port, as the settings name them (the binary's
     defaults where they leave them out). */}}
{{- define "storeplane.restServiceName" -}}
{{- (include "storeplane.backupRepository" . | fromYaml).rest.service | default "storeplane-backups" -}}
{{- end -}}

{{- define "storeplane.restServicePort" -}}
{{- (include "storeplane.backupRepository" . | fromYaml).rest.port | default 8000 | int -}}
{{- end -}}

{{/* The REST server's selector: this release's backup-server pods. */}}
{{- define "storeplane.restServerSelectorLabels" -}}
{{ include "storeplane.selectorLabels" . }}
app.kubernetes.io/component: backup-server
{{- end -}}

{{/* The object store's credentials for backups to S3, from the platform's Secret, for
     the processes that run workers (never flags: they would show in the arguments). */}}
{{- define "storeplane.backupEnv" -}}
{{- with .Values.backups.s3.credentialsSecret -}}
- name: STOREPLANE_BACKUP_S3_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: access-key-id
- name: STOREPLANE_BACKUP_S3_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: secret-access-key
{{- end }}
{{- end -}}

{{/* Checks that the values make sense together; fails the render otherwise. */}}
{{- define "storeplane.validate" -}}
{{- $mode := .Values.database.mode -}}
{{- if not (has $mode (list "sqlite" "postgres")) -}}
{{- fail (printf "database.mode must be sqlite or postgres, not %q" $mode) -}}
{{- end -}}
{{- if and (eq $mode "sqlite") (gt (int .Values.replicaCount) 1) -}}
{{- fail "database.mode sqlite runs one replica (the database is a file on one volume): set replicaCount to 1, or use database.mode postgres" -}}
{{- end -}}
{{- if and (eq $mode "sqlite") .Values.workers.enabled -}}
{{- fail "workers.enabled needs database.mode postgres: separate worker processes share the job queue through PostgreSQL" -}}
{{- end -}}
{{- if and (eq $mode "postgres") (not .Values.database.postgres.existingSecret) (not .Values.database.postgres.url) -}}
{{- fail "database.mode postgres needs database.postgres.url or database.postgres.existingSecret" -}}
{{- end -}}
{{- if and .Values.gateway.create .Values.gateway.listeners.https.enabled (not .Values.gateway.tls.secretName) -}}
{{- fail "gateway.listeners.https.enabled needs gateway.tls.secretName (cert-manager fills it when gateway.tls.clusterIssuer is set)" -}}
{{- end -}}
{{- if and (eq (toString .Values.platform.front_door) "gateway") .Values.platform.cluster_issuer -}}
{{- fail "platform.cluster_issuer is for platform.front_door: ingress (a certificate per store through HTTP-01); with the Gateway its HTTPS listener's certificate serves every store: set gateway.tls.clusterIssuer instead" -}}
{{- end -}}
{{- if and .Values.ingress.tls.enabled (not .Values.ingress.tls.secretName) -}}
{{- fail "ingress.tls.enabled needs ingress.tls.secretName (cert-manager fills it when ingress.tls.clusterIssuer is set)" -}}
{{- end -}}
{{- $repository := include "storeplane.backupRepository" . | fromYaml -}}
{{- if and $repository.s3 (not .Values.backups.s3.credentialsSecret) -}}
{{- fail "platform.backups.repository.s3 needs backups.s3.credentialsSecret: an existing Secret with keys access-key-id and secret-access-key (without it every backup fails)" -}}
{{- end -}}
{{- if and .Values.backups.s3.credentialsSecret (not $repository.s3) -}}
{{- fail "backups.s3.credentialsSecret is for an s3 repository: set platform.backups.repository.s3, or leave the credentials out" -}}
{{- end -}}
{{- if and (eq (include "storeplane.restServer" .) "true") (ne $repository.rest.namespace .Release.Namespace) -}}
{{- fail (printf "platform.backups.repository.rest.namespace must be the release's namespace (%s) while backups.restServer.enabled runs the REST server here: leave it empty, or turn the chart's server off to use one elsewhere" .Release.Namespace) -}}
{{- end -}}
{{- end -}}

{{/* Environment shared by `serve` and `worker`: metadata store, cluster, provisioning. */}}
{{- define "storeplane.commonEnv" -}}
- name: STOREPLANE_LOG_FORMAT
  value: {{ .Values.log.format | quote }}
- name: STOREPLANE_LOG
  value: {{ .Values.log.filter | quote }}
- name: STOREPLANE_DATA_DIR
  value: /var/lib/storeplane
{{- if eq .Values.database.mode "postgres" }}
- name: STOREPLANE_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "storeplane.databaseSecretName" . }}
      key: {{ include "storeplane.databaseSecretKey" . }}
{{- end }}
- name: STOREPLANE_DATABASE_MAX_CONNECTIONS
  value: {{ .Values.database.maxConnections | quote }}
- name: STOREPLANE_DATABASE_CONNECT_TIMEOUT
  value: {{ .Values.database.connectTimeoutSeconds | quote }}
- name: STOREPLANE_PLATFORM_CONFIG
  value: /etc/storeplane/platform.yaml
- name: STOREPLANE_KUBE_QPS
  value: {{ .Values.kube.qps | quote }}
- name: STOREPLANE_KUBE_BURST
  value: {{ .Values.kube.burst | quote }}
- name: STOREPLANE_DRIFT_INTERVAL
  value: {{ .Values.provisioning.driftIntervalSeconds | quote }}
- name: STOREPLANE_READY_TIMEOUT
  value: {{ .Values.provisioning.readyTimeoutSeconds | quote }}
- name: STOREPLANE_TEARDOWN_TIMEOUT
  value: {{ .Values.provisioning.teardownTimeoutSeconds | quote }}
- name: STOREPLANE_MAX_ATTEMPTS
  value: {{ .Values.provisioning.maxAttempts | quote }}
- name: STOREPLANE_STOREFRONT_CHECK_TIMEOUT
  value: {{ .Values.provisioning.storefrontCheckTimeoutSeconds | quote }}
{{- with .Values.provisioning.storefrontCheckVia }}
- name: STOREPLANE_STOREFRONT_CHECK_VIA
  value: {{ . | quote }}
{{- end }}
- name: STOREPLANE_SHUTDOWN_GRACE
  value: {{ .Values.shutdownGraceSeconds | quote }}
{{- end -}}

{{/* Pod and container hardening shared by every storeplane container. */}}
{{- define "storeplane.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "storeplane.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}
