from __future__ import annotations

import pytest
from django.urls import reverse
from models_testapp.models import Author, Book, Subscription

from icv_core.testing.helpers import assert_restored, assert_soft_deleted

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, django_user_model):
    admin = django_user_model.objects.create_superuser("admin", "a@example.com", "pw")
    client.force_login(admin)
    return client


@pytest.fixture
def rows():
    live = Subscription.objects.create(plan="live", customer_email="l@example.com")
    gone = Subscription.objects.create(plan="gone", customer_email="g@example.com")
    gone.soft_delete()
    return live, gone


URL = "admin:models_testapp_subscription_changelist"


def test_changelist_shows_deleted_rows_and_filter(staff, rows):
    response = staff.get(reverse(URL))
    assert response.status_code == 200
    assert response.context["cl"].result_count == 2
    content = response.content.decode()
    assert "soft_delete_status=deleted" in content
    deleted = staff.get(reverse(URL), {"soft_delete_status": "deleted"})
    assert [o.plan for o in deleted.context["cl"].result_list] == ["gone"]
    active = staff.get(reverse(URL), {"soft_delete_status": "active"})
    assert [o.plan for o in active.context["cl"].result_list] == ["live"]


def test_actions_replace_delete_selected(staff, rows):
    response = staff.get(reverse(URL))
    actions = [
        choice[0] for choice in response.context["action_form"].fields["action"].choices
    ]
    assert "delete_selected" not in actions
    assert "soft_delete_selected" in actions and "restore_selected" in actions


def test_delete_selected_kept_when_hard_delete_allowed(staff, rows, allow_hard_delete):
    response = staff.get(reverse(URL))
    actions = [
        choice[0] for choice in response.context["action_form"].fields["action"].choices
    ]
    assert "delete_selected" in actions


def _verbs(ctx):
    return [query["sql"].split()[0].upper() for query in ctx.captured_queries]


@pytest.mark.parametrize("extra", [0, 40])
def test_soft_delete_and_restore_actions(staff, rows, extra, django_assert_num_queries):
    live, gone = rows
    more = [
        Subscription.objects.create(plan=f"m{i}", customer_email="m@example.com").pk
        for i in range(extra)
    ]
    selected = [live.pk, gone.pk, *more]
    # Set-based: the same five queries whatever the number of selected rows
    # (session, user, the changelist's two counts and one UPDATE).
    with django_assert_num_queries(5) as ctx:
        response = staff.post(
            reverse(URL),
            {"action": "soft_delete_selected", "_selected_action": selected},
        )
    assert response.status_code == 302
    assert _verbs(ctx) == ["SELECT", "SELECT", "SELECT", "SELECT", "UPDATE"]
    page = staff.get(reverse(URL)).content.decode()
    if extra:
        assert f"{1 + extra} rows were soft-deleted." in page
    else:
        assert "1 row was soft-deleted." in page
    assert_soft_deleted(live)
    with django_assert_num_queries(5) as ctx:
        response = staff.post(
            reverse(URL),
            {"action": "restore_selected", "_selected_action": selected},
        )
    assert _verbs(ctx) == ["SELECT", "SELECT", "SELECT", "SELECT", "UPDATE"]
    assert (
        f"{2 + extra} rows were restored." in staff.get(reverse(URL)).content.decode()
    )
    assert_restored(live)
    assert_restored(gone)


def test_posting_delete_selected_never_hard_deletes(staff, rows):
    live, gone = rows
    response = staff.post(
        reverse(URL),
        {"action": "delete_selected", "_selected_action": [live.pk], "post": "yes"},
    )
    assert response.status_code in (200, 302)
    assert Subscription.all_objects.filter(pk=live.pk).exists()


def test_delete_view_soft_deletes(staff, rows):
    live, _gone = rows
    url = reverse("admin:models_testapp_subscription_delete", args=[live.pk])
    response = staff.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert_soft_deleted(live)


def test_change_view_of_deleted_row(staff, rows):
    _live, gone = rows
    url = reverse("admin:models_testapp_subscription_change", args=[gone.pk])
    assert staff.get(url).status_code == 200


def test_icv_soft_delete_admin_cascades(staff):
    author = Author.objects.create(name="a")
    book = Book.objects.create(author=author, title="t")
    staff.post(
        reverse("admin:models_testapp_author_changelist"),
        {"action": "soft_delete_selected", "_selected_action": [author.pk]},
    )
    assert_soft_deleted(author)
    assert_soft_deleted(book)
