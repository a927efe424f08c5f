"""Amounts written as text in any common convention (I6), read without guessing.

`1,234.50`, `1.234,50`, `1 234,50` (ordinary, non-breaking or thin spaces), `1'234.50`,
`$1,234.50`, `€1.234,50`, `1234.50 USD`, `(1,234.50)` and `1,234.50-`. Money has at most two
decimals, so a separator followed by exactly three digits groups thousands and the last separator
followed by one or two digits is the decimal mark; anything else is not an amount.
Pure functions: they raise CellError with what is wrong, never guess.
"""

from __future__ import annotations

import re

from .values import CellError, is_blank

# Currency signs whose currency is certain; "$" alone is the US dollar (the programme's money).
SIGNS = {"$": "USD", "US$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "zł": "PLN", "Kč": "CZK",
         "₽": "RUB", "₹": "INR", "C$": "CAD", "CA$": "CAD", "A$": "AUD", "AU$": "AUD",
         "CHF": "CHF", "Fr.": "CHF"}
_SIGN = "|".join(re.escape(s) for s in sorted(SIGNS, key=len, reverse=True))
_CURRENCY = re.compile(rf"^(?:{_SIGN}|[A-Za-z]{{3}}(?![A-Za-z]))")
_CURRENCY_END = re.compile(rf"(?:{_SIGN}|(?<![A-Za-z])[A-Za-z]{{3}})$")
_GROUPING = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2007": " ",
                           "\u2019": "'", "\u2212": "-", "\u2013": "-"})
_NUMBER = re.compile(r"^[0-9][0-9.,' ]*$|^[.,][0-9]+$")


def _strip_currency(text: str) -> tuple[str, str | None]:
    """Take one currency sign or code off either end: ('1.234,50', 'EUR') for '€1.234,50'."""
    found = None
    match = _CURRENCY.match(text)
    if match:
        found, text = match.group(0), text[match.end():].strip()
    else:
        match = _CURRENCY_END.search(text)
        if match:
            found, text = match.group(0), text[:match.start()].strip()
    if found is None:
        return text, None
    return text, SIGNS.get(found, found.upper())


def split_money(text: str) -> tuple[bool, str, str | None]:
    """(negative, digits and separators, currency) of a money text, peeling the decorations off
    in any order: `$ (1,234.50)`, `-€75`, `€-75`, `75.00- USD`. CellError when they make no
    sense (two minus signs, two currencies, an unbalanced parenthesis)."""
    text = text.translate(_GROUPING).strip()
    minus = 0
    currency = None
    for _ in range(4):
        before = text
        if text[:1] == "(" and text[-1:] == ")":
            minus, text = minus + 1, text[1:-1].strip()
        if text[:1] in ("-", "+") and text:
            minus, text = minus + (text[0] == "-"), text[1:].strip()
        if text[-1:] == "-":
            minus, text = minus + 1, text[:-1].strip()
        if currency is None:
            text, currency = _strip_currency(text)
        if text == before:
            break
    if minus > 1:
        raise CellError("is not an amount (two minus signs)")
    if "(" in text or ")" in text:
        raise CellError("is not an amount (unbalanced parenthesis)")
    return minus == 1, text, currency


def parse_digits(text: str, max_decimals: int | None = 2) -> float:
    """'1.234,50' -> 1234.5 by the I6 rule; with max_decimals=None (exchange rates) a single
    separator followed by any number of digits is the decimal mark."""
    if not _NUMBER.match(text):
        raise CellError("is not a number")
    parts = re.split(r"([.,' ])", text)
    digits, separators = parts[0::2], parts[1::2]
    if not separators:
        return float(text)
    last = separators[-1]
    tail = digits[-1]
    decimal = None
    if last in ".," and (len(tail) in (1, 2) or (max_decimals is None and len(separators) == 1
                                                and separators[0] in ".," and tail)):
        decimal = last
    elif last in ".," and len(tail) != 3:
        raise CellError("has more than two decimals" if len(tail) > 3 else "is not a number")
    groups, group_separators = (digits[:-1], separators[:-1]) if decimal else (digits, separators)
    if decimal and decimal in group_separators:
        raise CellError("is not a number (the decimal mark is also used for thousands)")
    if len(set(s for s in group_separators if s in ".,")) > 1:
        raise CellError("is not a number (mixed thousands separators)")
    if group_separators:
        if not 1 <= len(groups[0]) <= 3 or groups[0] == "0" or any(len(g) != 3 for g in groups[1:]):
            raise CellError("is not a number (thousands are not grouped by three)")
    whole = "".join(groups) or "0"
    return float(f"{whole}.{tail}" if decimal else whole)


def parse_money(value: object, max_decimals: int | None = 2) -> tuple[float, str | None]:
    """An amount and the currency its text names, if any (I6). Numbers pass through."""
    if isinstance(value, bool):
        raise CellError("is true/false, not an amount")
    if isinstance(value, (int, float)):
        if value != value or value in (float("inf"), float("-inf")):
            raise CellError("is not a finite number")
        return float(value), None
    if not isinstance(value, str):
        raise CellError("is a date, not an amount" if hasattr(value, "year") else "is not an amount")
    negative, digits, currency = split_money(value)
    if not digits:
        raise CellError("is not an amount")
    number = parse_digits(digits, max_decimals)
    return (-number if negative else number), currency


def parse_number(value: object) -> float:
    """An amount as a plain number, whatever currency it names (kept for callers that only need
    the figure)."""
    return parse_money(value)[0]


def parse_count(value: object) -> int:
    """A whole number of 0 or more ('2', 2, 2.0); blank is 0."""
    if is_blank(value):
        return 0
    number = parse_number(value)
    if number < 0 or not float(number).is_integer():
        raise CellError("is not a whole number of 0 or more")
    return int(number)


def parse_signed_points(value: object) -> int:
    """A whole number of points of either sign ('-150', 250.0): an R17 adjustment; blank is 0."""
    if is_blank(value):
        return 0
    number = parse_number(value)
    if not float(number).is_integer():
        raise CellError("is not a whole number of points")
    return int(number)
