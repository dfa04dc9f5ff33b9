"""B1 hostile input fuzz (research section 2: IP-*, UA-*, INJ-*, JSON-*, UNI-*).

Hypothesis drives hostile input through the two ways data reaches the audit
trail:

* a request through :class:`~icv_core.audit.middleware.AuditRequestMiddleware`
  (``RequestFactory``) whose view saves a business row (an ``AuditMixin``
  ``Contract``) and calls ``log_event(...)`` with hostile ``description``,
  ``metadata``, ``event_type``/``action``, under hostile ``REMOTE_ADDR``,
  forwarding headers, ``User-Agent`` and request-id headers and several
  trusted-proxy configurations;
* ``AuditMixin`` model saves (``Contract``, ``Document``) with hostile field
  values, compared with the same saves while auditing is off.

Strings range over all of Unicode, including lone surrogates, NUL, C0/C1
controls, DEL, U+2028/U+2029 and the bidi embedding/override/isolate
characters, plus huge values. Per input the tests assert:

* no exception leaves ``log_event``/the middleware except the documented typed
  errors: ``TypeError``/``ValueError`` for invalid metadata (JSON-2..JSON-5,
  predicted per input by an oracle) and ``ValidationError`` for an event type
  or action that is not a choice (under ``ICV_CORE_AUDIT_ON_FAILURE="raise"``);
* the business row is saved whenever the same save succeeds without auditing
  (rows counted before/after), and no database error happens;
* stored ``ip_address`` is None or a valid address taken from the request;
  ``user_agent``/``description`` are within their bounds
  (``ICV_CORE_AUDIT_MAX_USER_AGENT_LENGTH``/``_DESCRIPTION_LENGTH``, cut values
  end with an ellipsis) and hold no raw control character (they are escaped);
  ``request_id`` is the client's well-formed token or 32 hex digits; metadata
  is strict JSON with no NUL or lone surrogate and every sensitive key masked;
* no raw control character reaches Python logging output.

The non-slow tests (the CI matrix) run 750 inputs; the slow ones
10,000. Hypothesis is derandomized, so every run sees the same inputs.
"""

from __future__ import annotations

import datetime
import decimal
import ipaddress
import json
import logging
import re
import traceback
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from audit_testapp.models import Contract, Document
from capture_helpers import *  # noqa: F403
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.http import HttpResponse
from django.test import RequestFactory, override_settings
from django.utils.translation import gettext_lazy
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from icv_core.audit.middleware import AuditRequestMiddleware, get_audit_context
from icv_core.audit.models import AuditEntry, SystemAlert
from icv_core.audit.services import log_event

pytestmark = pytest.mark.django_db

UA_MAX = 512  # ICV_CORE_AUDIT_MAX_USER_AGENT_LENGTH (default)
DESCRIPTION_MAX = 2000  # ICV_CORE_AUDIT_MAX_DESCRIPTION_LENGTH (default)
METADATA_MAX = 65536  # ICV_CORE_AUDIT_MAX_METADATA_SIZE (default)
MAX_DEPTH = 32  # documented metadata nesting limit
ELLIPSIS = "\u2026"
MASK = "[masked]"
TOO_DEEP = "[nested too deeply]"
LOST_ALERT_TITLE = "Audit entry could not be written"

# ---------------------------------------------------------------------------
# Oracles (written from the documented rules, not from the product code)
# ---------------------------------------------------------------------------

#: Unsafe characters, from their Unicode categories: Cc (C0, DEL, C1),
#: Cs (lone surrogates), Zl/Zp (U+2028/U+2029) and the bidi embedding,
#: override and isolate controls (U+202A..U+202E, U+2066..U+2069).
_BIDI = [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))]
_UNSAFE_SET = frozenset(
    [
        chr(c)
        for c in range(0x10000)
        if unicodedata.category(chr(c)) in ("Cc", "Cs", "Zl", "Zp")
    ]
    + _BIDI
)
_UNSAFE_RE = re.compile(
    "[" + "".join(f"\\u{ord(c):04x}" for c in sorted(_UNSAFE_SET)) + "]"
)
_REQUEST_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,63}", re.ASCII)
_HEX32_RE = re.compile(r"[0-9a-f]{32}", re.ASCII)
_SENSITIVE = ("password", "passwd", "token", "secret", "apikey")
_SEPARATORS = re.compile(r"[\s_\-]+")


