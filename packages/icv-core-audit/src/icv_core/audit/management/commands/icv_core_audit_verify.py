"""``manage.py icv_core_audit_verify``: check the audit hash chain."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS

from icv_core.audit import chain


def _entries(count: int, adjective: str = "") -> str:
    return f"{count} {adjective}{'entry' if count == 1 else 'entries'}"


class Command(BaseCommand):
    help = (
        "Verify the audit hash chain (seals pending entries first). Exits with "
        "status 1 and names the first broken link when entries were changed, "
        "removed, reordered or (with --expect-head) truncated."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--database",
            default=DEFAULT_DB_ALIAS,
            help="Database alias (default: %(default)s).",
        )
        parser.add_argument(
            "--export-head",
            metavar="FILE",
            help="After a successful check, write the chain head (sequence and "
            "hash) to FILE as JSON. Keep it outside the database.",
        )
        parser.add_argument(
            "--expect-head",
            metavar="FILE",
            help="A head exported earlier: detects a truncated or rewritten tail.",
        )
        parser.add_argument(
            "--archives",
            action="store_true",
            help="Also re-read every recorded archive file from its storage: "
            "checksum, every archived entry's hash, and the links between "
            "archives from the first entry on.",
        )
        parser.add_argument(
            "--no-seal",
            action="store_true",
            help="Do not seal pending entries before verifying.",
        )
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=2000,
            help="Rows fetched per round trip (default: %(default)s).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        using = options["database"]
        verbosity = options["verbosity"]
        if options["chunk_size"] < 1:
            raise CommandError("--chunk-size must be at least 1.")
        expected = None
        if options["expect_head"]:
            try:
                expected = chain.ChainHead.load(options["expect_head"])
            except (OSError, ValueError) as exc:
                raise CommandError(f"Cannot read --expect-head: {exc}") from exc

        def progress(done: int) -> None:
            if verbosity >= 2:
                self.stdout.write(f"  checked {done} entries...")

        report = chain.verify(
            using,
            expect_head=expected,
            seal=not options["no_seal"],
            chunk_size=options["chunk_size"],
            progress=progress,
            archives=options["archives"],
        )
        if verbosity >= 1:
            if report.sealed:
                self.stdout.write(f"Sealed {_entries(report.sealed, 'pending ')}.")
            if options["archives"] and report.first_break is None:
                self.stdout.write(
                    f"Archives intact: {report.archives_checked} archives, "
                    f"{report.archived_entries_checked} archived entries checked."
                )
            if report.start_from_archive and report.start_sequence is not None:
                self.stdout.write(
                    f"Starting after the archive boundary at sequence "
                    f"{report.start_sequence - 1}."
                )
            for note in report.notes:
                self.stdout.write(f"Note: {note}")
        brk = report.first_break
        if brk is not None:
            raise CommandError(
                f"Audit chain BROKEN ({brk.kind}) after {report.checked} good "
                f"entries: {brk.message}",
                returncode=1,
            )
        if options["export_head"]:
            if report.head is None:
                raise CommandError("Nothing is sealed yet: there is no head to export.")
            report.head.dump(options["export_head"])
        if verbosity >= 1:
            if report.head is None:
                self.stdout.write("The audit chain is empty; nothing to verify.")
            else:
                self.stdout.write(
                    self.style.SUCCESS(
                        f"Audit chain intact: {report.checked} entries checked; "
                        f"head at sequence {report.head.sequence} "
                        f"({report.head.entry_hash})."
                    )
                )
            if expected is not None and report.expected_head_checked:
                self.stdout.write(
                    f"Matches the kept head at sequence {expected.sequence}."
                )
            if report.unsealed:
                self.stdout.write(
                    f"{_entries(report.unsealed)} "
                    f"{'is' if report.unsealed == 1 else 'are'} not sealed yet."
                )
            if options["export_head"]:
                self.stdout.write(f"Head written to {options['export_head']}.")
