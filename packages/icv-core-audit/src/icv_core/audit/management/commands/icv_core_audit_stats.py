"""``manage.py icv_core_audit_stats``: audit trail statistics (table or JSON)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS

from icv_core.audit import _stats
from icv_core.audit.conf import settings


class Command(BaseCommand):
    help = (
        "Print audit statistics: counts by event type and action, entries per day, "
        "top actors, failed logins and open alerts by severity."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        window = parser.add_mutually_exclusive_group()
        window.add_argument(
            "--days",
            type=int,
            help="Look back this many days (default: 7).",
        )
        window.add_argument(
            "--period",
            choices=sorted(_stats.PERIODS),
            help="day (1), week (7) or month (30 days); kept for 0.2 compatibility.",
        )
        parser.add_argument(
            "--format",
            choices=["table", "json"],
            default="table",
            help="Output format (default: table). JSON keys are stable.",
        )
        parser.add_argument(
            "--top",
            type=int,
            default=10,
            help="How many top actors to list (default: 10).",
        )
        parser.add_argument(
            "--database",
            default=DEFAULT_DB_ALIAS,
            help='Database alias (default: "default").',
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["days"] is not None:
            days = options["days"]
            if not 1 <= days <= 36500:
                raise CommandError("--days must be between 1 and 36500.")
        else:
            days = _stats.PERIODS[options["period"] or "week"]
        if options["top"] < 0:
            raise CommandError("--top must not be negative.")
        if not settings.AUDIT_ENABLED:
            # Existing data can still be reported; say that capture is off.
            self.stderr.write(
                "ICV_CORE_AUDIT_ENABLED is False: no new entries are being recorded."
            )
        data = _stats.compute(days, top=options["top"], using=options["database"])
        if options["format"] == "json":
            self.stdout.write(json.dumps(data, indent=2, sort_keys=False))
        else:
            self.stdout.write(_stats.format_table(data), ending="")
