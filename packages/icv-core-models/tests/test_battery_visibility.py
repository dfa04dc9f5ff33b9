"""B5 battery: soft-delete visibility matrix (security research SD-1…15).

One case per access path. Each case reads the same small world and returns
the set of what it sees; the expected set is asserted exactly.

The world: authors "live" and "gone" (soft-deleted); books "kept" (by live),
"dropped" (by live, soft-deleted) and "orphan" (live, by the deleted author
"gone"). The soft-deleted rows are the author "gone" and the book "dropped".

Kinds of expected visibility:

* ``hidden``: the soft-deleted rows are not seen;
* ``only-deleted``: only soft-deleted rows are seen (``deleted()``);
* ``visible-api``: seen because the caller asked for them (``all_objects``,
  ``with_deleted()``, an explicit ``Prefetch`` queryset, the admin's default
  "all" status);
* ``documented-visible``: seen by Django's design (base manager, joins, raw
  SQL, ``dumpdata --all``). Each is stated in the soft-delete how-to, which
  ``test_documented_visible_paths_are_documented`` checks.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.db.models.functions import Upper
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from models_testapp.models import Author, Book

DOCS = Path(__file__).resolve().parents[3] / "docs/content/how-to/soft-delete.md"
TITLES = ("kept", "dropped", "orphan")


@dataclass
class World:
    live: Author
    gone: Author
    kept: Book
    dropped: Book
    orphan: Book
    client: Any


@dataclass(frozen=True)
class Case:
    id: str
    kind: str
    expected: frozenset[str]
    read: Callable[[World], set[str]]
    #: For documented-visible cases: the phrase the how-to must contain.
    doc: str = ""


def titles(books: Any) -> set[str]:
    return {book.title for book in books}


def names(authors: Any) -> set[str]:
    return {author.name for author in authors}


def _get(w: World) -> set[str]:
    seen = set()
    for title in TITLES:
        try:
            seen.add(Book.objects.get(title=title).title)
        except Book.DoesNotExist:
            pass
    return seen


def _get_object_or_404(w: World) -> set[str]:
    seen = set()
    for book in (w.kept, w.dropped, w.orphan):
        try:
            seen.add(get_object_or_404(Book, pk=book.pk).title)
        except Http404:
            pass
    return seen


def _update(w: World) -> set[str]:
    assert Book.objects.filter(title__in=TITLES).update(title=Upper("title")) == 2
    return {
        book.title.lower()
        for book in Book.all_objects.all()
        if book.title == book.title.upper()
    }


def _get_or_create(w: World) -> set[str]:
    book, created = Book.objects.get_or_create(author=w.live, title="dropped")
    assert Book.all_objects.filter(title="dropped").count() == (2 if created else 1)
    return set() if created else {"dropped"}


def _refresh_from_db(w: World) -> set[str]:
    stale = Book.all_objects.get(pk=w.dropped.pk)
    stale.title = "edited in memory"
    stale.refresh_from_db()
    return {stale.title}


class BookForm(forms.ModelForm):
    class Meta:
        model = Book
        fields = ["author", "title"]


def _model_form(w: World) -> set[str]:
    accepted = set()
    for author in (w.live, w.gone):
        form = BookForm(data={"author": str(author.pk), "title": "new"})
        if form.is_valid():
            accepted.add(author.name)
    return accepted


def _full_clean(w: World) -> set[str]:
    accepted = set()
    for author in (w.live, w.gone):
        try:
            Book(author=author, title="new").full_clean()
        except ValidationError:
            continue
        accepted.add(author.name)
    return accepted


def _dumpdata(*args: str) -> Callable[[World], set[str]]:
    def read(w: World) -> set[str]:
        out = io.StringIO()
        call_command(
            "dumpdata",
            "models_testapp.author",
            "models_testapp.book",
            *args,
            format="json",
            stdout=out,
        )
        return {
            obj["fields"].get("title") or obj["fields"]["name"]
            for obj in json.loads(out.getvalue())
        }

    return read


def _admin(status: str | None) -> Callable[[World], set[str]]:
    def read(w: World) -> set[str]:
        params = {"soft_delete_status": status} if status else {}
        response = w.client.get(
            reverse("admin:models_testapp_author_changelist"), params
        )
        assert response.status_code == 200
        return names(response.context["cl"].result_list)

    return read


def _count_per_author(queryset: Any) -> set[str]:
    return {f"{author.name}:{author.n}" for author in queryset}


CASES = [
    # -- SD-1: the default manager ---------------------------------------------
    Case(
        "objects.all",
        "hidden",
        {"kept", "orphan"},
        lambda w: titles(Book.objects.all()),
    ),
    Case("objects.get", "hidden", {"kept", "orphan"}, _get),
    Case(
        "objects.filter",
        "hidden",
        {"kept"},
        lambda w: titles(Book.objects.filter(author=w.live)),
    ),
    Case(
        "objects.exclude",
        "hidden",
        {"orphan"},
        lambda w: titles(Book.objects.exclude(title="kept")),
    ),
    Case("objects.count", "hidden", {"2"}, lambda w: {str(Book.objects.count())}),
    Case(
        "objects.exists",
        "hidden",
        {"kept", "orphan"},
        lambda w: {t for t in TITLES if Book.objects.filter(title=t).exists()},
    ),
    Case(
        "objects.in_bulk",
        "hidden",
        {"kept", "orphan"},
        lambda w: titles(
            Book.objects.in_bulk([w.kept.pk, w.dropped.pk, w.orphan.pk]).values()
        ),
    ),
    Case(
        "objects.values",
        "hidden",
        {"kept", "orphan"},
        lambda w: {row["title"] for row in Book.objects.values("title")},
    ),
    Case(
        "objects.values_list",
        "hidden",
        {"kept", "orphan"},
        lambda w: set(Book.objects.values_list("title", flat=True)),
    ),
    Case(
        "objects.iterator",
        "hidden",
        {"kept", "orphan"},
        lambda w: titles(Book.objects.iterator(chunk_size=1)),
    ),
    Case(
        "objects.first",
        "hidden",
        {"kept"},
        lambda w: {Book.objects.order_by("title").first().title},
    ),
    Case(
        "objects.aggregate",
        "hidden",
        {"2"},
        lambda w: {str(Book.objects.aggregate(n=Count("pk"))["n"])},
    ),
    Case(
        "objects.union",
        "hidden",
        {"kept", "orphan"},
        lambda w: titles(
            # order_by(): SQLite refuses Meta.ordering in compound parts.
            Book.objects.filter(title="kept")
            .order_by()
            .union(Book.objects.filter(title__in=["dropped", "orphan"]).order_by())
        ),
    ),
    Case(
        "objects.or_combined",
        "hidden",
        {"kept", "orphan"},
        lambda w: titles(
            Book.objects.filter(title="kept")
            | Book.objects.filter(title__in=["dropped", "orphan"])
        ),
    ),
    Case(
        "subquery.pk__in",
        "hidden",
        set(),
        lambda w: names(
            Author.all_objects.filter(
                pk__in=Book.objects.filter(title="dropped").values("author")
            )
        ),
    ),
    Case(
        "subquery.fk__in",
        "hidden",
        {"kept"},
        lambda w: titles(Book.objects.filter(author__in=Author.objects.all())),
    ),
    Case(
        "subquery.exists",
        "hidden",
        set(),
        lambda w: names(
            Author.all_objects.filter(
                Exists(Book.objects.filter(author=OuterRef("pk"), title="dropped"))
            )
        ),
    ),
    Case("objects.update", "hidden", {"kept", "orphan"}, _update),
    Case("objects.get_or_create", "hidden", set(), _get_or_create),
    Case("get_object_or_404", "hidden", {"kept", "orphan"}, _get_object_or_404),
    Case("modelform.fk_choice", "hidden", {"live"}, _model_form),
    # -- SD-1: the explicit doors ------------------------------------------------
    Case(
        "all_objects.all",
        "visible-api",
        set(TITLES),
        lambda w: titles(Book.all_objects.all()),
    ),
    Case(
        "all_objects.get",
        "visible-api",
        {"dropped"},
        lambda w: {Book.all_objects.get(pk=w.dropped.pk).title},
    ),
    Case(
        "all_objects.active",
        "hidden",
        {"kept", "orphan"},
        lambda w: titles(Book.all_objects.active()),
    ),
    Case(
        "objects.with_deleted",
        "visible-api",
        set(TITLES),
        lambda w: titles(Book.objects.with_deleted()),
    ),
    Case(
        "objects.deleted",
        "only-deleted",
        {"dropped"},
        lambda w: titles(Book.objects.deleted()),
    ),
    Case(
        "all_objects.deleted",
        "only-deleted",
        {"dropped"},
        lambda w: titles(Book.all_objects.deleted()),
    ),
    Case(
        "objects.filter.deleted",
        "only-deleted",
        {"dropped"},
        lambda w: titles(Book.objects.filter(author=w.live).deleted()),
    ),
    Case(
        "objects.deleted.filter",
        "only-deleted",
        set(),
        lambda w: titles(Book.objects.deleted().filter(title="kept")),
    ),
    Case(
        "objects.with_deleted.active",
        "hidden",
        {"kept", "orphan"},
        lambda w: titles(Book.objects.with_deleted().active()),
    ),
    # -- SD-2: reverse FK managers ---------------------------------------------
    Case("reverse_fk.all", "hidden", {"kept"}, lambda w: titles(w.live.books.all())),
    Case("reverse_fk.count", "hidden", {"1"}, lambda w: {str(w.live.books.count())}),
    Case(
        "reverse_fk.filter",
        "hidden",
        set(),
        lambda w: titles(w.live.books.filter(title="dropped")),
    ),
    Case(
        "reverse_fk.deleted",
        "only-deleted",
        {"dropped"},
        lambda w: titles(w.live.books.deleted()),
    ),
    Case(
        "reverse_fk.with_deleted",
        "visible-api",
        {"kept", "dropped"},
        lambda w: titles(w.live.books.with_deleted()),
    ),
    # -- SD-3/4/5: forward access, joins, prefetch -------------------------------
    Case(
        "forward_fk.deleted_parent",
        "documented-visible",
        {"gone"},
        lambda w: {Book.objects.get(title="orphan").author.name},
        doc="forward foreign key",
    ),
    Case(
        "refresh_from_db",
        "documented-visible",
        {"dropped"},
        _refresh_from_db,
        doc="refresh_from_db()",
    ),
    Case(
        "model.full_clean.fk",
        "documented-visible",
        {"live", "gone"},
        _full_clean,
        doc="full_clean()",
    ),
    Case(
        "select_related",
        "documented-visible",
        {"live", "gone"},
        lambda w: {book.author.name for book in Book.objects.select_related("author")},
        doc="select_related()",
    ),
    Case(
        "prefetch_related.reverse",
        "hidden",
        {"kept", "orphan"},
        lambda w: {
            book.title
            for author in Author.all_objects.prefetch_related("books")
            for book in author.books.all()
        },
    ),
    Case(
        "prefetch_related.forward",
        "documented-visible",
        {"live", "gone"},
        lambda w: {
            book.author.name for book in Book.objects.prefetch_related("author")
        },
        doc='prefetch_related("author")',
    ),
    Case(
        "prefetch_related.Prefetch_all_objects",
        "visible-api",
        {"kept", "dropped"},
        lambda w: {
            book.title
            for author in Author.objects.prefetch_related(
                Prefetch("books", queryset=Book.all_objects.all())
            )
            for book in author.books.all()
        },
    ),
    # -- SD-6/7: lookups, values and aggregates across relations -----------------
    Case(
        "lookup.reverse_join",
        "documented-visible",
        {"live"},
        lambda w: names(Author.objects.filter(books__title="dropped")),
        doc='filter(books__title="x")',
    ),
    Case(
        "lookup.forward_join",
        "documented-visible",
        {"orphan"},
        lambda w: titles(Book.objects.filter(author__name="gone")),
        doc='filter(author__name="x")',
    ),
    Case(
        "values.across_relation",
        "documented-visible",
        {"kept", "dropped"},
        lambda w: set(Author.objects.values_list("books__title", flat=True)),
        doc="values()",
    ),
    Case(
        "annotate.count",
        "documented-visible",
        {"live:2"},
        lambda w: _count_per_author(Author.objects.annotate(n=Count("books"))),
        doc='Count("books")',
    ),
    Case(
        "aggregate.across_relation",
        "documented-visible",
        {"2"},
        lambda w: {str(Author.objects.aggregate(n=Count("books"))["n"])},
        doc="aggregate()",
    ),
    Case(
        "annotate.count_filtered",
        "hidden",
        {"live:1"},
        lambda w: _count_per_author(
            Author.objects.annotate(n=Count("books", filter=Q(books__is_active=True)))
        ),
    ),
    # -- raw SQL -------------------------------------------------------------------
    Case(
        "objects.raw",
        "documented-visible",
        set(TITLES),
        lambda w: titles(Book.objects.raw(f"SELECT * FROM {Book._meta.db_table}")),
        doc="raw()",
    ),
    # -- SD-14: dumpdata -----------------------------------------------------------
    Case("dumpdata", "hidden", {"live", "kept", "orphan"}, _dumpdata()),
    Case(
        "dumpdata.all",
        "documented-visible",
        {"live", "gone", *TITLES},
        _dumpdata("--all"),
        doc="dumpdata --all",
    ),
    # -- SD-12: the admin changelist (models_testapp AuthorAdmin) ----------------
    Case("admin.changelist", "visible-api", {"live", "gone"}, _admin(None)),
    Case("admin.status_active", "hidden", {"live"}, _admin("active")),
    Case("admin.status_deleted", "only-deleted", {"gone"}, _admin("deleted")),
]
CASES = [
    Case(case.id, case.kind, frozenset(case.expected), case.read, case.doc)
    for case in CASES
]
KINDS = ("hidden", "only-deleted", "visible-api", "documented-visible")

#: case id -> whether the case leaked (a soft-deleted row where none may be).
_results: dict[str, bool] = {}


@pytest.fixture(scope="module", autouse=True)
def _battery_line(battery: Any) -> Any:
    yield
    # pytest-django runs the database-free tests of this module last, which
    # sets this fixture up twice: record the line once, for the matrix.
    if not _results:
        return
    paths = len(_results)
    leaks = sum(_results.values())
    documented = sum(
        1 for case in CASES if case.id in _results and case.kind == "documented-visible"
    )
    battery(
        f"B5 visibility: {paths} paths; {leaks} unexpected leaks; "
        f"{documented} documented-visible paths asserted ({connection.vendor})"
    )
    _results.clear()


@pytest.fixture
def world(db: None, client: Any, django_user_model: Any) -> World:
    live = Author.objects.create(name="live")
    gone = Author.objects.create(name="gone")
    kept = Book.objects.create(author=live, title="kept")
    dropped = Book.objects.create(author=live, title="dropped")
    orphan = Book.objects.create(author=gone, title="orphan")
    assert dropped.soft_delete() is True
    assert gone.soft_delete() is True  # no cascade: "orphan" stays live
    admin = django_user_model.objects.create_superuser("admin", "a@example.com", "pw")
    client.force_login(admin)
    return World(live, gone, kept, dropped, orphan, client)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_visibility(case: Case, world: World) -> None:
    assert case.kind in KINDS
    seen = case.read(world)
    # A leak: a path that must hide soft-deleted rows (or show only them)
    # sees something else.
    _results[case.id] = case.kind in ("hidden", "only-deleted") and seen != set(
        case.expected
    )
    assert seen == set(case.expected)


def test_documented_visible_paths_are_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    documented = [case for case in CASES if case.kind == "documented-visible"]
    assert len(documented) == 12
    missing = [case.id for case in documented if case.doc not in text]
    assert missing == []


def test_matrix_covers_every_kind() -> None:
    counts = {kind: sum(case.kind == kind for case in CASES) for kind in KINDS}
    assert counts == {
        "hidden": 30,
        "only-deleted": 6,
        "visible-api": 6,
        "documented-visible": 12,
    }
