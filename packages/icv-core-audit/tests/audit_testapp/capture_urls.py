"""URLconf of the capture tests (``pytest.mark.urls``)."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from audit_testapp import capture_views as views

urlpatterns = [
    path("capture-admin/", views.site.urls),
    path("context/", views.context_view),
    path("log/", views.log_view),
    path("stream/", views.stream_view),
    path("async-stream/", views.async_stream_view),
    path("denied/", views.denied_view),
    path("create-contract/", views.create_contract_view),
    path("failed-login/", views.failed_login_view),
    path("security-ok/", views.security_ok_view),
    path("data-then-fail/", views.data_then_fail_view),
    path("overlap/", views.overlapping_view),
    path("audited/", views.audited_function_view),
    path("audited-class/", views.AuditedClassView.as_view()),
    path("audited-async/", views.audited_async_view),
    path("login/", auth_views.LoginView.as_view(template_name="capture_login.html")),
    path("logout/", auth_views.LogoutView.as_view()),
]
