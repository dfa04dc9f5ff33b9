"""``manage.py icv_core_check``: report the django-icv-core system checks."""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

_LEVELS = {
    checks.CRITICAL: "CRITICAL",
    checks.ERROR: "ERROR",
    checks.WARNING: "WARNING",
    checks.INFO: "INFO",
    checks.DEBUG: "DEBUG",
}


class Command(BaseCommand):
    # Plain strings: argparse cannot format lazy translations (Django's own
    # commands do the same).
    help = (
        "Check the django-icv-core configuration and print a report. Exits "
        "with status 1 when an error (or, with --fail-level WARNING, a "
        "warning) is found."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--fail-level",
            choices=["CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"],
            default="ERROR",
            help=_(
                "Exit non-zero for messages of this level or worse (default ERROR)."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        messages = [
            message
            for message in checks.run_checks(include_deployment_checks=False)
            if (message.id or "").startswith(("icv_core.", "icv_core_audit."))
        ]
        messages.sort(key=lambda m: (-m.level, m.id or ""))
        if not messages:
            self.stdout.write(
                self.style.SUCCESS(_("icv-core configuration OK: no issues."))
            )
            return
        for message in messages:
            level = _LEVELS.get(message.level, str(message.level))
            style = self.style.ERROR if message.is_serious() else self.style.WARNING
            line = f"[{level}] {message.id}: {message.msg}"
            self.stdout.write(style(line))
            if message.hint:
                self.stdout.write(f"    {_('HINT')}: {message.hint}")
        fail_level = getattr(checks, options["fail_level"])
        failing = [m for m in messages if m.level >= fail_level]
        summary = _("%(total)d issue(s) found, %(failing)d at or above %(level)s.") % {
            "total": len(messages),
            "failing": len(failing),
            "level": options["fail_level"],
        }
        if failing:
            raise CommandError(summary, returncode=1)
        self.stdout.write(summary)
