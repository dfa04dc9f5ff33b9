"""The one entry point for django-icv-core's development tasks.

Run ``nox -l`` to list the sessions. Without nox installed, ``python3
noxfile.py ARGS`` creates a private virtual environment with nox and uv in
``.nox/_bootstrap`` and runs nox from it with the same arguments.

Python 3.11, 3.12 and 3.13 must be on PATH for the matrix; with pyenv,
export ``PYENV_VERSION`` listing them (``.ci/run`` shows how).
"""

# /// script
# dependencies = ["nox>=2025.2.9", "uv"]
# ///

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def _bootstrap() -> None:
    """Re-run this file under a private venv that has nox and uv."""
    env_dir = ROOT / ".nox" / "_bootstrap"
    python = env_dir / "bin" / "python"
    if not python.exists():
        print(f"nox is not installed: creating {env_dir} with nox and uv ...")
        try:
            venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
        except (OSError, subprocess.CalledProcessError) as exc:
            raise SystemExit(
                f"Could not create {env_dir} ({exc}). This Python has no working "
                "venv/ensurepip: install it (Debian/Ubuntu: apt install python3-venv) "
                "or install nox yourself (pipx install nox) and run `nox` instead."
            ) from exc
        subprocess.run(
            [python, "-m", "pip", "install", "--quiet", "nox>=2025.2.9", "uv"],
            check=True,
        )
    env = {**os.environ, "PATH": f"{env_dir / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    os.execve(python, [str(python), __file__, *sys.argv[1:]], env)


if __name__ == "__main__":
    try:
        import nox
    except ImportError:
        _bootstrap()

import hashlib  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import tarfile  # noqa: E402
import tempfile  # noqa: E402
import zipfile  # noqa: E402
from email.parser import Parser  # noqa: E402

import nox  # noqa: E402

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"
nox.options.error_on_missing_interpreters = True
# Only PyPI is reachable from CI: never let uv fetch a Python build.
os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")
# What a bare ``nox`` runs: the quick checks. ``test`` and ``check_versions``
# need only the Python running nox; ``lint`` needs Python 3.13 on PATH and
# fails without it (error_on_missing_interpreters), so on a machine without
# 3.13 run ``nox -s test check_versions``.
nox.options.sessions = ["test", "lint", "check_versions"]

# --- the support table: every (Python, Django) pair we test -----------------
# Django series -> Python versions Django supports for that series (of the
# Pythons we support). One table drives the test matrix, the migrations
# session and the GitHub Actions matrix.
SUPPORT: dict[str, tuple[str, ...]] = {
    "4.2": ("3.11", "3.12"),
    "5.0": ("3.11", "3.12"),
    "5.1": ("3.11", "3.12", "3.13"),
    "5.2": ("3.11", "3.12", "3.13"),
    "6.0": ("3.12", "3.13"),
    "6.1": ("3.12", "3.13"),
}
PYTHONS = ("3.11", "3.12", "3.13")
LATEST_DJANGO = "6.1"
LTS_DJANGO = "5.2"
MATRIX = [(py, dj) for dj, pys in SUPPORT.items() for py in pys]

PARTS = {
    # folder: (distribution, import path)
    "icv-core-models": ("django-icv-core-models", "icv_core.models"),
    "icv-core-audit": ("django-icv-core-audit", "icv_core.audit"),
    "icv-core-templatetags": (
        "django-icv-core-templatetags",
        "icv_core.templatetags.icv_core",
    ),
    "icv-core-testing": ("django-icv-core-testing", "icv_core.testing.factories"),
}
META = "django-icv-core"
PACKAGES = ROOT / "packages"
DIST = ROOT / "dist"

TEST_DEPS = [
    "pytest>=8",
    "factory-boy>=3.3",
    "Babel>=2.12",
    "time-machine>=2.13",
    "hypothesis>=6.100",
    "djangorestframework>=3.14",
    "psycopg[binary]>=3.1",
]


def _django_spec(series: str) -> str:
    return f"django~={series}.0"


def _pytest_django_spec(series: str) -> str:
    # pytest-django 4.13 dropped Django 4.2; 4.12 is the last release for it.
    return "pytest-django==4.12.0" if series == "4.2" else "pytest-django>=4.14"


def _install_editable(session: nox.Session, series: str) -> None:
    session.install(
        _django_spec(series),
        _pytest_django_spec(series),
        *TEST_DEPS,
        *[arg for part in PARTS for arg in ("-e", str(PACKAGES / part))],
    )


def _run_suites(
    session: nox.Session,
    *pytest_args: str,
    python: str = "python",
    database_url: str = "",
) -> None:
    """Run each part's test suite in its own pytest process (own settings),
    then the meta-package's metadata tests.

    SQLite unless ``database_url`` is given: a DATABASE_URL exported in the
    calling shell (as .ci/run does for tests_postgres) never leaks in.
    """
    for part in PARTS:
        tests = PACKAGES / part / "tests"
        session.run(
            python,
            "-m",
            "pytest",
            str(tests),
            "--ds=settings",
            "-c",
            str(ROOT / "pyproject.toml"),
            "--rootdir",
            str(ROOT),
            *pytest_args,
            *session.posargs,
            env={"PYTHONPATH": str(tests), "DATABASE_URL": database_url},
            external=True,
        )
    # The meta-package's tests read metadata only: no Django settings, so
    # pytest-django stays off for them.
    meta_tests = PACKAGES / META / "tests"
    session.run(
        python,
        "-m",
        "pytest",
        str(meta_tests),
        "-p",
        "no:django",
        "-c",
        str(ROOT / "pyproject.toml"),
        "--rootdir",
        str(ROOT),
        *pytest_args,
        *session.posargs,
        env={"DATABASE_URL": ""},
        external=True,
    )


@nox.session(python=False)
def test(session: nox.Session) -> None:
    """The README's test command: every suite, current Python, Django 5.2 LTS.

    Uses a virtual environment made with the Python that runs nox, so it needs
    nothing but one Python 3.11+. Includes the slow tests.
    """
    env_dir = ROOT / ".nox" / "test-current"
    venv_python = str(env_dir / "bin" / "python")
    uv = shutil.which("uv")
    if not Path(venv_python).exists():
        if uv:
            session.run(uv, "venv", "--quiet", "--python", sys.executable, str(env_dir))
        else:
            session.run(sys.executable, "-m", "venv", str(env_dir))
    deps = [
        _django_spec(LTS_DJANGO),
        _pytest_django_spec(LTS_DJANGO),
        *TEST_DEPS,
        *[arg for part in PARTS for arg in ("-e", str(PACKAGES / part))],
    ]
    if uv:
        session.run(uv, "pip", "install", "--quiet", "--python", venv_python, *deps)
    else:
        session.run(venv_python, "-m", "pip", "install", "--quiet", *deps)
    _run_suites(session, python=venv_python)


@nox.session
@nox.parametrize(
    "python,django",
    [
        nox.param(
            py,
            dj,
            tags=[
                f"py{py}",
                f"django{dj}",
                *(["latest"] if dj == LATEST_DJANGO else []),
            ],
        )
        for py, dj in MATRIX
    ],
)
def tests(session: nox.Session, django: str) -> None:
    """pytest over one (Python, Django) cell; slow tests are left to ``test``."""
    _install_editable(session, django)
    _run_suites(session, "-m", "not slow")


@nox.session
@nox.parametrize("python,django", [("3.11", "4.2"), ("3.13", LATEST_DJANGO)])
def tests_postgres(session: nox.Session, django: str) -> None:
    """Every suite on the PostgreSQL server named by DATABASE_URL.

    The slow tests (large data sets) run in the newest cell only.
    """
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        session.error(
            "tests_postgres needs DATABASE_URL=postgres://user@host:port/name "
            "pointing at a running PostgreSQL server."
        )
    _install_editable(session, django)
    # Fail loudly, before any test runs, when no server answers. Connect to
    # the maintenance database, as Django does to create the test database:
    # the database named in the URL need not exist.
    session.run(
        "python",
        "-c",
        "import os, psycopg; from icv_core.testing.databases import database_from_url;"
        "d = database_from_url(os.environ['DATABASE_URL']);"
        "psycopg.connect(host=d['HOST'], port=d['PORT'] or None,"
        " user=d['USER'] or None, password=d['PASSWORD'] or None,"
        " dbname='postgres', connect_timeout=5).close();"
        "print('PostgreSQL answers at', d['HOST'], d['PORT'])",
    )
    _run_suites(
        session,
        *([] if django == LATEST_DJANGO else ["-m", "not slow"]),
        database_url=url,
    )


@nox.session(python="3.13")
def lint(session: nox.Session) -> None:
    """ruff lint and format check, the workflows (schema, zizmor), pyproject checks."""
    session.install(
        "ruff>=0.15",
        "check-jsonschema>=0.29",
        "zizmor>=1.5",
        "validate-pyproject[all]>=0.23",
    )
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    workflows = sorted(str(p) for p in (ROOT / ".github" / "workflows").glob("*.yml"))
    # The schema ships inside check-jsonschema and zizmor runs offline: CI
    # reaches PyPI only.
    session.run(
        "check-jsonschema", "--builtin-schema", "vendor.github-workflows", *workflows
    )
    session.run("zizmor", "--offline", "--config", ".github/zizmor.yml", *workflows)
    session.run(
        "validate-pyproject",
        *[str(p / "pyproject.toml") for p in sorted(PACKAGES.iterdir()) if p.is_dir()],
    )


@nox.session(python="3.13")
def typecheck(session: nox.Session) -> None:
    """mypy with django-stubs across the whole namespace (Django 6.1)."""
    session.install(
        _django_spec(LATEST_DJANGO),
        "django-stubs[compatible-mypy]>=6.1",
        "djangorestframework-stubs",
        *TEST_DEPS,
        "pytest-django>=4.14",
        *[arg for part in PARTS for arg in ("-e", str(PACKAGES / part))],
    )
    srcs = [str(PACKAGES / part / "src" / "icv_core") for part in PARTS]
    session.run(
        "mypy",
        *srcs,
        # The plugin loads Django with the audit suite's settings (all apps).
        env={"PYTHONPATH": str(PACKAGES / "icv-core-audit" / "tests")},
    )


@nox.session(python="3.12")
@nox.parametrize("django", list(SUPPORT))
def migrations(session: nox.Session, django: str) -> None:
    """``makemigrations --check`` is clean on every Django series, UUID v4 and v7."""
    _install_editable(session, django)
    for part in ("icv-core-models", "icv-core-audit", "icv-core-testing"):
        tests = PACKAGES / part / "tests"
        for version in ("4", "7"):
            session.run(
                "python",
                "-m",
                "django",
                "makemigrations",
                "--check",
                "--dry-run",
                "--settings=settings",
                env={
                    "PYTHONPATH": str(tests),
                    "ICV_TEST_UUID_VERSION": version,
                    "DATABASE_URL": "",
                },
            )


# --- versions ------------------------------------------------------------

# bump rewrites the text in place (keeping the files' layout); check_versions
# reads the parsed TOML and every requirement, so a pin written any other way
# (``>=``, spaces, a marker, a missing pin) fails it.
_VERSION_RE = re.compile(r'^version = "([^"]+)"$', re.MULTILINE)
_PIN_RE = re.compile(r'"(django-icv-core(?:-[a-z]+)?(?:\[[a-z]+\])?)==([^"]+)"')
_CHANGELOG_HEAD_RE = re.compile(r"^## \[?(\d+\.\d+\.\d+[^\] ]*)\]?", re.MULTILINE)
# Fallback when ``packaging`` is missing from the Python running nox: name,
# extras, specifier, marker of a PEP 508 string (no URLs among ours).
_REQUIREMENT_RE = re.compile(
    r"^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*"
    r"(?:\[\s*([^\]]*)\])?\s*([^;]*?)\s*(?:;\s*(.*?))?\s*$"
)


# Which parts each part depends on (DESIGN.md); the meta depends on all four.
_PART_NEEDS: dict[str, set[str]] = {
    "icv-core-models": set(),
    "icv-core-audit": {"django-icv-core-models"},
    "icv-core-templatetags": {"django-icv-core-models"},
    "icv-core-testing": {"django-icv-core-models", "django-icv-core-audit"},
}


def _pyprojects() -> list[Path]:
    return sorted(PACKAGES.glob("*/pyproject.toml"))


def _parse_requirement(text: str) -> tuple[str, frozenset[str], str, str]:
    """(normalised name, extras, specifier, marker) of one requirement string."""
    try:
        from packaging.requirements import Requirement
        from packaging.utils import canonicalize_name
    except ImportError:
        match = _REQUIREMENT_RE.match(text)
        if not match:
            raise ValueError(f"cannot parse requirement {text!r}") from None
        name, extras, spec, marker = match.groups()
        return (
            re.sub(r"[-_.]+", "-", name).lower(),
            frozenset(e.strip() for e in (extras or "").split(",") if e.strip()),
            re.sub(r"\s+", "", spec),
            marker or "",
        )
    requirement = Requirement(text)
    return (
        canonicalize_name(requirement.name),
        frozenset(requirement.extras),
        str(requirement.specifier),
        str(requirement.marker or ""),
    )


def _version_report() -> tuple[dict[str, set[str]], list[str]]:
    """Every version string found, by where it was found, and every problem.

    Reads each pyproject as TOML: its ``project.version`` and every
    requirement on a django-icv-core distribution (dependencies and each
    optional-dependencies group), each of which must be exactly ``==X``.
    The meta-package must depend on exactly the four parts and offer the
    ``[api]`` extra as ``django-icv-core-audit[api]``.
    """
    import tomllib

    found: dict[str, set[str]] = {}
    problems: list[str] = []
    meta_deps: dict[str, list[tuple[str, frozenset[str], str, str]]] = {}
    part_deps: dict[str, set[str]] = {}
    audit_extras: set[str] = set()
    for path in _pyprojects():
        rel = str(path.relative_to(ROOT))
        try:
            project = tomllib.loads(path.read_text())["project"]
        except (tomllib.TOMLDecodeError, KeyError) as exc:
            problems.append(f"{rel}: unreadable [project] table: {exc}")
            continue
        found[f"{rel} version"] = (
            {project["version"]} if isinstance(project.get("version"), str) else set()
        )
        if _VERSION_RE.findall(path.read_text()) != [project.get("version")]:
            problems.append(
                f'{rel}: write the version as one line version = "X.Y.Z",'
                " the form bump rewrites"
            )
        groups = {"dependencies": project.get("dependencies", [])}
        for extra, reqs in project.get("optional-dependencies", {}).items():
            groups[f"optional-dependencies.{extra}"] = reqs
        for group, reqs in groups.items():
            for text in reqs:
                try:
                    name, extras, spec, marker = _parse_requirement(text)
                except ValueError as exc:
                    problems.append(f"{rel} {group}: {exc}")
                    continue
                if not name.startswith("django-icv-core"):
                    continue
                where = f"{rel} {group} {text!r}"
                pin = re.fullmatch(r"==([0-9][0-9a-z.+!]*)", spec)
                if pin is None:
                    problems.append(f"{where}: must be pinned exactly ==VERSION")
                    found.setdefault(f"{rel} pin {name}", set())
                else:
                    found.setdefault(f"{rel} pin {name}", set()).add(pin.group(1))
                    if not _PIN_RE.fullmatch(f'"{text}"'):
                        problems.append(
                            f"{where}: write it NAME==VERSION, the form bump rewrites"
                        )
                if marker:
                    problems.append(f"{where}: a marker makes the pin conditional")
                if path.parent.name == META:
                    meta_deps.setdefault(group, []).append((name, extras, spec, marker))
                elif group == "dependencies":
                    part_deps.setdefault(path.parent.name, set()).add(name)
        if project.get("name") == "django-icv-core-audit":
            audit_extras = set(project.get("optional-dependencies", {}))
    for folder, needs in _PART_NEEDS.items():
        have = part_deps.get(folder, set())
        if have != needs:
            problems.append(
                f"packages/{folder}: depends on parts {sorted(have)}, expected"
                f" {sorted(needs)} (DESIGN.md: dependencies point one way)"
            )
    parts = sorted(dist for dist, _ in PARTS.values())
    deps = meta_deps.get("dependencies", [])
    if sorted(name for name, _, _, _ in deps) != parts or any(e for _, e, _, _ in deps):
        listed = sorted(n + "".join(f"[{x}]" for x in sorted(e)) for n, e, _, _ in deps)
        problems.append(
            f"packages/{META}: dependencies must be exactly the four parts {parts},"
            f" without extras; found {listed}"
        )
    api = meta_deps.get("optional-dependencies.api", [])
    if [(name, extras) for name, extras, _, _ in api] != [
        ("django-icv-core-audit", frozenset({"api"}))
    ]:
        problems.append(
            f"packages/{META}: the [api] extra must be exactly"
            f" django-icv-core-audit[api]==VERSION; found {api}"
        )
    if "api" not in audit_extras:
        problems.append("django-icv-core-audit has no [api] extra for the meta to pin")
    head = _CHANGELOG_HEAD_RE.search((ROOT / "CHANGELOG.md").read_text())
    found["CHANGELOG.md top heading"] = {head.group(1)} if head else set()
    return found, problems


def _versions() -> dict[str, set[str]]:
    """Every version string found, by where it was found."""
    return _version_report()[0]


@nox.session(python=False)
def check_versions(session: nox.Session) -> None:
    """Fail when any part, pin or the CHANGELOG's top heading drifts from the rest."""
    found, problems = _version_report()
    every = set().union(*found.values())
    problems += [
        f"{where}: {sorted(v) or 'missing'}"
        for where, v in found.items()
        if len(v) != 1
    ]
    if len(every) != 1:
        problems.append(f"more than one version in use: {sorted(every)}")
        for where, v in sorted(found.items()):
            problems.append(f"  {where} = {', '.join(sorted(v))}")
    root_license = (ROOT / "LICENSE").read_bytes()
    for part_dir in sorted(p for p in PACKAGES.iterdir() if p.is_dir()):
        if (part_dir / "LICENSE").read_bytes() != root_license:
            problems.append(f"{part_dir.name}/LICENSE differs from the root LICENSE")
        if not (part_dir / "README.md").is_file():
            problems.append(f"{part_dir.name}/README.md is missing")
    for migrations_dir in PACKAGES.glob("*/src/icv_core/**/migrations"):
        if not (migrations_dir / "__init__.py").is_file():
            problems.append(f"{migrations_dir} has no __init__.py")
    if problems:
        session.error("version drift:\n" + "\n".join(problems))
    session.log(f"all {len(found)} version fields say {every.pop()}")


@nox.session(python=False)
def bump(session: nox.Session) -> None:
    """Set every version, pin and the CHANGELOG heading: ``nox -s bump -- X.Y.Z``."""
    if len(session.posargs) != 1 or not re.fullmatch(
        r"\d+\.\d+\.\d+((a|b|rc)\d+)?", session.posargs[0]
    ):
        session.error("usage: nox -s bump -- X.Y.Z")
    new = session.posargs[0]
    for path in _pyprojects():
        text = _VERSION_RE.sub(f'version = "{new}"', path.read_text())
        text = _PIN_RE.sub(lambda m: f'"{m.group(1)}=={new}"', text)
        path.write_text(text)
    changelog = ROOT / "CHANGELOG.md"
    text = changelog.read_text()
    head = _CHANGELOG_HEAD_RE.search(text)
    unreleased = re.search(r"^## \[?Unreleased\]?.*$", text, re.MULTILINE)
    if unreleased:
        text = text.replace(unreleased.group(0), f"## [{new}] - unreleased", 1)
    elif head:
        start, end = head.span(1)
        text = text[:start] + new + text[end:]
    changelog.write_text(text)
    session.log(f"bumped every part and pin to {new}")
    check_versions(session)


# --- distributions -------------------------------------------------------

_OWN_PREFIX = {
    "django_icv_core_models": None,  # the root modules: everything but the others
    "django_icv_core_audit": "icv_core/audit/",
    "django_icv_core_templatetags": "icv_core/templatetags/",
    "django_icv_core_testing": "icv_core/testing/",
}
_OTHER_PARTS = tuple(p for p in _OWN_PREFIX.values() if p)


def _current_version() -> str:
    versions = set().union(*_versions().values())
    if len(versions) != 1:
        raise SystemExit(
            f"versions drift: {sorted(versions)}; run nox -s check_versions"
        )
    return versions.pop()


def _wheel_digest(path: Path) -> dict[str, str]:
    """name -> sha256 of every file in a wheel except RECORD."""
    with zipfile.ZipFile(path) as wheel:
        return {
            name: hashlib.sha256(wheel.read(name)).hexdigest()
            for name in wheel.namelist()
            if not name.endswith(".dist-info/RECORD")
        }


def _check_wheel(path: Path, version: str) -> list[str]:
    dist = path.name.split("-")[0]
    problems: list[str] = []
    with zipfile.ZipFile(path) as wheel:
        names = wheel.namelist()
        metadata = Parser().parsestr(
            wheel.read(
                next(n for n in names if n.endswith(".dist-info/METADATA"))
            ).decode()
        )
    code = [n for n in names if ".dist-info/" not in n]
    if "icv_core/__init__.py" in names:
        problems.append(f"{path.name}: ships icv_core/__init__.py")
    if dist == "django_icv_core":
        if code:
            problems.append(f"{path.name}: the meta wheel holds code: {code[:5]}")
    else:
        prefix = _OWN_PREFIX[dist]
        for name in code:
            if not name.startswith("icv_core/"):
                problems.append(f"{path.name}: {name} is outside icv_core/")
            elif prefix is None and name.startswith(_OTHER_PARTS):
                problems.append(f"{path.name}: {name} belongs to another part")
            elif prefix is not None and not name.startswith(prefix):
                problems.append(f"{path.name}: {name} is outside {prefix}")
        typed = "icv_core/py.typed" if prefix is None else f"{prefix}py.typed"
        if typed not in names:
            problems.append(f"{path.name}: {typed} is missing")
    for requirement in metadata.get_all("Requires-Dist") or []:
        match = re.match(r"(django-icv-core[a-z-]*)(\[[a-z]+\])?\s*(\S*)", requirement)
        if match and match.group(3).split(";")[0] != f"=={version}":
            problems.append(
                f"{path.name}: Requires-Dist {requirement!r} is not =={version}"
            )
    if metadata["Version"] != version:
        problems.append(f"{path.name}: Version {metadata['Version']} != {version}")
    return problems


@nox.session(python="3.13")
def build(session: nox.Session) -> None:
    """Build the five wheels and sdists into dist/ and check what each contains."""
    session.install("build[uv]>=1.2", "twine>=7")
    version = _current_version()
    shutil.rmtree(DIST, ignore_errors=True)
    direct = Path(tempfile.mkdtemp(prefix="icv-direct-"))
    folders = [*PARTS, META]
    for folder in folders:
        # python -m build makes the sdist, then the wheel *from the sdist*.
        session.run(
            "python",
            "-m",
            "build",
            "--installer=uv",
            "--outdir",
            str(DIST),
            str(PACKAGES / folder),
            silent=True,
        )
        session.run(
            "python",
            "-m",
            "build",
            "--installer=uv",
            "--wheel",
            "--outdir",
            str(direct),
            str(PACKAGES / folder),
            silent=True,
        )
    wheels = sorted(DIST.glob("*.whl"))
    sdists = sorted(DIST.glob("*.tar.gz"))
    problems: list[str] = []
    if len(wheels) != 5 or len(sdists) != 5:
        problems.append(
            f"expected 5 wheels and 5 sdists, got {len(wheels)} and {len(sdists)}"
        )
    for wheel in wheels:
        problems += _check_wheel(wheel, version)
        twin = direct / wheel.name
        if _wheel_digest(wheel) != _wheel_digest(twin):
            problems.append(
                f"{wheel.name}: the wheel built from the sdist differs from the"
                " one built from the tree"
            )
        session.log(f"{wheel.name}: {len(_wheel_digest(wheel))} files")
    for sdist in sdists:
        with tarfile.open(sdist) as archive:
            members = archive.getnames()
        if any(
            m.split("/", 1)[-1].startswith("src/icv_core/__init__.py") for m in members
        ):
            problems.append(f"{sdist.name}: ships src/icv_core/__init__.py")
        if not any(m.endswith("/LICENSE") for m in members):
            problems.append(f"{sdist.name}: no LICENSE")
    shutil.rmtree(direct, ignore_errors=True)
    session.run("twine", "check", "--strict", *map(str, wheels + sdists))
    if problems:
        session.error("distribution problems:\n" + "\n".join(problems))
    session.log(f"5 wheels and 5 sdists of {version} are consistent")


_SMOKE = r"""
import sys, django
from django.conf import settings
part = sys.argv[1]
apps = ["django.contrib.auth", "django.contrib.contenttypes", "icv_core"]
if part in ("audit", "testing"):
    apps.append("icv_core.audit")
settings.configure(
    INSTALLED_APPS=apps,
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates",
                "APP_DIRS": True}],
    USE_TZ=True,
)
django.setup()
import importlib, icv_core
for module in sys.argv[2:]:
    importlib.import_module(module)
assert all("site-packages" in p for p in icv_core.__path__), icv_core.__path__
print(part, "imports from", sorted(set(icv_core.__path__)))
"""


_NEW_PROJECT_SETTINGS = """
INSTALLED_APPS += ["icv_core", "icv_core.audit"]
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "icv_core.middleware.CurrentUserMiddleware",
)
MIDDLEWARE.append("icv_core.audit.middleware.AuditRequestMiddleware")
ICV_CORE_AUDIT_ENABLED = True
ICV_CORE_TRACK_CREATED_BY = True
"""

_RENDER = (
    "from django.template import engines;"
    "out = engines['django'].from_string("
    "'{% load icv_core %}{{ 3500|cents_to_currency:\"GBP\" }}').render({});"
    "assert out == '\u00a335.00', out; print('rendered', out)"
)


def _new_project_smoke(session: nox.Session) -> None:
    """A new project made with startproject, set up as the README says."""
    where = Path(tempfile.mkdtemp(prefix="icv-newproject-"))
    session.run("django-admin", "startproject", "mysite", str(where))
    settings_py = where / "mysite" / "settings.py"
    settings_py.write_text(settings_py.read_text() + _NEW_PROJECT_SETTINGS)
    manage = str(where / "manage.py")
    session.run("python", manage, "migrate", "--verbosity", "1")
    session.run("python", manage, "check", "--fail-level", "WARNING")
    session.run("python", manage, "makemigrations", "--check", "--dry-run")
    session.run("python", manage, "shell", "-c", _RENDER)
    shutil.rmtree(where, ignore_errors=True)


@nox.session(python="3.12")
def wheels(session: nox.Session) -> None:
    """Install the built wheels (not editable) and run every suite against them."""
    version = _current_version()
    built = sorted(DIST.glob(f"*-{version}-py3-none-any.whl"))
    if len(built) != 5:
        session.error("run `nox -s build` first: dist/ must hold the five wheels")
    session.install(
        _django_spec(LTS_DJANGO),
        _pytest_django_spec(LTS_DJANGO),
        *TEST_DEPS,
        *map(str, built),
    )
    session.run(
        "python",
        "-c",
        "import icv_core, sys; paths = list(icv_core.__path__); "
        "assert all('site-packages' in p for p in paths), paths;"
        "print('icv_core from', paths)",
    )
    # The test suites must see the installed wheels, not the source trees.
    _run_suites(session)
    _new_project_smoke(session)
    # Each part alone, with only its declared dependencies.
    modules = {
        "icv-core-models": (
            "models",
            "icv_core.models",
            "icv_core.middleware",
            "icv_core.conf",
        ),
        "icv-core-audit": ("audit", "icv_core.audit.models", "icv_core.audit.services"),
        "icv-core-templatetags": ("templatetags", "icv_core.templatetags.icv_core"),
        "icv-core-testing": (
            "testing",
            "icv_core.testing.factories",
            "icv_core.testing.fixtures",
        ),
    }
    for folder, (distribution, _) in PARTS.items():
        env_dir = Path(tempfile.mkdtemp(prefix=f"icv-alone-{folder}-"))
        session.run(
            "uv",
            "venv",
            "--quiet",
            "--python",
            session.virtualenv.interpreter or "3.12",
            str(env_dir),
            external=True,
        )
        py = str(env_dir / "bin" / "python")
        wheel = next(
            w for w in built if w.name.startswith(distribution.replace("-", "_") + "-")
        )
        session.run(
            "uv",
            "pip",
            "install",
            "--quiet",
            "--python",
            py,
            "--find-links",
            str(DIST),
            str(wheel),
            external=True,
        )
        part, *mods = modules[folder]
        session.run(py, "-c", _SMOKE, part, *mods, external=True)
        shutil.rmtree(env_dir, ignore_errors=True)


# --- docs, demo, browser, benchmarks ----------------------------------------

DOCS_DEPS = ["mkdocs-material>=9.5", "mkdocstrings[python]>=0.26", "ruff>=0.15"]


@nox.session(python="3.13")
def docs(session: nox.Session) -> None:
    """Build the documentation site strictly (any warning fails) into build/site."""
    _install_editable(session, LATEST_DJANGO)
    session.install(*DOCS_DEPS)
    # Every setting, check id, command option, signal and template filter in
    # the code is in the reference pages, and nothing documented is missing.
    session.run("python", "docs/check_reference.py")
    session.run(
        "mkdocs",
        "build",
        "--strict",
        "-f",
        "docs/mkdocs.yml",
        "-d",
        str(ROOT / "build" / "site"),
        # Material's banner about MkDocs 2 is not a build warning; keep logs clean.
        env={"NO_MKDOCS_2_WARNING": "1"},
    )


@nox.session(python="3.12")
def bench(session: nox.Session) -> None:
    """Benchmarks as ratios to plain Django measured in the same run.

    SQLite always; PostgreSQL too when DATABASE_URL is set. Reports go to
    build/bench/. ``BENCH_OPS`` and ``BENCH_REPS`` change the sample size.
    """
    _install_editable(session, LTS_DJANGO)
    script = str(PACKAGES / "icv-core-audit" / "benchmarks" / "run.py")
    report = str(ROOT / "build" / "bench")
    session.run("python", script, env={"BENCH_REPORT": report})
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        bench_url = url.rsplit("/", 1)[0] + "/icv_core_bench"
        session.run(
            "python",
            "-c",
            "import os, psycopg; from icv_core.testing.databases import "
            "database_from_url as f; d = f(os.environ['DATABASE_URL']);"
            "c = psycopg.connect(host=d['HOST'], port=d['PORT'] or None,"
            " user=d['USER'] or None, password=d['PASSWORD'] or None,"
            " dbname='postgres', autocommit=True);"
            "c.execute('DROP DATABASE IF EXISTS icv_core_bench');"
            "c.execute('CREATE DATABASE icv_core_bench')",
        )
        session.run(
            "python",
            script,
            env={"BENCH_REPORT": report, "BENCH_DATABASE_URL": bench_url},
        )


@nox.session(python=False)
def gha_matrix(session: nox.Session) -> None:
    """Print the test matrix as JSON for GitHub Actions."""
    print(json.dumps({"include": [{"python": py, "django": dj} for py, dj in MATRIX]}))


# --- demo and browser tests (docs/demo) ------------------------------------

DEMO = ROOT / "docs" / "demo"
SCREENSHOTS = ROOT / "build" / "screenshots"


def _demo_python(session: nox.Session, name: str, *extra: str) -> str:
    """A venv made with the Python running nox: Django 5.2 and the four parts, editable.

    Like ``test``, it needs nothing but one Python 3.11+ (the README's first
    command is ``nox -s demo``).
    """
    env_dir = ROOT / ".nox" / f"{name}-current"
    python = str(env_dir / "bin" / "python")
    uv = shutil.which("uv")
    if not Path(python).exists():
        if uv:
            session.run(uv, "venv", "--quiet", "--python", sys.executable, str(env_dir))
        else:
            session.run(sys.executable, "-m", "venv", str(env_dir))
    deps = [
        _django_spec(LTS_DJANGO),
        *extra,
        *[arg for part in PARTS for arg in ("-e", str(PACKAGES / part))],
    ]
    if uv:
        session.run(uv, "pip", "install", "--quiet", "--python", python, *deps)
    else:
        session.run(python, "-m", "pip", "install", "--quiet", *deps)
    return python


def _demo_setup(session: nox.Session, python: str, env: dict[str, str]) -> None:
    """migrate + demo_setup: what a user would type, in docs/demo."""
    (DEMO / "var").mkdir(exist_ok=True)
    with session.chdir(DEMO):
        session.run(python, "manage.py", "migrate", "--no-input", "-v", "0", env=env)
        session.run(python, "manage.py", "demo_setup", env=env)


@nox.session(python=False)
def demo(session: nox.Session) -> None:
    """The example shop on http://127.0.0.1:8000/ (SQLite in docs/demo/var/).

    ``nox -s demo -- --check`` sets up the same way, requests the main pages
    with the test client and exits (for CI). ``-- --port 8001`` serves on
    another port.
    """
    args = list(session.posargs)
    check = "--check" in args
    port = "8000"
    if "--port" in args:
        port = args[args.index("--port") + 1]
    python = _demo_python(session, "demo")
    env: dict[str, str] = {}
    _demo_setup(session, python, env)
    with session.chdir(DEMO):
        if check:
            session.run(
                python, "manage.py", "check", "--fail-level", "WARNING", env=env
            )
            session.run(python, "manage.py", "icv_core_check", env=env)
            # The example app's migration still matches its models.
            session.run(
                python, "manage.py", "makemigrations", "--check", "--dry-run", env=env
            )
            session.run(python, "manage.py", "demo_check", env=env)
            return
        session.log("")
        session.log(f"  Demo site:  http://127.0.0.1:{port}/")
        session.log(
            f"  Admin:      http://127.0.0.1:{port}/admin/   login demo / password demo"
        )
        session.log(f"  Filters:    http://127.0.0.1:{port}/filters/")
        session.log("  Stop with Ctrl+C. Database: docs/demo/var/demo.sqlite3")
        session.log("")
        session.run(python, "manage.py", "runserver", f"127.0.0.1:{port}", env=env)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@nox.session(python=False)
def browser(session: nox.Session) -> None:
    """Headless Chromium (Debian's chromium + chromium-driver) through the demo's admin.

    Serves the demo on a free port with a fresh database, runs
    docs/demo/browser_tests with Selenium, and saves a screenshot of each step
    under build/screenshots/. Fails on any 5xx answer or browser console error.
    """
    import socket
    import time

    for binary in ("/usr/bin/chromium", "/usr/bin/chromedriver"):
        if not Path(binary).exists():
            session.error(
                f"{binary} is missing: apt-get install -y chromium chromium-driver"
            )
    python = _demo_python(session, "browser", "pytest>=8", "selenium>=4.20")
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    database = DEMO / "var" / "browser.sqlite3"
    database.unlink(missing_ok=True)
    env = {"DEMO_DATABASE": str(database)}
    _demo_setup(session, python, env)

    port = _free_port()
    server_log = SCREENSHOTS / "server.log"
    with server_log.open("w") as log:
        server = subprocess.Popen(
            [python, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=DEMO,
            env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            if server.poll() is not None:
                session.error(f"the demo server exited:\n{server_log.read_text()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    session.error("the demo server did not start within 30 s")
                time.sleep(0.2)
        session.run(
            python,
            "-m",
            "pytest",
            str(DEMO / "browser_tests"),
            "-c",
            str(DEMO / "browser_tests" / "pytest.ini"),
            "--rootdir",
            str(DEMO / "browser_tests"),
            *session.posargs,
            env={
                "DEMO_BASE_URL": f"http://127.0.0.1:{port}",
                "DEMO_SERVER_LOG": str(server_log),
                "SCREENSHOTS": str(SCREENSHOTS),
            },
        )
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    errors = [
        line
        for line in server_log.read_text().splitlines()
        if re.search(r'" 5\d\d \d', line)
    ]
    if errors:
        session.error("the demo server answered 5xx:\n" + "\n".join(errors))
    session.log(f"screenshots: {sorted(p.name for p in SCREENSHOTS.glob('*.png'))}")


# Keep this block last: `python3 noxfile.py` runs nox once every session is defined.
if __name__ == "__main__":
    nox.main()
