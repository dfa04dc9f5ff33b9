"""The audit part of django-icv-core: app "icv_core.audit", label icv_core_audit."""
