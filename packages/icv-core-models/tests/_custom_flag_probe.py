"""Run in a subprocess by test_settings_field.py with settings_custom_flag."""

from __future__ import annotations

import json

import django

django.setup()

from django.core import checks  # noqa: E402
from django.db import connection  # noqa: E402
from models_flagapp.models import Child, Parent  # noqa: E402

from icv_core.admin import SoftDeleteStatusFilter  # noqa: E402
from icv_core.managers import flag_field_of  # noqa: E402

with connection.schema_editor() as editor:
    editor.create_model(Parent)
    editor.create_model(Child)


def status_filter(value):
    # The admin's status filter on a queryset that shows every row (as the
    # admin's does); used_parameters is set directly, the same on every
    # Django version.
    live = Parent.objects.create(name="f-live")
    gone = Parent.objects.create(name="f-gone")
    gone.soft_delete()
    try:
        status = SoftDeleteStatusFilter(None, {}, Parent, None)
        status.used_parameters = {} if value is None else {status.parameter_name: value}
        queryset = status.queryset(
            None, Parent.all_objects.filter(name__startswith="f-")
        )
        return sorted(queryset.values_list("name", flat=True))
    finally:
        Parent.all_objects.filter(pk__in=[live.pk, gone.pk]).hard_delete()


def update_stamps():
    row = Parent.objects.create(name="u")
    Parent.objects.filter(pk=row.pk).update(alive=False)
    row.refresh_from_db()
    result = row.alive is False and row.deleted_at is not None
    row.hard_delete()
    return result


def update_clears():
    row = Parent.objects.create(name="u")
    row.soft_delete()
    Parent.all_objects.filter(pk=row.pk).update(alive=True)
    row.refresh_from_db()
    result = row.alive is True and row.deleted_at is None
    row.hard_delete()
    return result


def stale_soft_delete():
    row = Parent.objects.create(name="s")
    stale = Parent.objects.get(pk=row.pk)
    row.soft_delete()
    stamp = Parent.all_objects.get(pk=row.pk).deleted_at
    result = [
        stale.soft_delete(),
        stale.alive,
        stale.deleted_at == stamp,
        Parent.all_objects.get(pk=row.pk).deleted_at == stamp,
    ]
    row.hard_delete()
    return result


parent = Parent.objects.create(name="p")
Child.objects.create(parent=parent)
parent.soft_delete(cascade=True)
result = {
    "fields": [f.name for f in Parent._meta.concrete_fields],
    "flag": flag_field_of(Parent),
    "alive": parent.alive,
    "visible": Parent.objects.count(),
    "deleted": Parent.objects.filter(name="p").deleted().count(),
    "children_visible": Child.objects.count(),
    "bulk": Parent.all_objects.all().restore(cascade=True),
    "children_after_restore": Child.objects.count(),
    "filter": SoftDeleteStatusFilter.parameter_name,
    "filter_deleted": status_filter("deleted"),
    "filter_active": status_filter("active"),
    "filter_all": status_filter(None),
    "update_stamps": update_stamps(),
    "update_clears": update_clears(),
    "stale_soft_delete": stale_soft_delete(),
    "check_ids": sorted(
        m.id for m in checks.run_checks() if m.id.startswith("icv_core")
    ),
}
print(json.dumps(result))
