from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import connection
from django.db.migrations.state import ModelState
from django.utils import timezone
from models_testapp.models import Article, Bare, Note, Ordered, Stamped, Subscription

from icv_core.models import BaseModel, loaded_values, set_loaded_values

pytestmark = pytest.mark.django_db


def test_spec_basemodel_example_verbatim():
    article = Article.objects.create(title="Hello, world", body="...")
    assert isinstance(article.id, uuid.UUID)
    assert article.id.version == 4
    assert isinstance(article.created_at, dt.datetime)
    assert isinstance(article.updated_at, dt.datetime)
    created = article.created_at
    article.title = "Changed"
    article.save()
    article.refresh_from_db()
    assert article.created_at == created
    assert article.updated_at > created


def test_version_7_ids_when_configured(settings):
    settings.ICV_CORE_UUID_VERSION = 7
    first = Bare.objects.create()
    second = Bare.objects.create()
    assert first.id.version == 7
    assert first.id < second.id


def test_id_field_default_is_the_stable_callable():
    from icv_core.uuid import make_uuid

    field = Bare._meta.get_field("id")
    assert field.default is make_uuid
    assert field.primary_key and not field.editable


def test_updated_at_bumped_by_save_with_update_fields(django_assert_num_queries):
    item = Stamped.objects.create(name="a")
    before = item.updated_at
    item.name = "b"
    with django_assert_num_queries(1) as ctx:
        item.save(update_fields=["name"])
    assert "updated_at" in ctx.captured_queries[0]["sql"]
    item.refresh_from_db()
    assert item.name == "b"
    assert item.updated_at > before


def test_created_at_set_once_on_insert():
    item = Stamped.objects.create()
    created = item.created_at
    item.name = "x"
    item.save()
    item.refresh_from_db()
    assert item.created_at == created
    assert item.updated_at > created


def test_default_ordering_applies_to_subclasses_with_and_without_meta():
    assert Article._meta.ordering == ["-created_at"]
    assert Note._meta.ordering == ["-created_at"]
    assert Subscription._meta.ordering == ["-created_at"]
    assert Ordered._meta.ordering == ["name"]


def test_default_ordering_is_in_the_migration_state():
    state = ModelState.from_model(Note)
    assert state.options["ordering"] == ["-created_at"]
    assert ModelState.from_model(Ordered).options["ordering"] == ["name"]


def test_default_ordering_orders_querysets():
    first = Note.objects.create(text="first")
    second = Note.objects.create(text="second")
    Note.objects.filter(pk=first.pk).update(
        created_at=timezone.now() - dt.timedelta(days=1)
    )
    assert list(Note.objects.values_list("text", flat=True)) == ["second", "first"]
    assert second.pk


def test_default_ordering_setting_read_at_class_definition(settings):
    from django.apps.registry import Apps
    from django.db import models

    settings.ICV_CORE_DEFAULT_ORDERING = ["-updated_at", "id"]
    isolated = Apps(["models_testapp"])

    class Temp(BaseModel):
        name = models.CharField(max_length=5)

        class Meta:
            app_label = "models_testapp"
            apps = isolated

    assert Temp._meta.ordering == ["-updated_at", "id"]
    settings.ICV_CORE_DEFAULT_ORDERING = None

    class NoOrder(BaseModel):
        class Meta:
            app_label = "models_testapp"
            apps = isolated

    assert NoOrder._meta.ordering == []
    assert "ordering" not in NoOrder._meta.original_attrs


def test_loaded_values_empty_for_new_instances():
    assert loaded_values(Article(title="x", body="y")) == {}


def test_loaded_values_recorded_by_from_db(django_assert_num_queries):
    article = Article.objects.create(title="t", body="b")
    with django_assert_num_queries(1):
        fetched = Article.objects.get(pk=article.pk)
    with django_assert_num_queries(0):
        values = loaded_values(fetched)
    assert values["title"] == "t"
    assert values["id"] == article.pk
    assert set(values) == {f.attname for f in Article._meta.concrete_fields}


def test_loaded_values_with_deferred_fields():
    article = Article.objects.create(title="t", body="b")
    fetched = Article.objects.only("title").get(pk=article.pk)
    assert set(loaded_values(fetched)) == {"id", "title"}


def test_loaded_values_follow_saves_and_refresh():
    article = Article.objects.create(title="t", body="b")
    fetched = Article.objects.get(pk=article.pk)
    fetched.title = "changed"
    assert loaded_values(fetched)["title"] == "t"
    fetched.save(update_fields=["title"])
    assert loaded_values(fetched)["title"] == "changed"
    assert loaded_values(fetched)["updated_at"] == fetched.updated_at
    Article.objects.filter(pk=article.pk).update(body="other")
    fetched.refresh_from_db()
    assert loaded_values(fetched)["body"] == "other"
    Article.objects.filter(pk=article.pk).update(title="again")
    fetched.refresh_from_db(fields=["title"])
    assert loaded_values(fetched)["title"] == "again"


def test_loaded_values_after_insert_and_full_save():
    article = Article.objects.create(title="t", body="b")
    assert loaded_values(article)["title"] == "t"
    article.body = "c"
    article.save()
    assert loaded_values(article)["body"] == "c"


def test_set_loaded_values_replaces_the_snapshot():
    article = Article.objects.create(title="t", body="b")
    set_loaded_values(article, {"title": "x"})
    assert loaded_values(article) == {"title": "x"}
    copy = loaded_values(article)
    copy["title"] = "y"
    assert loaded_values(article) == {"title": "x"}


def test_app_module_imports_no_models_and_registers_none():
    import subprocess
    import sys

    code = (
        "import sys, django.conf as c; c.settings.configure();"
        "import icv_core.apps, icv_core.conf, icv_core.middleware, icv_core.signals;"
        "print('icv_core.models' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
    from django.apps import apps

    # icv_core.models defines abstract models only: no table of its own.
    assert list(apps.get_app_config("icv_core").get_models()) == []


def test_db_vendor_is_supported():
    assert connection.vendor in {"sqlite", "postgresql"}
