from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.db.models import ProtectedError
from django.db.models.signals import post_save, pre_save
from models_testapp.models import (
    Author,
    Book,
    Category,
    Chapter,
    Loan,
    Review,
    Subscription,
)

from icv_core import signals
from icv_core.managers import SoftDeleteManager, SoftDeleteQuerySet
from icv_core.models import loaded_values
from icv_core.testing.helpers import assert_restored, assert_soft_deleted

pytestmark = pytest.mark.django_db


class Recorder:
    def __init__(self, *signals_):
        self.calls = []
        self.signals = signals_
        for signal in signals_:
            signal.connect(self, weak=False)

    def __call__(self, signal, sender, **kwargs):
        self.calls.append((signal, sender, kwargs))

    def close(self):
        for signal in self.signals:
            signal.disconnect(self)


@pytest.fixture
def recorder():
    made = []

    def make(*signals_):
        rec = Recorder(*signals_)
        made.append(rec)
        return rec

    yield make
    for rec in made:
        rec.close()


def test_spec_softdeletemodel_example_verbatim(settings):
    settings.ICV_CORE_ALLOW_HARD_DELETE = False
    sub = Subscription.objects.create(plan="pro", customer_email="user@example.com")
    # Soft-delete: hides the record from default queries
    sub.soft_delete()
    assert sub.is_active is False  # False
    assert isinstance(sub.deleted_at, dt.datetime)  # datetime
    # Default manager returns active records only
    assert list(Subscription.objects.all()) == []  # excludes deleted records
    assert list(Subscription.objects.active()) == []  # same as above
    # Access deleted or all records when needed
    assert list(Subscription.objects.deleted()) == [sub]  # deleted records only
    assert list(Subscription.objects.with_deleted()) == [sub]  # everything
    assert list(Subscription.all_objects.all()) == [sub]  # raw manager
    # Restore
    sub.restore()
    assert sub.is_active is True  # True
    assert sub.deleted_at is None  # None
    # Hard deletion is blocked unless you explicitly allow it:
    with pytest.raises(ProtectedError):
        sub.delete()  # Raises ProtectedError by default
    # Permanent removal — use deliberately
    sub.hard_delete()
    assert not Subscription.all_objects.filter(pk=sub.pk).exists()
    # Or allow .delete() project-wide
    settings.ICV_CORE_ALLOW_HARD_DELETE = True
    other = Subscription.objects.create(plan="x", customer_email="x@example.com")
    assert other.delete() == (1, {"models_testapp.Subscription": 1})


def test_flag_field_is_indexed_boolean():
    field = Subscription._meta.get_field("is_active")
    assert field.db_index and field.default is True
    assert Subscription.soft_delete_field == "is_active"
    assert isinstance(Subscription.objects, SoftDeleteManager)
    assert isinstance(Subscription.all_objects.all(), SoftDeleteQuerySet)


def test_soft_delete_is_one_query_and_writes_only_changed_fields(
    django_assert_num_queries,
):
    sub = Subscription.objects.create(plan="pro", customer_email="a@example.com")
    with django_assert_num_queries(1) as ctx:
        assert sub.soft_delete() is True
    sql = ctx.captured_queries[0]["sql"]
    assert sql.startswith("UPDATE")
    assert "is_active" in sql and "deleted_at" in sql and "updated_at" in sql
    assert "plan" not in sql and "customer_email" not in sql
    assert_soft_deleted(sub)


def test_restore_is_one_query(django_assert_num_queries):
    sub = Subscription.objects.create(plan="pro", customer_email="a@example.com")
    sub.soft_delete()
    with django_assert_num_queries(1) as ctx:
        assert sub.restore() is True
    assert "plan" not in ctx.captured_queries[0]["sql"]
    assert_restored(sub)


