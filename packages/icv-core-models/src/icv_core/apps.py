from __future__ import annotations

import os

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IcvCoreConfig(AppConfig):
    """The root app ``"icv_core"``: base models, checks and template filters."""

    name = "icv_core"
    label = "icv_core"
    verbose_name = _("ICV Core")
    default_auto_field = "django.db.models.BigAutoField"
    # icv_core is a PEP 420 namespace shared by several distributions. In an
    # editable install its __path__ has one entry per part, and Django refuses
    # an app with several locations unless the AppConfig names its path.
    path = os.path.dirname(os.path.abspath(__file__))

    def ready(self) -> None:
        from icv_core import checks  # noqa: F401  (registers the system checks)
