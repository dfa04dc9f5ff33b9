"""Exceptions raised by django-icv-core."""

from __future__ import annotations

__all__ = ["ImmutableRecordError"]


class ImmutableRecordError(Exception):
    """Raised when code tries to change a record that must never change."""