def _escape(text: str) -> str:
    """Visible escapes of unsafe characters (the documented form)."""
    short = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}

    def one(match: re.Match[str]) -> str:
        char = match.group()
        if char in short:
            return short[char]
        code = ord(char)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _UNSAFE_RE.sub(one, text)


def _check_bounded_text(stored: str, raw: str, limit: int, what: str) -> None:
    """Stored text: escaped, within ``limit``, a prefix + ellipsis when cut."""
    assert isinstance(stored, str), what
    assert len(stored) <= limit, (what, len(stored))
    assert _UNSAFE_RE.search(stored) is None, (what, stored[:200])
    expected = _escape(raw)
    if len(expected) <= limit:
        assert stored == expected, what
    else:
        assert stored.endswith(ELLIPSIS), what
        assert expected.startswith(stored[:-1]), what


_NUL_OR_SURROGATE = re.compile("[\x00\ud800-\udfff]")


def _clean(text: str) -> str:
    """NUL and lone surrogates become U+FFFD (JSON-7, UNI-2)."""
    if _NUL_OR_SURROGATE.search(text) is None:
        return text
    return "".join(
        "\ufffd" if ch == "\x00" or "\ud800" <= ch <= "\udfff" else ch for ch in text
    )


def _is_sensitive(key: str) -> bool:
    normal = _SEPARATORS.sub("", key.lower())
    return any(fragment in normal for fragment in _SENSITIVE)


def _expected_metadata(value: Any) -> Any:
    """What a valid metadata tree is stored as: JSON round trip (DjangoJSONEncoder),
    strings and keys cleaned, sensitive keys masked (a later duplicate key wins)."""

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            out = {}
            for key, item in node.items():
                key = _clean(key)
                out[key] = MASK if _is_sensitive(key) else walk(item)
            return out
        if isinstance(node, list):
            return [walk(item) for item in node]
        if isinstance(node, str):
            return _clean(node)
        return node

    return walk(json.loads(json.dumps(value, cls=DjangoJSONEncoder)))


def _same_json(a: Any, b: Any) -> bool:
    """Equal JSON trees; numbers compare as floats when either side is a float
    (PostgreSQL jsonb keeps numbers as numeric: 1e16 comes back as an int)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(_same_json, a, b))
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, float) or isinstance(b, float):
        numbers = (int, float)
        return isinstance(a, numbers) and isinstance(b, numbers) and float(a) == b
    return type(a) is type(b) and a == b


def _depth(value: Any) -> int:
    """Nesting depth (root 0, each container level +1), iteratively."""
    deepest = 0
    stack = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(node, dict):
            stack.extend((item, depth + 1) for item in node.values())
        elif isinstance(node, list | tuple):
            stack.extend((item, depth + 1) for item in node)
    return deepest


def _check_stored_json(tree: Any, what: str, max_depth: int = MAX_DEPTH) -> None:
    """Strict JSON, no NUL/lone surrogate, sensitive keys masked, bounded depth."""
    json.dumps(tree, allow_nan=False)
    assert _depth(tree) <= max_depth, what
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, item in node.items():
                assert isinstance(key, str), what
                assert _clean(key) == key, (what, key)
                if _is_sensitive(key):
                    # masked completely (a diff masks old and new)
                    assert item in (MASK, {"old": MASK, "new": MASK}), (what, key)
                    continue
                stack.append(item)
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str):
            assert _clean(node) == node, what


def _lenient_ip(token: Any) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address written in ``token`` (bare, with a port, bracketed), unmapped."""
    if not isinstance(token, str):
        return None
    token = token.strip()
    candidates = [token]
    match = re.fullmatch(r"\[([^\]]*)\](?::\d+)?", token)
    if match:
        candidates.append(match.group(1))
    if token.count(":") == 1:
        candidates.append(token.split(":")[0])
    for candidate in candidates:
        try:
            address = ipaddress.ip_address(candidate)
        except ValueError:
            continue
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            return address.ipv4_mapped
        return address
    return None


