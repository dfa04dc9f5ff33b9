"""Compare what the code defines with what the reference pages document.

Run by ``nox -s docs`` before the site is built (needs the four parts
installed). It extracts five lists from the code:

- settings: ``icv_core.conf.DEFAULTS``, ``icv_core.audit.conf.AUDIT_DEFAULTS``
  and every ``"ICV_CORE_..."`` name written in the sources (a part may read a
  setting of its own with ``getattr``);
- system check ids: every ``icv_core.E001``/``icv_core_audit.W002``-style id in
  the sources;
- management commands: ``management/commands/*.py`` of every part, and the
  options each command adds to its parser;
- signals: every ``django.dispatch.Signal`` in ``icv_core.signals`` and
  ``icv_core.audit.signals``;
- template filters: the filters registered by ``{% load icv_core %}``;
- public modules: every module under ``icv_core`` whose name has no leading
  underscore (migrations and command modules aside) must be rendered by a
  ``::: module`` block of an API page or named on a reference page.

and the same five lists from the reference pages (``docs/content/reference``),
then exits 1 when a name is missing on either side: undocumented code, or
documentation of something that does not exist.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
REFERENCE = HERE / "content" / "reference"
SOURCES = sorted(ROOT.glob("packages/*/src/icv_core"))

CHECK_ID_RE = re.compile(r"\bicv_core(?:_audit)?\.[EWI]\d{3}\b")
SETTING_RE = re.compile(r"\bICV_CORE_[A-Z][A-Z0-9_]*[A-Z0-9]\b")
# Django's own options, present on every command; not ours to document.
BASE_OPTIONS = {
    "-h",
    "--help",
    "--version",
    "-v",
    "--verbosity",
    "--settings",
    "--pythonpath",
    "--traceback",
    "--no-color",
    "--force-color",
    "--skip-checks",
}


def _setup_django() -> None:
    import django
    from django.conf import settings

    if not settings.configured:
        apps = [
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.admin",
            "django.contrib.sessions",
            "django.contrib.messages",
            "icv_core",
        ]
        if importlib.util.find_spec("icv_core.audit") is not None:
            apps.append("icv_core.audit")
        settings.configure(
            INSTALLED_APPS=apps,
            DATABASES={
                "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}
            },
            TEMPLATES=[
                {
                    "BACKEND": "django.template.backends.django.DjangoTemplates",
                    "APP_DIRS": True,
                }
            ],
            USE_TZ=True,
        )
    django.setup()


def _source_files() -> list[Path]:
    return sorted(
        p for src in SOURCES for p in src.rglob("*.py") if "migrations" not in p.parts
    )


# --- from the code ---------------------------------------------------------


def code_settings() -> set[str]:
    from icv_core.conf import DEFAULTS

    names = {f"ICV_CORE_{name}" for name in DEFAULTS}
    try:
        from icv_core.audit.conf import AUDIT_DEFAULTS
    except ImportError:
        audit_defaults: dict[str, object] = {}
    else:
        audit_defaults = AUDIT_DEFAULTS
    names |= {f"ICV_CORE_{name}" for name in audit_defaults}
    for path in _source_files():
        names |= set(SETTING_RE.findall(path.read_text()))
    return names


def code_check_ids() -> set[str]:
    ids: set[str] = set()
    for path in _source_files():
        ids |= set(CHECK_ID_RE.findall(path.read_text()))
    return ids


def code_commands() -> dict[str, set[str]]:
    """Command name -> the option strings it adds (Django's own left out)."""
    from django.core.management import load_command_class

    commands: dict[str, set[str]] = {}
    for src in SOURCES:
        for path in sorted(src.rglob("management/commands/*.py")):
            if path.name.startswith("_"):
                continue
            app_dir = path.parent.parent.parent
            app = ".".join(app_dir.relative_to(src.parent).parts)
            command = load_command_class(app, path.stem)
            parser = command.create_parser("manage.py", path.stem)
            options = {
                option
                for action in parser._actions
                for option in action.option_strings
                if option not in BASE_OPTIONS
            }
            # Positional arguments are documented by their name.
            options |= {
                action.dest
                for action in parser._actions
                if not action.option_strings and action.dest not in ("help", "args")
            }
            commands[path.stem] = options
    return commands


def code_signals() -> set[str]:
    from django.dispatch import Signal

    names: set[str] = set()
    for module_name in ("icv_core.signals", "icv_core.audit.signals"):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        names |= {
            f"{module_name}.{name}"
            for name, value in vars(module).items()
            if isinstance(value, Signal) and not name.startswith("_")
        }
    return names


def code_modules() -> set[str]:
    """Dotted names of the public modules (no ``_`` in any part of the path)."""
    names: set[str] = set()
    for src in SOURCES:
        for path in src.rglob("*.py"):
            parts = path.relative_to(src.parent).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            if "migrations" in parts or "management" in parts:
                continue
            if any(part.startswith("_") for part in parts):
                continue
            names.add(".".join(parts))
    # Namespace and package roots only re-export or hold nothing of their own.
    return names - {"icv_core", "icv_core.templatetags"}


def code_filters() -> set[str]:
    try:
        module = importlib.import_module("icv_core.templatetags.icv_core")
    except ImportError:
        return set()
    return set(module.register.filters)


# --- from the reference pages ---------------------------------------------


def _page(name: str) -> str:
    return (REFERENCE / name).read_text()


def _headings(text: str, pattern: str) -> set[str]:
    """Names written as ``### `name` `` headings (any level)."""
    return set(re.findall(rf"^#+ `({pattern})`", text, re.MULTILINE))


def doc_settings() -> set[str]:
    return _headings(_page("settings.md"), r"ICV_CORE_[A-Z0-9_]+")


def doc_check_ids() -> set[str]:
    return set(
        re.findall(
            r"^\| `(icv_core(?:_audit)?\.[EWI]\d{3})`", _page("checks.md"), re.MULTILINE
        )
    )


def doc_commands() -> dict[str, set[str]]:
    """Command name -> the options its section documents as table rows."""
    text = _page("commands.md")
    sections = re.split(r"^## `([a-z_]+)`\s*$", text, flags=re.MULTILINE)
    commands: dict[str, set[str]] = {}
    for name, body in zip(sections[1::2], sections[2::2], strict=True):
        options: set[str] = set()
        for cell in re.findall(r"^\| ([^|]+)\|", body, re.MULTILINE):
            options |= set(
                re.findall(r"`(-{1,2}[a-z][a-z0-9-]*|[a-z_]+)(?:[ =][^`]*)?`", cell)
            )
        commands[name] = options
    return commands


def doc_signals() -> set[str]:
    return _headings(_page("signals.md"), r"icv_core(?:\.audit)?\.signals\.[a-z_]+")


def doc_filters() -> set[str]:
    return _headings(_page("filters.md"), r"[a-z_]+")


def doc_modules(modules: set[str]) -> set[str]:
    """Modules rendered by ``::: name`` on an API page, or named on a reference page."""
    pages = [path.read_text() for path in sorted(REFERENCE.rglob("*.md"))]
    rendered = {
        name
        for text in pages
        for name in re.findall(r"^::: ([\w.]+)\s*$", text, re.MULTILINE)
    }
    named = {name for name in modules if any(f"`{name}`" in text for text in pages)}
    return rendered | named


# --- comparison -------------------------------------------------------------


def _compare(kind: str, in_code: set[str], in_docs: set[str]) -> list[str]:
    problems = [
        f"{kind}: {name} is in the code but not in the reference"
        for name in sorted(in_code - in_docs)
    ]
    problems += [
        f"{kind}: {name} is documented but not in the code"
        for name in sorted(in_docs - in_code)
    ]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="print every list")
    args = parser.parse_args(argv)
    _setup_django()

    problems: list[str] = []
    lists = {
        "setting": (code_settings(), doc_settings()),
        "check id": (code_check_ids(), doc_check_ids()),
        "signal": (code_signals(), doc_signals()),
        "template filter": (code_filters(), doc_filters()),
    }
    modules = code_modules()
    lists["public module"] = (modules, doc_modules(modules))
    code_cmds, doc_cmds = code_commands(), doc_commands()
    lists["management command"] = (set(code_cmds), set(doc_cmds))
    for kind, (in_code, in_docs) in lists.items():
        problems += _compare(kind, in_code, in_docs)
        if args.verbose:
            print(f"{kind}s ({len(in_code)}): {', '.join(sorted(in_code))}")
    for name in sorted(set(code_cmds) & set(doc_cmds)):
        problems += _compare(f"option of {name}", code_cmds[name], doc_cmds[name])
        if args.verbose:
            print(f"  {name}: {', '.join(sorted(code_cmds[name])) or '(no options)'}")

    if problems:
        print("The reference and the code disagree:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    counts = ", ".join(f"{len(code)} {kind}s" for kind, (code, _) in lists.items())
    print(f"reference complete: {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
