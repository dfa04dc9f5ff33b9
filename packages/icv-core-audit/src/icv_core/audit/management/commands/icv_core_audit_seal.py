"""``manage.py icv_core_audit_seal``: seal pending audit entries into the hash chain."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS

from icv_core.audit import chain


class Command(BaseCommand):
    help = (
        "Seal audit entries written since the last run into the hash chain. "
        "Run it regularly (e.g. every minute): until then new entries are not "
        "covered by the chain."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--database",
            default=DEFAULT_DB_ALIAS,
            help="Database alias (default: %(default)s).",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=1000,
            help="Entries sealed per transaction (default: %(default)s).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        batch_size = options["batch_size"]
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        using = options["database"]
        verbosity = options["verbosity"]

        def progress(done: int) -> None:
            if verbosity >= 2:
                self.stdout.write(f"  sealed {done} entries...")

        sealed = chain.seal_pending(using, batch_size=batch_size, progress=progress)
        if verbosity >= 1:
            current = chain.head(using)
            where = (
                f"head at sequence {current.sequence} ({current.entry_hash[:16]}…)"
                if current
                else "the chain is empty"
            )
            self.stdout.write(f"Sealed {sealed} entries; {where}.")
