{{/* The release's full name, at most 63 characters. */}}
{{- define "falcon-operator.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Labels that select the operator pods. */}}
{{- define "falcon-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels of every object of the release. */}}
{{- define "falcon-operator.labels" -}}
{{ include "falcon-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "falcon-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "falcon-operator.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "falcon-operator.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* Rules on the searches and on what the operator creates for them (namespaced). */}}
{{- define "falcon-operator.searchRules" -}}
- apiGroups: [autoconfig.falcon.io]
  resources: [inferenceconfigsearches]
  verbs: [get, list, watch, patch]
- apiGroups: [autoconfig.falcon.io]
  resources: [inferenceconfigsearches/status]
  verbs: [get, patch]
# ownerReferences with blockOwnerDeletion on trial pods and ConfigMaps
- apiGroups: [autoconfig.falcon.io]
  resources: [inferenceconfigsearches/finalizers]
  verbs: [update]
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch, create, delete]
- apiGroups: [""]
  resources: [configmaps]
  verbs: [get, create, patch]
- apiGroups: [""]
  resources: [events]
  verbs: [create]
{{- if .Values.rbac.allowApplyOutput }}
# output.mode Apply: server-side apply of the recommended Deployment (its ConfigMap is above);
# an apply that creates the object needs create as well as patch
- apiGroups: [apps]
  resources: [deployments]
  verbs: [create, patch]
{{- end }}
{{- end -}}
