"""Primary-key UUIDs: version 4 (random) or RFC 9562 version 7 (time-sorted).

:func:`make_uuid` is the ``default`` of every ``UUIDModel.id``. It is one
stable importable callable, so migrations record it once and never change
when ``ICV_CORE_UUID_VERSION`` changes: the setting is read each time an id
is made.

:func:`uuid7` gives ids that are strictly increasing within one process,
even within one millisecond and when the wall clock steps back (RFC 9562
section 6.2, method 1: a 42-bit counter seeded randomly each millisecond).

The standard library's ``uuid.uuid7`` (Python 3.14+) is deliberately not
used, although it uses the same method and also survives the clock stepping
back: it keeps the last timestamp and counter in module globals and updates
them without a lock. Two threads can read the same state and both return an
id with the same timestamp and counter (they differ only in the random
tail), so an id returned later can sort before one returned earlier, which
breaks "strictly increasing within one process" as soon as ids are made in
more than one thread (a thread pool, an ASGI server's sync workers). Here
the timestamp and counter are read and advanced under a lock, so every id
carries its own (timestamp, counter) pair and ids are totally ordered in the
order the lock was taken.
"""

from __future__ import annotations

import os
import threading
import time
import uuid as _uuid

__all__ = ["make_uuid", "uuid7"]

_COUNTER_BITS = 42
_COUNTER_MAX = (1 << _COUNTER_BITS) - 1
# The counter is seeded with 41 random bits (the top bit clear), so at least
# 2**41 ids fit in one millisecond before it overflows.

_lock = threading.Lock()
_last_ms = 0
_counter = 0

# Indirection so tests can step the clock; time.time_ns avoids float rounding.
_time_ns = time.time_ns


_VERSION_AND_VARIANT = (0x7 << 76) | (0b10 << 62)
_UUID_new = object.__new__
_set = object.__setattr__


def _from_int(value: int) -> _uuid.UUID:
    # The value is built well-formed below; skip UUID.__init__'s argument
    # parsing (what Python 3.14's uuid module does internally too).
    result = _UUID_new(_uuid.UUID)
    _set(result, "int", value)
    _set(result, "is_safe", _uuid.SafeUUID.unknown)
    return result


def uuid7() -> _uuid.UUID:
    """A version 7 UUID, greater than every earlier one made in this process.

    Layout: 48-bit Unix time in milliseconds, version ``7``, a 42-bit
    counter (12 bits in ``rand_a``, 30 at the top of ``rand_b``), the RFC
    variant and 32 random bits. When the clock has not advanced (or went
    back) the previous timestamp is reused and the counter incremented; if
    the counter overflows, the timestamp is advanced by one millisecond.
    """
    global _last_ms, _counter
    now_ms = (_time_ns() // 1_000_000) & 0xFFFF_FFFF_FFFF
    # 80 random bits: 32 for the tail, 41 to seed the counter.
    rand = int.from_bytes(os.urandom(10), "big")
    with _lock:
        if now_ms > _last_ms:
            _last_ms = now_ms
            _counter = rand >> 39
        else:
            _counter += 1
            if _counter > _COUNTER_MAX:
                _last_ms += 1
                _counter = rand >> 39
        ms, counter = _last_ms, _counter
    return _from_int(
        (ms << 80)
        | _VERSION_AND_VARIANT
        | ((counter >> 30) << 64)
        | ((counter & 0x3FFF_FFFF) << 32)
        | (rand & 0xFFFF_FFFF)
    )


def make_uuid() -> _uuid.UUID:
    """A new primary key of the version named by ``ICV_CORE_UUID_VERSION``.

    4 (the default) gives :func:`uuid.uuid4`, 7 gives :func:`uuid7`. Any
    other value raises :class:`~django.core.exceptions.ImproperlyConfigured`
    (system check ``icv_core.E001`` reports it before that can happen).
    """
    from icv_core.conf import settings

    version = settings.UUID_VERSION
    if version == 4 and type(version) is int:
        return _uuid.uuid4()
    if version == 7 and type(version) is int:
        return uuid7()
    from django.core.exceptions import ImproperlyConfigured
    from django.utils.translation import gettext

    raise ImproperlyConfigured(
        gettext("ICV_CORE_UUID_VERSION must be the integer 4 or 7, not %(value)r.")
        % {"value": version}
    )
