"""Tagged entries in the embedded cache, and the catalog cache's JSON round trip of page data."""

from __future__ import annotations

from revoque.adapters.cache import EVERYTHING, MemoryCache
from revoque.services.catalog import (
    Crumb,
    HomeSections,
    ImageInfo,
    OptionInfo,
    ProductCard,
    ProductDetail,
    ProductPage,
    VariantInfo,
)
from revoque.services.catalog_cache import cache_key, decode, encode


def loads(values: list[str]):
    """A loader that returns the next value and counts its calls."""
    calls = []

    def load() -> str:
        calls.append(1)
        return values[len(calls) - 1]

    return load, calls


def test_invalidating_a_tag_drops_only_the_entries_that_carry_it() -> None:
    cache = MemoryCache()
    kettle, kettle_calls = loads(["kettle v1", "kettle v2"])
    mug, mug_calls = loads(["mug v1", "mug v2"])
    assert cache.get_or_set_tagged("page:kettle", ["product:1", "catalog"], kettle, ttl=60) == "kettle v1"
    assert cache.get_or_set_tagged("page:mug", ["product:2", "catalog"], mug, ttl=60) == "mug v1"
    assert cache.get_or_set_tagged("page:kettle", ["product:1", "catalog"], kettle, ttl=60) == "kettle v1"
    cache.invalidate("product:1")
    assert cache.get_or_set_tagged("page:kettle", ["product:1", "catalog"], kettle, ttl=60) == "kettle v2"
    assert cache.get_or_set_tagged("page:mug", ["product:2", "catalog"], mug, ttl=60) == "mug v1"
    assert (len(kettle_calls), len(mug_calls)) == (2, 1)
    cache.invalidate("catalog")
    assert cache.get_or_set_tagged("page:mug", ["product:2", "catalog"], mug, ttl=60) == "mug v2"


def test_invalidating_everything_drops_every_tagged_entry() -> None:
    cache = MemoryCache()
    before = [cache.tagged_key("a", ["x"]), cache.tagged_key("b", [])]
    assert before == [cache.tagged_key("a", ["x"]), cache.tagged_key("b", [])]  # stable until invalidated
    cache.invalidate(EVERYTHING)
    after = [cache.tagged_key("a", ["x"]), cache.tagged_key("b", [])]
    assert all(old != new for old, new in zip(before, after, strict=True))


def test_a_ttl_of_zero_still_loads_through_tags() -> None:
    cache = MemoryCache()
    load, calls = loads(["one", "two"])
    assert cache.get_or_set_tagged("k", ["t"], load, ttl=0) == "one"
    assert cache.get_or_set_tagged("k", ["t"], load, ttl=0) == "two"
    assert len(calls) == 2


def card(number: int, in_stock: bool = True) -> ProductCard:
    return ProductCard(
        number, f"p{number}", f"P {number}", "", f"/product/p{number}", "/x.jpg", "", "₦1,000", "", 0, in_stock
    )


def test_page_data_comes_back_from_json_as_the_same_dataclasses() -> None:
    detail = ProductDetail(
        id=7,
        slug="wrap-dress",
        title="Wrap Dress",
        description="Soft.",
        brand="Adire Co",
        breadcrumbs=[Crumb("Home", "/"), Crumb("Dresses", "/category/dresses")],
        images=[ImageInfo("/media/a.jpg", "front")],
        options=[OptionInfo("Size", ["M", "L"])],
        variants=[VariantInfo(1, "WD-M", "M", ["M"], "₦5,000", "", 0, 0, "Out of stock", False)],
        price_range_text="₦5,000",
    )
    for kind, value in [
        (ProductDetail | None, detail),
        (ProductDetail | None, None),
        (ProductPage, ProductPage([card(1), card(2, in_stock=False)], 2, 1, 1, 16, "newest")),
        (HomeSections, HomeSections(featured=[card(3)])),
        (list[ProductCard], [card(4)]),
    ]:
        assert decode(kind, encode(value)) == value


def test_keys_from_urls_stay_short() -> None:
    assert cache_key("category", "shoes") == "catalog:v1:category:shoes"
    long = cache_key("category", "x" * 5000)
    assert len(long) < 100 and long != cache_key("category", "x" * 4999)
