{{/*
Named templates of the chart. Names are prefixed with the chart's name so
that they cannot collide with those of a parent or sibling chart.
*/}}

{{/*
The chart's name, or nameOverride, as a DNS label.
*/}}
{{- define "__CHART__.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The name of every object: fullnameOverride, else the release name, suffixed
with the chart's name unless it already holds it; at most 63 characters
(the DNS label limit of Service names).
*/}}
{{- define "__CHART__.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The chart's name and version, as the helm.sh/chart label.
*/}}
{{- define "__CHART__.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The labels of every object.
*/}}
{{- define "__CHART__.labels" -}}
helm.sh/chart: {{ include "__CHART__.chart" . }}
{{ include "__CHART__.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
The labels that select the release's pods; never change them in an
upgrade (a Deployment's selector is immutable).
*/}}
{{- define "__CHART__.selectorLabels" -}}
app.kubernetes.io/name: {{ include "__CHART__.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The container image: repository@digest when a digest is set, else
repository:tag with the chart's appVersion as the default tag.
*/}}
{{- define "__CHART__.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}