def test_soft_delete_is_idempotent(recorder, django_assert_num_queries):
    sub = Subscription.objects.create(plan="pro", customer_email="a@example.com")
    sub.soft_delete()
    stamp = sub.deleted_at
    rec = recorder(signals.pre_soft_delete, signals.post_soft_delete, pre_save)
    with django_assert_num_queries(0):
        assert sub.soft_delete() is False
    assert sub.deleted_at == stamp
    assert rec.calls == []
    assert Subscription.all_objects.get(pk=sub.pk).deleted_at == stamp


def test_restore_of_active_row_does_nothing(recorder, django_assert_num_queries):
    sub = Subscription.objects.create(plan="pro", customer_email="a@example.com")
    rec = recorder(signals.pre_restore, signals.post_restore)
    with django_assert_num_queries(0):
        assert sub.restore() is False
    assert rec.calls == []


def test_instance_signals_order_and_arguments(recorder):
    sub = Subscription.objects.create(plan="pro", customer_email="a@example.com")
    seen = []

    def pre(sender, instance, using, **kwargs):
        seen.append(("pre", instance.is_active, using))

    def post(sender, instance, using, **kwargs):
        seen.append(("post", instance.is_active, using))

    signals.pre_soft_delete.connect(pre, sender=Subscription)
    signals.post_soft_delete.connect(post, sender=Subscription)
    signals.pre_restore.connect(pre, sender=Subscription)
    signals.post_restore.connect(post, sender=Subscription)
    try:
        sub.soft_delete()
        sub.restore()
    finally:
        for signal in (signals.pre_soft_delete, signals.pre_restore):
            signal.disconnect(pre, sender=Subscription)
        for signal in (signals.post_soft_delete, signals.post_restore):
            signal.disconnect(post, sender=Subscription)
    assert seen == [
        ("pre", True, "default"),
        ("post", False, "default"),
        ("pre", False, "default"),
        ("post", True, "default"),
    ]


def test_soft_delete_sends_save_signals_with_update_fields(recorder):
    sub = Subscription.objects.create(plan="pro", customer_email="a@example.com")
    rec = recorder(post_save)
    sub.soft_delete()
    (_, sender, kwargs) = rec.calls[0]
    assert sender is Subscription
    assert set(kwargs["update_fields"]) == {"is_active", "deleted_at", "updated_at"}


def test_loaded_values_follow_soft_delete_and_restore():
    sub = Subscription.objects.create(plan="pro", customer_email="a@example.com")
    fetched = Subscription.objects.get(pk=sub.pk)
    fetched.soft_delete()
    assert loaded_values(fetched)["is_active"] is False
    assert loaded_values(fetched)["deleted_at"] == fetched.deleted_at
    fetched.restore()
    assert loaded_values(fetched)["is_active"] is True
    assert loaded_values(fetched)["deleted_at"] is None


def test_failed_pre_signal_leaves_instance_unchanged():
    sub = Subscription.objects.create(plan="pro", customer_email="a@example.com")

    def refuse(**kwargs):
        raise RuntimeError("no")

    signals.pre_soft_delete.connect(refuse, sender=Subscription)
    try:
        with pytest.raises(RuntimeError):
            sub.soft_delete()
    finally:
        signals.pre_soft_delete.disconnect(refuse, sender=Subscription)
    assert sub.is_active is True and sub.deleted_at is None
    assert_restored(sub)


def test_delete_protected_and_hard_delete(settings):
    sub = Subscription.objects.create(plan="pro", customer_email="a@example.com")
    with pytest.raises(ProtectedError) as info:
        sub.delete()
    assert "ICV_CORE_ALLOW_HARD_DELETE" in str(info.value.args[0])
    assert info.value.protected_objects == {sub}
    assert Subscription.objects.filter(pk=sub.pk).exists()
    assert sub.hard_delete() == (1, {"models_testapp.Subscription": 1})


