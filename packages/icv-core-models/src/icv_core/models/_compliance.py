"""ComplianceModel: who created and who last changed a row."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings as django_settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from icv_core.models._base import BaseModel, _save_kwargs_with, loaded_values

__all__ = ["ComplianceModel", "current_user_for"]


def current_user_for(model: type[models.Model]) -> Any:
    """The user to record in ``model.updated_by`` now, or None.

    None unless ``ICV_CORE_TRACK_CREATED_BY`` is true, the model has an
    ``updated_by`` foreign key and the current user is an authenticated
    instance of the model that key points to (an anonymous or foreign user
    object counts as no user).
    """
    from icv_core.conf import settings

    if not settings.TRACK_CREATED_BY:
        return None
    try:
        field = model._meta.get_field("updated_by")
    except Exception:
        return None
    if not isinstance(field, models.ForeignKey):
        return None
    from icv_core.middleware import get_current_user

    user = get_current_user()
    if user is None or not isinstance(user, field.related_model):
        return None
    return user


class ComplianceModel(BaseModel):
    """Abstract BaseModel recording ``created_by`` and ``updated_by``.

    When ``ICV_CORE_TRACK_CREATED_BY`` is true, ``save()`` sets
    ``created_by`` on insert and ``updated_by`` on every save from the
    current user (:func:`icv_core.middleware.get_current_user`). Values the
    caller set explicitly win; without a current user (anonymous, outside a
    request) nothing is set. ``save(update_fields=[...])`` gets
    ``updated_by`` added when it is set.
    """

    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    updated_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    if TYPE_CHECKING:
        created_by_id: Any
        updated_by_id: Any

    class Meta(BaseModel.Meta):
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        user = current_user_for(type(self))
        if user is not None:
            if self._state.adding:
                if self.created_by_id is None:
                    self.created_by = user
                if self.updated_by_id is None:
                    self.updated_by = user
            else:
                loaded = loaded_values(self)
                # An updated_by changed by the caller since loading is explicit.
                explicit = (
                    "updated_by_id" in loaded
                    and loaded["updated_by_id"] != self.updated_by_id
                )
                if not explicit:
                    self.updated_by = user
                    args, kwargs = _save_kwargs_with(args, kwargs, "updated_by")
        super().save(*args, **kwargs)
