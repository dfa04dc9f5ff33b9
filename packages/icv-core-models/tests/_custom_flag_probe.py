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
    "check_ids": sorted(
        m.id for m in checks.run_checks() if m.id.startswith("icv_core")
    ),
}
print(json.dumps(result))
