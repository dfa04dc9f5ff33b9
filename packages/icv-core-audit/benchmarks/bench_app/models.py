"""Benchmark subjects: plain-Django floors and their django-icv-core twins."""

from __future__ import annotations

import uuid

from django.db import models

from icv_core.audit.mixins import AuditMixin
from icv_core.models import BaseModel, SoftDeleteModel


class FloorInt(models.Model):
    """Plain Django: integer pk, no timestamps."""

    name = models.CharField(max_length=100)
    value = models.IntegerField(default=0)

    def __str__(self) -> str:
        return self.name


class FloorFull(models.Model):
    """Plain Django written by hand: what BaseModel + soft delete replace."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    is_active = models.BooleanField(default=True, db_index=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    name = models.CharField(max_length=100)
    value = models.IntegerField(default=0)

    def __str__(self) -> str:
        return self.name


class IcvBase(BaseModel):
    name = models.CharField(max_length=100)
    value = models.IntegerField(default=0)

    def __str__(self) -> str:
        return self.name


class IcvSoft(SoftDeleteModel):
    name = models.CharField(max_length=100)
    value = models.IntegerField(default=0)

    def __str__(self) -> str:
        return self.name


class IcvAudited(AuditMixin, BaseModel):
    name = models.CharField(max_length=100)
    value = models.IntegerField(default=0)

    def __str__(self) -> str:
        return self.name
