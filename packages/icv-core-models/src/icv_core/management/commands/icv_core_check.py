"""``manage.py icv_core_check``: report the django-icv-core system checks."""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

_LEVELS = {
    checks.CRITICAL: "CRITICAL",
    checks.ERROR: "ERROR",
    checks.WARNING: "WARNING",
    checks.INFO: "INFO",
    checks.DEBUG: "DEBUG",
}


_HELP = gettext_noop(
    "Check the django-icv-core configuration and print a report. Exits "
    "with status 1 when an error (or, with --fail-level WARNING, a "
    "warning) is found."
)


class Command(BaseCommand):
    help = _HELP
    requires_system_checks: list[str] = []

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> Any:
        # Translated here, not lazily: argparse cannot format lazy strings.
        self.help = _(_HELP)
        return super().create_parser(prog_name, subcommand, **kwargs)

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
        ours = [
            message
            for message in checks.run_checks(include_deployment_checks=False)
            if (message.id or "").startswith(("icv_core.", "icv_core_audit."))
        ]
        # SILENCED_SYSTEM_CHECKS applies here as in Django's check command.
        messages = [message for message in ours if not message.is_silenced()]
        silenced = len(ours) - len(messages)
        messages.sort(key=lambda m: (-m.level, m.id or ""))
        if silenced:
            self.stdout.write(
                ngettext(
                    "%(count)d silenced issue not shown.",
                    "%(count)d silenced issues not shown.",
                    silenced,
                )
                % {"count": silenced}
            )
        if not messages:
            self.stdout.write(
                self.style.SUCCESS(_("icv-core configuration OK: no issues."))
            )
            return
        for message in messages:
            level = _LEVELS.get(message.level, str(message.level))
            style = self.style.ERROR if message.is_serious() else self.style.WARNING
            line = _("[%(level)s] %(id)s: %(message)s") % {
                "level": level,
                "id": message.id,
                "message": message.msg,
            }
            self.stdout.write(style(line))
            if message.hint:
                self.stdout.write("    " + _("HINT: %(hint)s") % {"hint": message.hint})
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
