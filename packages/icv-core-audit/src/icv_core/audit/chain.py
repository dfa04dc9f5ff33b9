"""Tamper evidence for the audit trail: a SHA-256 hash chain over ``AuditEntry``.

How it works
------------
Writers never take a lock: an entry is inserted *unsealed* (``sequence``,
``prev_hash`` and ``entry_hash`` are NULL). :func:`seal_pending` later takes
one lock (a PostgreSQL transaction-level advisory lock; the database write lock
on SQLite), reads the current head, and seals the pending entries in
``(created_at, id)`` order, batch by batch: each entry gets the next
``sequence``, the previous entry's hash as ``prev_hash`` and

    entry_hash = SHA-256(canonical JSON of the immutable fields + sequence + prev_hash)

(see :func:`canonical_bytes`). Entries are hashed as read back from the
database, so what is verified later is exactly what was sealed.

The unsealed window
-------------------
An entry is outside the chain from its INSERT until the next
``manage.py icv_core_audit_seal`` run (schedule it, e.g. every minute) or the
start of ``icv_core_audit_verify`` / ``icv_core_audit_archive``, which seal
first. During that window it is protected by the ORM guards (and the
PostgreSQL trigger) but not yet by the chain.

What verification detects
-------------------------
:func:`verify` walks the chain in ``sequence`` order, streaming, and reports
the first broken link: a changed byte in any hashed field (hash mismatch), a
deleted entry (sequence gap), reordered or swapped entries (link mismatch),
and, given a head kept outside the database (``--export-head`` /
``--expect-head``), a truncated tail. After archiving, the table walk starts at
the newest :class:`~icv_core.audit.models.AuditArchive` boundary (its
``last_sequence`` and ``last_entry_hash``). With ``archives=True``
(``--archives``) every recorded archive is checked too: each file is re-read
from its storage, its SHA-256 compared with the record, every archived entry
re-hashed in sequence, and the archives must link to each other from the
genesis to the table's first entry. Without it the archive records are
trusted, so an attacker who can write both tables could replace old rows by
a forged archive record: run ``--archives`` regularly (it reads every file).

The user foreign key itself is not hashed (it may legitimately become NULL
when the user is deleted); the ``username`` snapshot and ``user_ref``, the
actor's primary key at write time, are, and verification requires the user
reference to be NULL or equal to ``user_ref``. So re-attributing an entry to
another user is detected too (except on rows adopted from 0.2/0.3, written
before ``user_ref`` existed).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connections, transaction
from django.db.models import Min

__all__ = [
    "GENESIS_HASH",
    "ChainBreak",
    "ChainHead",
    "VerifyReport",
    "canonical_bytes",
    "compute_entry_hash",
    "head",
    "seal_pending",
    "verify",
]

#: ``prev_hash`` of the very first entry of a chain.
GENESIS_HASH = "0" * 64
#: Version of the canonical serialisation (part of every hashed payload).
HASH_VERSION = 2
#: Key of the PostgreSQL advisory lock taken while sealing.
ADVISORY_LOCK_KEY = 0x1C0A_0D17_C4A1_0001

#: Database columns read for hashing and verification.
CHAIN_FIELDS = (
    "id",
    "created_at",
    "event_type",
    "action",
    "username",
    "user_id",
    "user_ref",
    "ip_address",
    "user_agent",
    "request_id",
    "target_content_type_id",
    "target_object_id",
    "description",
    "metadata",
    "sequence",
    "prev_hash",
    "entry_hash",
)


@dataclass(frozen=True)
class ChainHead:
    """The newest sealed link: its ``sequence`` and ``entry_hash``."""

    sequence: int
    entry_hash: str
    entry_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "sequence": self.sequence,
            "entry_hash": self.entry_hash,
            "entry_id": self.entry_id,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ChainHead:
        """Build a head from exported JSON; raises ``ValueError`` if malformed."""
        try:
            sequence = data["sequence"]
            entry_hash = data.get("entry_hash", data.get("hash"))
        except (KeyError, TypeError, AttributeError):
            raise ValueError(
                "A chain head needs 'sequence' and 'entry_hash'."
            ) from None
        if not isinstance(sequence, int) or isinstance(sequence, bool) or sequence < 0:
            raise ValueError(f"Invalid chain head sequence: {sequence!r}.")
        if not isinstance(entry_hash, str) or len(entry_hash) != 64:
            raise ValueError(f"Invalid chain head hash: {entry_hash!r}.")
        entry_id = data.get("entry_id")
        return cls(
            sequence, entry_hash.lower(), None if entry_id is None else str(entry_id)
        )

    @classmethod
    def load(cls, path: str | Path) -> ChainHead:
        """Read a head written by :meth:`dump` (``--export-head``)."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path} is not a JSON chain head: {exc}") from None
        return cls.from_dict(data)

    def dump(self, path: str | Path) -> None:
        """Write the head as JSON, to keep outside the database."""
        payload = {**self.to_dict(), "format": "icv-core-audit-head/1"}
        Path(path).write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")


