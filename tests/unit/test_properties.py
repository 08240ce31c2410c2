"""Property-based tests (hypothesis): totals, tax rounding, coupons, money parsing and the import
parser hold their rules for any input, not only the examples the other tests chose.

- totals: never negative, the discount never exceeds the subtotal, the parts add up to the total,
  and tax is ``taxable × rate`` rounded half-up once (as ``revoque/services/pricing.py`` documents);
- coupons: a discount is never negative and never more than the subtotal;
- money: what ``format_money`` writes, ``parse_money`` reads back; anything else is a clear error;
- import parser: any cell text is a parsed value or a ValidationError naming the text, never another
  exception, and a whole sheet of arbitrary text is a ParsedFile (problems, no exception).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from revoque.errors import ValidationError
from revoque.models import Coupon, CouponKind
from revoque.services import import_parsing, pricing
from revoque.services.import_parsing import INT_MAX, parse_products
from revoque.services.money import format_money, parse_money
from revoque.services.sheets import Sheet, cell_text

settings.register_profile(
    "revoque", deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)  # no .hypothesis folder in the checkout; failures print their example
settings.load_profile("revoque")

MONEY = st.integers(min_value=0, max_value=10**13)  # up to ₦100 billion in kobo
RATES = st.integers(min_value=0, max_value=pricing.BASIS_POINTS)
CELL = st.one_of(
    st.text(max_size=40),
    st.from_regex(r"[-+(]?[₦$N]?\s?[\d,. ]{0,24}\s?(kg|g|oz|lb|NGN|naira)?\)?", fullmatch=True),
    st.sampled_from(["NaN", "Infinity", "-1", "1e999", "sNaN", "١٢٣", "²", "0x10", "1_000", ".", ",", "--5", "(5)"]),
)


def half_up(numerator: int, denominator: int) -> int:
    return int((Decimal(numerator) / Decimal(denominator)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


# --- totals and tax ---------------------------------------------------------------------------------


@given(st.integers(min_value=0, max_value=10**18), st.integers(min_value=1, max_value=10**8))
@example(5, 10)  # exactly .5 goes up
@example(15, 10)
@example(4, 10)
def test_round_half_up_is_decimal_half_up(numerator, denominator):
    assert pricing.round_half_up(numerator, denominator) == half_up(numerator, denominator)


@given(subtotal=MONEY, discount=MONEY, shipping=MONEY, rate=RATES, inclusive=st.booleans())
@example(subtotal=1_000, discount=0, shipping=0, rate=750, inclusive=False)  # 75 exactly
@example(subtotal=20, discount=0, shipping=0, rate=2_500, inclusive=False)  # 5.0
@example(subtotal=2, discount=0, shipping=0, rate=2_500, inclusive=False)  # 0.5 → 1
def test_totals_never_negative_and_add_up(subtotal, discount, shipping, rate, inclusive):
    totals = pricing.compute_totals(subtotal, discount, shipping, rate, inclusive)
    assert min(totals.subtotal, totals.discount, totals.tax, totals.shipping, totals.total) >= 0
    assert totals.discount == min(discount, subtotal)
    taxable = subtotal - totals.discount
    if inclusive:
        assert totals.tax == half_up(taxable * rate, pricing.BASIS_POINTS + rate)
        assert totals.total == taxable + shipping
        assert totals.tax <= taxable
    else:
        assert totals.tax == half_up(taxable * rate, pricing.BASIS_POINTS)
        assert totals.total == taxable + totals.tax + shipping
        assert totals.tax <= taxable
    assert totals.total >= shipping


@given(lines=st.lists(st.tuples(MONEY, st.integers(min_value=1, max_value=99)), min_size=1, max_size=8), rate=RATES)
def test_tax_is_charged_once_on_the_order_so_splitting_lines_changes_nothing(lines, rate):
    """An order's line totals sum to its subtotal, and the tax depends only on that sum: the same
    goods as one line per unit give the same totals."""
    subtotal = sum(price * quantity for price, quantity in lines)
    per_unit = sum(price for price, quantity in lines for _ in range(quantity))
    assert per_unit == subtotal
    assert pricing.compute_totals(subtotal, 0, 0, rate, False) == pricing.compute_totals(per_unit, 0, 0, rate, False)


@given(
    st.integers(min_value=-(10**9), max_value=-1),
    st.sampled_from(["subtotal", "discount", "shipping"]),
)
def test_negative_amounts_are_refused_with_their_name(amount, name):
    values = {"subtotal": 0, "discount": 0, "shipping": 0, name: amount}
    with pytest.raises(ValidationError, match=f"The {name} cannot be negative"):
        pricing.compute_totals(values["subtotal"], values["discount"], values["shipping"], 750, False)


@given(st.one_of(st.integers(max_value=-1), st.integers(min_value=pricing.BASIS_POINTS + 1)))
def test_rates_outside_0_to_100_percent_are_refused(rate):
    with pytest.raises(ValidationError, match="tax rate"):
        pricing.compute_totals(100, 0, 0, rate, False)


# --- coupons ----------------------------------------------------------------------------------------


@given(
    kind=st.sampled_from([CouponKind.PERCENT, CouponKind.FIXED]),
    value=st.integers(min_value=0, max_value=10**12),
    subtotal=MONEY,
    shipping=MONEY,
    rate=RATES,
)
def test_a_coupon_never_takes_more_than_the_subtotal(kind, value, subtotal, shipping, rate):
    coupon = Coupon(code="ANY", kind=kind, value=value)
    discount = pricing.coupon_discount(coupon, subtotal)
    assert 0 <= discount <= subtotal
    if kind == CouponKind.PERCENT:
        assert discount == min(half_up(subtotal * value, pricing.BASIS_POINTS), subtotal)
    else:
        assert discount == min(value, subtotal)
    totals = pricing.compute_totals(subtotal, discount, shipping, rate, True)
    assert totals.total >= shipping and totals.discount == discount


# --- money ------------------------------------------------------------------------------------------


@given(minor=st.integers(min_value=0, max_value=10**16), currency=st.sampled_from(["NGN", "USD", "GHS", "XYZ"]))
def test_formatted_money_parses_back(minor, currency):
    assert parse_money(format_money(minor, currency), currency) == minor


@given(CELL)
@example("NaN")
@example("Infinity")
@example("1e30")
@example("9" * 40)
def test_money_text_is_an_amount_or_a_clear_error(text):
    try:
        amount = parse_money(text, "NGN")
    except ValidationError as exc:
        assert repr(text) in str(exc) or "negative" in str(exc)
    else:
        assert 0 <= amount < 10**17


# --- the import parser ------------------------------------------------------------------------------

PARSERS = {
    "price": lambda text: import_parsing.parse_price(text, "NGN"),
    "count": import_parsing.parse_count,
    "bool": import_parsing.parse_bool,
    "status": import_parsing.parse_status,
    "weight": import_parsing.parse_weight,
}


@pytest.mark.parametrize("kind", sorted(PARSERS))
@given(text=CELL)
@example(text="9" * 40)
@example(text="1,2,3.4.5")
@example(text="99999999999999999999 kg")
def test_any_cell_is_a_value_or_a_clear_error(kind, text):
    try:
        value = PARSERS[kind](text)
    except ValidationError as exc:
        assert str(exc) and (repr(text) in str(exc) or text.strip() == "")
        return
    if kind in ("price", "count", "weight"):
        assert isinstance(value, int) and 0 <= value <= INT_MAX
    elif kind == "bool":
        assert isinstance(value, bool)
    else:
        assert value in ("active", "draft", "archived")


@given(st.text(max_size=80))
def test_slugs_and_lists_never_fail(text):
    slug = import_parsing.to_slug(text)
    assert slug == slug.strip("-") and all(ch.isascii() and (ch.isalnum() or ch == "-") for ch in slug)
    assert all(name.strip() for name in import_parsing.split_list(text))
    assert all(part for part in import_parsing.split_path(text))
    header = import_parsing.normalise_header(text)
    assert (
        set(header) <= set("abcdefghijklmnopqrstuvwxyz0123456789 ")
        and import_parsing.normalise_header(header) == header
    )


HEADERS = st.lists(
    st.one_of(st.sampled_from(import_parsing.TEMPLATE_COLUMNS), st.text(max_size=15)), min_size=1, max_size=8
)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(headers=HEADERS, data=st.data())
def test_a_sheet_of_arbitrary_text_is_parsed_into_drafts_and_problems(headers, data):
    rows = data.draw(st.lists(st.lists(CELL, min_size=len(headers), max_size=len(headers)), max_size=6))
    sheet = Sheet(headers=headers, rows=[(n + 2, cells) for n, cells in enumerate(rows)])
    parsed = parse_products(sheet, currency="NGN")
    assert parsed.rows == len(rows)
    for problem in parsed.problems:
        assert problem.message and problem.severity in ("error", "warning")
        assert problem.row is None or 2 <= problem.row <= len(rows) + 1
    for draft in parsed.drafts:
        for variant in draft.variants:
            for name in ("price", "compare_at_price", "stock", "weight_grams"):
                value = variant.fields.get(name)
                assert value is None or 0 <= value <= INT_MAX, (name, value)


@given(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.decimals(), st.text(max_size=30)))
def test_any_cell_value_reads_as_text(value):
    assert isinstance(cell_text(value), str)
