"""Pure catalog rules: paging, sorting names, stock wording and the variant picker's lookup."""

import pytest

from revoque.services.catalog import (
    OptionInfo,
    ProductDetail,
    SortOrder,
    VariantInfo,
    clamp_page,
    default_selection,
    find_variant,
    parse_sort,
    stock_label,
)


@pytest.mark.parametrize(
    ("page", "total", "size", "expected"),
    [
        (1, 0, 24, (1, 1)),
        (5, 0, 24, (1, 1)),
        (2, 48, 24, (2, 2)),
        (3, 49, 24, (3, 3)),
        (9, 49, 24, (3, 3)),
        (0, 10, 24, (1, 1)),
        (-3, 100, 10, (1, 10)),
    ],
)
def test_clamp_page(page, total, size, expected):
    assert clamp_page(page, total, size) == expected


def test_parse_sort_falls_back_on_unknown_values():
    assert parse_sort("price_desc") is SortOrder.PRICE_DESC
    assert parse_sort("drop table") is SortOrder.NEWEST
    assert parse_sort(None, SortOrder.FEATURED) is SortOrder.FEATURED


@pytest.mark.parametrize(
    ("stock", "tracked", "label"),
    [
        (0, True, "Out of stock"),
        (-1, True, "Out of stock"),
        (1, True, "Only 1 left"),
        (5, True, "Only 5 left"),
        (6, True, "In stock"),
        (0, False, "In stock"),
    ],
)
def test_stock_label(stock, tracked, label):
    assert stock_label(stock, tracked) == label


def _variant(vid: int, values: list[str], stock: int) -> VariantInfo:
    return VariantInfo(vid, f"SKU{vid}", "/".join(values), values, "₦1", "", 0, stock, stock_label(stock), stock > 0)


def _detail(variants: list[VariantInfo], options: list[OptionInfo]) -> ProductDetail:
    return ProductDetail(1, "p", "P", "", "", [], [], options, variants, "₦1")


def test_find_variant_matches_the_whole_selection():
    detail = _detail(
        [_variant(1, ["S", "Red"], 0), _variant(2, ["M", "Red"], 4)],
        [OptionInfo("Size", ["S", "M"]), OptionInfo("Colour", ["Red"])],
    )
    assert find_variant(detail, ["M", "Red"]).id == 2
    assert find_variant(detail, ["S", "Blue"]) is None
    assert default_selection(detail) == ["M", "Red"]


def test_single_variant_products_need_no_selection():
    detail = _detail([_variant(7, [], 3)], [])
    assert find_variant(detail, []).id == 7
    assert default_selection(detail) == []
