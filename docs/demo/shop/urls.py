from __future__ import annotations

from django.urls import path

from . import views

app_name = "shop"
urlpatterns = [
    path("", views.home, name="home"),
    path("filters/", views.filters, name="filters"),
    path("favicon.ico", views.favicon, name="favicon"),
]