@dataclass(frozen=True)
class ChainBreak:
    """The first broken link found by :func:`verify`."""

    #: ``missing_start``, ``gap``, ``link_mismatch``, ``hash_mismatch``,
    #: ``user_mismatch``, ``head_mismatch`` or ``truncated``; with
    #: ``archives=True`` also
    #: ``archive_gap``, ``archive_link_mismatch``, ``archive_missing``,
    #: ``archive_checksum``, ``archive_hash_mismatch`` and
    #: ``archive_boundary``.
    kind: str
    sequence: int | None
    entry_id: str | None
    message: str


@dataclass
class VerifyReport:
    """Outcome of :func:`verify`."""

    ok: bool = True
    #: Entries whose links were checked.
    checked: int = 0
    #: Entries sealed by this call before verifying.
    sealed: int = 0
    #: Entries still unsealed after sealing (written concurrently).
    unsealed: int = 0
    #: Sealed entries still in the table but already covered by an archive.
    archived_in_table: int = 0
    #: First sequence checked, and the boundary it started from.
    start_sequence: int | None = None
    start_from_archive: bool = False
    head: ChainHead | None = None
    #: Whether the expected head (if given) could be checked.
    expected_head_checked: bool = False
    #: Archives and archived entries re-checked (``archives=True``).
    archives_checked: int = 0
    archived_entries_checked: int = 0
    first_break: ChainBreak | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["head"] = self.head.to_dict() if self.head else None
        return data


# ---------------------------------------------------------------------------
# Canonical serialisation
# ---------------------------------------------------------------------------


def _iso(value: datetime.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(datetime.UTC)
    return value.isoformat(timespec="microseconds")


def _content_type_key(ct_id: int | None, using: str) -> str | None:
    if ct_id is None:
        return None
    try:
        ct = ContentType.objects.db_manager(using).get_for_id(ct_id)
    except ContentType.DoesNotExist:
        return f"#{ct_id}"
    return f"{ct.app_label}.{ct.model}"


def canonical_bytes(
    row: Mapping[str, Any], sequence: int, prev_hash: str, using: str = "default"
) -> bytes:
    """The exact bytes hashed for one entry (sorted-key, compact UTF-8 JSON).

    ``row`` holds the values of :data:`CHAIN_FIELDS` as loaded from the
    database. The content type is written as ``app_label.model`` so an
    archive stays meaningful in another database.
    """
    entry_id = row["id"]
    payload = {
        "v": HASH_VERSION,
        "id": str(
            entry_id if isinstance(entry_id, uuid.UUID) else uuid.UUID(str(entry_id))
        ),
        "sequence": sequence,
        "prev_hash": prev_hash,
        "created_at": _iso(row["created_at"]),
        "event_type": row["event_type"],
        "action": row["action"],
        "username": row["username"],
        "user_ref": row.get("user_ref", ""),
        "ip_address": None if row["ip_address"] is None else str(row["ip_address"]),
        "user_agent": row["user_agent"],
        "request_id": row["request_id"],
        "target_type": _content_type_key(row["target_content_type_id"], using),
        "target_object_id": row["target_object_id"],
        "description": row["description"],
        "metadata": row["metadata"],
    }
    text = json.dumps(
        payload,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )
    return text.encode("utf-8", errors="surrogatepass")


def compute_entry_hash(
    row: Mapping[str, Any], sequence: int, prev_hash: str, using: str = "default"
) -> str:
    """SHA-256 hex digest of :func:`canonical_bytes`."""
    return hashlib.sha256(canonical_bytes(row, sequence, prev_hash, using)).hexdigest()


# ---------------------------------------------------------------------------
# Head and sealing
# ---------------------------------------------------------------------------


def _models() -> tuple[Any, Any]:
    from icv_core.audit.models import AuditArchive, AuditEntry

    return AuditEntry, AuditArchive


def _newest_archive(using: str) -> Any:
    _entry, archive = _models()
    return (
        archive.objects.using(using)
        .filter(last_sequence__isnull=False)
        .order_by("-last_sequence")
        .first()
    )


def head(using: str = "default") -> ChainHead | None:
    """The newest sealed link (in the table, or the newest archive boundary).

    ``None`` when nothing has been sealed yet.
    """
    entry_model, _archive = _models()
    row = (
        entry_model.objects.using(using)
        .filter(sequence__isnull=False)
        .order_by("-sequence")
        .values_list("sequence", "entry_hash", "id")
        .first()
    )
    archive = _newest_archive(using)
    if archive is not None and (row is None or archive.last_sequence > row[0]):
        last_id = archive.last_entry_id
        return ChainHead(
            archive.last_sequence,
            archive.last_entry_hash,
            None if last_id is None else str(last_id),
        )
    if row is None:
        return None
    return ChainHead(row[0], row[1], str(row[2]))


def _take_seal_lock(using: str) -> None:
    connection = connections[using]
    entry_model, _archive = _models()
    table = connection.ops.quote_name(entry_model._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK_KEY])
        elif connection.vendor == "sqlite":
            # A write statement takes SQLite's RESERVED lock at once, so a
            # second sealer waits here instead of failing later on upgrade.
            cursor.execute(
                f"UPDATE {table} SET sequence = sequence WHERE sequence = -1"
            )
        else:
            # Other databases: serialise on the head row (best effort).
            cursor.execute(
                f"SELECT id FROM {table} WHERE sequence = "
                f"(SELECT MAX(sequence) FROM {table}) FOR UPDATE"
            )


