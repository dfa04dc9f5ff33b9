"""Serializers of the audit API (all fields read-only)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from icv_core.audit.models import AdminActivityLog, AuditEntry, SystemAlert


class _TargetField(serializers.Field):
    """``"app_label.model"`` of a content type FK (read-only, no extra query
    when the content type was select_related)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> str | None:
        if value is None:
            return None
        return f"{value.app_label}.{value.model}"

    def get_attribute(self, instance: Any) -> Any:
        # Return None instead of raising for a NULL foreign key.
        return getattr(instance, self.source or "", None)


class AuditEntrySerializer(serializers.ModelSerializer):
    """An audit entry, every field read-only; ``target_type`` is
    ``"app_label.model"``."""

    target_type = _TargetField(source="target_content_type")

    class Meta:
        model = AuditEntry
        fields = [
            "id",
            "created_at",
            "event_type",
            "action",
            "user",
            "username",
            "user_ref",
            "ip_address",
            "user_agent",
            "request_id",
            "target_content_type",
            "target_type",
            "target_object_id",
            "description",
            "metadata",
            "sequence",
            "prev_hash",
            "entry_hash",
        ]
        read_only_fields = fields


class AdminActivityLogSerializer(serializers.ModelSerializer):
    """An admin activity record, every field read-only."""

    target_type = _TargetField(source="target_content_type")

    class Meta:
        model = AdminActivityLog
        fields = [
            "id",
            "created_at",
            "admin_user",
            "admin_username",
            "action_type",
            "description",
            "target_content_type",
            "target_type",
            "target_object_id",
            "ip_address",
            "user_agent",
            "metadata",
        ]
        read_only_fields = fields


class SystemAlertSerializer(serializers.ModelSerializer):
    """A system alert, every field read-only; ``related_type`` is
    ``"app_label.model"``."""

    related_type = _TargetField(source="related_content_type")

    class Meta:
        model = SystemAlert
        fields = [
            "id",
            "created_at",
            "updated_at",
            "alert_type",
            "severity",
            "title",
            "message",
            "metadata",
            "related_content_type",
            "related_type",
            "related_object_id",
            "fingerprint",
            "occurrences",
            "last_seen_at",
            "is_resolved",
            "resolved_by",
            "resolved_at",
            "resolution_notes",
        ]
        read_only_fields = fields


class ResolveSerializer(serializers.Serializer):
    """Body of ``alerts/<id>/resolve/``: optional ``notes``
    (``resolution_notes`` is accepted too, as in 0.2)."""

    notes = serializers.CharField(required=False, allow_blank=True, default="")
    # Accepted for compatibility with the 0.2 API.
    resolution_notes = serializers.CharField(required=False, allow_blank=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        notes = attrs.get("resolution_notes")
        if notes is not None and not attrs.get("notes"):
            attrs["notes"] = notes
        return attrs
