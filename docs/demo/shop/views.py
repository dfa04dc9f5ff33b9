from __future__ import annotations

import datetime as dt

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from icv_core.audit.models import AuditEntry, SystemAlert

from .models import Customer, Order, Product

# Amounts in minor units, and the currencies and languages the filters page shows.
AMOUNTS = [3500, 123456, -3500, 0]
CURRENCIES = ["GBP", "USD", "EUR", "JPY", "BHD", "XYZ"]
LANGUAGES = ["en-us", "en-gb", "de", "fr", "ja"]


def home(request: HttpRequest) -> HttpResponse:
    context = {
        "products": Product.objects.all(),
        "customers": Customer.objects.count(),
        "orders": Order.objects.select_related("customer").prefetch_related("lines"),
        "deleted_orders": Order.objects.deleted().count(),
        "entries": AuditEntry.objects.order_by("-created_at")[:10],
        "open_alerts": SystemAlert.objects.filter(is_resolved=False).count(),
    }
    return render(request, "shop/home.html", context)


def filters(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    moments = [
        ("30 seconds ago", now - dt.timedelta(seconds=30)),
        ("5 minutes ago", now - dt.timedelta(minutes=5)),
        ("2 hours ago", now - dt.timedelta(hours=2)),
        ("3 days ago", now - dt.timedelta(days=3)),
        ("2 weeks ago", now - dt.timedelta(weeks=2)),
        ("100 days ago", now - dt.timedelta(days=100)),
        ("400 days ago", now - dt.timedelta(days=400)),
        ("in 5 minutes", now + dt.timedelta(minutes=5, seconds=5)),
        ("in 2 hours", now + dt.timedelta(hours=2, seconds=5)),
        ("yesterday (a date)", timezone.localdate() - dt.timedelta(days=1)),
    ]
    context = {
        "amounts": AMOUNTS,
        "currencies": CURRENCIES,
        "languages": LANGUAGES,
        "moments": moments,
        "bad_values": [None, "", "abc", "NaN", True],
    }
    return render(request, "shop/filters.html", context)


def favicon(request: HttpRequest) -> HttpResponse:
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">'
        '<rect width="16" height="16" rx="3" fill="#417690"/></svg>'
    )
    return HttpResponse(svg, content_type="image/svg+xml")
