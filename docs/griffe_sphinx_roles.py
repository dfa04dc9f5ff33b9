"""A Griffe extension for the API pages: reStructuredText bits become Markdown.

The sources' docstrings use reStructuredText cross-reference roles
(``:func:`make_uuid```, ``:class:`~icv_core.models.BaseModel```) and a few
simple tables (``====  ====`` borders). MkDocs renders Markdown, where both
would show as raw text, so roles become inline code (``make_uuid``,
``BaseModel`` for the ``~`` short form) and simple tables become Markdown
tables. Loaded by ``docs/mkdocs.yml``.
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


_BORDER = re.compile(r"^(\s*)(=+)((?:\s+=+)+)\s*$")


def _columns(border: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"=+", border)]


def _cells(line: str, columns: list[tuple[int, int]]) -> list[str]:
    cells = []
    for index, (start, _end) in enumerate(columns):
        stop = columns[index + 1][0] if index + 1 < len(columns) else len(line)
        cells.append(line[start:stop].strip())
    return cells


def _simple_tables(text: str) -> str:
    """reST simple tables (borders: top, under the header, bottom) as Markdown."""
    lines = text.splitlines()
    out: list[str] = []
    index = 0
    while index < len(lines):
        match = _BORDER.match(lines[index])
        borders = [index]
        if match:
            for probe in range(index + 1, len(lines)):
                if lines[probe].strip() == lines[index].strip():
                    borders.append(probe)
                    if len(borders) == 3:
                        break
                elif not lines[probe].strip():
                    break
        if not match or len(borders) != 3:
            out.append(lines[index])
            index += 1
            continue
        indent = match.group(1)
        columns = _columns(lines[index])
        rows = [_cells(line, columns) for line in lines[borders[0] + 1 : borders[1]]]
        body = [_cells(line, columns) for line in lines[borders[1] + 1 : borders[2]]]
        header = [
            " ".join(cell for cell in column if cell)
            for column in zip(*rows, strict=True)
        ]
        out.append(indent + "| " + " | ".join(header) + " |")
        out.append(indent + "|" + "---|" * len(columns))
        for row in body:
            out.append(
                indent
                + "| "
                + " | ".join(cell.replace("|", "\\|") for cell in row)
                + " |"
            )
        index = borders[2] + 1
    return "\n".join(out)


class SphinxRolesToCode(griffe.Extension):
    """Rewrite Sphinx roles and simple tables in every docstring Griffe loads."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            value = _ROLE.sub(_replace, obj.docstring.value)
            # reST's "text::" before a literal block reads as "text:".
            value = re.sub(r"(?<=\S)::$", ":", value, flags=re.MULTILINE)
            obj.docstring.value = _simple_tables(value)