def test_queryset_delete_is_protected(allow_hard_delete, settings):
    a = Subscription.objects.create(plan="a", customer_email="a@example.com")
    settings.ICV_CORE_ALLOW_HARD_DELETE = False
    with pytest.raises(ProtectedError):
        Subscription.objects.filter(pk=a.pk).delete()
    with pytest.raises(ProtectedError):
        Subscription.all_objects.all().delete()
    assert Subscription.all_objects.count() == 1
    settings.ICV_CORE_ALLOW_HARD_DELETE = True
    assert Subscription.objects.all().delete() == (
        1,
        {"models_testapp.Subscription": 1},
    )


def test_allowed_queryset_delete_respects_visibility(allow_hard_delete):
    live = Subscription.objects.create(plan="a", customer_email="a@example.com")
    gone = Subscription.objects.create(plan="b", customer_email="b@example.com")
    gone.soft_delete()
    Subscription.objects.all().delete()  # active rows only
    assert list(Subscription.all_objects.all()) == [gone]
    assert not Subscription.all_objects.filter(pk=live.pk).exists()


def test_queryset_hard_delete_always_deletes():
    Subscription.objects.create(plan="a", customer_email="a@example.com")
    assert Subscription.objects.all().hard_delete()[0] == 1


# -- visibility in chains -----------------------------------------------------


@pytest.fixture
def subs():
    rows = {}
    for plan in ("pro", "free"):
        for state in ("live", "gone"):
            rows[plan, state] = Subscription.objects.create(
                plan=plan, customer_email=f"{plan}-{state}@example.com"
            )
    rows["pro", "gone"].soft_delete()
    rows["free", "gone"].soft_delete()
    return rows


def emails(queryset):
    return sorted(queryset.values_list("customer_email", flat=True))


def test_manager_visibility(subs):
    assert emails(Subscription.objects.all()) == [
        "free-live@example.com",
        "pro-live@example.com",
    ]
    assert emails(Subscription.objects.deleted()) == [
        "free-gone@example.com",
        "pro-gone@example.com",
    ]
    assert len(emails(Subscription.objects.with_deleted())) == 4
    assert len(emails(Subscription.all_objects.all())) == 4
    assert emails(Subscription.all_objects.active()) == emails(
        Subscription.objects.all()
    )
    assert emails(Subscription.all_objects.deleted()) == emails(
        Subscription.objects.deleted()
    )


def test_visibility_methods_work_anywhere_in_a_chain(subs):
    assert emails(Subscription.objects.filter(plan="pro").deleted()) == [
        "pro-gone@example.com"
    ]
    assert emails(Subscription.objects.all().with_deleted().filter(plan="pro")) == [
        "pro-gone@example.com",
        "pro-live@example.com",
    ]
    assert emails(Subscription.objects.filter(plan="free").with_deleted()) == [
        "free-gone@example.com",
        "free-live@example.com",
    ]
    assert emails(Subscription.objects.exclude(plan="free").deleted().active()) == [
        "pro-live@example.com"
    ]
    assert Subscription.objects.filter(plan="pro").deleted().count() == 1
    assert Subscription.objects.order_by("plan").deleted()[0].plan == "free"


def test_visibility_with_aggregates_subqueries_and_exists(subs):
    from django.db.models import Count

    counts = dict(
        Subscription.objects.values("plan")
        .annotate(n=Count("pk"))
        .values_list("plan", "n")
    )
    assert counts == {"pro": 1, "free": 1}
    deleted_ids = Subscription.objects.deleted().values("pk")
    assert Subscription.all_objects.filter(pk__in=deleted_ids).count() == 2
    assert Subscription.objects.filter(plan="pro").deleted().exists()
    assert not Subscription.objects.filter(
        customer_email="pro-gone@example.com"
    ).exists()
    assert Subscription.objects.in_bulk([subs["pro", "gone"].pk]) == {}
    assert list(
        Subscription.objects.deleted().filter(plan="pro").values_list("plan", flat=True)
    ) == ["pro"]


