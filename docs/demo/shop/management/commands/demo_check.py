"""Request the demo's main pages with the test client: ``manage.py demo_check``.

Used by ``nox -s demo -- --check`` in CI. Exits non-zero unless every page
answers 200.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.test import Client

PAGES = [
    ("home page", "/", "Example shop"),
    ("admin login page", "/admin/login/", "Log in"),
    ("template filters page", "/filters/", "cents_to_currency"),
]


class Command(BaseCommand):
    help = "Check that the demo's home, admin login and filters pages answer 200."

    def handle(self, *args, **options) -> None:
        client = Client()
        failures = []
        for name, url, text in PAGES:
            response = client.get(url)
            body = response.content.decode()
            ok = response.status_code == 200 and text in body
            self.stdout.write(
                f"{'ok  ' if ok else 'FAIL'} {response.status_code} {url} ({name})"
            )
            if not ok:
                failures.append(url)
        if failures:
            raise CommandError(f"{len(failures)} page(s) failed: {', '.join(failures)}")
        self.stdout.write(self.style.SUCCESS(f"all {len(PAGES)} pages answer 200"))