def seal_pending(
    using: str = "default",
    *,
    batch_size: int = 1000,
    limit: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Seal unsealed entries into the chain; return how many were sealed.

    Runs one short transaction per batch, each under the seal lock, so writers
    are never blocked and a crash loses nothing (unsealed rows stay pending).
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1.")
    entry_model, _archive = _models()
    connection = connections[using]
    table = connection.ops.quote_name(entry_model._meta.db_table)
    pk_field = entry_model._meta.pk
    sql = (
        f"UPDATE {table} SET sequence = %s, prev_hash = %s, entry_hash = %s "
        f"WHERE id = %s AND sequence IS NULL"
    )
    total = 0
    while limit is None or total < limit:
        size = batch_size if limit is None else min(batch_size, limit - total)
        with transaction.atomic(using=using):
            _take_seal_lock(using)
            current = head(using)
            sequence, prev_hash = (
                (current.sequence, current.entry_hash) if current else (0, GENESIS_HASH)
            )
            rows = list(
                entry_model.objects.using(using)
                .filter(sequence__isnull=True)
                .order_by("created_at", "id")
                .values(*CHAIN_FIELDS)[:size]
            )
            if not rows:
                break
            params = []
            for row in rows:
                sequence += 1
                entry_hash = compute_entry_hash(row, sequence, prev_hash, using)
                params.append(
                    (
                        sequence,
                        prev_hash,
                        entry_hash,
                        pk_field.get_db_prep_value(row["id"], connection),
                    )
                )
                prev_hash = entry_hash
            with connection.cursor() as cursor:
                cursor.executemany(sql, params)
        total += len(rows)
        if progress is not None:
            progress(total)
        if len(rows) < size:
            break
    return total


# ---------------------------------------------------------------------------
# Verification
# ---------------------------------------------------------------------------


def _coerce_head(value: ChainHead | Mapping[str, Any] | None) -> ChainHead | None:
    if value is None or isinstance(value, ChainHead):
        return value
    return ChainHead.from_dict(value)


def verify(
    using: str = "default",
    *,
    expect_head: ChainHead | Mapping[str, Any] | None = None,
    seal: bool = True,
    chunk_size: int = 2000,
    progress: Callable[[int], None] | None = None,
    archives: bool = False,
) -> VerifyReport:
    """Walk the chain in sequence order and report the first broken link.

    Seals pending entries first unless ``seal=False``. Memory stays flat: rows
    are streamed with ``iterator(chunk_size=...)``. ``expect_head`` (a
    :class:`ChainHead` or its dict, e.g. from ``--expect-head``) makes a
    truncated or rewritten tail detectable. ``archives=True`` first re-reads
    and re-hashes every recorded archive (see the module documentation).
    """
    entry_model, _archive = _models()
    expected = _coerce_head(expect_head)
    report = VerifyReport()
    if seal:
        report.sealed = seal_pending(using)
    if archives:
        _verify_archives(report, using, expected)
        if not report.ok:
            return report
    entries = entry_model.objects.using(using)
    report.unsealed = entries.filter(sequence__isnull=True).count()
    min_sequence = entries.filter(sequence__isnull=False).aggregate(m=Min("sequence"))[
        "m"
    ]
    archive = _newest_archive(using)

    def fail(
        kind: str, sequence: int | None, entry_id: Any, message: str
    ) -> VerifyReport:
        report.ok = False
        report.first_break = ChainBreak(
            kind, sequence, None if entry_id is None else str(entry_id), message
        )
        return report

    # Where to start: after the newest archive boundary, or at the genesis.
    if archive is not None and (
        min_sequence is None or archive.last_sequence >= min_sequence - 1
    ):
        start, prev_hash = archive.last_sequence + 1, archive.last_entry_hash
        report.start_from_archive = True
        report.archived_in_table = entries.filter(
            sequence__isnull=False, sequence__lte=archive.last_sequence
        ).count()
        last = ChainHead(
            archive.last_sequence,
            archive.last_entry_hash,
            None if archive.last_entry_id is None else str(archive.last_entry_id),
        )
    elif min_sequence is None or min_sequence == 1:
        start, prev_hash, last = 1, GENESIS_HASH, None
    else:
        first = (
            entries.filter(sequence=min_sequence).values_list("id", flat=True).first()
        )
        low = archive.last_sequence + 1 if archive is not None else 1
        return fail(
            "missing_start",
            min_sequence,
            first,
            f"Entries with sequence {low}..{min_sequence - 1} are missing and no "
            f"archive covers them (the chain now starts at entry {first}).",
        )
    report.start_sequence = start

    expected_sequence = start
    rows = (
        entries.filter(sequence__gte=start)
        .order_by("sequence")
        .values(*CHAIN_FIELDS)
        .iterator(chunk_size=chunk_size)
    )
    for row in rows:
        sequence, entry_id = row["sequence"], row["id"]
        if sequence != expected_sequence:
            return fail(
                "gap",
                sequence,
                entry_id,
                f"Entries with sequence {expected_sequence}..{sequence - 1} are "
                f"missing before entry {entry_id} (sequence {sequence}).",
            )
        if row["prev_hash"] != prev_hash:
            return fail(
                "link_mismatch",
                sequence,
                entry_id,
                f"Entry {entry_id} (sequence {sequence}) does not link to the entry "
                "before it: entries were reordered, replaced or removed.",
            )
        if compute_entry_hash(row, sequence, prev_hash, using) != row["entry_hash"]:
            return fail(
                "hash_mismatch",
                sequence,
                entry_id,
                f"Entry {entry_id} (sequence {sequence}) was changed after it was "
                "sealed (hash mismatch).",
            )
        if _user_moved(row):
            return fail(
                "user_mismatch",
                sequence,
                entry_id,
                f"Entry {entry_id} (sequence {sequence}) now points at another user "
                f"than the one it was written by (user reference {row['user_ref']}).",
            )
        if _differs_from_head(expected, sequence, row["entry_hash"]):
            return fail(
                "head_mismatch",
                sequence,
                entry_id,
                f"Entry {entry_id} (sequence {sequence}) differs from the kept head: "
                "the chain was rewritten from this point.",
            )
        prev_hash = row["entry_hash"]
        last = ChainHead(sequence, prev_hash, str(entry_id))
        expected_sequence += 1
        report.checked += 1
        if progress is not None and report.checked % chunk_size == 0:
            progress(report.checked)

    report.head = last
    if expected is not None:
        last_sequence = last.sequence if last else 0
        if expected.sequence > last_sequence:
            missing = expected.sequence - last_sequence
            return fail(
                "truncated",
                last_sequence + 1,
                None,
                f"The chain ends at sequence {last_sequence} but the kept head is at "
                f"sequence {expected.sequence}: {missing} entries were removed from "
                "the end.",
            )
        if expected.sequence >= start:
            report.expected_head_checked = True
        elif expected.sequence == start - 1 and report.start_from_archive:
            report.expected_head_checked = True
            if archive.last_entry_hash != expected.entry_hash:
                return fail(
                    "head_mismatch",
                    expected.sequence,
                    archive.last_entry_id,
                    f"The archive boundary at sequence {expected.sequence} differs "
                    "from the kept head.",
                )
        elif not report.expected_head_checked:
            report.notes.append(
                f"The kept head (sequence {expected.sequence}) lies in an archived "
                "range; run with --archives to check it against the archive file."
            )
    if report.start_from_archive and not archives:
        report.notes.append(
            "Archived entries were not re-checked; run with --archives to re-read "
            "and re-hash the archive files."
        )
    return report


def _differs_from_head(
    expected: ChainHead | None, sequence: int, entry_hash: str
) -> bool:
    """The entry at the kept head's position has another hash than the head."""
    return (
        expected is not None
        and sequence == expected.sequence
        and entry_hash != expected.entry_hash
    )


def _user_moved(row: Mapping[str, Any]) -> bool:
    """The user reference is neither NULL nor the (hashed) actor it was written by."""
    user_id, user_ref = row.get("user_id"), row.get("user_ref") or ""
    return user_id is not None and bool(user_ref) and str(user_id) != user_ref


def _archived_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """An archive line with its ``created_at`` back as a datetime, for hashing."""
    values = dict(row)
    created = values.get("created_at")
    if isinstance(created, str):
        values["created_at"] = datetime.datetime.fromisoformat(created)
    return values


def _verify_archives(
    report: VerifyReport, using: str, expected: ChainHead | None
) -> None:
    """Check every recorded archive: file, checksum, entries and links."""
    from icv_core.audit import _archive as archive_files

    _entry, archive_model = _models()
    records = (
        archive_model.objects.using(using)
        .filter(last_sequence__isnull=False)
        .order_by("first_sequence")
    )

    def fail(kind: str, sequence: int | None, entry_id: Any, message: str) -> None:
        report.ok = False
        report.first_break = ChainBreak(
            kind, sequence, None if entry_id is None else str(entry_id), message
        )

    next_sequence, prev_hash = 1, GENESIS_HASH
    for record in records.iterator(chunk_size=100):
        where = f"archive {record.path!r} (sequence {record.first_sequence}.."
        where += f"{record.last_sequence})"
        if record.first_sequence != next_sequence:
            return fail(
                "archive_gap",
                next_sequence,
                None,
                f"No archive holds sequence {next_sequence}..."
                f"{record.first_sequence - 1}; the next one is {where}.",
            )
        if record.first_prev_hash != prev_hash:
            return fail(
                "archive_link_mismatch",
                record.first_sequence,
                record.first_entry_id,
                f"The first entry of {where} does not link to the entry before it.",
            )
        try:
            storage = archive_files.get_storage(record.storage_alias)
        except Exception:
            return fail(
                "archive_missing",
                record.first_sequence,
                record.first_entry_id,
                f"The storage {record.storage_alias!r} of {where} is not configured "
                "(STORAGES).",
            )
        try:
            if not storage.exists(record.path):
                return fail(
                    "archive_missing",
                    record.first_sequence,
                    record.first_entry_id,
                    f"The file of {where} is missing from storage "
                    f"{record.storage_alias!r}.",
                )
            if archive_files.file_sha256(storage, record.path) != record.sha256:
                return fail(
                    "archive_checksum",
                    record.first_sequence,
                    record.first_entry_id,
                    f"The file of {where} does not match its recorded SHA-256.",
                )
            for line in archive_files.iter_rows(storage, record.path):
                row = _archived_row(line)
                sequence, entry_id = row.get("sequence"), row.get("id")
                if (
                    sequence != next_sequence
                    or row.get("prev_hash") != prev_hash
                    or compute_entry_hash(row, sequence, prev_hash, using)
                    != row.get("entry_hash")
                    or _user_moved(row)
                ):
                    return fail(
                        "archive_hash_mismatch",
                        next_sequence,
                        entry_id,
                        f"Entry {entry_id} in {where} does not hash or link as sealed.",
                    )
                if _differs_from_head(expected, sequence, row["entry_hash"]):
                    return fail(
                        "head_mismatch",
                        sequence,
                        entry_id,
                        f"Entry {entry_id} (sequence {sequence}) in {where} differs "
                        "from the kept head.",
                    )
                if expected is not None and sequence == expected.sequence:
                    report.expected_head_checked = True
                prev_hash = row["entry_hash"]
                next_sequence += 1
                report.archived_entries_checked += 1
        except (OSError, EOFError, ValueError, KeyError, TypeError) as exc:
            return fail(
                "archive_hash_mismatch",
                next_sequence,
                None,
                f"The file of {where} cannot be read: {type(exc).__name__}: {exc}",
            )
        if (
            next_sequence - 1 != record.last_sequence
            or prev_hash != record.last_entry_hash
        ):
            return fail(
                "archive_boundary",
                record.last_sequence,
                record.last_entry_id,
                f"The entries of {where} do not end at its recorded boundary.",
            )
        report.archives_checked += 1
    return None