def test_visibility_after_combining(subs):
    combined = Subscription.objects.filter(plan="pro") | Subscription.objects.filter(
        plan="free"
    )
    assert combined.count() == 2
    with pytest.raises(TypeError, match="before combining"):
        combined.deleted()
    union = (
        Subscription.objects.filter(plan="pro")
        .order_by()
        .union(Subscription.objects.deleted().order_by())
    )
    assert len(list(union)) == 3


def test_default_manager_hides_deleted_for_get(subs):
    gone = subs["pro", "gone"]
    with pytest.raises(Subscription.DoesNotExist):
        Subscription.objects.get(pk=gone.pk)
    assert Subscription.all_objects.get(pk=gone.pk) == gone
    assert Subscription.objects.deleted().get(pk=gone.pk) == gone


def test_update_respects_visibility(subs):
    assert Subscription.objects.update(plan="x") == 2
    assert Subscription.objects.deleted().filter(plan="x").count() == 0


def test_reverse_relations_hide_deleted_and_forward_fk_sees_them():
    author = Author.objects.create(name="a")
    book = Book.objects.create(author=author, title="t")
    gone = Book.objects.create(author=author, title="gone")
    gone.soft_delete()
    assert list(author.books.all()) == [book]
    assert list(author.books.deleted()) == [gone]
    author.soft_delete()
    assert Book.objects.get(pk=book.pk).author == author


# -- set-based ------------------------------------------------------------------


def test_queryset_soft_delete_1000_rows_one_query(django_assert_num_queries):
    Subscription.objects.bulk_create(
        [Subscription(plan="p", customer_email=f"{i}@example.com") for i in range(1000)]
    )
    with django_assert_num_queries(1):
        assert Subscription.objects.all().soft_delete() == 1000
    assert Subscription.objects.count() == 0
    stamps = set(Subscription.all_objects.values_list("deleted_at", flat=True))
    assert len(stamps) == 1 and None not in stamps
    with django_assert_num_queries(1):
        assert Subscription.objects.deleted().restore() == 1000
    assert Subscription.objects.count() == 1000
    assert set(Subscription.all_objects.values_list("deleted_at", flat=True)) == {None}


def test_queryset_soft_delete_skips_deleted_rows(subs):
    stamp = Subscription.all_objects.get(pk=subs["pro", "gone"].pk).deleted_at
    assert Subscription.all_objects.filter(plan="pro").soft_delete() == 1
    assert Subscription.all_objects.get(pk=subs["pro", "gone"].pk).deleted_at == stamp


def test_objects_filter_restore_restores_matching_deleted_rows(subs):
    assert Subscription.objects.filter(plan="pro").restore() == 1
    assert_restored(subs["pro", "gone"])
    assert_soft_deleted(subs["free", "gone"])


def test_bulk_signals_select_pks_only_with_receivers(subs, django_assert_num_queries):
    with django_assert_num_queries(1):
        Subscription.objects.filter(plan="pro").soft_delete()
    received = []

    def on_delete(sender, pks, using, deleted_at, **kwargs):
        received.append(("delete", sender, sorted(pks), using, deleted_at))

    def on_restore(sender, pks, using, **kwargs):
        received.append(("restore", sender, sorted(pks), using))

    signals.post_bulk_soft_delete.connect(on_delete, sender=Subscription)
    signals.post_bulk_restore.connect(on_restore, sender=Subscription)
    live, gone = subs["free", "live"], subs["free", "gone"]
    try:
        # The UPDATE, then one SELECT of the pks for the connected receiver.
        with django_assert_num_queries(2):
            assert Subscription.objects.filter(plan="free").soft_delete() == 1
        stamp = Subscription.all_objects.get(pk=live.pk).deleted_at
        with django_assert_num_queries(2):
            assert Subscription.objects.deleted().filter(plan="free").restore() == 2
    finally:
        signals.post_bulk_soft_delete.disconnect(on_delete, sender=Subscription)
        signals.post_bulk_restore.disconnect(on_restore, sender=Subscription)
    assert received == [
        ("delete", Subscription, [live.pk], "default", stamp),
        ("restore", Subscription, sorted([live.pk, gone.pk]), "default"),
    ]


