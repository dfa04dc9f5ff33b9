"""B7 concurrent writers (CONC-1, CONC-2, CONC-4).

K threads, each with its own database connection (closed when the thread
ends), start together on a :class:`threading.Barrier` and make M audited
saves of ``Contract`` (``AuditMixin``), alternating a create and an update of
the object just created (M odd: the last create has no update), each thread
acting as its own user (``ICV_CORE_AUDIT_ENABLED`` on). Afterwards:

* exactly K·M entries, 0 lost, 0 duplicates (exactly one entry per save:
  each contract has one CREATE and, if updated, one UPDATE entry), every
  entry's actor is its writer (CONC-1);
* the chain is sealed (``icv_core_audit_seal``; on PostgreSQL a sealer also
  runs while the writers write) and verifies end to end: 0 breaks, 0 forks
  (every ``prev_hash`` has exactly one successor), sequences 1..K·M (CONC-2);
* on SQLite, which serialises writers, a lock error reaches the caller as an
  exception and is retried; it never becomes a silently missing entry, and
  every committed contract has its entries (CONC-4).

The same saves on ``Customer`` (a ``BaseModel`` without the mixin) give the
baseline for the added latency per audited save (p50/p95), which is reported,
not asserted.
"""

from __future__ import annotations

import io
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from audit_testapp.models import Contract, Customer
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import OperationalError, connection, connections
from django.db.models import Count

from icv_core.audit import chain
from icv_core.audit.models import AuditEntry
from icv_core.audit.services import content_type_for
from icv_core.middleware import acting_as

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="PostgreSQL-only: SQLite serialises writers",
)
sqlite_only = pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="SQLite variant (CONC-4); PostgreSQL runs the 8×25 and 16×200 variants",
)

_JOIN_TIMEOUT = 600


def _percentile(values: list[float], pct: int) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[pct - 1]


def _is_lock_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


