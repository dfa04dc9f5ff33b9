"""cents_to_currency / cents_to_amount: table-driven, exact strings.

Babel separates a trailing/leading symbol with U+00A0 (no-break space); the
expected strings spell it as ``NBSP``.
"""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.test import override_settings
from django.utils import translation

from icv_core.templatetags import icv_core as lib
from icv_core.templatetags.icv_core import (
    ISO_4217_EXPONENTS,
    cents_to_amount,
    cents_to_currency,
    currency_exponent,
)

NBSP = "\xa0"


@pytest.fixture(autouse=True)
def _english():
    # Django's default language; the spec examples assume it.
    with translation.override("en-us"):
        yield


# --------------------------------------------------------------------------
# cents_to_currency
# --------------------------------------------------------------------------

CURRENCY_CASES = [
    # spec examples
    (3500, "GBP", "£35.00"),
    (3500, "USD", "$35.00"),
    (3500, None, "£35.00"),  # default currency
    (3500, "", "£35.00"),  # {{ x|cents_to_currency:"" }} -> default
    # exponent 2
    (3500, "EUR", "€35.00"),
    (1, "GBP", "£0.01"),
    (99, "USD", "$0.99"),
    # exponent 0
    (3500, "JPY", "¥3,500"),
    (3500, "KRW", "₩3,500"),
    (-7, "JPY", "-¥7"),
    # exponent 3
    (3500, "BHD", f"BHD{NBSP}3.500"),
    (3500, "KWD", f"KWD{NBSP}3.500"),
    (1, "JOD", f"JOD{NBSP}0.001"),
    (1234567, "OMR", f"OMR{NBSP}1,234.567"),
    (-1, "TND", f"-TND{NBSP}0.001"),
    # exponent 4
    (12345, "CLF", f"CLF{NBSP}1.2345"),
    # ISO 4217, not CLDR's display digits
    (3500, "IQD", f"IQD{NBSP}3.500"),  # CLDR shows 0 digits
    (3500, "HUF", f"HUF{NBSP}35.00"),  # CLDR shows 0 digits
    (3500, "IDR", f"IDR{NBSP}35.00"),
    # negatives: the sign goes before the symbol
    (-3500, "GBP", "-£35.00"),
    (-1, "USD", "-$0.01"),
    (-123456, "GBP", "-£1,234.56"),
    # zero
    (0, "GBP", "£0.00"),
    (0, "JPY", "¥0"),
    (Decimal("-0"), "GBP", "£0.00"),
    (Decimal("-0.4"), "GBP", "£0.00"),  # rounds to zero: no "-£0.00"
    # grouping
    (123456, "GBP", "£1,234.56"),
    (123456789, "USD", "$1,234,567.89"),
    # huge values stay exact (no float, no 28-digit Decimal context)
    (10**20, "GBP", "£1,000,000,000,000,000,000.00"),
    (
        12345678901234567890123456789012345,
        "GBP",
        "£123,456,789,012,345,678,901,234,567,890,123.45",
    ),
    (-(10**30) - 1, "USD", "-$10,000,000,000,000,000,000,000,000,000.01"),
    # rounding of fractional minor units: ROUND_HALF_UP (away from zero)
    (Decimal("0.5"), "GBP", "£0.01"),
    (Decimal("1.5"), "GBP", "£0.02"),
    (Decimal("2.5"), "GBP", "£0.03"),
    (Decimal("0.49"), "GBP", "£0.00"),
    (Decimal("-0.5"), "GBP", "-£0.01"),
    (Decimal("-2.5"), "GBP", "-£0.03"),
    (Decimal("199.5"), "GBP", "£2.00"),
    (Decimal("12.345"), "EUR", "€0.12"),
    (Decimal("0.5"), "JPY", "¥1"),
    (Decimal("0.5"), "KWD", f"KWD{NBSP}0.001"),
    # numeric strings
    ("3500", "GBP", "£35.00"),
    (" 3500 ", "GBP", "£35.00"),
    ("-3500", "GBP", "-£35.00"),
    ("2.5", "GBP", "£0.03"),
    ("1e3", "GBP", "£10.00"),
    # floats: read by their shortest repr, no binary noise
    (3500.0, "GBP", "£35.00"),
    (1.5, "GBP", "£0.02"),
    (2.5, "GBP", "£0.03"),
    (1.005, "GBP", "£0.01"),
    (-0.5, "USD", "-$0.01"),
    # currency code case and spaces
    (3500, "gbp", "£35.00"),
    (3500, " usd ", "$35.00"),
    # unknown codes show the code, kept apart from the digits
    (3500, "XYZ", f"XYZ{NBSP}35.00"),
    (-3500, "xyz", f"-XYZ{NBSP}35.00"),
    (3500, "CHF", f"CHF{NBSP}35.00"),
    # codes without a minor unit take the value as whole units
    (3, "XAU", f"XAU{NBSP}3"),
]


