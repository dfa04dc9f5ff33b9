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
    # Storage alias (``STORAGES``) the archive command writes to.
    "AUDIT_ARCHIVE_STORAGE": "default",
    # Path prefix of archive files inside that storage.
    "AUDIT_ARCHIVE_PREFIX": "icv_core_audit/archive/",
    # Entries per archive file (and per delete transaction).
    "AUDIT_ARCHIVE_BATCH_SIZE": 10000,
}

settings = core_settings.extend(AUDIT_DEFAULTS)
