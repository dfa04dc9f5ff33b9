"""Template filters of django-icv-core: ``{% load icv_core %}``.

Money stored as an integer number of minor units (pence, cents, yen, fils)
and short relative times::

    {% load icv_core %}
    {{ order.total_pence|cents_to_currency:"GBP" }}      {# £35.00 #}
    {{ order.total_pence|cents_to_currency:"EUR,de" }}   {# 35,00 € #}
    {{ order.total_pence|cents_to_amount }}              {# 35.00 #}
    {{ comment.created_at|time_since_short }}            {# 2h ago #}

The same functions work from Python::

    >>> from icv_core.templatetags.icv_core import cents_to_currency
    >>> cents_to_currency(123456, "USD")
    '$1,234.56'

A template must never crash on a bad value: every filter returns ``""`` for
``None``, an empty string or anything it cannot read, and logs nothing.
"""

from __future__ import annotations

import copy
import datetime
import decimal
import functools
import unicodedata
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django import template
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import pgettext

register = template.Library()

__all__ = [
    "ISO_4217_EXPONENTS",
    "cents_to_amount",
    "cents_to_currency",
    "currency_exponent",
    "time_since_short",
]

#: Minor-unit exponents from ISO 4217's current list (List One): every
#: current code whose exponent is not 2, plus the current codes with exponent
#: 2 that CLDR (and so Babel) displays with other digits (e.g. HUF, IDR, COP,
#: SLL): the stored minor units follow ISO, not the display. Codes listed by
#: ISO 4217 as having no minor unit ("N.A.": precious metals, SDR, test and
#: no-currency codes) take the amount as whole units (0). Every other code,
#: current or not, takes Babel's CLDR digits, which are 2 for the current ones
#: (checked against the full list in the tests).
ISO_4217_EXPONENTS: dict[str, int] = {
    # exponent 0
    **dict.fromkeys(
        [
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "UYI",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ],
        0,
    ),
    # exponent 3
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
    # exponent 4
    **dict.fromkeys(["CLF", "UYW"], 4),
    # no minor unit
    **dict.fromkeys(
        [
            "XAG",
            "XAU",
            "XBA",
            "XBB",
            "XBC",
            "XBD",
            "XDR",
            "XPD",
            "XPT",
            "XSU",
            "XTS",
            "XUA",
            "XXX",
        ],
        0,
    ),
    # exponent 2 where CLDR disagrees
    **dict.fromkeys(
        [
            "AFN",
            "ALL",
            "COP",
            "HUF",
            "IDR",
            "IRR",
            "KPW",
            "LAK",
            "LBP",
            "MGA",
            "MMK",
            "SLL",
            "SOS",
            "SYP",
            "YER",
        ],
        2,
    ),
}

#: Amounts whose magnitude has more digits than this render as "" (guards
#: against strings such as "9e999999999" making huge outputs).
_MAX_DIGITS = 60

# Enough precision that no amount within _MAX_DIGITS is ever rounded except
# by the explicit quantize to the currency's exponent.
_CONTEXT = decimal.Context(prec=2 * _MAX_DIGITS + 10, rounding=ROUND_HALF_UP)


def currency_exponent(code: str) -> int:
    """The ISO 4217 minor-unit exponent of ``code`` (``"JPY"`` → 0).

    A code in :data:`ISO_4217_EXPONENTS` takes the table's exponent. Any
    other code takes Babel's CLDR digits: 2 for the remaining current ISO
    codes and for unknown codes (``"XYZ"``), CLDR's own digits for
    historical codes (``"ESP"`` → 0).
    """
    code = code.upper()
    if code in ISO_4217_EXPONENTS:
        return ISO_4217_EXPONENTS[code]
    from babel.numbers import get_currency_precision

    return int(get_currency_precision(code))


# --------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------