@pytest.mark.parametrize(("value", "currency", "expected"), CURRENCY_CASES)
def test_cents_to_currency(value, currency, expected):
    assert cents_to_currency(value, currency) == expected


INVALID_VALUES = [
    None,
    "",
    "   ",
    "abc",
    "12abc",
    "1,000",
    "NaN",
    "sNaN",
    "Infinity",
    "-inf",
    float("nan"),
    float("inf"),
    True,
    False,
    [3500],
    {"amount": 3500},
    object(),
    b"3500",
    10**60,  # beyond the 60-digit guard
    "9e999999999",
    "-9e999999999",
]


@pytest.mark.parametrize("value", INVALID_VALUES)
@pytest.mark.parametrize("currency", ["GBP", "JPY", None])
def test_invalid_values_render_empty(value, currency):
    assert cents_to_currency(value, currency) == ""
    assert cents_to_amount(value, currency) == ""


@pytest.mark.parametrize(
    "currency", ["GB", "GBPX", "G1P", "£", "ĞBP", 5, 3.5, ["GBP"], "GBP,", "GBP, "]
)
def test_invalid_currency_codes_render_empty(currency):
    assert cents_to_currency(3500, currency) == ""


def test_lazy_currency_code():
    from django.utils.functional import lazy

    assert cents_to_currency(3500, lazy(lambda: "usd", str)()) == "$35.00"


def test_largest_accepted_magnitude():
    assert cents_to_amount(10**60 - 1) == f"{'9' * 58}.99"
    assert cents_to_amount(10**60) == ""


# --------------------------------------------------------------------------
# Locales
# --------------------------------------------------------------------------

LOCALE_CASES = [
    # (active language, currency argument, value, expected)
    ("de", "EUR", 3500, f"35,00{NBSP}€"),
    ("de", "EUR", -123456, f"-1.234,56{NBSP}€"),
    ("de", "GBP", 3500, f"35,00{NBSP}£"),
    ("de", "JPY", 3500, f"3.500{NBSP}¥"),
    ("fr", "EUR", 123456, f"1\u202f234,56{NBSP}€"),
    ("en-gb", "USD", 3500, "US$35.00"),
    ("en-gb", "GBP", 3500, "£35.00"),
    ("ja", "JPY", 3500, "￥3,500"),
    ("pt-br", "BRL", 3500, f"R${NBSP}35,00"),
    ("zh-hans", "CNY", 3500, "¥35.00"),
    # forced locale with the comma form, whatever the active language
    ("en-us", "EUR,de", 3500, f"35,00{NBSP}€"),
    ("en-us", "EUR, de", 3500, f"35,00{NBSP}€"),
    ("de", "USD,en-us", 3500, "$35.00"),
    ("de", "USD,en_GB", 3500, "US$35.00"),
    ("en-us", "CHF,de-ch", 123456, f"CHF{NBSP}1'234.56"),
    ("en-us", ",de", 3500, f"35,00{NBSP}£"),  # default currency, forced locale
    # an unknown forced locale is invalid input
    ("en-us", "EUR,xx", 3500, ""),
    ("en-us", "EUR,", 3500, ""),
]


@pytest.mark.parametrize(("language", "currency", "value", "expected"), LOCALE_CASES)
def test_locales(language, currency, value, expected):
    with translation.override(language):
        assert cents_to_currency(value, currency) == expected


def test_locale_keyword_in_python():
    assert cents_to_currency(3500, "EUR", locale="de") == f"35,00{NBSP}€"
    assert cents_to_currency(3500, "EUR", locale="de_DE") == f"35,00{NBSP}€"
    assert cents_to_currency(3500, "EUR", locale="xx") == ""
    assert cents_to_currency(3500, "EUR", locale="") == ""
    assert cents_to_currency(3500, "EUR", locale=5) == ""
    # a locale given twice is ambiguous
    assert cents_to_currency(3500, "EUR,fr", locale="de") == ""


def test_language_unknown_to_babel_falls_back_to_its_base_language():
    assert lib._babel_locale("de-xx").language == "de"
    assert lib._babel_locale("zz") is None


