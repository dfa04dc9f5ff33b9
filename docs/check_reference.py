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
  ``::: module`` block of an API page or named on a reference page;
- public names: every class and function without a leading underscore defined
  in a public module (``obj.__module__`` is the module, or a top-level
  ``def``/``class`` of its source, such as a pytest fixture), and everything in
  the module's ``__all__``, must be rendered by mkdocstrings or named on a
  reference page.

and the same lists from the reference pages (``docs/content/reference``),
then exits 1 when a name is missing on either side: undocumented code, or
documentation of something that does not exist.

A public name counts as rendered when a ``::: module.name`` block renders it,
or when a ``::: module`` block does: the block's ``members:`` option lists it,
or (no ``members:``) it has a docstring of its own in the source, because the
site is built with ``show_if_no_docstring: false`` and mkdocstrings hides a
member without one. It counts as named when a reference page writes
``module.name`` inside backticks, or writes ``name`` in backticks in a section
whose heading names ``module`` in backticks. On the documentation side every
``:::`` target, every ``members:`` entry, every dotted ``icv_core.…`` name in
backticks and every first cell ``name`` of a table row in a section headed by
a module must exist in the code.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import importlib.util
import inspect
import re
import sys
from pathlib import Path
from types import ModuleType

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


def _top_level_defs(module: ModuleType) -> dict[str, ast.AST]:
    """The module's top-level ``def`` and ``class`` nodes, by name."""
    source = getattr(module, "__file__", None)
    if not source or not source.endswith(".py"):
        return {}
    tree = ast.parse(Path(source).read_text(), filename=source)
    return {
        node.name: node
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    }


def _module_all(module: ModuleType) -> list[str]:
    exported = getattr(module, "__all__", None)
    return [str(name) for name in exported] if exported is not None else []


def code_public_names(modules: set[str]) -> dict[str, str]:
    """``module.name`` -> ``module`` for every public class and function.

    A name is public when it has no leading underscore and is defined in the
    module (a class or function whose ``__module__`` is the module, or a
    top-level ``def``/``class`` of its source: decorators such as
    ``pytest.fixture`` return other objects), or when the module's
    ``__all__`` lists it (re-exports from private modules, constants and
    signals included).
    """
    names: dict[str, str] = {}
    for module_name in sorted(modules):
        module = importlib.import_module(module_name)
        public = {
            name
            for name, value in vars(module).items()
            if (inspect.isclass(value) or inspect.isfunction(value))
            and getattr(value, "__module__", None) == module_name
        }
        public |= set(_top_level_defs(module))
        public |= set(_module_all(module))
        names |= {
            f"{module_name}.{name}": module_name
            for name in public
            if not name.startswith("_")
        }
    return names


def _has_docstring(module_name: str, name: str) -> bool:
    """Whether mkdocstrings (static analysis) finds a docstring for the member.

    Looked up where the object is defined, so a re-export from a private
    module has the docstring of its definition. An attribute (constant,
    signal) has one when a string literal follows its assignment.
    """
    module = importlib.import_module(module_name)
    value = getattr(module, name, None)
    home = getattr(value, "__module__", None)
    defined = inspect.isclass(value) or inspect.isfunction(value)
    if defined and isinstance(home, str) and home in sys.modules:
        module = sys.modules[home]
        name = getattr(value, "__name__", name)
    node = _top_level_defs(module).get(name)
    if node is not None:
        return ast.get_docstring(node) is not None  # type: ignore[arg-type]
    source = getattr(module, "__file__", None)
    if not source or not source.endswith(".py"):
        return False
    body = ast.parse(Path(source).read_text()).body
    for index, statement in enumerate(body[:-1]):
        targets: list[ast.expr] = []
        if isinstance(statement, ast.Assign):
            targets = statement.targets
        elif isinstance(statement, ast.AnnAssign):
            targets = [statement.target]
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            following = body[index + 1]
            return (
                isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)
            )
    return False


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


DIRECTIVE_RE = re.compile(
    r"^::: ([\w.]+)[ \t]*\n((?:(?:[ \t]+\S.*)?\n)*)", re.MULTILINE
)
CODE_SPAN_RE = re.compile(r"`([^`\n]+)`")
DOTTED_RE = re.compile(r"\bicv_core(?:\.[A-Za-z_]\w*)+")
HEADING_RE = re.compile(r"^#+ .*$", re.MULTILINE)
ROW_NAME_RE = re.compile(r"^\| `([A-Za-z_]\w*)(?:\(\))?` *\|", re.MULTILINE)


