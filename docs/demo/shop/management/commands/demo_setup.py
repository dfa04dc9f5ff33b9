"""Load the demo data once: ``python manage.py demo_setup``.

Idempotent: running it again leaves existing data alone (it only makes sure
the demo login exists and works). Everything here is ordinary application
code a project could write.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from icv_core.audit import chain
from icv_core.audit.models import AuditEntry, SystemAlert
from icv_core.audit.services import log_event, raise_alert
from icv_core.middleware import acting_as
from shop.models import Customer, Order, OrderLine, Product

USERNAME = "demo"
PASSWORD = "demo"

PRODUCTS = [
    # name, sku, price in minor units, currency
    ("Espresso beans 1 kg", "BEAN-1K", 2450, "GBP"),
    ("Pour-over kettle", "KETTLE-1", 5900, "GBP"),
    ("Ceramic cup", "CUP-1", 1200, "GBP"),
    ("Matcha 100 g", "MATCHA-100", 3200, "JPY"),
]
CUSTOMERS = [
    ("Ada Lovelace", "ada@example.com"),
    ("Grace Hopper", "grace@example.com"),
    ("Katherine Johnson", "katherine@example.com"),
]


class Command(BaseCommand):
    help = "Create the demo login and load the demo data (once)."

    def handle(self, *args, **options) -> None:
        user = self._demo_user()
        if Customer.objects.exists():
            self.stdout.write("Demo data already loaded; nothing to do.")
            return
        with transaction.atomic(), acting_as(user):
            self._load(user)
        # Seal the new entries into the hash chain (in production: run
        # `manage.py icv_core_audit_seal` every minute or so).
        sealed = chain.seal_pending()
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded {Product.objects.count()} products, "
                f"{Customer.objects.count()} customers, "
                f"{Order.all_objects.count()} orders "
                f"({Order.all_objects.deleted().count()} soft-deleted), "
                f"{AuditEntry.objects.count()} audit entries ({sealed} sealed), "
                f"{SystemAlert.objects.filter(is_resolved=False).count()} open alerts."
            )
        )

    def _demo_user(self):
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(
            username=USERNAME,
            defaults={
                "is_staff": True,
                "is_superuser": True,
                "email": "demo@example.com",
            },
        )
        if created or not user.check_password(PASSWORD):
            user.set_password(PASSWORD)
            user.is_staff = user.is_superuser = True
            user.save()
        return user

    def _load(self, user) -> None:
        products = [
            Product.objects.create(
                name=name, sku=sku, price_minor=price, currency=currency
            )
            for name, sku, price, currency in PRODUCTS
        ]
        customers = [
            Customer.objects.create(name=name, email=email) for name, email in CUSTOMERS
        ]

        # Some history: an update whose diff shows in the audit admin.
        ada = customers[0]
        ada.email = "ada.lovelace@example.com"
        ada.notes = "Prefers e-mail."
        ada.save()

        # Orders with lines; the currency of each order is that of its products.
        orders = []
        for number, (customer, items) in enumerate(
            [
                (customers[0], [(products[0], 2), (products[2], 4)]),
                (customers[1], [(products[1], 1)]),
                (customers[2], [(products[0], 1), (products[1], 1), (products[2], 2)]),
                (customers[1], [(products[2], 6)]),
            ],
            start=1001,
        ):
            order = Order.objects.create(reference=f"ORD-{number}", customer=customer)
            for product, quantity in items:
                OrderLine.objects.create(
                    order=order,
                    product=product,
                    quantity=quantity,
                    unit_price_minor=product.price_minor,
                )
            orders.append(order)
        orders[0].state = Order.State.PAID
        orders[0].save()

        # A soft-delete cascade: the order and its lines are hidden, not lost.
        orders[3].soft_delete(cascade=True)

        # Events a project logs itself.
        log_event(
            event_type=AuditEntry.EventType.SECURITY,
            action=AuditEntry.Action.PERMISSION_DENIED,
            user=user,
            description="Attempted access to the refunds report.",
            metadata={"path": "/reports/refunds/"},
        )
        log_event(
            event_type=AuditEntry.EventType.SYSTEM,
            action=AuditEntry.Action.CUSTOM,
            description="Nightly stock import finished.",
            metadata={"rows": 128},
        )

        # Operational alerts, open until someone resolves them.
        raise_alert(
            alert_type=SystemAlert.AlertType.PAYMENT,
            severity="error",
            title="Payment processor unreachable",
            message="The card processor returned 503 for the last 5 minutes.",
        )
        raise_alert(
            alert_type=SystemAlert.AlertType.SECURITY,
            severity="warning",
            title="Repeated failed logins",
            message="5 failed logins for 'admin' from 203.0.113.7 in one minute.",
        )
        raise_alert(
            alert_type=SystemAlert.AlertType.SYSTEM,
            severity="critical",
            title="Disk 90% full",
            message="The media volume is at 90% of its capacity.",
        )
