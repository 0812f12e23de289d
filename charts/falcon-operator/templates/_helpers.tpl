{{/* The chart's name: nameOverride or the chart name. */}}
{{- define "falcon-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release's full name, at most 63 characters: fullnameOverride; else the release name
when it contains the chart's name (release falcon-operator: falcon-operator); else the chart's
name when it begins with the release name and a dash (release falcon: falcon-operator); else
<release>-<name>. */}}
{{- define "falcon-operator.fullname" -}}
{{- $name := include "falcon-operator.name" . -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else if hasPrefix (printf "%s-" .Release.Name) $name -}}
{{- $name -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Labels that select the operator pods. */}}
{{- define "falcon-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "falcon-operator.name" . }}
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
# an apply that creates the object needs create as well as patch; get reads who owns it
# (docs/security.md)
- apiGroups: [apps]
  resources: [deployments]
  verbs: [get, create, patch]
{{- end }}
{{- end -}}

{{/* "true" when the release installs and upgrades the CRD named .name (.root: the top
context): it does not exist yet, or this release installed it. Empty when it exists and
something else manages it (kubectl apply -f crds/, a GitOps tool, another release): the
release then leaves it alone instead of failing on Helm's ownership check. `helm template`
and `helm lint` see no cluster, so they always render it. */}}
{{- define "falcon-operator.ownsCrd" -}}
{{- $live := lookup "apiextensions.k8s.io/v1" "CustomResourceDefinition" "" .name -}}
{{- if not $live -}}
true
{{- else if and (eq (dig "metadata" "annotations" "meta.helm.sh/release-name" "" $live) .root.Release.Name) (eq (dig "metadata" "annotations" "meta.helm.sh/release-namespace" "" $live) .root.Release.Namespace) -}}
true
{{- end -}}
{{- end -}}