def _exact_ip(token: Any) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """``token`` when it is exactly one address (blanks around allowed)."""
    if not isinstance(token, str):
        return None
    try:
        address = ipaddress.ip_address(token.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id is not None:
            return None
        if address.ipv4_mapped:
            return address.ipv4_mapped
    return address


def _check_ip(stored: str | None, meta: dict[str, Any], proxies: dict[str, Any]):
    trusted = proxies.get("ICV_CORE_AUDIT_TRUSTED_PROXIES") or proxies.get(
        "ICV_CORE_AUDIT_TRUSTED_PROXY_COUNT"
    )
    if not trusted:
        # IP-1: no trusted proxy, the peer address and nothing else.
        exact = _exact_ip(meta.get("REMOTE_ADDR"))
        if exact is not None:
            assert stored == str(exact), (stored, meta.get("REMOTE_ADDR"))
    if stored is None:
        return
    address = ipaddress.ip_address(stored)  # a valid address
    assert str(address) == stored
    if not trusted:
        assert address == _lenient_ip(meta.get("REMOTE_ADDR")), stored
        return
    tokens = {meta.get("REMOTE_ADDR")}
    tokens.update(str(meta.get("HTTP_X_FORWARDED_FOR", "")).split(","))
    assert address in {_lenient_ip(token) for token in tokens}, stored


# ---------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------

_SPECIAL_CHARS = [
    "\x00", "\r", "\n", "\t", "\x1b", "\x07", "\x08", "\x0b", "\x0c", "\x7f",
    "\x80", "\x85", "\x9b", "\x9f", "\u2028", "\u2029", "\u202a", "\u202b",
    "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069",
    "\u200b", "\u200d", "\u200e", "\u200f", "\u061c", "\ufeff", "\ufffd",
    "\ud800", "\udbff", "\udc00", "\udfff", "\u0301", "\u0430", "\u05d0",
    "\u4e2d", "\U0001f600", "\U0001f468", "\U0010ffff",
    "<", ">", "&", "\"", "'", "\\", "%", "{", "}", "=", "+", "-", "@", " ",
]  # fmt: skip

_chars = st.one_of(
    st.sampled_from(_SPECIAL_CHARS),
    st.characters(exclude_categories=()),  # all of Unicode, surrogates too
    st.characters(max_codepoint=0xFF, exclude_categories=()),
)


def hostile_text(max_size: int = 40) -> st.SearchStrategy[str]:
    return st.text(_chars, max_size=max_size)


def _repeat(text: str, times: int) -> str:
    return (text or "x") * times


#: Short hostile strings, and now and then a huge one (repeated, so cheap).
any_text = st.one_of(
    hostile_text(40),
    hostile_text(40),
    hostile_text(300),
    st.builds(_repeat, hostile_text(8), st.integers(50, 9000)),
)

_ip_token = st.one_of(
    st.ip_addresses().map(str),
    st.ip_addresses(v=4).map(lambda a: f"{a}:{8080}"),
    st.ip_addresses(v=6).map(lambda a: f"[{a}]:443"),
    st.ip_addresses(v=6).map(lambda a: f"[{a}]"),
    st.ip_addresses(v=4).map(lambda a: f"::ffff:{a}"),
    st.sampled_from(
        [
            "fe80::1%eth0",
            "unknown",
            "_hidden",
            "",
            " ",
            "999.1.1.1",
            "example.com",
            "1.2.3",
            "01.02.03.004",
            "1.2.3.4:99999",
            "[::1",
            "::1]",
            "[1.2.3.4]",
            "1.2.3.4\r\nX-Injected: 1",
            "10.0.0.1\x00",
            "<script>",
            "0x7f.1",
            "2001:db8::1::1",
            "\u0661.\u0662.\u0663.\u0664",
            "10.0.0.3",
            "2001:db8::5",
            "for=192.0.2.60;proto=http",
        ]
    ),  # fmt: skip
    hostile_text(20),
    st.builds(_repeat, st.just("1"), st.integers(60, 5000)),
)

_separator = st.sampled_from([",", ", ", " ,", ",,", " , ", ",\t"])


def _join(tokens: list[str], separator: str, trailing: bool) -> str:
    return separator.join(tokens) + ("," if trailing else "")


_xff = st.one_of(
    st.none(),
    st.builds(_join, st.lists(_ip_token, max_size=8), _separator, st.booleans()),
    # Huge lists (IP-6): thousands of hops, the right end still meaningful.
    st.builds(
        lambda token, n, tail: ", ".join([token] * n + tail),
        _ip_token,
        st.integers(500, 12_000),
        st.lists(_ip_token, max_size=3),
    ),
)

_remote = st.one_of(
    st.sampled_from(["10.0.0.2", "2001:db8::7", "127.0.0.1", "203.0.113.9"]),
    _ip_token,
    st.none(),  # no REMOTE_ADDR at all (IP-7)
)

_request_id = st.one_of(
    st.none(),
    st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._:\-]{0,63}\Z"),
    st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._:\-]{64,90}\Z"),  # too long
    st.builds(lambda s: f"  {s}\t", st.from_regex(r"\A[A-Za-z0-9]{1,20}\Z")),
    any_text,
)