class _Writers:
    """Run ``work(index)`` in K threads started together; collect results."""

    def __init__(self, k: int) -> None:
        self.k = k

    def run(self, work: Callable[[int], Any]) -> list[Any]:
        barrier = threading.Barrier(self.k)
        results: list[Any] = [None] * self.k
        errors: list[BaseException] = []

        def target(index: int) -> None:
            try:
                barrier.wait(timeout=60)
                results[index] = work(index)
            except BaseException as exc:  # reported below
                errors.append(exc)
            finally:
                connections.close_all()  # this thread's own connection

        threads = [
            threading.Thread(target=target, args=(index,), name=f"b7-writer-{index}")
            for index in range(self.k)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(_JOIN_TIMEOUT)
        assert not any(thread.is_alive() for thread in threads)
        assert errors == []
        return results


def _save(instance: Any, lock_errors: list[int], retry_locks: bool) -> float:
    """Save once (retrying SQLite lock errors); return the elapsed seconds."""
    adding = instance._state.adding
    start = time.perf_counter()
    while True:
        try:
            instance.save()
            return time.perf_counter() - start
        except OperationalError as exc:
            # CONC-4: the lock surfaces to the caller as an exception.
            if not (retry_locks and _is_lock_error(exc)):
                raise
            lock_errors.append(1)
            instance._state.adding = adding
            time.sleep(0.001)


def _writer(
    model: type, field: str, m: int, users: list[Any], retry_locks: bool
) -> Callable[[int], dict[str, Any]]:
    def work(index: int) -> dict[str, Any]:
        timings: list[float] = []
        lock_errors: list[int] = []
        pks: list[Any] = []
        pairs: list[tuple[str, str]] = []
        with acting_as(users[index] if users else None):
            instance = None
            for step in range(m):
                label = f"w{index}-{step}"
                if step % 2 == 0:
                    values = {field: label}
                    if model is Contract:
                        values["value"] = Decimal(step)
                    instance = model(**values)
                    pks.append(instance.pk)
                    pairs.append((str(instance.pk), "CREATE"))
                else:
                    setattr(instance, field, label)
                    pairs.append((str(instance.pk), "UPDATE"))
                timings.append(_save(instance, lock_errors, retry_locks))
        return {
            "timings": timings,
            "lock_errors": len(lock_errors),
            "pks": pks,
            "pairs": pairs,
        }

    return work


def _sealer(stop: threading.Event, runs: list[int]) -> threading.Thread:
    """Seal pending entries in a loop while the writers write."""

    def target() -> None:
        try:
            while not stop.is_set():
                chain.seal_pending(batch_size=97)
                runs.append(1)
                time.sleep(0.01)
        finally:
            connections.close_all()

    thread = threading.Thread(target=target, name="b7-sealer")
    thread.start()
    return thread


def _run_b7(k: int, m: int, battery: Callable[[str], None]) -> None:
    vendor = connection.vendor
    retry_locks = vendor == "sqlite"
    user_model = get_user_model()
    users = [user_model.objects.create_user(f"b7-writer-{i}") for i in range(k)]
    writers = _Writers(k)

    # Baseline: the same saves on a model without the mixin.
    plain = writers.run(_writer(Customer, "name", m, [], retry_locks))
    assert AuditEntry.objects.count() == 0  # Customer is not audited
    assert Customer.objects.count() == k * ((m + 1) // 2)

    # Audited saves, with a concurrent sealer on PostgreSQL.
    stop, seal_runs = threading.Event(), []
    sealer = _sealer(stop, seal_runs) if vendor == "postgresql" else None
    try:
        audited = writers.run(_writer(Contract, "title", m, users, retry_locks))
    finally:
        stop.set()
        if sealer is not None:
            sealer.join(_JOIN_TIMEOUT)
    assert sealer is None or not sealer.is_alive()

    # CONC-1: exact count, no loss, no duplicates, the right actor.
    expected = k * m
    contract_type = content_type_for(Contract)
    entries = list(
        AuditEntry.objects.filter(target_content_type=contract_type).values_list(
            "id", "target_object_id", "action", "user_id"
        )
    )
    observed = len(entries)
    ids = [row[0] for row in entries]
    assert len(set(ids)) == len(ids)
    assert AuditEntry.objects.count() == observed  # nothing else was written
    per_contract = Counter((row[1], row[2]) for row in entries)
    contract_pks = {str(pk) for result in audited for pk in result["pks"]}
    assert Contract.objects.count() == len(contract_pks) == k * ((m + 1) // 2)
    expected_pairs = {pair for result in audited for pair in result["pairs"]}
    assert len(expected_pairs) == expected
    lost = len(expected_pairs - set(per_contract))
    duplicates = sum(n - 1 for n in per_contract.values() if n > 1) + len(
        set(per_contract) - expected_pairs
    )
    assert (expected, observed, lost, duplicates) == (expected, expected, 0, 0)
    for index, result in enumerate(audited):
        mine = {str(pk) for pk in result["pks"]}
        actors = {row[3] for row in entries if row[1] in mine}
        assert actors == {users[index].pk}
        assert len([row for row in entries if row[1] in mine]) == m

    # CONC-2: seal (the product's command), then verify end to end.
    out = io.StringIO()
    call_command("icv_core_audit_seal", stdout=out)
    report = chain.verify()
    breaks = 0 if report.ok else 1
    assert report.ok, report.first_break
    assert report.unsealed == 0
    assert report.checked == expected
    assert report.head is not None and report.head.sequence == expected
    sequences = sorted(AuditEntry.objects.values_list("sequence", flat=True))
    assert sequences == list(range(1, expected + 1))
    forks = (
        AuditEntry.objects.values("prev_hash")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    assert forks == 0
    verify_out = io.StringIO()
    call_command("icv_core_audit_verify", stdout=verify_out)

    plain_times = [t for result in plain for t in result["timings"]]
    audited_times = [t for result in audited for t in result["timings"]]
    p50 = (_percentile(audited_times, 50) - _percentile(plain_times, 50)) * 1000
    p95 = (_percentile(audited_times, 95) - _percentile(plain_times, 95)) * 1000
    lock_errors = sum(r["lock_errors"] for r in audited + plain)
    extra = (
        f"; {lock_errors} lock errors surfaced to the caller and retried"
        if retry_locks
        else f"; sealer ran {len(seal_runs)} times during the writes"
    )
    battery(
        f"B7 concurrent writers ({k}×{m}): {expected:,} expected / {observed:,} "
        f"observed; {lost} lost; {duplicates} duplicates; chain breaks {breaks}; "
        f"forks {forks}; p50/p95 added latency per audited save "
        f"{p50:.2f}/{p95:.2f} ms{extra} ({vendor})"
    )


@pytest.mark.slow
@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_b7_concurrent_writers_16x200(battery, audit_enabled):
    _run_b7(16, 200, battery)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_b7_concurrent_writers_8x25(battery, audit_enabled):
    _run_b7(8, 25, battery)


@sqlite_only
@pytest.mark.django_db(transaction=True)
def test_b7_concurrent_writers_sqlite_4x25(battery, audit_enabled):
    _run_b7(4, 25, battery)