def test_bulk_update_of_flag_is_not_needed_but_deleted_at_stays_consistent(subs):
    Subscription.all_objects.all().soft_delete()
    assert not Subscription.all_objects.filter(
        is_active=False, deleted_at__isnull=True
    ).exists()


# -- cascades -------------------------------------------------------------------


@pytest.fixture
def library():
    author = Author.objects.create(name="a")
    other = Author.objects.create(name="other")
    books = [Book.objects.create(author=author, title=f"b{i}") for i in range(3)]
    other_book = Book.objects.create(author=other, title="ob")
    chapters = [
        Chapter.objects.create(book=b, number=n) for b in books for n in range(2)
    ]
    Chapter.objects.create(book=other_book)
    review = Review.objects.create(book=books[0])
    return {
        "author": author,
        "other": other,
        "books": books,
        "chapters": chapters,
        "review": review,
    }


def _statements(ctx):
    """(verb, table) of each captured query; SAVEPOINT statements by verb only."""
    out = []
    for query in ctx.captured_queries:
        words = query["sql"].split()
        verb = words[0].upper()
        if verb == "UPDATE":
            out.append((verb, words[1].strip('"`')))
        elif verb == "SELECT":
            table = words[words.index("FROM") + 1].strip('"`')
            out.append((verb, table))
        else:
            out.append((verb, None))
    return out


def test_cascade_soft_delete_one_update_per_level(library, django_assert_num_queries):
    author = library["author"]
    # Book is protected by Loan, so the cascade runs in a savepoint and checks
    # for live loans once, after the three UPDATEs (one per level).
    with django_assert_num_queries(6) as ctx:
        author.soft_delete(cascade=True)
    assert _statements(ctx) == [
        ("SAVEPOINT", None),
        ("UPDATE", "models_testapp_author"),
        ("UPDATE", "models_testapp_book"),
        ("UPDATE", "models_testapp_chapter"),
        ("SELECT", "models_testapp_loan"),
        ("RELEASE", None),
    ]
    assert Book.objects.filter(author=author).count() == 0
    assert Chapter.objects.count() == 1  # the other author's chapter
    stamps = set(
        Book.all_objects.filter(author=author).values_list("deleted_at", flat=True)
    )
    assert stamps == {author.deleted_at}
    # Non-soft-delete children are left alone.
    assert Review.objects.filter(pk=library["review"].pk).exists()
    assert Author.objects.get(pk=library["other"].pk)


def test_cascade_restore_restores_exactly_the_cascade(
    library, django_assert_num_queries
):
    author = library["author"]
    earlier = library["books"][0]
    earlier.soft_delete()  # deleted on its own, before the cascade
    earlier_chapter = library["chapters"][2]  # belongs to books[1]
    earlier_chapter.soft_delete()
    author.soft_delete(cascade=True)
    # Chapters of the book deleted earlier were not reached by this cascade.
    assert Chapter.objects.filter(book__author=author).count() == 2
    with django_assert_num_queries(3) as ctx:
        author.restore(cascade=True)
    assert _statements(ctx) == [
        ("UPDATE", "models_testapp_author"),
        ("UPDATE", "models_testapp_book"),
        ("UPDATE", "models_testapp_chapter"),
    ]
    assert_soft_deleted(earlier)
    assert_soft_deleted(earlier_chapter)
    assert set(Book.objects.filter(author=author)) == set(library["books"][1:])
    # Chapters of the earlier-deleted book were not part of the cascade
    # (that book was already deleted), so they stay active all along.
    assert Chapter.objects.filter(book__author=author).count() == 5


def test_cascade_without_cascade_flag_touches_only_the_row(library):
    library["author"].soft_delete()
    assert Book.objects.filter(author=library["author"]).count() == 3