def test_no_active_language_uses_language_code():
    with translation.override(None), override_settings(LANGUAGE_CODE="de"):
        assert cents_to_currency(3500, "EUR") == f"35,00{NBSP}€"


# --------------------------------------------------------------------------
# Default currency setting
# --------------------------------------------------------------------------


def test_default_currency_setting_is_read_at_use():
    with override_settings(ICV_CORE_DEFAULT_CURRENCY="JPY"):
        assert cents_to_currency(3500) == "¥3,500"
        assert cents_to_amount(3500) == "3500"
        # an explicit code still wins
        assert cents_to_currency(3500, "GBP") == "£35.00"
    assert cents_to_currency(3500) == "£35.00"


@pytest.mark.parametrize("bad", [None, "", "POUND", 826])
def test_invalid_default_currency_renders_empty(bad):
    with override_settings(ICV_CORE_DEFAULT_CURRENCY=bad):
        assert cents_to_currency(3500) == ""
        assert cents_to_amount(3500) == ""
        assert cents_to_currency(3500, "USD") == "$35.00"


# --------------------------------------------------------------------------
# cents_to_amount
# --------------------------------------------------------------------------

AMOUNT_CASES = [
    (3500, None, "35.00"),  # spec example
    (3500, "GBP", "35.00"),
    (3500, "JPY", "3500"),  # issue example
    (3500, "KRW", "3500"),
    (3500, "KWD", "3.500"),
    (-1, "KWD", "-0.001"),
    (12345, "CLF", "1.2345"),
    (3500, "IQD", "3.500"),
    (3500, "XYZ", "35.00"),  # unknown: 2 decimals
    (3500, "jpy", "3500"),
    (-3500, None, "-35.00"),
    (0, None, "0.00"),
    (0, "JPY", "0"),
    (Decimal("-0.4"), None, "0.00"),
    (123456789, None, "1234567.89"),  # no grouping
    (10**20, None, "1000000000000000000.00"),
    (Decimal("0.5"), None, "0.01"),
    (Decimal("2.5"), None, "0.03"),
    (Decimal("-2.5"), None, "-0.03"),
    (Decimal("0.125"), None, "0.00"),
    (Decimal("199.5"), None, "2.00"),
    ("3500", None, "35.00"),
    (1.5, None, "0.02"),
    (3500.0, "JPY", "3500"),
]


@pytest.mark.parametrize(("value", "currency", "expected"), AMOUNT_CASES)
def test_cents_to_amount(value, currency, expected):
    assert cents_to_amount(value, currency) == expected


@pytest.mark.parametrize("language", ["de", "fr", "ar"])
def test_cents_to_amount_ignores_the_language(language):
    with translation.override(language):
        assert cents_to_amount(123456) == "1234.56"


@pytest.mark.parametrize("currency", ["GB", "JPY,de", 5, "€"])
def test_cents_to_amount_invalid_code(currency):
    assert cents_to_amount(3500, currency) == ""


# --------------------------------------------------------------------------
# Exponent table
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "exponent"),
    [
        ("GBP", 2),
        ("USD", 2),
        ("EUR", 2),
        ("JPY", 0),
        ("KRW", 0),
        ("ISK", 0),
        ("CLP", 0),
        ("VND", 0),
        ("BHD", 3),
        ("KWD", 3),
        ("JOD", 3),
        ("OMR", 3),
        ("TND", 3),
        ("IQD", 3),
        ("LYD", 3),
        ("CLF", 4),
        ("UYW", 4),
        ("HUF", 2),
        ("COP", 2),
        ("SLL", 2),  # CLDR shows 0 digits
        ("XAU", 0),
        ("XYZ", 2),
        ("ESP", 0),  # historical peseta: CLDR's digits
        ("jpy", 0),
    ],
)
def test_currency_exponent(code, exponent):
    assert currency_exponent(code) == exponent


def test_table_overrides_every_babel_disagreement_for_listed_codes():
    from babel.numbers import get_currency_precision

    disagreements = {
        code
        for code, exponent in ISO_4217_EXPONENTS.items()
        if get_currency_precision(code) != exponent
    }
    # Babel (CLDR display digits) differs from ISO 4217 for these; the filters
    # follow ISO.
    assert {"IQD", "HUF", "IDR", "COP", "SLL", "XAU"} <= disagreements


def _codes(text: str) -> list[str]:
    return text.split()


