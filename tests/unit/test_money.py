import pytest

from revoque.errors import ValidationError
from revoque.services.money import discount_percent, format_money, parse_money


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [
        (1_250_000, "NGN", "₦12,500"),
        (1_250_050, "NGN", "₦12,500.50"),
        (5, "NGN", "₦0.05"),
        (0, "NGN", "₦0"),
        (-250_000, "NGN", "-₦2,500"),
        (199, "usd", "$1.99"),
        (1500, "JPY", "¥1,500"),
        (12345, "XOF", "XOF 123.45"),
    ],
)
def test_format_money(minor, currency, text):
    assert format_money(minor, currency) == text


@pytest.mark.parametrize(
    ("text", "minor"),
    [("12,500", 1_250_000), ("₦12500.5", 1_250_050), (" 0.05 ", 5), ("7", 700)],
)
def test_parse_money(text, minor):
    assert parse_money(text, "NGN") == minor


@pytest.mark.parametrize("text", ["abc", "1.234", "-5", ""])
def test_parse_money_refuses_bad_input_with_a_clear_message(text):
    with pytest.raises(ValidationError):
        parse_money(text, "NGN")


def test_round_trip_never_uses_floats():
    for minor in (1, 10, 99, 100, 101, 123_456_789):
        assert parse_money(format_money(minor, "NGN"), "NGN") == minor


@pytest.mark.parametrize(
    ("price", "compare", "percent"),
    [(750, 1000, 25), (1000, 1000, 0), (1000, None, 0), (1000, 900, 0), (999, 1000, 0), (666, 1000, 33)],
)
def test_discount_percent_rounds_down(price, compare, percent):
    assert discount_percent(price, compare) == percent
