"""Turning a chosen configuration into manifests a GitOps tool can reconcile."""