def _directive_options(block: str) -> dict[str, object]:
    """``members`` and ``show_if_no_docstring`` from a directive's YAML block.

    Only the forms the pages use: ``members: [a, b]``, ``members: false`` or
    a ``- name`` list under ``members:``, and ``show_if_no_docstring: true``.
    """
    options: dict[str, object] = {}
    lines = block.splitlines()
    for index, line in enumerate(lines):
        key, _, value = line.strip().partition(":")
        value = value.strip()
        if key == "members":
            if value.lower() in ("false", "no", "[]"):
                options["members"] = []
            elif value.startswith("["):
                options["members"] = [
                    item.strip().strip("'\"")
                    for item in value.strip("[]").split(",")
                    if item.strip()
                ]
            elif not value:
                items = []
                for item in lines[index + 1 :]:
                    if not item.strip().startswith("- "):
                        break
                    items.append(item.strip()[2:].strip().strip("'\""))
                options["members"] = items
        elif key == "show_if_no_docstring":
            options["show_if_no_docstring"] = value.lower() in ("true", "yes")
    return options


def _exists(dotted: str) -> bool:
    """Whether ``dotted`` is an importable module or an attribute of one."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        module_name = ".".join(parts[:cut])
        try:
            value: object = importlib.import_module(module_name)
        except ImportError:
            continue
        for attribute in parts[cut:]:
            if not hasattr(value, attribute):
                return False
            value = getattr(value, attribute)
        return True
    return False


def _sections(text: str) -> list[tuple[str, str]]:
    """``(heading, body)`` pairs of a page; the text before the first heading
    has an empty heading."""
    starts = [m.start() for m in HEADING_RE.finditer(text)]
    bounds = [0, *starts, len(text)]
    sections = []
    for start, end in zip(bounds, bounds[1:], strict=False):
        chunk = text[start:end]
        heading, _, body = chunk.partition("\n")
        if not HEADING_RE.match(heading):
            heading, body = "", chunk
        sections.append((heading, body))
    return sections


def doc_public_names(
    public: dict[str, str], modules: set[str]
) -> tuple[set[str], list[str]]:
    """Public names the pages render or name, and documented names that do
    not exist (as problem lines)."""
    pages = {
        path.relative_to(REFERENCE).as_posix(): path.read_text()
        for path in sorted(REFERENCE.rglob("*.md"))
    }
    covered: set[str] = set()
    stale: list[str] = []
    for page, text in pages.items():
        for target, block in DIRECTIVE_RE.findall(text):
            options = _directive_options(block)
            if not _exists(target):
                stale.append(f"{page}: ::: {target} does not exist")
                continue
            covered.add(target)
            members = options.get("members")
            if target not in modules:
                continue
            if isinstance(members, list):
                for member in members:
                    dotted = f"{target}.{member}"
                    if not _exists(dotted):
                        stale.append(f"{page}: member {dotted} does not exist")
                    covered.add(dotted)
                continue
            show_all = bool(options.get("show_if_no_docstring"))
            covered |= {
                dotted
                for dotted, module_name in public.items()
                if module_name == target
                and (show_all or _has_docstring(target, dotted.rsplit(".", 1)[1]))
            }
        for span in CODE_SPAN_RE.findall(text):
            for dotted in DOTTED_RE.findall(span):
                if CHECK_ID_RE.fullmatch(dotted):
                    continue
                if not _exists(dotted):
                    stale.append(f"{page}: `{dotted}` does not exist")
                covered.add(dotted)
        for heading, body in _sections(text):
            named = {m for m in CODE_SPAN_RE.findall(heading) if m in modules}
            for module_name in named:
                for span in CODE_SPAN_RE.findall(body):
                    name = span.removesuffix("()")
                    if f"{module_name}.{name}" in public:
                        covered.add(f"{module_name}.{name}")
                for name in ROW_NAME_RE.findall(body):
                    if f"{module_name}.{name}" not in public:
                        stale.append(
                            f"{page}: `{name}` (under {heading.strip()!r}) is not "
                            f"a public name of {module_name}"
                        )
    return covered & set(public), stale


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
    public = code_public_names(modules)
    documented, stale = doc_public_names(public, modules)
    lists["public name"] = (set(public), documented)
    problems += [f"public name: {line}" for line in stale]
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