def test_queryset_cascade_soft_delete_and_restore(library, django_assert_num_queries):
    with django_assert_num_queries(6):
        assert Author.objects.all().soft_delete(cascade=True) == 2
    assert Book.objects.count() == 0 and Chapter.objects.count() == 0
    # The roots share one deleted_at: one SELECT finds that out, then one
    # UPDATE per model level restores each level in full (before 0.4, two
    # UPDATEs per model: children kept their stamp until a second pass).
    with django_assert_num_queries(4) as ctx:
        assert Author.objects.filter(name="a").restore(cascade=True) == 1
    assert _statements(ctx) == [
        ("SELECT", "models_testapp_author"),
        ("UPDATE", "models_testapp_author"),
        ("UPDATE", "models_testapp_book"),
        ("UPDATE", "models_testapp_chapter"),
    ]
    assert Book.objects.count() == 3
    assert Chapter.objects.count() == 6
    assert not Book.all_objects.filter(
        is_active=True, deleted_at__isnull=False
    ).exists()
    assert Book.objects.deleted().count() == 1  # the other author's book


def test_queryset_restore_matches_each_roots_own_stamp(
    library, django_assert_num_queries
):
    first, second = library["author"], library["other"]
    first.soft_delete(cascade=True)
    second.soft_delete(cascade=True)
    lone = library["books"][1]
    Book.all_objects.filter(pk=lone.pk).update(
        deleted_at=second.deleted_at  # stamp of the other cascade, wrong parent
    )
    # Two stamps among the roots: the two-phase restore, one UPDATE per model
    # and level plus one per model clearing deleted_at.
    with django_assert_num_queries(7) as ctx:
        Author.all_objects.all().restore(cascade=True)
    assert _statements(ctx) == [
        ("SELECT", "models_testapp_author"),
        ("UPDATE", "models_testapp_author"),
        ("UPDATE", "models_testapp_book"),
        ("UPDATE", "models_testapp_chapter"),
        ("UPDATE", "models_testapp_author"),
        ("UPDATE", "models_testapp_book"),
        ("UPDATE", "models_testapp_chapter"),
    ]
    assert Book.objects.filter(author=first).count() == 2
    assert_soft_deleted(lone)
    assert Book.objects.filter(author=second).count() == 1


def test_self_referential_cascade_any_depth(django_assert_num_queries):
    root = Category.objects.create(name="root")
    level1 = Category.objects.create(name="l1", parent=root)
    level2 = Category.objects.create(name="l2", parent=level1)
    level3 = Category.objects.create(name="l3", parent=level2)
    sibling = Category.objects.create(name="sib")
    # root + three levels + one UPDATE that finds no more children.
    with django_assert_num_queries(5):
        root.soft_delete(cascade=True)
    assert list(Category.objects.all()) == [sibling]
    for row in (level1, level2, level3):
        assert_soft_deleted(row)
    root.restore(cascade=True)
    assert Category.objects.count() == 5


def test_cascade_bulk_signals_per_model(library):
    received = []

    def on_delete(sender, pks, using, deleted_at, **kwargs):
        received.append((sender, len(pks), deleted_at))

    signals.post_bulk_soft_delete.connect(on_delete)
    try:
        library["author"].soft_delete(cascade=True)
    finally:
        signals.post_bulk_soft_delete.disconnect(on_delete)
    stamp = library["author"].deleted_at
    assert received == [(Book, 3, stamp), (Chapter, 6, stamp)]


def test_protect_blocks_soft_delete(library):
    book = library["books"][0]
    loan = Loan.objects.create(book=book)
    with pytest.raises(ProtectedError) as info:
        book.soft_delete()
    assert info.value.protected_objects == {loan}
    assert_restored(book)
    with pytest.raises(ProtectedError):
        Book.objects.filter(pk=book.pk).soft_delete()
    with transaction.atomic():
        with pytest.raises(ProtectedError):
            library["author"].soft_delete(cascade=True)
        # The failed cascade rolled back to its savepoint: nothing changed and
        # the surrounding transaction is still usable.
        assert Book.objects.filter(author=library["author"]).count() == 3
        assert Author.objects.filter(pk=library["author"].pk).exists()
    with pytest.raises(ProtectedError):
        Author.objects.filter(pk=library["author"].pk).soft_delete(cascade=True)
    assert library["author"].is_active is True
    # A deleted loan no longer protects.
    loan.soft_delete()
    assert book.soft_delete() is True