# ISO 4217 List One (current codes) with exponents other than 2; "N.A." (no
# minor unit) is taken as 0.
ISO_NOT_2 = {
    **dict.fromkeys(
        _codes("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"),
        0,
    ),
    **dict.fromkeys(_codes("BHD IQD JOD KWD LYD OMR TND"), 3),
    **dict.fromkeys(_codes("CLF UYW"), 4),
    **dict.fromkeys(
        _codes("XAG XAU XBA XBB XBC XBD XDR XPD XPT XSU XTS XUA XXX"), 0
    ),  # N.A.
}

# Every other code of ISO 4217 List One: exponent 2.
ISO_2 = _codes(
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV "
    "BRL BSD BTN BWP BYN BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUC CUP CVE "
    "CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD "
    "HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD "
    "LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN "
    "NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG "
    "SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD "
    "TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG"
)


def test_every_current_iso_code_with_another_exponent_is_in_the_table():
    assert {code: ISO_4217_EXPONENTS.get(code) for code in ISO_NOT_2} == ISO_NOT_2


def test_every_current_iso_code_gets_the_iso_exponent():
    # Codes with exponent 2 outside the table rely on Babel giving 2: a Babel
    # whose CLDR digits differ for one of them (as for SLL) fails here.
    expected = {**ISO_NOT_2, **dict.fromkeys(ISO_2, 2)}
    assert len(expected) == len(ISO_NOT_2) + len(ISO_2)  # no code listed twice
    assert {code: currency_exponent(code) for code in expected} == expected


def test_babel_codes_outside_the_table_with_other_digits_are_all_historical():
    from babel.numbers import get_currency_precision, list_currencies

    other_digits = {
        code
        for code in list_currencies()
        if code not in ISO_4217_EXPONENTS and get_currency_precision(code) != 2
    }
    # Withdrawn codes, where CLDR's digits are the best guess; a current code
    # showing up here needs a table entry.
    assert other_digits <= {
        "ADP", "BYR", "ESP", "ITL", "LUF", "MGF", "MRO", "STD", "TMM", "TRL",
        "ZMK", "ZWD",
    }  # fmt: skip
    assert not other_digits & (set(ISO_NOT_2) | set(ISO_2))


# --------------------------------------------------------------------------
# Templates
# --------------------------------------------------------------------------


def render(source: str, **context) -> str:
    return Template("{% load icv_core %}" + source).render(Context(context))


@pytest.mark.parametrize(
    ("source", "context", "expected"),
    [
        ('{{ total|cents_to_currency:"GBP" }}', {"total": 3500}, "£35.00"),
        ('{{ total|cents_to_currency:"USD" }}', {"total": 3500}, "$35.00"),
        ("{{ total|cents_to_amount }}", {"total": 3500}, "35.00"),
        ('{{ total|cents_to_amount:"JPY" }}', {"total": 3500}, "3500"),
        ("{{ total|cents_to_currency }}", {"total": -3500}, "-£35.00"),
        ('{{ total|cents_to_currency:"EUR,de" }}', {"total": 3500}, "35,00\xa0€"),
        (
            "{{ total|cents_to_currency:code }}",
            {"total": 3500, "code": "JPY"},
            "¥3,500",
        ),
        ('{{ missing|cents_to_currency:"GBP" }}', {}, ""),
        ("{{ missing|cents_to_amount }}", {}, ""),
        ('{{ total|cents_to_currency:"GBP" }}', {"total": None}, ""),
        ('{{ total|cents_to_currency:"GBP" }}', {"total": "n/a"}, ""),
        ('{{ total|cents_to_currency:"XY<" }}', {"total": 3500}, ""),
    ],
)
def test_filters_in_templates(source, context, expected):
    assert render(source, **context) == expected


def test_unknown_code_is_escaped_by_autoescape():
    # Codes are three ASCII letters, so nothing needs escaping; the output is
    # not marked safe either.
    assert render('{{ 5|cents_to_currency:"ABC" }}') == "ABC\xa00.05"


def test_filters_log_nothing_on_bad_input(caplog):
    with caplog.at_level(logging.DEBUG):
        for value in INVALID_VALUES:
            cents_to_currency(value, "GBP")
            cents_to_amount(value)
        cents_to_currency(3500, "EUR,xx")
        render("{{ x|cents_to_currency }}{{ x|cents_to_amount }}", x="bad")
    assert [r for r in caplog.records if r.name.startswith("icv_core")] == []


def test_never_raises_even_if_babel_fails(monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("babel broke")

    monkeypatch.setattr(lib, "_currency_pattern", boom)
    assert cents_to_currency(3500, "GBP") == ""