_user_agent = st.one_of(st.none(), any_text, st.builds(_repeat, any_text, st.just(9)))

#: Trusted-proxy configurations: none (the default), a CIDR list, a count.
_proxy_config = st.sampled_from(
    [
        {},
        {"ICV_CORE_AUDIT_TRUSTED_PROXIES": ["10.0.0.0/8", "2001:db8::/32"]},
        {"ICV_CORE_AUDIT_TRUSTED_PROXY_COUNT": 1},
        {"ICV_CORE_AUDIT_TRUSTED_PROXY_COUNT": 3},
        {"ICV_CORE_AUDIT_TRUSTED_PROXY_COUNT": 40},
    ]
)

_request_id_header = st.sampled_from(["HTTP_X_REQUEST_ID", "HTTP_X_CORRELATION_ID"])


@dataclass
class RequestShape:
    meta: dict[str, Any]
    remove_remote: bool
    proxies: dict[str, Any]
    request_id_header: str
    request_id_raw: str | None
    user_agent_raw: str | None


@st.composite
def request_shapes(draw: st.DrawFn) -> RequestShape:
    meta: dict[str, Any] = {}
    remote = draw(_remote)
    if remote is not None:
        meta["REMOTE_ADDR"] = remote
    xff = draw(_xff)
    if xff is not None:
        meta["HTTP_X_FORWARDED_FOR"] = xff
    for header in ("HTTP_X_REAL_IP", "HTTP_FORWARDED", "HTTP_CF_CONNECTING_IP"):
        if draw(st.booleans()):
            meta[header] = draw(_ip_token)
    user_agent = draw(_user_agent)
    if user_agent is not None:
        meta["HTTP_USER_AGENT"] = user_agent
    header = draw(_request_id_header)
    request_id = draw(_request_id)
    if request_id is not None:
        meta[header] = request_id
    return RequestShape(
        meta=meta,
        remove_remote=remote is None,
        proxies=draw(_proxy_config),
        request_id_header=header,
        request_id_raw=request_id,
        user_agent_raw=user_agent,
    )


# --- metadata trees ----------------------------------------------------------

_sensitive_keys = st.sampled_from(
    ["password", "API-Key", "x_token", "Secret ", "pass\x00word", "PASSWD", "apikey"]
)
_keys = st.one_of(
    hostile_text(12),
    _sensitive_keys,
    st.integers(-(2**70), 2**70),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False),
)
_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([2**63, 2**64, -(2**63) - 1, 10**100, -(10**400)]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.uuids(),
    st.datetimes(timezones=st.just(datetime.UTC)),
    st.dates(),
    st.times(),
    st.timedeltas(),
    st.just(gettext_lazy("Lazy translated text")),
    hostile_text(30),
)
_trees = st.recursive(
    _leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(_keys, children, max_size=4),
    ),
    max_leaves=12,
)
_dict_trees = st.dictionaries(_keys, _trees, max_size=5)


def _nest(leaf: Any, depth: int, as_list: bool) -> dict[str, Any]:
    """A dict whose deepest value sits at ``depth``."""
    node = leaf
    for _ in range(depth - 1):
        node = [node] if as_list else {"k": node}
    return {"deep": node}


def _circular() -> dict[str, Any]:
    node: dict[str, Any] = {"a": 1}
    node["self"] = node
    return node


class _Opaque:
    pass


