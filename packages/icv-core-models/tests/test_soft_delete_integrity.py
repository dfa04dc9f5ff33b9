"""Soft delete under cascades from other models, failing receivers and stale rows."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import ProtectedError, RestrictedError
from django.db.models.signals import post_save, pre_save
from models_testapp.models import (
    Author,
    Book,
    Chapter,
    Contract,
    Membership,
    Note,
    Pin,
    Reservation,
    Shelf,
    Subscription,
    Volume,
)

from icv_core import signals
from icv_core.models import loaded_values
from icv_core.testing.helpers import assert_restored, assert_soft_deleted


class Recorder:
    def __init__(self, *signals_):
        self.calls = []
        self.signals = signals_
        for signal in signals_:
            signal.connect(self, weak=False)

    def __call__(self, signal, sender, **kwargs):
        self.calls.append(signal)

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


@pytest.fixture
def connected():
    """connect(signal, receiver, sender): disconnected after the test."""
    done = []

    def connect(signal, receiver, sender):
        signal.connect(receiver, sender=sender, weak=False)
        done.append((signal, receiver, sender))

    yield connect
    for signal, receiver, sender in done:
        signal.disconnect(receiver, sender=sender)


def _raise(**kwargs):
    raise RuntimeError("receiver failed")


def _verbs(ctx):
    return [query["sql"].split()[0].upper() for query in ctx.captured_queries]


# -- 1. cascades from other models never hard-delete soft-delete rows ----------


@pytest.mark.django_db
def test_deleting_a_plain_parent_does_not_hard_delete_soft_delete_children(settings):
    settings.ICV_CORE_ALLOW_HARD_DELETE = False
    user = User.objects.create_user(username="u")
    membership = Membership.objects.create(user=user)
    with transaction.atomic(), pytest.raises(ProtectedError) as info:
        user.delete()
    assert info.value.args[0] == (
        "Cannot delete membership rows as part of another delete: hard delete is "
        "not allowed on membership. Soft-delete or hard_delete() them first, or "
        "set ICV_CORE_ALLOW_HARD_DELETE = True."
    )
    assert info.value.protected_objects == {membership}
    assert User.objects.filter(pk=user.pk).exists()
    assert Membership.objects.filter(pk=membership.pk).exists()
    # A queryset delete goes through the same Collector.
    with transaction.atomic(), pytest.raises(ProtectedError):
        User.objects.filter(pk=user.pk).delete()
    assert Membership.objects.filter(pk=membership.pk).exists()
    # A soft-deleted row is still only hard-deleted deliberately.
    membership.soft_delete()
    with transaction.atomic(), pytest.raises(ProtectedError):
        user.delete()
    assert Membership.all_objects.filter(pk=membership.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_refused_cascade_rolls_the_parent_delete_back():
    # No surrounding transaction: the Collector's own transaction rolls back.
    user = User.objects.create_user(username="u")
    membership = Membership.objects.create(user=user)
    with pytest.raises(ProtectedError):
        user.delete()
    assert User.objects.filter(pk=user.pk).exists()
    assert_restored(membership)


@pytest.mark.django_db
def test_allowed_hard_delete_cascades_to_soft_delete_children(allow_hard_delete):
    user = User.objects.create_user(username="u")
    Membership.objects.create(user=user)
    user.delete()
    assert Membership.all_objects.count() == 0


@pytest.mark.django_db
def test_hard_delete_cascades_to_soft_delete_children(settings):
    settings.ICV_CORE_ALLOW_HARD_DELETE = False
    author = Author.objects.create(name="a")
    book = Book.objects.create(author=author, title="b")
    Chapter.objects.create(book=book)
    other = Book.objects.create(author=Author.objects.create(name="o"), title="o")
    Chapter.objects.create(book=other)
    assert author.hard_delete()[1] == {
        "models_testapp.Author": 1,
        "models_testapp.Book": 1,
        "models_testapp.Chapter": 1,
    }
    assert Book.all_objects.filter(pk=other.pk).hard_delete()[1] == {
        "models_testapp.Book": 1,
        "models_testapp.Chapter": 1,
    }
    assert Chapter.all_objects.count() == 0
    # The permission ends with the hard_delete() call.
    user = User.objects.create_user(username="u")
    Membership.objects.create(user=user)
    with transaction.atomic(), pytest.raises(ProtectedError):
        user.delete()


# -- 2. signals run inside the write's transaction --------------------------


@pytest.mark.django_db(transaction=True)
def test_failing_bulk_soft_delete_receiver_rolls_the_update_back(connected):
    sub = Subscription.objects.create(plan="p", customer_email="a@example.com")
    connected(signals.post_bulk_soft_delete, _raise, Subscription)
    with pytest.raises(RuntimeError):
        Subscription.objects.all().soft_delete()
    assert_restored(sub)


@pytest.mark.django_db(transaction=True)
def test_failing_bulk_restore_receiver_rolls_the_update_back(connected):
    sub = Subscription.objects.create(plan="p", customer_email="a@example.com")
    sub.soft_delete()
    connected(signals.post_bulk_restore, _raise, Subscription)
    with pytest.raises(RuntimeError):
        Subscription.all_objects.all().restore()
    assert_soft_deleted(sub)
    with pytest.raises(RuntimeError):
        Subscription.all_objects.all().restore(cascade=True)
    assert_soft_deleted(sub)


@pytest.mark.django_db(transaction=True)
def test_failing_cascade_bulk_receiver_rolls_every_level_back(connected):
    author = Author.objects.create(name="a")
    book = Book.objects.create(author=author, title="b")
    connected(signals.post_bulk_soft_delete, _raise, Book)
    with pytest.raises(RuntimeError):
        Author.objects.all().soft_delete(cascade=True)
    assert_restored(author)
    assert_restored(book)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("operation", ["soft_delete", "restore"])
def test_pre_signal_receiver_writes_roll_back_with_the_operation(connected, operation):
    sub = Subscription.objects.create(plan="p", customer_email="a@example.com")
    if operation == "restore":
        sub.soft_delete()
    pre, post = {
        "soft_delete": (signals.pre_soft_delete, signals.post_soft_delete),
        "restore": (signals.pre_restore, signals.post_restore),
    }[operation]

    def write_note(**kwargs):
        Note.objects.create(text="written by the pre receiver")

    connected(pre, write_note, Subscription)
    connected(post, _raise, Subscription)
    with pytest.raises(RuntimeError):
        getattr(sub, operation)()
    # The pre receiver's write and the UPDATE rolled back together.
    assert Note.objects.count() == 0
    if operation == "soft_delete":
        assert_restored(sub)
    else:
        assert_soft_deleted(sub)


@pytest.mark.django_db
def test_refusing_pre_receiver_leaves_the_callers_transaction_usable(connected):
    sub = Subscription.objects.create(plan="p", customer_email="a@example.com")
    connected(signals.pre_soft_delete, _raise, Subscription)
    with transaction.atomic():
        with pytest.raises(RuntimeError):
            sub.soft_delete()
        assert Subscription.objects.filter(pk=sub.pk).exists()


# -- 3. idempotency is decided by the row, not the in-memory instance ---------


@pytest.mark.django_db
def test_soft_delete_of_a_stale_instance_changes_nothing(
    recorder, django_assert_num_queries
):
    sub = Subscription.objects.create(plan="p", customer_email="a@example.com")
    stale = Subscription.objects.get(pk=sub.pk)
    sub.soft_delete()
    stamp = Subscription.all_objects.get(pk=sub.pk).deleted_at
    rec = recorder(signals.pre_soft_delete, signals.post_soft_delete, post_save)
    # The conditional UPDATE matches nothing; one SELECT then syncs the
    # instance (only on this path).
    with django_assert_num_queries(2) as ctx:
        assert stale.soft_delete() is False
    assert _verbs(ctx) == ["UPDATE", "SELECT"]
    assert rec.calls == [signals.pre_soft_delete]
    assert Subscription.all_objects.get(pk=sub.pk).deleted_at == stamp
    assert stale.is_active is False and stale.deleted_at == stamp
    assert loaded_values(stale)["deleted_at"] == stamp
    # The surrounding transaction (the test's) is still usable, and the now
    # synced instance is a no-op.
    with django_assert_num_queries(0):
        assert stale.soft_delete() is False


@pytest.mark.django_db
def test_restore_of_a_stale_instance_changes_nothing(
    recorder, django_assert_num_queries
):
    sub = Subscription.objects.create(plan="p", customer_email="a@example.com")
    sub.soft_delete()
    stale = Subscription.all_objects.get(pk=sub.pk)
    sub.restore()
    updated_at = Subscription.objects.get(pk=sub.pk).updated_at
    rec = recorder(signals.pre_restore, signals.post_restore, post_save)
    with django_assert_num_queries(2):
        assert stale.restore() is False
    assert rec.calls == [signals.pre_restore]
    assert stale.is_active is True and stale.deleted_at is None
    assert stale.updated_at == updated_at
    assert Subscription.objects.get(pk=sub.pk).updated_at == updated_at


@pytest.mark.django_db
def test_stale_soft_delete_of_a_gone_row_raises_does_not_exist():
    sub = Subscription.objects.create(plan="p", customer_email="a@example.com")
    stale = Subscription.objects.get(pk=sub.pk)
    sub.hard_delete()
    with pytest.raises(Subscription.DoesNotExist):
        stale.soft_delete()
    assert stale.is_active is True and stale.deleted_at is None


@pytest.mark.django_db
def test_stale_soft_delete_syncs_updated_by_and_skips_the_cascade(
    recorder, user, django_assert_num_queries
):
    contract = Contract.objects.create(name="c")
    stale = Contract.objects.get(pk=contract.pk)
    contract.soft_delete()
    rec = recorder(pre_save, signals.post_bulk_soft_delete)
    with django_assert_num_queries(2):
        assert stale.soft_delete(cascade=True) is False
    assert rec.calls == [pre_save]
    assert stale.deleted_at == Contract.all_objects.get(pk=contract.pk).deleted_at
    author = Author.objects.create(name="a")
    book = Book.objects.create(author=author, title="b")
    stale_author = Author.objects.get(pk=author.pk)
    author.soft_delete()  # on its own: the book stays live
    assert stale_author.soft_delete(cascade=True) is False
    assert_restored(book)


# -- PROTECT and RESTRICT as strict as Django's delete ----------------------


def _shelf_with(model):
    shelf = Shelf.objects.create()
    volume = Volume.objects.create(shelf=shelf)
    row = model.objects.create(volume=volume, shelf=shelf)
    return shelf, volume, row


@pytest.mark.django_db
def test_protect_blocks_a_cascade_that_would_delete_the_protecting_row(settings):
    # The reservation goes with the shelf too, but PROTECT still blocks, as in
    # Django's delete.
    shelf, volume, reservation = _shelf_with(Reservation)
    with transaction.atomic(), pytest.raises(ProtectedError) as info:
        shelf.soft_delete(cascade=True)
    assert info.value.protected_objects == {reservation}
    for row in (shelf, volume, reservation):
        assert_restored(row)
    with transaction.atomic(), pytest.raises(ProtectedError):
        Shelf.objects.filter(pk=shelf.pk).soft_delete(cascade=True)
    assert_restored(shelf)
    settings.ICV_CORE_ALLOW_HARD_DELETE = True
    with transaction.atomic(), pytest.raises(ProtectedError):
        shelf.delete()
    # Soft-deleted on its own earlier, the reservation no longer protects.
    reservation.soft_delete()
    assert shelf.soft_delete(cascade=True) is True
    assert_soft_deleted(volume)


@pytest.mark.django_db
def test_restrict_allows_a_cascade_that_deletes_the_restricting_row(settings):
    shelf, volume, pin = _shelf_with(Pin)
    assert shelf.soft_delete(cascade=True) is True
    for row in (shelf, volume, pin):
        assert_soft_deleted(row)
    # Django's delete agrees.
    other, _, _ = _shelf_with(Pin)
    settings.ICV_CORE_ALLOW_HARD_DELETE = True
    assert other.delete()[0] == 3


@pytest.mark.django_db
def test_restrict_blocks_when_the_restricting_row_stays(settings):
    shelf = Shelf.objects.create()
    volume = Volume.objects.create(shelf=shelf)
    pin = Pin.objects.create(volume=volume, shelf=Shelf.objects.create())
    with transaction.atomic(), pytest.raises(ProtectedError) as info:
        shelf.soft_delete(cascade=True)
    assert info.value.protected_objects == {pin}
    assert_restored(volume)
    settings.ICV_CORE_ALLOW_HARD_DELETE = True
    with transaction.atomic(), pytest.raises(RestrictedError):
        shelf.delete()