def _to_decimal(value: Any) -> Decimal | None:
    """The value as an exact Decimal, or None if it is not a finite number."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        # repr() is the shortest string that round-trips, so 0.1 is 0.1 and
        # not 0.1000000000000000055511151231257827.
        number = Decimal(repr(value))
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        number = Decimal(text)
    else:
        return None
    if not number.is_finite() or number.adjusted() >= _MAX_DIGITS:
        return None
    return number


def _currency_code(code: Any) -> str | None:
    """An upper-case three-letter code, the default for None/"", or None."""
    if code is None or (isinstance(code, str) and not code.strip()):
        from icv_core.templatetags._conf import settings

        code = settings.DEFAULT_CURRENCY
    if isinstance(code, Promise):
        code = str(code)  # a lazy translation
    if not isinstance(code, str):
        return None
    code = code.strip().upper()
    if len(code) != 3 or not code.isascii() or not code.isalpha():
        return None
    return code


def _minor_to_major(number: Decimal, exponent: int) -> Decimal:
    """``number`` minor units as a major amount, exactly, rounded half up."""
    sign, digits, exp = number.as_tuple()
    assert isinstance(exp, int)  # finite, checked by _to_decimal
    amount = Decimal((sign, digits, exp - exponent))  # exact shift
    amount = amount.quantize(Decimal((0, (1,), -exponent)), context=_CONTEXT)
    if not amount:
        amount = abs(amount)  # never "-£0.00"
    return amount


# --------------------------------------------------------------------------
# Locales
# --------------------------------------------------------------------------


@functools.lru_cache(maxsize=128)
def _babel_locale(language: str) -> Any:
    """The Babel locale for a Django language code (``en-us``, ``pt_BR``)."""
    from babel import Locale, UnknownLocaleError

    name = translation.to_locale(language.strip().replace("_", "-"))
    for candidate in (name, name.split("_")[0]):
        try:
            return Locale.parse(candidate)
        except (ValueError, TypeError, UnknownLocaleError):
            continue
    return None


def _active_locale() -> Any:
    from django.conf import settings

    language = translation.get_language() or settings.LANGUAGE_CODE
    return _babel_locale(language) or _babel_locale("en")


def _is_symbolic(char: str) -> bool:
    return unicodedata.category(char)[0] in "SZ"


@functools.lru_cache(maxsize=512)
def _currency_pattern(locale: Any, code: str, exponent: int) -> Any:
    """The locale's currency pattern with ``exponent`` fraction digits.

    Also applies CLDR's currency spacing, which Babel leaves out: a symbol
    ending (or starting) with a letter is kept apart from the digits by a
    no-break space (``CHF 35.00``, not ``CHF35.00``).
    """
    from babel.numbers import get_currency_symbol

    pattern = copy.copy(locale.currency_formats["standard"])
    pattern.frac_prec = (exponent, exponent)
    symbol = get_currency_symbol(code, locale)
    if symbol:
        if not _is_symbolic(symbol[-1]):
            pattern.prefix = tuple(
                p + "\xa0" if p.endswith("¤") else p for p in pattern.prefix
            )
        if not _is_symbolic(symbol[0]):
            pattern.suffix = tuple(
                "\xa0" + s if s.startswith("¤") else s for s in pattern.suffix
            )
    return pattern


# --------------------------------------------------------------------------
# Filters
# --------------------------------------------------------------------------


def cents_to_currency(value: Any, currency: Any = None, *, locale: Any = None) -> str:
    """Format ``value`` minor units of ``currency`` for display.

    ``currency`` is an ISO 4217 code (default: ``ICV_CORE_DEFAULT_CURRENCY``,
    ``"GBP"``). The amount is ``value / 10**exponent`` with the ISO 4217
    exponent of the currency (GBP 2, JPY 0, KWD 3), computed exactly with
    Decimal; fractional minor units are rounded half up (half away from
    zero: ``Decimal("0.5")`` pence is ``£0.01``). Symbol, placement,
    grouping and the minus sign follow CLDR for the active Django language,
    or for ``locale`` when given. In a template the locale follows a comma::

        {{ 3500|cents_to_currency:"GBP" }}          £35.00  (en-us)
        {{ -123456|cents_to_currency:"USD" }}       -$1,234.56
        {{ 3500|cents_to_currency:"JPY" }}          ¥3,500
        {{ 3500|cents_to_currency:"EUR,de" }}       35,00 €  (no-break space)
        {{ 3500|cents_to_currency:"XYZ" }}          XYZ 35.00

    ``cents_to_currency(3500, "EUR", locale="de")`` is the Python form.
    Unknown codes are shown as the code. Returns ``""`` for None, ``""``,
    booleans, non-numbers, NaN/infinity, an invalid code or locale.
    """
    try:
        number = _to_decimal(value)
        if number is None:
            return ""
        if isinstance(currency, str) and "," in currency:
            if locale is not None:
                return ""
            currency, _, locale = currency.partition(",")
            if not locale.strip():
                return ""
        code = _currency_code(currency)
        if code is None:
            return ""
        if locale is None:
            babel_locale = _active_locale()
        elif isinstance(locale, str) and locale.strip():
            babel_locale = _babel_locale(locale)
        else:
            return ""
        if babel_locale is None:
            return ""
        exponent = currency_exponent(code)
        amount = _minor_to_major(number, exponent)
        pattern = _currency_pattern(babel_locale, code, exponent)
        with decimal.localcontext(_CONTEXT):
            return pattern.apply(
                amount,
                babel_locale,
                currency=code,
                currency_digits=False,
                decimal_quantization=True,
            )
    except Exception:
        # A template must render whatever the value; see the module docstring.
        return ""


def cents_to_amount(value: Any, currency: Any = None) -> str:
    """``value`` minor units as a plain decimal string, for machines.

    No symbol, no grouping, ``.`` as the decimal point, whatever the
    language; the number of decimals is the currency's ISO 4217 exponent
    (default currency: ``ICV_CORE_DEFAULT_CURRENCY``)::

        {{ 3500|cents_to_amount }}            35.00
        {{ 3500|cents_to_amount:"JPY" }}      3500
        {{ -1|cents_to_amount:"KWD" }}        -0.001

    Rounding as in :func:`cents_to_currency`. Returns ``""`` for bad input.
    """
    try:
        number = _to_decimal(value)
        if number is None:
            return ""
        code = _currency_code(currency)
        if code is None:
            return ""
        return format(_minor_to_major(number, currency_exponent(code)), "f")
    except Exception:
        return ""


def _phrase(unit: str, count: int, future: bool) -> str:
    # One msgid per unit and direction so translators can reorder freely.
    if future:
        texts = {
            "m": pgettext("time_since_short", "in %(count)dm"),
            "h": pgettext("time_since_short", "in %(count)dh"),
            "d": pgettext("time_since_short", "in %(count)dd"),
            "w": pgettext("time_since_short", "in %(count)dw"),
            "mo": pgettext("time_since_short", "in %(count)dmo"),
            "y": pgettext("time_since_short", "in %(count)dy"),
        }
    else:
        texts = {
            "m": pgettext("time_since_short", "%(count)dm ago"),
            "h": pgettext("time_since_short", "%(count)dh ago"),
            "d": pgettext("time_since_short", "%(count)dd ago"),
            "w": pgettext("time_since_short", "%(count)dw ago"),
            "mo": pgettext("time_since_short", "%(count)dmo ago"),
            "y": pgettext("time_since_short", "%(count)dy ago"),
        }
    return texts[unit] % {"count": count}


def _days_phrase(days: int, future: bool) -> str:
    if days < 7:
        return _phrase("d", days, future)
    if days < 30:
        return _phrase("w", days // 7, future)
    if days < 365:
        return _phrase("mo", days // 30, future)
    return _phrase("y", days // 365, future)


def time_since_short(value: Any, *, now: datetime.datetime | None = None) -> str:
    """A short relative time: ``just now``, ``5m ago``, ``in 2h``.

    For a datetime, with ``s`` the whole seconds between it and now (in
    either direction):

    =====================  ===================  =================
    distance               past                 future
    =====================  ===================  =================
    s < 60                 ``just now``         ``just now``
    60 ≤ s < 3600          ``{s//60}m ago``     ``in {s//60}m``
    3600 ≤ s < 86400       ``{s//3600}h ago``   ``in {s//3600}h``
    then whole days ``d``
    1 ≤ d < 7              ``{d}d ago``         ``in {d}d``
    7 ≤ d < 30             ``{d//7}w ago``      ``in {d//7}w``
    30 ≤ d < 365           ``{d//30}mo ago``    ``in {d//30}mo``
    d ≥ 365                ``{d//365}y ago``    ``in {d//365}y``
    =====================  ===================  =================

    So 59 s is ``just now``, 60 s ``1m ago``, 59 m 59 s ``59m ago``, 60 m
    ``1h ago``, 23 h 59 m ``23h ago``, 24 h ``1d ago``, 6 d ``6d ago``, 7 d
    ``1w ago``, 29 d ``4w ago``, 30 d ``1mo ago``, 364 d ``12mo ago``, 365 d
    ``1y ago``. A naive datetime is read in the current time zone.

    A ``date`` counts whole calendar days from today in the current time
    zone: ``today``, ``1d ago``, ``in 3d``, then the same day bands.
    ``now`` (aware) overrides the clock in Python calls. The strings are
    translatable (context ``time_since_short``). Returns ``""`` for
    anything that is not a date or datetime.
    """
    try:
        if now is None:
            now = datetime.datetime.now(datetime.UTC)
        current_tz = timezone.get_current_timezone()
        if isinstance(value, datetime.datetime):
            if timezone.is_naive(value):
                value = timezone.make_aware(value, current_tz)
            seconds = (now - value).total_seconds()
            future = seconds < 0
            distance = int(abs(seconds))
            if distance < 60:
                return pgettext("time_since_short", "just now")
            if distance < 3600:
                return _phrase("m", distance // 60, future)
            if distance < 86400:
                return _phrase("h", distance // 3600, future)
            return _days_phrase(distance // 86400, future)
        if isinstance(value, datetime.date):
            today = now.astimezone(current_tz).date()
            days = (today - value).days
            if days == 0:
                return pgettext("time_since_short", "today")
            return _days_phrase(abs(days), days < 0)
        return ""
    except Exception:
        return ""


register.filter("cents_to_currency", cents_to_currency)
register.filter("cents_to_amount", cents_to_amount)
register.filter("time_since_short", time_since_short)
