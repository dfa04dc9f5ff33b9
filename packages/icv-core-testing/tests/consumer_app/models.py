"""A small consumer project: custom user (e-mail login), a soft-delete model,
an audited model and a compliance model."""

from __future__ import annotations

from django.contrib.auth.models import (
    AbstractBaseUser,
    BaseUserManager,
    PermissionsMixin,
)
from django.db import models

from icv_core.audit.mixins import AuditMixin
from icv_core.models import ComplianceModel, SoftDeleteModel


class MemberManager(BaseUserManager):
    def create_user(self, email, password=None, **extra):
        member = self.model(email=self.normalize_email(email), **extra)
        member.set_password(password)
        member.save(using=self._db)
        return member


class Member(AbstractBaseUser, PermissionsMixin):
    """Logs in with an e-mail address; has no username, first or last name."""

    email = models.EmailField(unique=True)
    display_name = models.CharField(max_length=100, blank=True, default="")
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)

    objects = MemberManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    def __str__(self) -> str:
        return self.email


class Invoice(SoftDeleteModel):
    number = models.CharField(max_length=20)
    total_pence = models.IntegerField(default=0)

    def __str__(self) -> str:
        return self.number


class Contract(AuditMixin, SoftDeleteModel):
    title = models.CharField(max_length=255)
    value = models.DecimalField(max_digits=10, decimal_places=2, default=0)

    def __str__(self) -> str:
        return self.title


class Note(ComplianceModel):
    text = models.TextField()
