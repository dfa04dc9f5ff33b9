"""log_event(): users, targets, metadata, text bounds, request values, signal."""

from __future__ import annotations

import datetime
import decimal
import uuid

import pytest
from audit_testapp.models import Contract, Ticket
from capture_helpers import *  # noqa: F403
from django.contrib.auth.models import AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.test import RequestFactory
from django.utils.translation import gettext_lazy

from icv_core.audit.middleware import AuditRequestMiddleware
from icv_core.audit.models import AuditEntry
from icv_core.audit.services import log_event
from icv_core.audit.signals import audit_entry_created

pytestmark = pytest.mark.django_db


def test_disabled_returns_none_and_writes_nothing(settings):
    settings.ICV_CORE_AUDIT_ENABLED = False
    assert log_event("SYSTEM", "CUSTOM", description="x") is None
    assert AuditEntry.objects.count() == 0


def test_minimal_entry(audit_on):
    entry = log_event(AuditEntry.EventType.SYSTEM, AuditEntry.Action.CUSTOM)
    stored = AuditEntry.objects.get()
    assert stored.pk == entry.pk
    assert (stored.event_type, stored.action) == ("SYSTEM", "CUSTOM")
    assert (stored.user_id, stored.username, stored.ip_address) == (None, "", None)
    assert (stored.user_agent, stored.request_id, stored.description) == ("", "", "")
    assert stored.metadata == {}
    assert stored.target_content_type_id is None and stored.target_object_id is None


def test_explicit_user_and_username_snapshot(audit_on, alice):
    entry = log_event("SECURITY", "PERMISSION_DENIED", user=alice)
    assert (entry.user_id, entry.username) == (alice.pk, "alice")
    alice.delete()
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert (stored.user_id, stored.username) == (None, "alice")


def test_anonymous_user_is_none(audit_on):
    entry = log_event("SECURITY", "PERMISSION_DENIED", user=AnonymousUser())
    assert (entry.user_id, entry.username) == (None, "")


def test_current_user_when_none_given(audit_on, alice, bob):
    from icv_core.middleware import acting_as

    with acting_as(alice):
        assert log_event("SYSTEM", "CUSTOM").user_id == alice.pk
        # An explicit user wins over the current user.
        assert log_event("SYSTEM", "CUSTOM", user=bob).user_id == bob.pk
    assert log_event("SYSTEM", "CUSTOM").user_id is None


def test_request_user_and_values(audit_on, alice):
    request = RequestFactory().get(
        "/", REMOTE_ADDR="198.51.100.5", HTTP_USER_AGENT="UA", HTTP_X_REQUEST_ID="r-1"
    )
    request.user = alice
    entry = log_event("SECURITY", "PERMISSION_DENIED", request=request)
    assert (entry.user_id, entry.ip_address, entry.user_agent, entry.request_id) == (
        alice.pk,
        "198.51.100.5",
        "UA",
        "r-1",
    )
    # The same request gives the same request id every time.
    assert log_event("SYSTEM", "CUSTOM", request=request).request_id == "r-1"
    request.user = AnonymousUser()
    assert log_event("SYSTEM", "CUSTOM", request=request).user_id is None


def test_generated_request_id_is_stable_per_request(audit_on):
    request = RequestFactory().get("/")
    first = log_event("SYSTEM", "CUSTOM", request=request)
    second = log_event("SYSTEM", "CUSTOM", request=request)
    assert len(first.request_id) == 32 and first.request_id == second.request_id


def test_context_values_without_a_request_argument(audit_on, alice):
    found = []

    def view(request):
        found.append(log_event("SYSTEM", "CUSTOM"))
        found.append(log_event("SYSTEM", "CUSTOM"))
        return "ok"

    request = RequestFactory().get(
        "/", REMOTE_ADDR="198.51.100.6", HTTP_USER_AGENT="ctx-UA"
    )
    request.user = alice
    AuditRequestMiddleware(view)(request)
    assert [(e.user_id, e.ip_address, e.user_agent) for e in found] == [
        (alice.pk, "198.51.100.6", "ctx-UA")
    ] * 2
    assert found[0].request_id == found[1].request_id != ""


def test_spoofed_forwarded_for_is_not_stored(audit_on):
    request = RequestFactory().get(
        "/", REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="6.6.6.6"
    )
    assert log_event("SYSTEM", "CUSTOM", request=request).ip_address == "203.0.113.7"


def test_garbage_ip_is_dropped_not_stored_or_crashed_on(audit_on, settings):
    settings.ICV_CORE_AUDIT_TRUSTED_PROXIES = ["10.0.0.0/8"]
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="not-an-ip"
    )
    entry = log_event("SYSTEM", "CUSTOM", request=request)
    assert AuditEntry.objects.get(pk=entry.pk).ip_address is None
    request = RequestFactory().get("/", REMOTE_ADDR="garbage")
    assert log_event("SYSTEM", "CUSTOM", request=request).ip_address is None