#: (metadata, expected exception type or None)
_poisons: st.SearchStrategy[tuple[Any, type[Exception] | None]] = st.one_of(
    st.sampled_from([float("nan"), float("inf"), float("-inf")]).map(
        lambda v: ({"n": v}, ValueError)
    ),
    st.just(({float("nan"): 1}, ValueError)),
    st.sampled_from([{1, 2}, b"bytes", _Opaque(), 1 + 2j, frozenset()]).map(
        lambda v: ({"v": v}, TypeError)
    ),
    st.just(({("tuple", "key"): 1}, TypeError)),
    st.sampled_from([[1, 2], "text", 42, ("a",)]).map(lambda v: (v, TypeError)),
    st.just((_circular(), ValueError)),
    st.just(({"big": 10**5000}, ValueError)),  # int too large to write as text
    # Depth: the limit is 32; 10,000 levels must not leak a RecursionError.
    st.builds(
        lambda d, as_list: (
            _nest(1, d, as_list),
            None if d <= MAX_DEPTH else ValueError,
        ),
        st.sampled_from([31, 32, 33, 34, 40, 200, 10_000]),
        st.booleans(),
    ),
    # Size: the limit is 64 KiB of JSON.
    st.builds(
        lambda n, c: ({"blob": c * n}, None),
        st.integers(10_000, 70_000),
        st.sampled_from(["x", "\x00", "\u00e9", "\U0001f600"]),
    ),
)


def _oversize(value: Any) -> bool:
    text = json.dumps(value, cls=DjangoJSONEncoder, allow_nan=False)
    return len(text.encode("utf-8", "surrogatepass")) > METADATA_MAX


@st.composite
def metadata_cases(draw: st.DrawFn) -> tuple[Any, type[Exception] | None]:
    kind = draw(st.sampled_from(["none", "tree", "tree", "tree", "poison"]))
    if kind == "none":
        return None, None
    if kind == "tree":
        value = draw(_dict_trees)
        return value, ValueError if _oversize(value) else None
    value, error = draw(_poisons)
    if error is None and _oversize(value):
        error = ValueError
    return value, error


_event_types = st.one_of(
    st.sampled_from(AuditEntry.EventType.values), hostile_text(25), any_text
)
_actions = st.one_of(
    st.sampled_from(AuditEntry.Action.values), hostile_text(35), any_text
)


# ---------------------------------------------------------------------------
# Running, counting, logging
# ---------------------------------------------------------------------------


@dataclass
class Tally:
    inputs: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    business_rows: int = 0
    business_rejected: int = 0
    audit_rows: int = 0
    log_records: int = 0

    def reject(self, exc: BaseException) -> None:
        name = type(exc).__name__
        self.rejected[name] = self.rejected.get(name, 0) + 1


def _fuzz(strategy: st.SearchStrategy[Any], examples: int, check: Callable) -> None:
    @hsettings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
            HealthCheck.filter_too_much,
        ],
        print_blob=False,
    )
    @given(strategy)
    def run(case: Any) -> None:
        check(case)

    run()


_FORMATTER = logging.Formatter("%(levelname)s %(name)s %(message)s")


def _check_logging(records: list[logging.LogRecord]) -> None:
    """No raw control character in any log line: the message must be one
    clean line; an attached exception must render as one clean line too."""
    for record in records:
        message = record.getMessage()
        assert _UNSAFE_RE.search(message) is None, message[:300]
        assert _UNSAFE_RE.search(_FORMATTER.formatMessage(record)) is None
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            text = "".join(traceback.format_exception_only(type(exc), exc))
            assert _UNSAFE_RE.search(text.rstrip("\n")) is None, text[:300]


def _battery_line(tally: Tally, label: str) -> str:
    rejected = ", ".join(f"{k} {v}" for k, v in sorted(tally.rejected.items()))
    return (
        f"B1 hostile input ({label}): N = {tally.inputs:,} inputs; "
        "0 unhandled exceptions; 0 lost business rows; 0 DB errors; "
        "100 % stored values within bounds; 0 raw control chars in logging output "
        f"({connection.vendor}) [business rows {tally.business_rows:,}, "
        f"rejected by the business DB {tally.business_rejected:,}, audit rows "
        f"{tally.audit_rows:,}, typed errors: {rejected or 'none'}, "
        f"log records checked {tally.log_records:,}]"
    )


# ---------------------------------------------------------------------------
# (a) middleware -> log_event
# ---------------------------------------------------------------------------

