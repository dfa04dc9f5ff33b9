"""Archive files of audit entries: gzip JSON Lines plus a JSON manifest.

Private: used by the ``icv_core_audit_archive`` command. One archive file holds
one batch of consecutive chain positions (``sequence``); its name is derived
from the first and last sequence, so a re-run after a crash writes the same
batch to the same name and never produces a second copy of a row.

The bytes are deterministic for the same rows (sorted keys, gzip ``mtime=0``),
so an existing file can be compared by checksum instead of being trusted.
"""

from __future__ import annotations

import datetime as dt
import decimal
import gzip
import hashlib
import io
import json
import tempfile
import time
import uuid
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import IO, Any

from django.core.files import File
from django.core.files.storage import Storage

#: Bumped when the line or manifest format changes incompatibly.
FORMAT_VERSION = 1
DATA_SUFFIX = ".jsonl.gz"
MANIFEST_SUFFIX = ".manifest.json"
_CHUNK = 64 * 1024


class ArchiveError(Exception):
    """An archive file is missing, unreadable or does not match its manifest."""


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    raise TypeError(f"Cannot serialise {type(value).__name__} into an audit archive.")


def dumps_line(row: dict[str, Any]) -> bytes:
    """One canonical JSON line (sorted keys, no spaces, UTF-8, trailing newline)."""
    text = json.dumps(
        row,
        default=_json_default,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return text.encode("utf-8") + b"\n"


def data_name(prefix: str, first_sequence: int, last_sequence: int) -> str:
    """Deterministic storage name of the batch covering these chain positions."""
    return f"{prefix}audit-{first_sequence:012d}-{last_sequence:012d}{DATA_SUFFIX}"


def manifest_name(name: str) -> str:
    """Storage name of the manifest stored next to the data file ``name``."""
    if name.endswith(DATA_SUFFIX):
        name = name[: -len(DATA_SUFFIX)]
    return name + MANIFEST_SUFFIX


@dataclass
class Manifest:
    """What an archive file holds; stored next to the file and in the database."""

    name: str
    row_count: int = 0
    sha256: str = ""
    first_id: str | None = None
    last_id: str | None = None
    #: The time range: earliest and latest ``created_at`` in the file (not
    #: those of the first and last entry, which sealing may order otherwise).
    first_created_at: str | None = None
    last_created_at: str | None = None
    first_sequence: int | None = None
    last_sequence: int | None = None
    #: ``prev_hash`` of the first entry: links the archive to what precedes it.
    first_prev_hash: str = ""
    #: ``entry_hash`` of the last entry: what the next entry's prev_hash must be.
    last_entry_hash: str = ""
    format_version: int = FORMAT_VERSION
    fields: list[str] = field(default_factory=list)

    def to_json(self) -> bytes:
        return (
            json.dumps(asdict(self), sort_keys=True, indent=2, ensure_ascii=False)
            + "\n"
        ).encode("utf-8")

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        data = json.loads(raw.decode("utf-8"))
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


class _HashingWriter(io.RawIOBase):
    """Passes bytes to ``target`` while hashing them (sits under GzipFile)."""

    def __init__(self, target: IO[bytes]) -> None:
        self.target = target
        self.sha = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self.sha.update(chunk)
        self.size += len(chunk)
        self.target.write(chunk)
        return len(chunk)


class _HashingReader(io.RawIOBase):
    """Reads from ``source`` while hashing everything read."""

    def __init__(self, source: IO[bytes]) -> None:
        self.source = source
        self.sha = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.source.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.sha.update(data)
        return n

    def drain(self) -> str:
        """Hash whatever was not read yet and return the hex digest."""
        while True:
            data = self.source.read(_CHUNK)
            if not data:
                break
            self.sha.update(data)
        return self.sha.hexdigest()


def write_batch(
    rows: Iterable[dict[str, Any]],
    target: IO[bytes],
    *,
    name: str,
) -> Manifest:
    """Write ``rows`` (dicts in chain order) as gzip JSON Lines into ``target``.

    Returns the manifest (count, boundaries, SHA-256 of the compressed bytes).
    Rows are consumed one at a time; nothing is accumulated.
    """
    manifest = Manifest(name=name)
    hashing = _HashingWriter(target)
    # zlib writes the gzip container itself (wbits 16 + 15, header mtime 0).
    # gzip.GzipFile is avoided on purpose: on Python 3.12+ it forms a
    # reference cycle with its write buffer, so one buffer per batch would
    # wait for the cyclic garbage collector and memory would grow with the
    # number of batches.
    compressor = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)

    def emit(data: bytes) -> None:
        compressed = compressor.compress(data)
        if compressed:
            hashing.write(compressed)

    last: dict[str, Any] | None = None
    pending: list[bytes] = []
    earliest = latest = None
    for row in rows:
        created = row.get("created_at")
        if created is not None:
            if earliest is None or created < earliest:
                earliest = created
            if latest is None or created > latest:
                latest = created
        if last is None:
            manifest.first_id = _text(row.get("id"))
            manifest.first_sequence = row.get("sequence")
            manifest.first_prev_hash = row.get("prev_hash") or ""
            manifest.fields = sorted(row)
        pending.append(dumps_line(row))
        if len(pending) >= 256:  # fewer, larger writes into the compressor
            emit(b"".join(pending))
            pending.clear()
        manifest.row_count += 1
        last = row
    if pending:
        emit(b"".join(pending))
    hashing.write(compressor.flush())
    if last is not None:
        manifest.last_id = _text(last.get("id"))
        manifest.first_created_at = _text(earliest)
        manifest.last_created_at = _text(latest)
        manifest.last_sequence = last.get("sequence")
        manifest.last_entry_hash = last.get("entry_hash") or ""
    manifest.sha256 = hashing.sha.hexdigest()
    return manifest


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return json.loads(json.dumps(value, default=_json_default))


