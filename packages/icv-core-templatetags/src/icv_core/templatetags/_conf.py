"""Settings of the template filters (read at use, like :mod:`icv_core.conf`)."""

from __future__ import annotations

from typing import Any

from icv_core.conf import settings as core_settings

#: ``ICV_CORE_DEFAULT_CURRENCY``: the ISO 4217 code ``cents_to_currency`` and
#: ``cents_to_amount`` use when a template gives none.
TEMPLATETAGS_DEFAULTS: dict[str, Any] = {
    "DEFAULT_CURRENCY": "GBP",
}

settings = core_settings.extend(TEMPLATETAGS_DEFAULTS)