_factory = RequestFactory()


@dataclass
class RequestCase:
    shape: RequestShape
    description: Any
    metadata: Any
    expected_error: type[Exception] | None
    event_type: str
    action: str


request_cases = st.builds(
    lambda shape, description, meta, event_type, action: RequestCase(
        shape, description, meta[0], meta[1], event_type, action
    ),
    request_shapes(),
    st.one_of(any_text, st.just(gettext_lazy("Lazy description"))),
    metadata_cases(),
    _event_types,
    _actions,
)


def _make_request(shape: RequestShape) -> Any:
    request = _factory.get("/fuzz/", **shape.meta)
    if shape.remove_remote:
        request.META.pop("REMOTE_ADDR", None)
    return request


def _check_entry_fields(entry: AuditEntry, case_shape: RequestShape) -> None:
    """Bounds of the request-derived fields of a stored entry."""
    _check_ip(entry.ip_address, case_shape.meta, case_shape.proxies)
    _check_bounded_text(
        entry.user_agent, case_shape.user_agent_raw or "", UA_MAX, "user_agent"
    )
    raw_id = case_shape.request_id_raw
    if raw_id is not None and _REQUEST_ID_RE.fullmatch(raw_id.strip()):
        assert entry.request_id == raw_id.strip()
    else:
        assert _HEX32_RE.fullmatch(entry.request_id), entry.request_id
    assert len(entry.username) <= 150


def _drive_request(case: RequestCase, tally: Tally, policy: str, caplog: Any) -> None:
    tally.inputs += 1
    caplog.clear()
    choice_ok = (
        case.event_type in AuditEntry.EventType.values
        and case.action in AuditEntry.Action.values
    )
    if case.expected_error is not None:
        expected = case.expected_error
    elif not choice_ok and policy == "raise":
        expected = ValidationError
    else:
        expected = None
    outcome: dict[str, Any] = {}

    def view(request: Any) -> HttpResponse:
        outcome["context"] = get_audit_context()
        contract = Contract.objects.create(title="fuzz", value=decimal.Decimal("1.00"))
        outcome["contract"] = contract
        try:
            outcome["entry"] = log_event(
                case.event_type,
                case.action,
                target=contract,
                description=case.description,
                metadata=case.metadata,
            )
        except (TypeError, ValueError, ValidationError) as exc:
            if expected is None or type(exc) is not expected:
                raise
            outcome["error"] = exc
        return HttpResponse("ok")

    contracts = Contract.objects.count()
    # One open alert per fingerprint: each input starts from none.
    SystemAlert.objects.filter(title=LOST_ALERT_TITLE).delete()
    overrides = {
        "ICV_CORE_AUDIT_REQUEST_ID_HEADER": case.shape.request_id_header,
        "ICV_CORE_AUDIT_ON_FAILURE": policy,
        **case.shape.proxies,
    }
    # Any exception other than the expected typed one fails the test here.
    with override_settings(**overrides), transaction.atomic():
        response = AuditRequestMiddleware(view)(_make_request(case.shape))
    assert response.status_code == 200

    # The business row is there (0 lost business rows).
    assert Contract.objects.count() == contracts + 1
    tally.business_rows += 1
    contract = outcome["contract"]
    assert Contract.objects.filter(pk=contract.pk, title="fuzz").exists()
    if "error" in outcome:
        tally.reject(outcome["error"])
    else:
        assert expected is None

    entries = list(AuditEntry.objects.filter(target_object_id=str(contract.pk)))
    tally.audit_rows += len(entries)
    by_action = {entry.action: entry for entry in entries if entry.event_type == "DATA"}
    create = by_action.get("CREATE")
    assert create is not None  # the mixin's entry for the business row
    _check_entry_fields(create, case.shape)
    written = outcome.get("entry")
    if expected is not None or (not choice_ok and policy == "alert"):
        assert written is None
        assert len(entries) == 1
    else:
        assert written is not None
        assert len(entries) == 2
        stored = AuditEntry.objects.get(pk=written.pk)
        _check_entry_fields(stored, case.shape)
        assert stored.event_type == case.event_type and stored.action == case.action
        _check_bounded_text(
            stored.description, str(case.description), DESCRIPTION_MAX, "description"
        )
        assert stored.description == written.description
        assert stored.user_agent == written.user_agent
        _check_stored_json(stored.metadata, "metadata")
        assert _same_json(stored.metadata, written.metadata)
        expected_meta = {} if case.metadata is None else case.metadata
        assert _same_json(stored.metadata, _expected_metadata(expected_meta))
        context = outcome["context"]
        assert stored.request_id == context["request_id"]
        assert stored.user_agent == context["user_agent"]
    if policy == "alert" and expected is None and not choice_ok:
        # The lost entry is logged and alerted; the alert itself is stored.
        alerts = SystemAlert.objects.filter(title=LOST_ALERT_TITLE)
        assert alerts.count() == 1
        alert = alerts.order_by("-created_at").first()
        assert _UNSAFE_RE.search(alert.message) is None
        _check_stored_json(alert.metadata, "alert metadata")
        lost = [r for r in caplog.records if "audit entr" in r.getMessage()]
        assert len(lost) == 1 and lost[0].levelno == logging.ERROR
        assert not [r for r in caplog.records if "lost-audit alert" in r.getMessage()]
    _check_logging(caplog.records)
    tally.log_records += len(caplog.records)


