"""Permissions of the audit API: staff plus Django model permissions."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission


def _perm(model: Any, action: str) -> str:
    opts = model._meta
    return f"{opts.app_label}.{action}_{opts.model_name}"


class AuditModelPermission(BasePermission):
    """Authenticated staff with the model's ``view`` permission.

    Views may name extra permission actions per DRF action in
    ``extra_permission_actions`` (e.g. ``{"resolve": ["change"]}``).
    ``is_staff`` alone is never enough, and superusers pass as Django's
    permission system says they do.
    """

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active and user.is_staff):
            return False
        model = view.get_queryset().model
        actions = [
            "view",
            *getattr(view, "extra_permission_actions", {}).get(
                getattr(view, "action", None), []
            ),
        ]
        return user.has_perms([_perm(model, action) for action in actions])
