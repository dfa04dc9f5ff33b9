"""Read-only viewsets of the audit API, with filtering done here (no
django-filter) and cursor pagination."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from icv_core.audit.api.permissions import AuditModelPermission
from icv_core.audit.api.serializers import (
    AdminActivityLogSerializer,
    AuditEntrySerializer,
    ResolveSerializer,
    SystemAlertSerializer,
)
from icv_core.audit.models import AdminActivityLog, AuditEntry, SystemAlert


class AuditCursorPagination(CursorPagination):
    """Newest first; stable under concurrent inserts; no COUNT(*) on big tables."""

    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


def _parse_when(name: str, raw: str, *, end: bool) -> dt.datetime:
    try:
        # A plain date means the whole day (parse_datetime would read it as
        # midnight on Python 3.11+).
        day = parse_date(raw)
        value = None if day is not None else parse_datetime(raw)
    except ValueError:
        day = value = None
    if day is not None:
        value = dt.datetime.combine(day, dt.time.min)
        if end:
            value += dt.timedelta(days=1)
    if value is None:
        raise ValidationError({name: f"Not an ISO 8601 date or datetime: {raw!r}."})
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def _content_type(name: str, raw: str) -> ContentType:
    app_label, _, model = raw.partition(".")
    if not app_label or not model:
        raise ValidationError({name: 'Expected "app_label.model".'})
    try:
        return ContentType.objects.get_by_natural_key(app_label, model.lower())
    except ContentType.DoesNotExist:
        raise ValidationError({name: f"Unknown model {raw!r}."}) from None


class _FilteredReadOnlyViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [AuditModelPermission]
    pagination_class = AuditCursorPagination
    #: query parameter -> model field, exact match on a choice/text value.
    exact_filters: dict[str, str] = {}
    #: query parameter -> (FK field, snapshot username field)
    user_filter: tuple[str, str, str] = ("user", "user", "username")
    target_prefix = "target"

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        params = self.request.query_params
        for param, field in self.exact_filters.items():
            values = params.getlist(param)
            if values:
                choices = self._choices(field)
                bad = [v for v in values if choices is not None and v not in choices]
                if bad:
                    raise ValidationError(
                        {param: f"Unknown value(s): {', '.join(bad)}."}
                    )
                queryset = queryset.filter(**{f"{field}__in": values})
        param, fk, username_field = self.user_filter
        if param in params:
            raw = params[param]
            pk_field = queryset.model._meta.get_field(fk).target_field
            try:
                pk = pk_field.to_python(raw)
            except Exception:
                raise ValidationError(
                    {param: f"Not a valid user id: {raw!r}."}
                ) from None
            queryset = queryset.filter(**{f"{fk}_id": pk})
        if "username" in params:
            queryset = queryset.filter(**{username_field: params["username"]})
        prefix = self.target_prefix
        if f"{prefix}_type" in params:
            ct = _content_type(f"{prefix}_type", params[f"{prefix}_type"])
            queryset = queryset.filter(**{f"{prefix}_content_type": ct})
        if f"{prefix}_id" in params:
            queryset = queryset.filter(
                **{f"{prefix}_object_id": params[f"{prefix}_id"]}
            )
        if "since" in params:
            queryset = queryset.filter(
                created_at__gte=_parse_when("since", params["since"], end=False)
            )
        if "until" in params:
            queryset = queryset.filter(
                created_at__lt=_parse_when("until", params["until"], end=True)
            )
        return queryset

    def _choices(self, field: str) -> set[str] | None:
        choices = self.get_queryset().model._meta.get_field(field).choices
        return {str(value) for value, _label in choices} if choices else None


class AuditEntryViewSet(_FilteredReadOnlyViewSet):
    """Audit entries, newest first.

    Filters: ``event_type``, ``action`` (repeatable), ``user`` (pk),
    ``username``, ``target_type`` (``app_label.model``), ``target_id``,
    ``since``/``until`` (ISO date or datetime; ``until`` is exclusive, a date
    includes that whole day), ``request_id``.
    """

    serializer_class = AuditEntrySerializer
    exact_filters = {"event_type": "event_type", "action": "action"}

    def get_queryset(self) -> QuerySet:
        return AuditEntry.objects.select_related("target_content_type")

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = super().filter_queryset(queryset)
        if "request_id" in self.request.query_params:
            queryset = queryset.filter(
                request_id=self.request.query_params["request_id"]
            )
        return queryset


class AdminActivityLogViewSet(_FilteredReadOnlyViewSet):
    """Admin activity, newest first.

    Filters: ``action_type``, ``user`` (admin user pk), ``username``,
    ``target_type``, ``target_id``, ``since``/``until``.
    """

    serializer_class = AdminActivityLogSerializer
    exact_filters = {"action_type": "action_type"}
    user_filter = ("user", "admin_user", "admin_username")

    def get_queryset(self) -> QuerySet:
        return AdminActivityLog.objects.select_related("target_content_type")


class SystemAlertViewSet(_FilteredReadOnlyViewSet):
    """System alerts (list, retrieve, resolve; no create/update/delete).

    Filters: ``alert_type``, ``severity`` (repeatable), ``is_resolved``
    (``true``/``false``), ``related_type``, ``related_id``, ``since``/``until``.
    ``POST alerts/<id>/resolve/`` with optional ``notes`` needs the change
    permission; resolving twice gives 400.
    """

    serializer_class = SystemAlertSerializer
    exact_filters = {"alert_type": "alert_type", "severity": "severity"}
    user_filter = ("resolved_by", "resolved_by", "resolved_by__username")
    target_prefix = "related"
    extra_permission_actions = {"resolve": ["change"]}

    def get_queryset(self) -> QuerySet:
        return SystemAlert.objects.select_related("related_content_type")

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = super().filter_queryset(queryset)
        raw = self.request.query_params.get("is_resolved")
        if raw is not None:
            value = {"true": True, "1": True, "false": False, "0": False}.get(
                raw.lower()
            )
            if value is None:
                raise ValidationError({"is_resolved": "Expected true or false."})
            queryset = queryset.filter(is_resolved=value)
        return queryset

    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: Any = None) -> Response:
        from icv_core.audit.models import AlertAlreadyResolvedError
        from icv_core.audit.services import resolve_alert

        alert = self.get_object()
        params = ResolveSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            resolve_alert(
                alert, resolved_by=request.user, notes=params.validated_data["notes"]
            )
        except AlertAlreadyResolvedError:
            return Response(
                {"detail": "Alert is already resolved."},
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response(self.get_serializer(alert).data)
