from __future__ import annotations

from django.db import models

from icv_core.models import SoftDeleteModel


class Parent(SoftDeleteModel):
    name = models.CharField(max_length=20)


class Child(SoftDeleteModel):
    parent = models.ForeignKey(Parent, on_delete=models.CASCADE)
