"""``manage.py icv_core_audit_archive``: move old audit entries into archive files.

Per batch: write gzip JSON Lines through Django's storage API, store a manifest
next to it, re-read and verify the stored file, then (in one transaction)
record an ``AuditArchive`` row and delete exactly the archived entries through
the immutability bypass. A crash at any point leaves every entry either in the
table or in a verified, recorded archive (never both, never neither); running
the command again finishes the job.

Also reads archives back: ``--list``, ``--cat ARCHIVE`` (JSON Lines on stdout)
and ``--restore ARCHIVE`` (re-import into the table).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

from django.core.files.storage import Storage
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import Max, Min
from django.utils import timezone

from icv_core.audit import _archive
from icv_core.audit.conf import settings

#: Entries removed per DELETE statement inside a batch's transaction.
DELETE_CHUNK = 1000


def _fault(point: str) -> None:
    """Fault-injection hook for tests (``after_write``, ``after_manifest``,
    ``after_verify``, ``mid_delete``, ``after_delete``, ``after_commit``);
    does nothing."""


def get_storage(alias: str) -> Storage:
    return _archive.get_storage(alias)


def entry_fields() -> list[str]:
    """Attribute names of every stored column of AuditEntry (archive line keys)."""
    from icv_core.audit.models import AuditEntry

    return [f.attname for f in AuditEntry._meta.concrete_fields]


def _parse_dt(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


def record_values(manifest: _archive.Manifest, storage_alias: str) -> dict[str, Any]:
    """AuditArchive field values for a manifest."""
    return {
        "storage_alias": storage_alias,
        "path": manifest.name,
        "row_count": manifest.row_count,
        "first_entry_id": manifest.first_id,
        "last_entry_id": manifest.last_id,
        "first_created_at": _parse_dt(manifest.first_created_at),
        "last_created_at": _parse_dt(manifest.last_created_at),
        "first_sequence": manifest.first_sequence,
        "last_sequence": manifest.last_sequence,
        "first_prev_hash": manifest.first_prev_hash,
        "last_entry_hash": manifest.last_entry_hash,
        "sha256": manifest.sha256,
    }


def manifest_from_record(record: Any) -> _archive.Manifest:
    """The manifest a recorded archive must match (the database copy wins)."""

    def iso(value: Any) -> str | None:
        return None if value is None else value.isoformat()

    return _archive.Manifest(
        name=record.path,
        row_count=record.row_count,
        sha256=record.sha256,
        first_id=None if record.first_entry_id is None else str(record.first_entry_id),
        last_id=None if record.last_entry_id is None else str(record.last_entry_id),
        first_created_at=iso(record.first_created_at),
        last_created_at=iso(record.last_created_at),
        first_sequence=record.first_sequence,
        last_sequence=record.last_sequence,
        first_prev_hash=record.first_prev_hash,
        last_entry_hash=record.last_entry_hash,
    )


class Command(BaseCommand):
    help = (
        "Archive audit entries older than ICV_CORE_AUDIT_RETENTION_DAYS into gzip "
        "JSON Lines files (write, verify, then delete), or list, print or restore "
        "archives."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--list", action="store_true", help="List recorded archives and exit."
        )
        mode.add_argument(
            "--cat",
            metavar="ARCHIVE",
            help="Verify one archive (id or path) and write its entries to stdout "
            "as JSON Lines.",
        )
        mode.add_argument(
            "--restore",
            metavar="ARCHIVE",
            help="Verify one archive (id or path) and re-import its entries "
            "(ids preserved; entries already present are skipped).",
        )
        parser.add_argument(
            "--days",
            type=int,
            help="Archive entries older than this many days (default: "
            "ICV_CORE_AUDIT_RETENTION_DAYS; 0 archives everything up to now).",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            help="Entries per archive file "
            "(default: ICV_CORE_AUDIT_ARCHIVE_BATCH_SIZE).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Report what would be archived; write and delete nothing.",
        )
        parser.add_argument(
            "--database",
            default=DEFAULT_DB_ALIAS,
            help='Database alias (default: "default").',
        )

    # -- entry point -------------------------------------------------------

    def handle(self, *args: Any, **options: Any) -> None:
        self.verbosity = options["verbosity"]
        self.using = options["database"]
        if options["list"]:
            return self.list_archives()
        if options["cat"]:
            return self.cat(options["cat"])
        if options["restore"]:
            return self.restore(options["restore"], options["batch_size"])
        return self.archive(options["days"], options["batch_size"], options["dry_run"])

    def info(self, message: str) -> None:
        if self.verbosity >= 1:
            self.stdout.write(message)

    # -- archiving ---------------------------------------------------------

    def archive(self, days: int | None, batch_size: int | None, dry_run: bool) -> None:
        from icv_core.audit import chain
        from icv_core.audit.models import AuditEntry

        if days is None:
            days = settings.AUDIT_RETENTION_DAYS
            if isinstance(days, bool) or not isinstance(days, int) or days < 0:
                raise CommandError(
                    f"ICV_CORE_AUDIT_RETENTION_DAYS must be a non-negative integer, "
                    f"got {days!r}."
                )
        if days < 0:
            raise CommandError("--days must be 0 or a positive number of days.")
        batch_size = self.batch_size(batch_size)
        storage_alias = settings.AUDIT_ARCHIVE_STORAGE
        storage = get_storage(storage_alias)
        prefix = settings.AUDIT_ARCHIVE_PREFIX
        try:
            cutoff = timezone.now() - dt.timedelta(days=days)
        except OverflowError:
            raise CommandError(f"--days {days} is out of range.") from None
        started = time.monotonic()

        if not settings.AUDIT_ENABLED and self.verbosity >= 1:
            self.stderr.write(
                "ICV_CORE_AUDIT_ENABLED is False; "
                "archiving the existing entries anyway."
            )
        entries = AuditEntry.objects.using(self.using)
        if dry_run:
            sealed = 0
            pending = entries.filter(
                sequence__isnull=True, created_at__lt=cutoff
            ).count()
        else:
            # Only sealed entries are archived: their hashes go into the manifest.
            sealed = chain.seal_pending(using=self.using)
            pending = 0
        limit = self.last_eligible_sequence(cutoff)
        total = 0
        if limit is not None:
            total = entries.filter(sequence__isnull=False, sequence__lte=limit).count()

        if dry_run:
            batches = -(-total // batch_size)
            message = (
                f"Dry run: {total} entries older than {days} day(s) (created before "
                f"{cutoff.isoformat()}) would be archived in {batches} file(s) to "
                f'storage "{storage_alias}" under "{prefix}".'
            )
            if pending:
                message += f" {pending} older entries are not sealed yet."
            self.info(message)
            return

        progress = _archive.Progress(
            self.stdout.write if self.verbosity >= 1 else None, total
        )
        archived = files = 0
        while limit is not None:
            rows = self.archive_batch(storage, storage_alias, prefix, limit, batch_size)
            if not rows:
                break
            archived += rows
            files += 1
            progress.advance(rows, force=self.verbosity >= 2)
        elapsed = time.monotonic() - started
        sealed_note = f" (sealed {sealed} pending entries first)" if sealed else ""
        if archived:
            self.info(
                f"Archived {archived} entries older than {days} day(s) into {files} "
                f'file(s) in storage "{storage_alias}"{sealed_note} in '
                f"{_archive.format_duration(elapsed)}."
            )
        else:
            self.info(f"No entries older than {days} day(s) to archive{sealed_note}.")

    def batch_size(self, value: int | None) -> int:
        if value is None:
            value = settings.AUDIT_ARCHIVE_BATCH_SIZE
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise CommandError(
                f"The batch size must be a positive integer, got {value!r}."
            )
        return value

    def last_eligible_sequence(self, cutoff: dt.datetime) -> int | None:
        """The end of the chain prefix whose entries are all older than ``cutoff``.

        Archiving a prefix of the chain (never a hole in the middle) keeps the
        remaining chain verifiable from the last archive's boundary hash.
        """
        from icv_core.audit.models import AuditEntry

        entries = AuditEntry.objects.using(self.using).filter(sequence__isnull=False)
        first_recent = entries.filter(created_at__gte=cutoff).aggregate(
            m=Min("sequence")
        )["m"]
        if first_recent is not None:
            limit = entries.filter(sequence__lt=first_recent).aggregate(
                m=Max("sequence")
            )["m"]
        else:
            limit = entries.aggregate(m=Max("sequence"))["m"]
        return limit

    def archive_batch(
        self,
        storage: Storage,
        storage_alias: str,
        prefix: str,
        limit: int,
        batch_size: int,
    ) -> int:
        """Archive the next batch (oldest chain positions up to ``limit``).

        Returns the number of entries archived (0 when nothing is left).
        """
        from icv_core.audit.models import AuditArchive, AuditEntry, _bypass_immutability

        candidates = (
            AuditEntry.objects.using(self.using)
            .filter(sequence__isnull=False, sequence__lte=limit)
            .order_by("sequence")
            .values_list("sequence", flat=True)
        )
        first = candidates.first()
        if first is None:
            return 0
        records = AuditArchive.objects.using(self.using)
        covering = (
            records.filter(first_sequence__lte=first, last_sequence__gte=first)
            .order_by("first_sequence")
            .first()
        )
        if covering is not None:
            # Entries restored from a recorded archive go back to exactly that
            # archive (whatever --batch-size says), so no entry is ever in two
            # recorded archives; check_recorded() then requires the table to
            # hold exactly its entries.
            covering_last = covering.last_sequence
            assert covering_last is not None  # the filter above matched it
            if covering_last > limit:
                raise CommandError(
                    f"Entries restored from archive {covering.path!r} (sequence "
                    f"{covering.first_sequence}..{covering_last}) are not all "
                    "older than the cut-off; archive them again with a smaller "
                    "--days (for example 0). Nothing was deleted."
                )
            last, name = covering_last, covering.path
            # Checked where that archive was written, not where new ones go.
            storage = get_storage(covering.storage_alias)
        else:
            tail = list(candidates[batch_size - 1 : batch_size])
            last = tail[0] if tail else candidates.last()
            name = _archive.data_name(prefix, first, last)
            if self.using != DEFAULT_DB_ALIAS:
                name = _archive.data_name(f"{prefix}{self.using}/", first, last)

        batch = (
            AuditEntry.objects.using(self.using)
            .filter(sequence__gte=first, sequence__lte=last)
            .order_by("sequence")
            .values(*entry_fields())
        )
        recorded = (
            covering or records.filter(storage_alias=storage_alias, path=name).first()
        )
        buffer = _archive.spooled()
        try:
            manifest = _archive.write_batch(
                batch.iterator(chunk_size=2000), buffer, name=name
            )
            if recorded is None:
                _archive.store(storage, name, buffer, manifest.sha256)
        finally:
            buffer.close()
        if recorded is not None:
            # These entries were restored from an archive that is still
            # recorded. A recorded file is never rewritten (it may be the only
            # copy); the entries may go only if that verified file holds
            # exactly these ids.
            manifest = manifest_from_record(recorded)
            self.check_recorded(storage, recorded, batch)
        _fault("after_write")
        if recorded is None:
            _archive.store_manifest(storage, manifest)
        _fault("after_manifest")
        try:
            _archive.verify_stored(storage, manifest)
        except _archive.ArchiveError as exc:
            raise CommandError(f"{exc} Nothing was deleted.") from exc
        _fault("after_verify")

        with transaction.atomic(using=self.using), _bypass_immutability(self.using):
            if recorded is None:
                AuditArchive.objects.using(self.using).create(
                    **record_values(manifest, storage_alias),
                    completed_at=timezone.now(),
                )
            deleted = 0
            start = first
            while start <= last:
                stop = min(start + DELETE_CHUNK - 1, last)
                chunk = AuditEntry.objects.using(self.using).filter(
                    sequence__gte=start, sequence__lte=stop
                )
                # One DELETE per chunk. Nothing references audit entries, so
                # the collector (a SELECT of every row plus a signal per row)
                # would only cost time; the bypass allows this path too.
                deleted += chunk._raw_delete(self.using)
                start = stop + 1
                if start <= last:
                    _fault("mid_delete")
            if deleted != manifest.row_count:
                # Someone changed the range between writing and deleting: undo.
                raise CommandError(
                    f"Deleting {name!r} removed {deleted} entries, expected "
                    f"{manifest.row_count}; rolled back."
                )
            _fault("after_delete")
        _fault("after_commit")
        return manifest.row_count

    def check_recorded(self, storage: Storage, recorded: Any, batch: Any) -> None:
        try:
            _archive.verify_stored(storage, manifest_from_record(recorded))
        except _archive.ArchiveError as exc:
            raise CommandError(f"{exc} Nothing was deleted.") from exc
        in_file = {row["id"] for row in _archive.iter_rows(storage, recorded.path)}
        in_table = {str(pk) for pk in batch.values_list("pk", flat=True)}
        if in_file != in_table:
            raise CommandError(
                f"Archive {recorded.path!r} is already recorded with other entries "
                "than the table holds for its range. Nothing was deleted."
            )

    # -- reading back ------------------------------------------------------

    def get_record(self, ref: str) -> Any:
        from icv_core.audit.models import AuditArchive

        records = AuditArchive.objects.using(self.using)
        record = records.filter(path=ref).first()
        if record is None:
            try:
                record = records.filter(pk=ref).first()
            except (ValueError, TypeError, Exception):  # not a valid pk value
                record = None
        if record is None:
            raise CommandError(f"No recorded archive {ref!r} (give its id or path).")
        return record

    def verified(self, ref: str) -> tuple[Any, Storage]:
        record = self.get_record(ref)
        storage = get_storage(record.storage_alias)
        try:
            _archive.verify_stored(storage, manifest_from_record(record))
        except _archive.ArchiveError as exc:
            raise CommandError(str(exc)) from exc
        return record, storage

    def list_archives(self) -> None:
        from icv_core.audit.models import AuditArchive

        rows = [
            (
                str(record.pk),
                record.path,
                str(record.row_count),
                f"{record.first_sequence}-{record.last_sequence}",
                f"{record.first_created_at:%Y-%m-%d %H:%M:%S}"
                f" .. {record.last_created_at:%Y-%m-%d %H:%M:%S}",
                record.sha256[:16],
            )
            for record in AuditArchive.objects.using(self.using).order_by(
                "first_sequence"
            )
        ]
        if not rows:
            self.info("No archives recorded.")
            return
        header = ("id", "path", "rows", "sequence", "created", "sha256")
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            self.stdout.write(
                "  ".join(
                    cell.ljust(w) for cell, w in zip(row, widths, strict=True)
                ).rstrip()
            )

    def cat(self, ref: str) -> None:
        record, storage = self.verified(ref)
        for line in _archive.iter_lines(storage, record.path):
            self.stdout.write(line.decode("utf-8"), ending="")

    def restore(self, ref: str, batch_size: int | None) -> None:
        from django.contrib.auth import get_user_model
        from django.contrib.contenttypes.models import ContentType

        from icv_core.audit.models import AuditEntry

        size = self.batch_size(batch_size)
        record, storage = self.verified(ref)
        fields = {f.attname: f for f in AuditEntry._meta.concrete_fields}
        user_model = get_user_model()
        restored = skipped = 0
        with transaction.atomic(using=self.using):
            for chunk in _chunks(_archive.iter_rows(storage, record.path), size):
                values = [
                    {
                        name: fields[name].to_python(value)
                        for name, value in row.items()
                        if name in fields
                    }
                    for row in chunk
                ]
                present = set(
                    AuditEntry.objects.using(self.using)
                    .filter(pk__in=[v["id"] for v in values])
                    .values_list("pk", flat=True)
                )
                fresh = [v for v in values if v["id"] not in present]
                skipped += len(values) - len(fresh)
                # References to rows deleted since archiving become NULL (the
                # entry keeps its username snapshot), as the live table does.
                _null_missing(fresh, "user_id", user_model, self.using)
                _null_missing(fresh, "target_content_type_id", ContentType, self.using)
                AuditEntry.objects.using(self.using)._insert_archived(
                    [AuditEntry(**v) for v in fresh]
                )
                restored += len(fresh)
        self.info(
            f"Restored {restored} entries from {record.path} "
            f"({skipped} already present, skipped)."
        )


def _chunks(
    rows: Iterator[dict[str, Any]], size: int
) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _null_missing(
    values: list[dict[str, Any]], key: str, model: Any, using: str
) -> None:
    wanted = {v.get(key) for v in values} - {None}
    if not wanted:
        return
    found = set(
        model._default_manager.using(using)
        .filter(pk__in=wanted)
        .values_list("pk", flat=True)
    )
    for v in values:
        if v.get(key) is not None and v[key] not in found:
            v[key] = None
