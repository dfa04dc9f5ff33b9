from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from models_testapp.models import Contract, Document

from icv_core.middleware import acting_as
from icv_core.models import loaded_values

pytestmark = pytest.mark.django_db


def test_fields_are_nullable_set_null_without_reverse_accessor():
    for name in ("created_by", "updated_by"):
        field = Document._meta.get_field(name)
        assert field.null and field.remote_field.on_delete.__name__ == "SET_NULL"
        assert field.remote_field.related_name == "+"


def test_no_tracking_when_setting_off(user):
    with acting_as(user):
        doc = Document.objects.create(name="d")
    assert doc.created_by is None and doc.updated_by is None


def test_created_and_updated_by_from_current_user(track_created_by, user, other_user):
    with acting_as(user):
        doc = Document.objects.create(name="d")
    assert doc.created_by == user and doc.updated_by == user
    doc = Document.objects.get(pk=doc.pk)
    with acting_as(other_user):
        doc.name = "e"
        doc.save()
    doc.refresh_from_db()
    assert doc.created_by == user
    assert doc.updated_by == other_user


def test_update_fields_gets_updated_by(
    track_created_by, user, other_user, django_assert_num_queries
):
    with acting_as(user):
        doc = Document.objects.create(name="d")
    with acting_as(other_user), django_assert_num_queries(1) as ctx:
        doc.name = "e"
        doc.save(update_fields=["name"])
    assert "updated_by_id" in ctx.captured_queries[0]["sql"]
    doc.refresh_from_db()
    assert doc.updated_by == other_user
    assert loaded_values(doc)["updated_by_id"] == other_user.pk


def test_explicit_values_win(track_created_by, user, other_user):
    with acting_as(user):
        doc = Document.objects.create(
            name="d", created_by=other_user, updated_by=other_user
        )
    assert doc.created_by == other_user and doc.updated_by == other_user
    doc = Document.objects.get(pk=doc.pk)
    with acting_as(user):
        doc.updated_by = other_user  # unchanged from the loaded value: not explicit
        doc.save()
    assert doc.updated_by == user
    with acting_as(user):
        doc.updated_by = other_user  # changed since loaded: explicit
        doc.save()
    doc.refresh_from_db()
    assert doc.updated_by == other_user


def test_anonymous_user_counts_as_no_user(track_created_by):
    with acting_as(AnonymousUser()):
        doc = Document.objects.create(name="d")
    assert doc.created_by is None and doc.updated_by is None


def test_no_user_outside_request(track_created_by):
    doc = Document.objects.create(name="d")
    assert doc.created_by is None


def test_foreign_user_object_is_ignored(track_created_by):
    class NotAUser:
        is_authenticated = True

    with acting_as(NotAUser()):
        doc = Document.objects.create(name="d")
    assert doc.created_by is None


def test_soft_delete_of_compliance_model_records_updated_by(
    track_created_by, user, other_user
):
    with acting_as(user):
        contract = Contract.objects.create(name="c")
    with acting_as(other_user):
        contract.soft_delete()
    contract.refresh_from_db()
    assert contract.updated_by == other_user
    with acting_as(user):
        assert Contract.all_objects.all().restore() == 1
    contract.refresh_from_db()
    assert contract.updated_by == user and contract.created_by == user


def test_request_user_is_recorded_through_the_middleware(
    track_created_by, user_middleware, client, user
):
    from django.test import RequestFactory

    from icv_core.middleware import CurrentUserMiddleware

    request = RequestFactory().get("/")
    request.user = user

    def view(request):
        return Document.objects.create(name="from request")

    doc = CurrentUserMiddleware(view)(request)
    assert doc.created_by == user


def test_spec_middleware_settings_record_the_logged_in_user(settings, client, user):
    # settings.py
    settings.MIDDLEWARE = [
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "icv_core.middleware.CurrentUserMiddleware",  # must come after AuthenticationMiddleware  # noqa: E501
    ]
    settings.ICV_CORE_TRACK_CREATED_BY = True
    client.force_login(user)
    response = client.get("/documents/new/")
    assert response.json() == {"created_by": user.pk}
    client.logout()
    response = client.get("/documents/new/")
    assert response.json() == {"created_by": None}  # anonymous: no error, no user


def test_acting_as_fixture_from_the_testing_part(track_created_by, acting_as, user):
    with acting_as(user):
        doc = Document.objects.create(name="d")
    assert doc.created_by == user
