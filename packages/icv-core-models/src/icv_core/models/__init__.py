"""Abstract base models of django-icv-core.

    from icv_core.models import BaseModel, SoftDeleteModel

Importing this module defines abstract models only: it registers nothing in
the app registry and imports no concrete model.
"""

from __future__ import annotations

from icv_core.models._base import (
    BaseModel,
    TimestampedModel,
    UUIDModel,
    loaded_values,
    set_loaded_values,
)
from icv_core.models._compliance import ComplianceModel
from icv_core.models._soft_delete import SoftDeleteModel

__all__ = [
    "BaseModel",
    "ComplianceModel",
    "SoftDeleteModel",
    "TimestampedModel",
    "UUIDModel",
    "loaded_values",
    "set_loaded_values",
]
