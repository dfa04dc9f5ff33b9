"""Settings accessor for the audit part: the core settings plus audit-only ones.

Read at use, like :mod:`icv_core.conf`. Names are without the ``ICV_CORE_``
prefix (``settings.AUDIT_ENABLED`` reads ``ICV_CORE_AUDIT_ENABLED``).
"""

from __future__ import annotations

from typing import Any

from icv_core.conf import settings as core_settings

#: Audit settings beyond the published 0.2.0 table.
AUDIT_DEFAULTS: dict[str, Any] = {
    # --- capture ---------------------------------------------------------
    # --- archive / chain -------------------------------------------------
}

settings = core_settings.extend(AUDIT_DEFAULTS)