def get_storage(alias: str) -> Storage:
    """The ``STORAGES`` entry named ``alias``; ``CommandError`` if there is none."""
    from django.core.files.storage import InvalidStorageError, storages
    from django.core.management.base import CommandError

    try:
        return storages[alias]
    except InvalidStorageError as exc:
        raise CommandError(
            f"ICV_CORE_AUDIT_ARCHIVE_STORAGE={alias!r} is not a STORAGES alias."
        ) from exc


def file_sha256(storage: Storage, name: str) -> str:
    """SHA-256 of a stored file, read in chunks."""
    sha = hashlib.sha256()
    with storage.open(name, "rb") as fh:
        while True:
            data = fh.read(_CHUNK)
            if not data:
                break
            sha.update(data)
    return sha.hexdigest()


def iter_lines(storage: Storage, name: str) -> Iterator[bytes]:
    """Decompressed JSON lines of a stored archive (streaming)."""
    with storage.open(name, "rb") as fh, gzip.GzipFile(fileobj=fh, mode="rb") as gz:
        yield from gz


def iter_rows(storage: Storage, name: str) -> Iterator[dict[str, Any]]:
    """Decoded rows of a stored archive (streaming)."""
    for line in iter_lines(storage, name):
        yield json.loads(line)


def verify_stored(storage: Storage, manifest: Manifest) -> None:
    """Re-read the stored file: row count, boundary ids and SHA-256 must match.

    Raises :class:`ArchiveError` on any difference or on unreadable data.
    """
    name = manifest.name
    if not storage.exists(name):
        raise ArchiveError(f"Archive file {name!r} does not exist in storage.")
    count = 0
    first_id = last_id = None
    try:
        with storage.open(name, "rb") as fh:
            reader = _HashingReader(fh)
            buffered = io.BufferedReader(reader, buffer_size=_CHUNK)
            with gzip.GzipFile(fileobj=buffered, mode="rb") as gz:
                line = b""
                for line in gz:
                    if count == 0:
                        first_id = _text(json.loads(line).get("id"))
                    count += 1
                if count:
                    last_id = _text(json.loads(line).get("id"))
            # Bytes the buffer already pulled were hashed by the raw reader;
            # drain hashes whatever is left of the file.
            sha = reader.drain()
    except (OSError, EOFError, ValueError) as exc:
        raise ArchiveError(f"Archive file {name!r} is unreadable: {exc}") from exc
    if count != manifest.row_count:
        raise ArchiveError(
            f"Archive file {name!r} holds {count} rows, expected {manifest.row_count}."
        )
    if (first_id, last_id) != (manifest.first_id, manifest.last_id):
        raise ArchiveError(f"Archive file {name!r} has unexpected boundary ids.")
    if sha != manifest.sha256:
        raise ArchiveError(
            f"Archive file {name!r} has SHA-256 {sha}, expected {manifest.sha256}."
        )


