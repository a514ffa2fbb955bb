from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from k2_platform.schemas.decimals import DecimalRejected, parse_decimal, to_scale


@pytest.mark.parametrize(
    "text, expected",
    [
        ("61837.63000000", Decimal("61837.63")),
        ("46116860414", Decimal("46116860414")),
        ("0.0000001234", Decimal("0.0000001234")),
        ("105433.6", Decimal("105433.6")),
        ("1e-8", Decimal("0.00000001")),
        ("99999999999999999999.999999999999999999", Decimal("99999999999999999999.999999999999999999")),
    ],
)
def test_exact_values_parse_exactly(text, expected):
    value = parse_decimal(text)
    assert value == expected
    stored = to_scale(value)
    assert stored == expected
    assert stored.as_tuple().exponent == -18


@pytest.mark.parametrize(
    "text, reason",
    [
        ("NaN", "not a decimal number"),
        ("Infinity", "not a decimal number"),
        ("-inf", "not a decimal number"),
        ("abc", "not a decimal number"),
        ("", "not a decimal number"),
        ("0x10", "not a decimal number"),
        ("1.2.3", "not a decimal number"),
        ("0.0000000000000000001", "more than 18 decimal places"),
        ("123456789012345678901", "more than 20 integer digits"),
        ("1e21", "more than 20 integer digits"),
    ],
)
def test_values_that_do_not_fit_are_rejected_with_reason(text, reason):
    with pytest.raises(DecimalRejected, match=reason):
        parse_decimal(text, "price")


def test_reason_names_the_field():
    with pytest.raises(DecimalRejected, match=r"^quantity: 'NaN'"):
        parse_decimal("NaN", "quantity")


@given(st.decimals(min_value=Decimal("-1e19"), max_value=Decimal("1e19"), places=18, allow_nan=False, allow_infinity=False))
def test_any_value_that_fits_round_trips_through_its_text(value):
    assert parse_decimal(str(value)) == value
