"""User-facing strings of the core part go through Django's translation."""

from __future__ import annotations

import io
import re

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation
from models_testapp.models import Subscription

from icv_core.checks import check_settings
from icv_core.conf import settings as icv_settings
from icv_core.managers import SoftDeleteManager
from icv_core.models._soft_delete import flag_field_problem
from icv_core.uuid import make_uuid

_PLACEHOLDER = re.compile(r"(%\(\w+\)[a-z]|\{\w+(?:![rs])?\})")


def _shout(message):
    parts = _PLACEHOLDER.split(message)
    return "".join(p if i % 2 else p.upper() for i, p in enumerate(parts))


@pytest.fixture
def shouting(monkeypatch):
    """A "translation" that upper-cases every message (not its placeholders)."""
    translation._trans.gettext  # noqa: B018  (resolve the lazy backend)
    translation._trans.ngettext  # noqa: B018
    monkeypatch.setattr(translation._trans, "gettext", _shout)
    monkeypatch.setattr(
        translation._trans,
        "ngettext",
        lambda singular, plural, n: _shout(singular if n == 1 else plural),
    )


def _texts(messages):
    return [(str(m.msg), str(m.hint)) for m in messages]


def test_check_messages_and_hints_are_translated(shouting, settings):
    settings.ICV_CORE_UUID_VERSION = 9
    settings.ICV_CORE_ALLOW_HARD_DELETE = "yes"
    settings.ICV_CORE_TRACK_CREATED_BY = True
    settings.MIDDLEWARE = []
    texts = _texts(check_settings())
    assert (
        "ICV_CORE_UUID_VERSION MUST BE THE INTEGER 4 (RANDOM) OR 7 (TIME-SORTED).",
        "IT IS SET TO 9.",
    ) in texts
    assert (
        "ICV_CORE_ALLOW_HARD_DELETE MUST BE TRUE OR FALSE, NOT str.",
        "IT IS SET TO 'yes'.",
    ) in texts
    assert (
        "ICV_CORE_TRACK_CREATED_BY IS TRUE BUT CURRENTUSERMIDDLEWARE IS NOT IN "
        "MIDDLEWARE.",
        "ADD 'icv_core.middleware.CurrentUserMiddleware' AFTER "
        "'django.contrib.auth.middleware.AuthenticationMiddleware'.",
    ) in texts


def test_soft_delete_field_problems_are_translated(shouting, settings):
    assert flag_field_problem(3) == "IT MUST BE A STRING, NOT int"
    assert flag_field_problem("is-x") == "'is-x' IS NOT A VALID PYTHON IDENTIFIER"
    settings.ICV_CORE_SOFT_DELETE_FIELD = "pk"
    (message,) = check_settings()
    assert str(message.msg) == (
        "ICV_CORE_SOFT_DELETE_FIELD IS INVALID: 'pk' IS ALREADY USED BY "
        "SOFTDELETEMODEL."
    )


def test_exception_texts_are_translated(shouting, settings):
    settings.ICV_CORE_UUID_VERSION = 5
    with pytest.raises(ImproperlyConfigured) as info:
        make_uuid()
    assert str(info.value) == "ICV_CORE_UUID_VERSION MUST BE THE INTEGER 4 OR 7, NOT 5."
    with pytest.raises(ValueError) as info:
        SoftDeleteManager(visibility="gone")
    assert str(info.value) == "UNKNOWN VISIBILITY 'gone'."
    combined = Subscription.objects.filter(plan="a") | Subscription.objects.filter(
        plan="b"
    )
    with pytest.raises(TypeError) as info:
        combined.deleted()
    assert str(info.value).startswith("ACTIVE(), DELETED() AND WITH_DELETED()")
    with pytest.raises(AttributeError) as info:
        icv_settings.NO_SUCH_SETTING  # noqa: B018
    assert str(info.value) == (
        "ICV_CORE_NO_SUCH_SETTING IS NOT A DJANGO-ICV-CORE SETTING."
    )


def test_command_report_and_help_are_translated(shouting, settings):
    settings.ICV_CORE_UUID_VERSION = 9
    settings.SILENCED_SYSTEM_CHECKS = ["icv_core.W001"]
    settings.ICV_CORE_ALLOW_HARD_DELETE = True
    out = io.StringIO()
    with pytest.raises(CommandError) as info:
        call_command("icv_core_check", stdout=out, stderr=out)
    lines = out.getvalue().splitlines()
    assert lines == [
        "1 SILENCED ISSUE NOT SHOWN.",
        "[ERROR] icv_core.E001: ICV_CORE_UUID_VERSION MUST BE THE INTEGER 4 "
        "(RANDOM) OR 7 (TIME-SORTED).",
        "    HINT: IT IS SET TO 9.",
    ]
    assert str(info.value) == "1 ISSUE(S) FOUND, 1 AT OR ABOVE ERROR."
    from django.core.management import get_commands, load_command_class

    command = load_command_class(get_commands()["icv_core_check"], "icv_core_check")
    text = command.create_parser("manage.py", "icv_core_check").format_help()
    assert "CHECK THE DJANGO-ICV-CORE CONFIGURATION" in text
    assert "EXIT NON-ZERO FOR MESSAGES" in text
