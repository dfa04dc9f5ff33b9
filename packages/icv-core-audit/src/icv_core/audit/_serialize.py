"""JSON-native, lossless values for audit metadata, and masking of secrets."""

from __future__ import annotations

import datetime
import decimal
import hashlib
import json
import math
import re
import uuid
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models.fields.files import FieldFile
from django.utils.duration import duration_iso_string
from django.utils.functional import Promise

from icv_core.audit.conf import settings

#: Replaces a sensitive value completely (never a partial mask).
MASK = "[masked]"

#: Name fragments that mark a field or metadata key as sensitive (compared
#: after lower-casing and dropping ``_``, ``-`` and spaces).
BUILTIN_SENSITIVE = ("password", "passwd", "token", "secret", "apikey")

_SEPARATORS = re.compile(r"[\s_\-]+")


def _normalise(name: str) -> str:
    return _SEPARATORS.sub("", name.lower())


def is_sensitive(name: object) -> bool:
    """Whether a field or key name is masked: it contains password, passwd,
    token, secret or api key (any case, ``_``/``-`` ignored), or a name from
    ``ICV_CORE_AUDIT_SENSITIVE_FIELDS`` (compared the same way)."""
    if not isinstance(name, str):
        return False
    normal = _normalise(name)
    if any(fragment in normal for fragment in BUILTIN_SENSITIVE):
        return True
    extra = settings.AUDIT_SENSITIVE_FIELDS or ()
    return any(
        _normalise(str(item)) and _normalise(str(item)) in normal for item in extra
    )


def _clean_string(value: str) -> str:
    # PostgreSQL refuses NUL in text and jsonb, and drivers cannot encode lone
    # surrogates: replace both with U+FFFD the same way on every backend.
    if "\x00" in value or any("\ud800" <= ch <= "\udfff" for ch in value):
        return "".join(
            "\ufffd" if ch == "\x00" or "\ud800" <= ch <= "\udfff" else ch
            for ch in value
        )
    return value


def field_value(value: Any) -> Any:
    """A model field value as JSON-native data, without losing information.

    None stays null, bool/int/str as they are, Decimal and UUID as strings,
    date/time/datetime as ISO 8601, timedelta as ISO 8601 duration, files as
    their name, bytes as ``"sha256:<hex>"`` (never the raw content), finite
    floats as numbers and non-finite ones as strings. In JSON values, keys
    that look sensitive are masked and whatever is nested deeper than 32
    levels is replaced by :data:`TOO_DEEP` (never an error).
    """
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, str):
        return _clean_string(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return duration_iso_string(value)
    if isinstance(value, FieldFile):
        return value.name or None
    if isinstance(value, bytes | bytearray | memoryview):
        return "sha256:" + hashlib.sha256(bytes(value)).hexdigest()
    if isinstance(value, Promise):
        return _clean_string(str(value))
    if isinstance(value, dict | list | tuple):
        return _native(value, path="value", depth=0, cut=True)
    try:
        return _native(
            json.loads(json.dumps(value, cls=DjangoJSONEncoder)), "value", 0, cut=True
        )
    except (TypeError, ValueError):
        return _clean_string(str(value))


_MAX_DEPTH = 32

#: Replaces the part of a field value nested deeper than 32 levels (a change
#: is never refused because its value is too deep to record in full).
TOO_DEEP = "[nested too deeply]"


def _native(value: Any, path: str, depth: int, cut: bool = False) -> Any:
    """Copy a JSON tree, masking sensitive keys and cleaning strings.

    Deeper than 32 levels: ``ValueError``, or with ``cut`` the part below is
    replaced by :data:`TOO_DEEP`.
    """
    if depth > _MAX_DEPTH:
        if cut:
            return TOO_DEEP
        raise ValueError(
            f"metadata is nested deeper than {_MAX_DEPTH} levels at {path}."
        )
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            key = _clean_string(str(key))
            out[key] = (
                MASK
                if is_sensitive(key)
                else _native(item, f"{path}.{key}", depth + 1, cut)
            )
        return out
    if isinstance(value, list | tuple):
        return [
            _native(item, f"{path}[{i}]", depth + 1, cut)
            for i, item in enumerate(value)
        ]
    if isinstance(value, str):
        return _clean_string(value)
    return value


def metadata(value: Any) -> dict[str, Any]:
    """Validate ``log_event(metadata=...)`` and return its JSON-native copy.

    Raises ``TypeError`` for a non-dict or a value DjangoJSONEncoder cannot
    encode (sets, bytes, model instances, ...), and ``ValueError`` for NaN or
    infinity, circular references, nesting deeper than 32 levels, or more
    than ``ICV_CORE_AUDIT_MAX_METADATA_SIZE`` bytes of JSON. Nothing is
    written when it raises. Sensitive keys are masked.
    """
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TypeError(f"metadata must be a dict or None, not {type(value).__name__}.")
    try:
        text = json.dumps(value, cls=DjangoJSONEncoder, allow_nan=False)
    except TypeError as exc:
        raise TypeError(f"metadata is not JSON-serialisable: {exc}") from None
    except RecursionError:
        raise ValueError("metadata is nested too deeply to serialise.") from None
    except ValueError as exc:
        raise ValueError(f"metadata is not JSON-serialisable: {exc}") from None
    limit = settings.AUDIT_MAX_METADATA_SIZE
    if limit and len(text.encode("utf-8", "surrogatepass")) > limit:
        raise ValueError(
            f"metadata is larger than ICV_CORE_AUDIT_MAX_METADATA_SIZE ({limit} bytes)."
        )
    return _native(json.loads(text), "metadata", 0)
