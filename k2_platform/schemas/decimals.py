"""Exact decimal parsing: market values never pass through a float.

Every price and quantity K2 stores fits decimal(38, 18): up to 20 integer digits and 18 fraction
digits, which holds SHIB-class quantities (46,116,860,414) and sub-satoshi prices (0.0000001234).
A value that does not fit is rejected with its reason, never rounded.
"""

from __future__ import annotations

import re
from decimal import Context, Decimal, InvalidOperation

PRECISION = 38
SCALE = 18
MAX_INTEGER_DIGITS = PRECISION - SCALE
# The default context keeps 28 digits, too few to rescale a 20-digit value to 18 places.
_STORAGE_CONTEXT = Context(prec=PRECISION)
_QUANTUM = Decimal(1).scaleb(-SCALE)

# Plain decimal notation or JSON number (optional exponent); no NaN, no Infinity, no hex.
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*|\d+)(?:\.\d+)?(?:[eE][+-]?\d+)?")


class DecimalRejected(ValueError):
    """A value that cannot be stored exactly; the message is the recorded reason."""


def parse_decimal(text: str | bytes, field: str = "value") -> Decimal:
    """Parse the raw text of a number into an exact Decimal that fits decimal(38, 18)."""
    if isinstance(text, bytes):
        text = text.decode("ascii", errors="replace")
    if not isinstance(text, str):
        raise DecimalRejected(f"{field}: expected the number's text, got {type(text).__name__}")
    stripped = text.strip()
    if not _NUMBER.fullmatch(stripped):
        raise DecimalRejected(f"{field}: {text!r} is not a decimal number")
    try:
        value = Decimal(stripped)
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only valid literals
        raise DecimalRejected(f"{field}: {text!r} is not a decimal number") from exc
    return check_fits(value, field)


def check_fits(value: Decimal, field: str = "value") -> Decimal:
    """Return value unchanged if decimal(38, 18) holds it exactly, else raise DecimalRejected."""
    if not value.is_finite():
        raise DecimalRejected(f"{field}: {value} is not a finite number")
    # Count digits from the tuple: normalize() would round under the 28-digit default context.
    _, digits, exponent = value.as_tuple()
    significant = "".join(map(str, digits)).rstrip("0") or "0"
    exponent += len(digits) - len(significant)
    if -exponent > SCALE:
        raise DecimalRejected(f"{field}: {value} has more than {SCALE} decimal places")
    if significant != "0" and len(significant) + exponent > MAX_INTEGER_DIGITS:
        raise DecimalRejected(f"{field}: {value} has more than {MAX_INTEGER_DIGITS} integer digits")
    return value


def to_scale(value: Decimal) -> Decimal:
    """The value at the storage scale (18 places); exact because check_fits passed."""
    return value.quantize(_QUANTUM, context=_STORAGE_CONTEXT)
