"""A Griffe extension for the API pages: Sphinx roles in docstrings become code.

The sources' docstrings use reStructuredText cross-reference roles
(``:func:`make_uuid```, ``:class:`~icv_core.models.BaseModel```). MkDocs renders
Markdown, where those roles would show as raw text, so this turns each into
inline code (``make_uuid``, ``BaseModel`` for the ``~`` short form).
Loaded by ``docs/mkdocs.yml``.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(
    r":(?:py:)?(?:func|class|meth|mod|attr|exc|data|obj|const|ref|setting):`(~?)([^`]+)`"
)


def _replace(match: re.Match[str]) -> str:
    short, target = match.groups()
    if short:
        target = target.rsplit(".", 1)[-1]
    return f"`{target}`"


class SphinxRolesToCode(griffe.Extension):
    """Rewrite Sphinx roles in every docstring Griffe loads."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = _ROLE.sub(_replace, obj.docstring.value)