def _middleware_battery(examples: int, policy: str, caplog: Any, battery: Any) -> None:
    caplog.set_level(logging.DEBUG)
    tally = Tally()
    _fuzz(
        request_cases,
        examples,
        lambda case: _drive_request(case, tally, policy, caplog),
    )
    assert tally.inputs >= examples * 0.9
    battery(_battery_line(tally, f"middleware + log_event, on_failure={policy}"))


def test_b1_middleware_log_event(audit_on, warm_content_types, caplog, battery):
    _middleware_battery(300, "raise", caplog, battery)


def test_b1_middleware_log_event_alert_policy(
    audit_on, warm_content_types, caplog, battery
):
    _middleware_battery(150, "alert", caplog, battery)


@pytest.mark.slow
def test_b1_middleware_log_event_slow(audit_on, warm_content_types, caplog, battery):
    _middleware_battery(4000, "raise", caplog, battery)


@pytest.mark.slow
def test_b1_middleware_log_event_alert_policy_slow(
    audit_on, warm_content_types, caplog, battery
):
    _middleware_battery(2000, "alert", caplog, battery)


# ---------------------------------------------------------------------------
# (b) AuditMixin saves with hostile field values
# ---------------------------------------------------------------------------

_json_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([2**64, 10**100, float("nan"), float("inf")]),
    st.floats(allow_nan=False, allow_infinity=False),
    hostile_text(20),
)
_json_trees = st.one_of(
    st.recursive(
        _json_leaves,
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(st.one_of(hostile_text(10), _sensitive_keys), children),
        ),
        max_leaves=10,
    ),
    # Deep business JSON: the audit trail must not make the save fail.
    st.builds(
        _nest, _json_leaves, st.sampled_from([30, 32, 33, 40, 100]), st.booleans()
    ),
)
_decimals = st.one_of(
    st.decimals(min_value=-99_999_999, max_value=99_999_999, places=2),
    st.decimals(allow_nan=True, allow_infinity=True),
)
_titles = st.one_of(hostile_text(40), hostile_text(120), any_text)


@dataclass
class SaveCase:
    model: type
    create: dict[str, Any]
    update: dict[str, Any]


@st.composite
def save_cases(draw: st.DrawFn) -> SaveCase:
    if draw(st.booleans()):
        return SaveCase(
            Contract,
            {"title": draw(_titles), "value": draw(_decimals)},
            {"title": draw(_titles), "value": draw(_decimals)},
        )

    def document_values() -> dict[str, Any]:
        return {
            "title": draw(_titles),
            "amount": draw(st.one_of(st.none(), _decimals)),
            "reference": draw(st.one_of(st.none(), st.uuids())),
            "signed_on": draw(st.one_of(st.none(), st.dates())),
            "api_token": draw(hostile_text(30)),
            "pin_code": draw(hostile_text(12)),
            "notes": draw(_json_trees),
        }

    return SaveCase(Document, document_values(), document_values())


def _save_twice(case: SaveCase) -> Any:
    instance = case.model(**case.create)
    instance.save()
    for name, value in case.update.items():
        setattr(instance, name, value)
    instance.save()
    return instance


