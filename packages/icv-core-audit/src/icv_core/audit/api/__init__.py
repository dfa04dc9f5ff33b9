"""Optional read-only REST API for the audit trail (Django REST framework).

Install the extra ``django-icv-core-audit[api]`` and include the URLs::

    path("api/audit/", include("icv_core.audit.api.urls")),

Routes (no API root view): ``entries/``, ``admin-activity/``, ``alerts/`` and
``alerts/<id>/resolve/``. Nothing else in ``icv_core.audit`` imports this
package, so the app works without DRF installed.
"""

from __future__ import annotations
