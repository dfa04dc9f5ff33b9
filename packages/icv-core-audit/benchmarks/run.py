"""Benchmarks of django-icv-core against plain Django, as ratios from one run.

Run with ``nox -s bench`` (SQLite file database; set ``DATABASE_URL`` for
PostgreSQL too). Every subject is timed in chunks of 25 operations interleaved
with its plain-Django floor, the order rotated per repetition, so drift and
I/O stalls hit both alike. The ratio reported is the median over the
repetitions of (subject time / floor time) for the same repetition; queries
per operation come from an untimed pass. No number here is asserted: query
counts are asserted exactly by the test suites instead.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench_settings")

import django  # noqa: E402

django.setup()

from bench_app.models import (  # noqa: E402
    FloorFull,
    FloorInt,
    IcvAudited,
    IcvBase,
    IcvSoft,
)
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from icv_core.uuid import make_uuid  # noqa: E402

OPS = int(os.environ.get("BENCH_OPS", "200"))
REPS = int(os.environ.get("BENCH_REPS", "5"))
CHUNK = 25
BULK_ROWS = 2000

Op = Callable[[int], object]
# A subject: name -> (prepare(n) returning per-op state, op(state, i)).
Subject = tuple[Callable[[int], list], Callable[[list, int], object]]


def _make(model: type, n: int) -> list:
    return [model.objects.create(name=f"row {i}") for i in range(n)]


def _create(model: type) -> Subject:
    return (lambda n: [], lambda state, i: model.objects.create(name=f"new {i}"))


def _update(model: type) -> Subject:
    def op(state: list, i: int) -> None:
        obj = state[i]
        obj.name = f"changed {i}"
        obj.value = i
        obj.save()

    return (lambda n: _make(model, n), op)


def _delete(model: type) -> Subject:
    return (lambda n: _make(model, n), lambda state, i: state[i].delete())


def _floor_soft_delete(state: list, i: int) -> None:
    obj = state[i]
    obj.is_active = False
    obj.deleted_at = timezone.now()
    obj.save(update_fields=["is_active", "deleted_at", "updated_at"])


def _bulk(model: type, floor: bool) -> Subject:
    def prepare(n: int) -> list:
        return [
            [obj.pk for obj in _make(model, BULK_ROWS)]
            for _ in range(max(1, n // CHUNK))
        ]

    def op(state: list, i: int) -> None:
        if i % CHUNK:
            return  # one set-based call per chunk, reported per row below
        pks = state[i // CHUNK]
        if floor:
            model._base_manager.filter(pk__in=pks).update(
                is_active=False, deleted_at=timezone.now()
            )
        else:
            model.all_objects.filter(pk__in=pks).soft_delete()

    return (prepare, op)


WORKLOADS: dict[str, dict[str, Subject]] = {
    "create": {
        "floor_int": _create(FloorInt),
        "floor_full": _create(FloorFull),
        "BaseModel": _create(IcvBase),
        "SoftDeleteModel": _create(IcvSoft),
        "AuditMixin (tracked)": _create(IcvAudited),
    },
    "update": {
        "floor_int": _update(FloorInt),
        "floor_full": _update(FloorFull),
        "BaseModel": _update(IcvBase),
        "SoftDeleteModel": _update(IcvSoft),
        "AuditMixin (tracked)": _update(IcvAudited),
    },
    "delete": {
        "floor_int": _delete(FloorInt),
        "floor_full": _delete(FloorFull),
        "AuditMixin (tracked)": _delete(IcvAudited),
    },
    "soft delete": {
        "floor_int": _update(FloorInt),
        "floor_full": (lambda n: _make(FloorFull, n), _floor_soft_delete),
        "SoftDeleteModel": (
            lambda n: _make(IcvSoft, n),
            lambda state, i: state[i].soft_delete(),
        ),
    },
}
BULK: dict[str, Subject] = {
    "floor_full": _bulk(FloorFull, floor=True),
    "SoftDeleteModel": _bulk(IcvSoft, floor=False),
}


def _measure(subjects: dict[str, Subject], ops: int) -> dict[str, list[float]]:
    """Seconds per subject per repetition, chunks interleaved across subjects."""
    names = list(subjects)
    times: dict[str, list[float]] = {name: [] for name in names}
    for rep in range(REPS):
        order = names[rep % len(names) :] + names[: rep % len(names)]
        states = {name: subjects[name][0](ops) for name in order}
        spent = dict.fromkeys(names, 0.0)
        for start in range(0, ops, CHUNK):
            for name in order:
                op = subjects[name][1]
                state = states[name]
                began = time.perf_counter()
                for i in range(start, min(start + CHUNK, ops)):
                    op(state, i)
                spent[name] += time.perf_counter() - began
        for name in names:
            times[name].append(spent[name])
    return times


_TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


def _queries_per_op(subject: Subject, ops: int = 10) -> str:
    """Data statements per operation, then the transaction control around them
    (an audited write and its entry commit together: BEGIN/COMMIT in
    autocommit mode, nothing inside the caller's transaction)."""
    state = subject[0](ops)
    with CaptureQueriesContext(connection) as ctx:
        for i in range(ops):
            subject[1](state, i)
    control = sum(
        q["sql"].lstrip().upper().startswith(_TRANSACTION_CONTROL)
        for q in ctx.captured_queries
    )
    data = len(ctx.captured_queries) - control
    return (
        f"{data / ops:.1f} (+{control / ops:.1f} tx)"
        if control
        else f"{data / ops:.1f}"
    )


def _ratio(times: dict[str, list[float]], name: str, floor: str) -> str:
    if name == floor or floor not in times:
        return "-"
    ratios = [s / f for s, f in zip(times[name], times[floor], strict=True)]
    return f"{statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})"


def _uuid_rows() -> list[str]:
    n = 100_000
    rows = []
    for label, fn in (
        ("uuid.uuid4", uuid.uuid4),
        ("icv_core make_uuid (v7)", make_uuid),
    ):
        best = min(_time_calls(fn, n) for _ in range(REPS))
        rows.append(f"| id generation | {label} | {best / n * 1e6:.2f} µs | | | |")
    return rows


def _time_calls(fn: Callable[[], object], n: int) -> float:
    began = time.perf_counter()
    for _ in range(n):
        fn()
    return time.perf_counter() - began


def main() -> None:
    call_command("migrate", run_syncdb=True, verbosity=0)
    vendor = connection.vendor
    lines = [
        f"# django-icv-core benchmarks ({vendor}, Django {django.get_version()}, "
        f"Python {sys.version.split()[0]}, {OPS} ops x {REPS} reps)",
        "",
        "ratio = median of per-repetition (subject / floor) times, with the range;"
        " q/op = SQL data statements per operation (+ transaction control"
        " statements, in autocommit mode).",
        "",
        "| workload | subject | median per op | vs floor_int | vs floor_full | q/op |",
        "|---|---|---|---|---|---|",
    ]
    for workload, subjects in WORKLOADS.items():
        times = _measure(subjects, OPS)
        for name, subject in subjects.items():
            per_op = statistics.median(times[name]) / OPS
            lines.append(
                f"| {workload} | {name} | {per_op * 1e6:.1f} µs "
                f"| {_ratio(times, name, 'floor_int')} "
                f"| {_ratio(times, name, 'floor_full')} "
                f"| {_queries_per_op(subject)} |"
            )
    bulk_ops = CHUNK * 4
    times = _measure(BULK, bulk_ops)
    rows = bulk_ops // CHUNK * BULK_ROWS
    for name in BULK:
        per_row = statistics.median(times[name]) / rows
        lines.append(
            f"| bulk soft delete ({BULK_ROWS} rows/call) | {name} "
            f"| {per_row * 1e6:.2f} µs/row | - "
            f"| {_ratio(times, name, 'floor_full')} | 1 call |"
        )
    lines += _uuid_rows()
    report = "\n".join(lines) + "\n"
    print(report)
    out = Path(os.environ.get("BENCH_REPORT", "build/bench")) / f"{vendor}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report)
    print(f"written to {out}")


if __name__ == "__main__":
    main()