def test_target_with_uuid_pk(audit_on):
    contract = Contract.objects.create(title="c", value="1.00")
    AuditEntry.objects.all()  # the CREATE entry from the mixin is not disabled
    entry = log_event("DATA", "CUSTOM", target=contract)
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert stored.target_content_type == ContentType.objects.get_for_model(Contract)
    assert stored.target_object_id == str(contract.pk)
    assert stored.target == contract


def test_target_with_int_pk(audit_on):
    ticket = Ticket.objects.create(subject="t")
    entry = log_event("DATA", "CUSTOM", target=ticket)
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert stored.target_object_id == str(ticket.pk)
    assert stored.target == ticket


def test_bad_target_is_a_clear_error(audit_on):
    with pytest.raises(TypeError, match="target must be a model instance"):
        log_event("DATA", "CUSTOM", target="nope")
    with pytest.raises(ValueError, match="target must be saved"):
        log_event("DATA", "CUSTOM", target=Ticket(subject="unsaved"))
    assert AuditEntry.objects.filter(action="CUSTOM").count() == 0


def test_metadata_is_json_native(audit_on):
    entry = log_event(
        "SYSTEM",
        "CUSTOM",
        metadata={
            "when": datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
            "day": datetime.date(2026, 1, 2),
            "amount": decimal.Decimal("10.50"),
            "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
            "lazy": gettext_lazy("Hello"),
            "nested": {"list": [1, None, True], 3: "int key"},
        },
    )
    expected = {
        "when": "2026-01-02T03:04:05Z",
        "day": "2026-01-02",
        "amount": "10.50",
        "id": "12345678-1234-5678-1234-567812345678",
        "lazy": "Hello",
        "nested": {"list": [1, None, True], "3": "int key"},
    }
    assert entry.metadata == expected
    assert AuditEntry.objects.get(pk=entry.pk).metadata == expected


@pytest.mark.parametrize(
    ("metadata", "error", "message"),
    [
        ("not a dict", TypeError, "metadata must be a dict or None, not str"),
        ({"s": {1, 2}}, TypeError, "metadata is not JSON-serialisable"),
        ({"b": b"bytes"}, TypeError, "metadata is not JSON-serialisable"),
        ({"o": object()}, TypeError, "metadata is not JSON-serialisable"),
        ({(1, 2): "tuple key"}, TypeError, "metadata is not JSON-serialisable"),
        ({"n": float("nan")}, ValueError, "Out of range float values"),
        ({"n": float("inf")}, ValueError, "Out of range float values"),
    ],
)
def test_bad_metadata_raises_before_writing(audit_on, metadata, error, message):
    with pytest.raises(error, match=message):
        log_event("SYSTEM", "CUSTOM", metadata=metadata)
    assert AuditEntry.objects.count() == 0


def test_circular_and_deep_metadata_are_value_errors(audit_on):
    circular: dict = {}
    circular["self"] = circular
    with pytest.raises(ValueError, match="Circular reference"):
        log_event("SYSTEM", "CUSTOM", metadata=circular)
    deep: dict = {}
    node = deep
    for _ in range(10_000):
        node["x"] = {}
        node = node["x"]
    with pytest.raises(ValueError, match="nested too deeply"):
        log_event("SYSTEM", "CUSTOM", metadata=deep)
    forty: dict = {}
    node = forty
    for _ in range(40):
        node["x"] = {}
        node = node["x"]
    with pytest.raises(ValueError, match="deeper than 32 levels"):
        log_event("SYSTEM", "CUSTOM", metadata=forty)
    assert AuditEntry.objects.count() == 0


def test_metadata_size_cap(audit_on, settings):
    settings.ICV_CORE_AUDIT_MAX_METADATA_SIZE = 100
    with pytest.raises(
        ValueError, match=r"ICV_CORE_AUDIT_MAX_METADATA_SIZE \(100 bytes\)"
    ):
        log_event("SYSTEM", "CUSTOM", metadata={"x": "y" * 200})
    assert AuditEntry.objects.count() == 0


def test_metadata_sensitive_keys_are_masked_recursively(audit_on, settings):
    settings.ICV_CORE_AUDIT_SENSITIVE_FIELDS = ["pin"]
    entry = log_event(
        "SYSTEM",
        "CUSTOM",
        metadata={
            "password": "hunter2",
            "nested": {"API-Key": "k", "refresh_token": {"deep": "t"}, "ok": 1},
            "list": [{"client_secret": "s"}],
            "user_pin": "1234",
        },
    )
    assert entry.metadata == {
        "password": "[masked]",
        "nested": {"API-Key": "[masked]", "refresh_token": "[masked]", "ok": 1},
        "list": [{"client_secret": "[masked]"}],
        "user_pin": "[masked]",
    }
    assert "hunter2" not in str(
        AuditEntry.objects.values_list("metadata", flat=True)[0]
    )