def _control_error(case: SaveCase) -> type[BaseException] | None:
    """The same two saves with auditing off, rolled back: what the business
    database alone accepts."""
    try:
        with override_settings(ICV_CORE_AUDIT_ENABLED=False), transaction.atomic():
            _save_twice(case)
            transaction.set_rollback(True)
    except Exception as exc:
        return type(exc)
    return None


def _expected_field(value: Any) -> Any:
    return _clean(value) if isinstance(value, str) else value


def _expected_json_field(value: Any, depth: int = 0) -> Any:
    """A JSONField value as recorded: strings/keys cleaned, sensitive keys
    masked, whatever lies deeper than 32 levels replaced by a marker."""
    if depth > MAX_DEPTH:
        return TOO_DEEP
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            key = _clean(str(key))
            out[key] = (
                MASK if _is_sensitive(key) else _expected_json_field(item, depth + 1)
            )
        return out
    if isinstance(value, list):
        return [_expected_json_field(item, depth + 1) for item in value]
    return _expected_field(value)


def _drive_save(case: SaveCase, tally: Tally, caplog: Any) -> None:
    tally.inputs += 1
    caplog.clear()
    control = _control_error(case)
    rows = case.model.all_objects.count() if case.model is Document else None
    rows = case.model.objects.count() if rows is None else rows
    audit_rows = AuditEntry.objects.count()
    error: type[BaseException] | None = None
    try:
        with transaction.atomic():
            instance = _save_twice(case)
    except Exception as exc:
        error = type(exc)
    # Auditing never makes a save fail that succeeds without it, nor the other
    # way round (0 lost business rows, 0 DB errors caused by the audit trail).
    assert error is control, (error, control)
    manager = case.model.all_objects if case.model is Document else case.model.objects
    if error is not None:
        tally.business_rejected += 1
        assert manager.count() == rows
        assert AuditEntry.objects.count() == audit_rows
        _check_logging(caplog.records)
        tally.log_records += len(caplog.records)
        return
    tally.business_rows += 1
    assert manager.count() == rows + 1
    assert manager.filter(pk=instance.pk).exists()
    entries = {
        entry.action: entry
        for entry in AuditEntry.objects.filter(target_object_id=str(instance.pk))
    }
    assert set(entries) == {"CREATE", "UPDATE"}
    assert AuditEntry.objects.count() == audit_rows + 2
    tally.audit_rows += 2
    created = entries["CREATE"].metadata["fields"]
    changed = entries["UPDATE"].metadata["changed_fields"]
    for entry in entries.values():
        # {"changed_fields": {name: {"new": value}}}: 3 levels above a value.
        _check_stored_json(entry.metadata, "field metadata", MAX_DEPTH + 1 + 3)
        assert _UNSAFE_RE.search(entry.description) is None
        assert len(entry.description) <= DESCRIPTION_MAX
        assert entry.ip_address is None and entry.user_agent == ""
    assert created["title"] == _expected_field(case.create["title"])
    if case.model is Document:
        assert created["api_token"] == MASK
        assert _same_json(created["notes"], _expected_json_field(case.create["notes"]))
        if "notes" in changed:
            assert _same_json(
                changed["notes"]["new"], _expected_json_field(case.update["notes"])
            )
        if "api_token" in changed:
            assert changed["api_token"] == {"old": MASK, "new": MASK}
    if "title" in changed:
        assert changed["title"] == {
            "old": _expected_field(case.create["title"]),
            "new": _expected_field(case.update["title"]),
        }
    _check_logging(caplog.records)
    tally.log_records += len(caplog.records)


def _mixin_battery(examples: int, caplog: Any, battery: Any) -> None:
    caplog.set_level(logging.DEBUG)
    tally = Tally()
    _fuzz(save_cases(), examples, lambda case: _drive_save(case, tally, caplog))
    assert tally.inputs >= examples * 0.9
    assert tally.business_rows > examples * 0.3
    battery(_battery_line(tally, "AuditMixin saves"))


def test_b1_mixin_saves(audit_on, warm_content_types, caplog, battery):
    _mixin_battery(300, caplog, battery)


@pytest.mark.slow
def test_b1_mixin_saves_slow(audit_on, warm_content_types, caplog, battery):
    _mixin_battery(4000, caplog, battery)