def test_atomic_rollback_undoes_soft_delete():
    sub = Subscription.objects.create(plan="p", customer_email="a@example.com")
    with pytest.raises(RuntimeError), transaction.atomic():
        Subscription.objects.get(pk=sub.pk).soft_delete()
        raise RuntimeError
    assert_restored(sub)


def test_manager_rejects_unknown_visibility():
    with pytest.raises(ValueError, match="Unknown visibility"):
        SoftDeleteManager(visibility="gone")


def test_is_deleted_property():
    sub = Subscription.objects.create(plan="p", customer_email="a@example.com")
    assert sub.is_deleted is False
    sub.soft_delete()
    assert sub.is_deleted is True


def test_prefetch_related_hides_deleted_children(django_assert_num_queries):
    author = Author.objects.create(name="a")
    keep = Book.objects.create(author=author, title="keep")
    Book.objects.create(author=author, title="gone").soft_delete()
    with django_assert_num_queries(2):
        (fetched,) = Author.objects.prefetch_related("books")
        assert list(fetched.books.all()) == [keep]


def test_instance_cascade_bulk_signal_excludes_the_root_instance():
    root = Category.objects.create(name="root")
    child = Category.objects.create(name="c", parent=root)
    received = []

    def on_delete(sender, pks, **kwargs):
        received.append(pks)

    def on_restore(sender, pks, **kwargs):
        received.append(pks)

    signals.post_bulk_soft_delete.connect(on_delete, sender=Category)
    signals.post_bulk_restore.connect(on_restore, sender=Category)
    try:
        root.soft_delete(cascade=True)
        root.restore(cascade=True)
    finally:
        signals.post_bulk_soft_delete.disconnect(on_delete, sender=Category)
        signals.post_bulk_restore.disconnect(on_restore, sender=Category)
    assert received == [[child.pk], [child.pk]]


def test_queryset_cascade_bulk_signals_cover_roots_and_children(library):
    received = []

    def on_delete(sender, pks, using, deleted_at, **kwargs):
        received.append((sender.__name__, len(pks)))

    signals.post_bulk_soft_delete.connect(on_delete)
    try:
        Author.objects.filter(name="a").soft_delete(cascade=True)
    finally:
        signals.post_bulk_soft_delete.disconnect(on_delete)
    assert received == [("Author", 1), ("Book", 3), ("Chapter", 6)]


def test_failed_cascade_restores_instance_state(library):
    book = library["books"][0]
    Loan.objects.create(book=book)
    author = Author.objects.get(pk=library["author"].pk)
    with pytest.raises(ProtectedError):
        author.soft_delete(cascade=True)
    assert author.is_active is True and author.deleted_at is None
    assert loaded_values(author)["is_active"] is True
    assert_restored(author)


def test_plain_update_of_the_flag_keeps_deleted_at_consistent(subs):
    gone = Subscription.all_objects.get(pk=subs["pro", "gone"].pk)
    assert Subscription.objects.filter(plan="pro").update(is_active=False) == 1
    live = Subscription.all_objects.get(pk=subs["pro", "live"].pk)
    assert live.deleted_at is not None
    # An existing stamp is kept.
    Subscription.all_objects.filter(plan="pro").update(is_active=False)
    assert Subscription.all_objects.get(pk=gone.pk).deleted_at == gone.deleted_at
    assert Subscription.all_objects.filter(plan="pro").update(is_active=True) == 2
    assert set(
        Subscription.all_objects.filter(plan="pro").values_list("deleted_at", flat=True)
    ) == {None}
