from __future__ import annotations

from django.contrib import admin
from django.urls import path
from models_testapp import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("overlap/", views.overlapping),
    path("whoami/", views.sync_whoami),
    path("stream/", views.streaming),
    path("astream/", views.async_streaming),
    path("boom/", views.boom),
    path("documents/new/", views.create_document),
]
