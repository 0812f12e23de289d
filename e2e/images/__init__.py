"""Container images of the test world, built as OCI archives without Docker (docs/images.md)."""