def store(storage: Storage, name: str, source: IO[bytes], sha256: str) -> bool:
    """Store ``source`` under exactly ``name``.

    An existing file with the same checksum is kept (a re-run after a crash);
    a different one is replaced, which is safe because a file only becomes the
    sole copy of its rows once it is recorded and the rows are deleted, and
    recorded files are never rewritten (the caller checks that first).
    Returns ``True`` when the file was written.
    """
    if storage.exists(name):
        if file_sha256(storage, name) == sha256:
            return False
        storage.delete(name)
    source.seek(0)
    saved = storage.save(name, File(source, name=name))
    if saved != name:
        # Another writer raced us to the name; keep ours out of the way.
        storage.delete(saved)
        raise ArchiveError(f"Could not store archive file under {name!r}.")
    return True


def store_manifest(storage: Storage, manifest: Manifest) -> str:
    """Store the manifest next to its data file (replacing an older copy)."""
    name = manifest_name(manifest.name)
    if storage.exists(name):
        storage.delete(name)
    saved = storage.save(name, File(io.BytesIO(manifest.to_json()), name=name))
    if saved != name:
        storage.delete(saved)
        raise ArchiveError(f"Could not store manifest under {name!r}.")
    return name


def read_manifest(storage: Storage, name: str) -> Manifest:
    """Load the manifest stored next to the data file ``name``."""
    with storage.open(manifest_name(name), "rb") as fh:
        return Manifest.from_json(fh.read())


def spooled() -> IO[bytes]:
    """A temporary buffer for one batch (spills to disk beyond 8 MiB)."""
    return tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)


class Progress:
    """Rows done, rate and ETA, written at most once per ``interval`` seconds."""

    def __init__(
        self,
        write: Any,
        total: int,
        *,
        interval: float = 2.0,
        clock: Any = time.monotonic,
    ) -> None:
        self.write = write
        self.total = total
        self.done = 0
        self.interval = interval
        self.clock = clock
        self.started = clock()
        self._last = self.started

    def advance(self, rows: int, *, force: bool = False) -> None:
        self.done += rows
        now = self.clock()
        if self.write is None or not (force or now - self._last >= self.interval):
            return
        self._last = now
        self.write(self.line(now))

    def rate(self, now: float | None = None) -> float:
        elapsed = (self.clock() if now is None else now) - self.started
        return self.done / elapsed if elapsed > 0 else 0.0

    def line(self, now: float | None = None) -> str:
        rate = self.rate(now)
        remaining = max(self.total - self.done, 0)
        eta = format_duration(remaining / rate) if rate > 0 else "?"
        pct = (100.0 * self.done / self.total) if self.total else 100.0
        return (
            f"{self.done}/{self.total} rows ({pct:.1f}%), {rate:.0f} rows/s, ETA {eta}"
        )


def format_duration(seconds: float) -> str:
    """``1h02m03s`` / ``2m03s`` / ``4s``."""
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m{secs:02d}s"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"
