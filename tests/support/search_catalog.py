"""The fixed catalog the search tests run against, built with tests.factories.

Every price and age is distinct, so each sort has exactly one right answer. Words were picked for
the typo rules: "Sneakers"/"Speakers" are one typo apart after the first letter, "Leather"/"Feather"
only differ in the first letter (two typos, so no match), "Tote"/"Tone" are too short for typos.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from tests.factories import add_brand, add_category, add_product


@dataclass(frozen=True)
class SearchCatalog:
    ids: dict[str, int]  # title → product id, active products only
    archived_id: int

    def titles(self, ids: list[int]) -> list[str]:
        by_id = {product_id: title for title, product_id in self.ids.items()}
        return [by_id.get(product_id, f"#{product_id}") for product_id in ids]


# title → price in naira (lowest variant), days since created
PRICES = {
    "Leather Sneakers": 25_000,
    "Canvas Sneakers": 12_000,
    "Leather Belt": 8_000,
    "Feather Pillow": 6_500,
    "Canvas Tote": 15_000,
    "Two Tone Watch": 120_000,
    "Oxford Shirt": 18_000,
    "Linen Shirt": 60_000,
    "Bluetooth Speakers": 45_000,
}
AGES = {
    "Two Tone Watch": 1,
    "Canvas Tote": 2,
    "Linen Shirt": 3,
    "Canvas Sneakers": 5,
    "Bluetooth Speakers": 8,
    "Leather Sneakers": 10,
    "Oxford Shirt": 15,
    "Feather Pillow": 20,
    "Leather Belt": 30,
}


def build_search_catalog(session: Session) -> SearchCatalog:
    clothing = add_category(session, "Clothing")
    shirts = add_category(session, "Shirts", clothing)
    shoes = add_category(session, "Shoes")
    sneakers = add_category(session, "Sneakers", shoes)
    bags = add_category(session, "Bags")
    home = add_category(session, "Home")
    accessories = add_category(session, "Accessories")
    electronics = add_category(session, "Electronics")
    arewa, kano, eko = (
        add_brand(session, "Arewa Sports"),
        add_brand(session, "Kano Leather"),
        add_brand(session, "Eko Threads"),
    )

    def product(title: str, category, brand, variants):
        return add_product(session, title, category=category, brand=brand, age_days=AGES[title], variants=variants)

    def naira(title: str, extra: int = 0) -> int:
        return (PRICES[title] + extra) * 100

    products = [
        product(
            "Leather Sneakers",
            sneakers,
            arewa,
            [
                ({"Size": "40", "Colour": "White"}, naira("Leather Sneakers"), 3),
                ({"Size": "41", "Colour": "White"}, naira("Leather Sneakers"), 0),
                ({"Size": "42", "Colour": "Black"}, naira("Leather Sneakers", 2_000), 2),
            ],
        ),
        product(
            "Canvas Sneakers",
            sneakers,
            arewa,
            [
                ({"Size": "41", "Colour": "Red"}, naira("Canvas Sneakers"), 0),
                ({"Size": "42", "Colour": "Red"}, naira("Canvas Sneakers"), 0),
            ],
        ),
        product("Leather Belt", accessories, kano, [({"Colour": "Brown"}, naira("Leather Belt"), 4)]),
        product("Feather Pillow", home, None, [({}, naira("Feather Pillow"), 5)]),
        product("Canvas Tote", bags, kano, [({"Colour": "Beige"}, naira("Canvas Tote"), 6)]),
        product("Two Tone Watch", accessories, eko, [({}, naira("Two Tone Watch"), 1)]),
        product(
            "Oxford Shirt",
            shirts,
            eko,
            [
                ({"Size": "S", "Colour": "White"}, naira("Oxford Shirt"), 2),
                ({"Size": "M", "Colour": "Blue"}, naira("Oxford Shirt"), 2),
            ],
        ),
        product(
            "Linen Shirt",
            shirts,
            eko,
            [
                ({"Size": "M", "Colour": "White"}, naira("Linen Shirt"), 1),
                ({"Size": "L", "Colour": "White"}, naira("Linen Shirt", 4_000), 1),
            ],
        ),
        product("Bluetooth Speakers", electronics, None, [({}, naira("Bluetooth Speakers"), 3)]),
    ]
    archived = add_product(session, "Leather Jacket", category=clothing, brand=kano, status="archived")
    return SearchCatalog(ids={p.title: p.id for p in products}, archived_id=archived.id)
