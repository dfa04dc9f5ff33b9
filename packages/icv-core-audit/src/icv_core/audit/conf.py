"""Settings accessor for the audit part: the core settings plus audit-only ones.

Read at use, like :mod:`icv_core.conf`. Names are without the ``ICV_CORE_``
prefix (``settings.AUDIT_ENABLED`` reads ``ICV_CORE_AUDIT_ENABLED``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from icv_core.conf import IcvSettings
from icv_core.conf import settings as core_settings

#: Audit settings beyond the published 0.2.0 table.
AUDIT_DEFAULTS: dict[str, Any] = {
    # --- capture ---------------------------------------------------------
    # Proxies whose forwarding header is believed: addresses or CIDR networks.
    "AUDIT_TRUSTED_PROXIES": [],
    # Or: the number of proxies in front of the app (used when the list is empty).
    "AUDIT_TRUSTED_PROXY_COUNT": 0,
    # request.META key of the forwarding header read behind trusted proxies.
    "AUDIT_IP_HEADER": "HTTP_X_FORWARDED_FOR",
    # request.META key of an incoming request id (generated when absent/invalid).
    "AUDIT_REQUEST_ID_HEADER": "HTTP_X_REQUEST_ID",
    # Extra field/metadata key names masked completely (besides password,
    # token, secret and api key).
    "AUDIT_SENSITIVE_FIELDS": [],
    # Bounds of stored text (characters); longer values end with an ellipsis.
    "AUDIT_MAX_USER_AGENT_LENGTH": 512,
    "AUDIT_MAX_DESCRIPTION_LENGTH": 2000,
    # Largest serialised metadata (bytes of JSON) accepted by log_event.
    "AUDIT_MAX_METADATA_SIZE": 65536,
    # When an audit write fails: "raise" (the tracked change fails too) or
    # "alert" (the change goes through and a SystemAlert records the lost entry).
    "AUDIT_ON_FAILURE": "raise",
    # --- archive / chain -------------------------------------------------
    # Storage alias (``STORAGES``) the archive command writes to.
    "AUDIT_ARCHIVE_STORAGE": "default",
    # Path prefix of archive files inside that storage.
    "AUDIT_ARCHIVE_PREFIX": "icv_core_audit/archive/",
    # Entries per archive file (and per delete transaction).
    "AUDIT_ARCHIVE_BATCH_SIZE": 10000,
}


class AuditSettings(IcvSettings):
    """The core settings plus the audit part's, typed for type checkers."""

    if TYPE_CHECKING:
        AUDIT_TRUSTED_PROXIES: list[str]
        AUDIT_TRUSTED_PROXY_COUNT: int
        AUDIT_IP_HEADER: str
        AUDIT_REQUEST_ID_HEADER: str
        AUDIT_SENSITIVE_FIELDS: list[str]
        AUDIT_MAX_USER_AGENT_LENGTH: int
        AUDIT_MAX_DESCRIPTION_LENGTH: int
        AUDIT_MAX_METADATA_SIZE: int
        AUDIT_ON_FAILURE: str
        AUDIT_ARCHIVE_STORAGE: str
        AUDIT_ARCHIVE_PREFIX: str
        AUDIT_ARCHIVE_BATCH_SIZE: int


settings = AuditSettings({**core_settings.defaults, **AUDIT_DEFAULTS})