def test_nul_and_lone_surrogates_in_metadata_are_replaced(audit_on):
    entry = log_event("SYSTEM", "CUSTOM", metadata={"a\x00": "b\x00c", "s": "x\ud800"})
    assert AuditEntry.objects.get(pk=entry.pk).metadata == {
        "a\ufffd": "b\ufffdc",
        "s": "x\ufffd",
    }


def test_description_bounded_and_control_safe(audit_on, settings):
    settings.ICV_CORE_AUDIT_MAX_DESCRIPTION_LENGTH = 30
    entry = log_event(
        "SYSTEM", "CUSTOM", description="line1\r\nFAKE 200 OK\x1b[31m red"
    )
    assert entry.description == "line1\\r\\nFAKE 200 OK\\x1b[31m \u2026"
    assert len(entry.description) == 30
    assert AuditEntry.objects.get(pk=entry.pk).description == entry.description
    unicode = log_event("SYSTEM", "CUSTOM", description="caf\u00e9 \U0001f600 \u4e2d")
    assert (
        AuditEntry.objects.get(pk=unicode.pk).description
        == "caf\u00e9 \U0001f600 \u4e2d"
    )
    lazy = log_event("SYSTEM", "CUSTOM", description=gettext_lazy("Hello"))
    assert lazy.description == "Hello"


def test_invalid_choices_are_rejected(audit_on):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        log_event("SYSTEM", "BOGUS")
    with pytest.raises(ValidationError):
        log_event("BOGUS", "CUSTOM")
    assert AuditEntry.objects.count() == 0


def test_audit_entry_created_is_sent_once(audit_on):
    received = []

    def receiver(sender, instance, **kwargs):
        received.append((sender, instance.pk))

    audit_entry_created.connect(receiver, dispatch_uid="test-services-signal")
    try:
        entry = log_event("SYSTEM", "CUSTOM")
    finally:
        audit_entry_created.disconnect(dispatch_uid="test-services-signal")
    assert received == [(AuditEntry, entry.pk)]


def test_log_event_is_one_insert(audit_on, alice, django_assert_num_queries):
    ContentType.objects.get_for_model(Ticket)
    ticket = Ticket.objects.create(subject="t")
    with django_assert_num_queries(1) as captured:
        log_event("DATA", "CUSTOM", user=alice, target=ticket, metadata={"a": 1})
    assert captured.captured_queries[0]["sql"].startswith("INSERT")


def _hostile(rng, size):
    alphabet = (
        "abc123.:,[]% \t\r\n\x00\x1b\x7f\x85\u2028\u202e\u200d\ud800\U0001f600"
        "\u4e2d<>'\"\\"
    )
    return "".join(rng.choice(alphabet) for _ in range(rng.randrange(size)))


def test_hostile_input_never_breaks_a_write(audit_on, settings):
    """A seeded fuzz over headers and descriptions (deterministic)."""
    import ipaddress
    import random
    import re

    settings.ICV_CORE_AUDIT_TRUSTED_PROXIES = ["10.0.0.0/8", "2001:db8::/32"]
    settings.ICV_CORE_AUDIT_MAX_USER_AGENT_LENGTH = 64
    settings.ICV_CORE_AUDIT_MAX_DESCRIPTION_LENGTH = 80
    rng = random.Random(20261203)
    addresses = ["10.0.0.1", "2001:db8::1", "198.51.100.1", "::1", "1.2.3.4:80"]
    raw_controls = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u202e\ud800-\udfff]")
    for _ in range(300):
        hops = [
            rng.choice(addresses + [_hostile(rng, 12)]) for _ in range(rng.randrange(5))
        ]
        request = RequestFactory().get(
            "/",
            REMOTE_ADDR=rng.choice(addresses + [_hostile(rng, 10)]),
            HTTP_X_FORWARDED_FOR=",".join(hops),
            HTTP_USER_AGENT=_hostile(rng, 200),
            HTTP_X_REQUEST_ID=_hostile(rng, 20),
        )
        entry = log_event(
            "SYSTEM", "CUSTOM", description=_hostile(rng, 200), request=request
        )
        stored = AuditEntry.objects.get(pk=entry.pk)
        if stored.ip_address is not None:
            ipaddress.ip_address(stored.ip_address)
        assert len(stored.user_agent) <= 64 and len(stored.description) <= 80
        assert not raw_controls.search(stored.user_agent + stored.description)
        assert re.fullmatch(r"[A-Za-z0-9._:\-]{1,64}", stored.request_id)
    assert AuditEntry.objects.count() == 300
