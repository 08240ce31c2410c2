"""A large generated catalog for the search benchmark, written with bulk inserts of the real tables.

``write_catalog`` fills a fresh, migrated database with ``count`` products spread over a 60-node
category tree (10 departments × 5 subcategories), ~120 brands and ~30 tags. Each product has options
(size, colour, storage…) and variants with prices in minor units and stock, so the documents that
``revoque.services.search_documents`` builds look like a real store's: titles such as "Slim Fit Linen
Oxford Shirt", descriptions of 50–90 words, sizes and colours to facet on, prices across every band.

Rows are inserted with SQLAlchemy core ``executemany`` and ids assigned here (the database is new),
so 50,000 products take seconds instead of the minutes ORM objects one at a time would. Everything
derives from one seeded ``random.Random``, so runs are comparable.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Table

from revoque.models import (
    Brand,
    Category,
    Product,
    ProductImage,
    ProductOption,
    ProductOptionValue,
    ProductStatus,
    ProductTag,
    Tag,
    Variant,
    VariantOptionValue,
)

INSERT_CHUNK = 10_000
HISTORY_DAYS = 365
DRAFT_SHARE, ARCHIVED_SHARE, SOLD_OUT_SHARE, SALE_SHARE = 0.02, 0.01, 0.08, 0.15

COLOURS = (
    "Black", "White", "Navy", "Red", "Olive", "Mustard", "Burgundy", "Sky Blue", "Emerald", "Pink",
    "Brown", "Tan", "Beige", "Grey", "Silver", "Gold", "Cream", "Green", "Yellow", "Purple",
)  # fmt: skip

# Option schemes: (option name, values, how many consecutive values a product offers (min, max)).
SCHEMES: dict[str, tuple[tuple[str, tuple[str, ...], tuple[int, int]], ...]] = {
    "single": (),
    "apparel": (("Size", ("XS", "S", "M", "L", "XL", "XXL"), (2, 4)), ("Colour", COLOURS, (1, 2))),
    "shoes": (("Size", tuple(str(n) for n in range(36, 47)), (3, 4)), ("Colour", COLOURS, (1, 2))),
    "kids": (("Size", ("2-3Y", "4-5Y", "6-7Y", "8-9Y", "10-11Y"), (2, 3)), ("Colour", COLOURS, (1, 2))),
    "colour": (("Colour", COLOURS, (1, 3)),),
    "storage": (("Storage", ("64GB", "128GB", "256GB", "512GB"), (2, 3)), ("Colour", COLOURS, (1, 2))),
    "volume": (("Size", ("30ml", "50ml", "100ml", "200ml", "500ml"), (2, 2)),),
    "bedding": (("Size", ("Single", "Double", "King", "Super King"), (2, 3)), ("Colour", COLOURS, (1, 1))),
    "weight": (("Size", ("250g", "500g", "1kg", "2kg"), (1, 2)),),
}


@dataclass(frozen=True)
class Sub:
    """A subcategory: the things sold in it, how they vary, and their price band in naira."""

    name: str
    scheme: str
    naira: tuple[int, int]
    noun_list: str  # "|"-separated, so the table below stays one line per subcategory

    @property
    def nouns(self) -> tuple[str, ...]:
        return tuple(self.noun_list.split("|"))


@dataclass(frozen=True)
class Department:
    """A top-level category with the words its products are described with."""

    name: str
    adjectives: tuple[str, ...]
    materials: tuple[str, ...]
    uses: tuple[str, ...]
    brand_suffixes: tuple[str, ...]
    subs: tuple[Sub, ...]


DEPARTMENTS: tuple[Department, ...] = (
    Department(
        "Men's Clothing",
        ("Slim Fit", "Classic", "Relaxed", "Tailored", "Lightweight", "Premium", "Everyday", "Vintage"),
        ("Cotton", "Linen", "Denim", "Wool Blend", "Ankara Print", "Piqué", "Twill", "Jersey"),
        ("the office", "a Friday owambe", "weekend errands", "church on Sunday", "a long Lagos afternoon"),
        ("Threads", "Tailors", "Menswear"),
        (
            Sub(
                "Men's Shirts", "apparel", (6_500, 25_000), "Oxford Shirt|Linen Shirt|Polo Shirt|Dress Shirt|Overshirt"
            ),
            Sub(
                "Men's T-Shirts",
                "apparel",
                (3_500, 12_000),
                "Crew Neck T-Shirt|V-Neck T-Shirt|Graphic Tee|Henley|Tank Top",
            ),
            Sub("Trousers & Shorts", "apparel", (7_000, 28_000), "Chinos|Jeans|Cargo Shorts|Joggers|Suit Trousers"),
            Sub("Men's Native Wear", "apparel", (15_000, 90_000), "Kaftan|Agbada|Senator Suit|Dashiki|Buba and Sokoto"),
            Sub("Jackets & Coats", "apparel", (12_000, 65_000), "Bomber Jacket|Denim Jacket|Blazer|Rain Jacket|Hoodie"),
        ),
    ),
    Department(
        "Women's Clothing",
        ("Flowy", "Fitted", "Elegant", "Casual", "Chic", "Floral", "Pleated", "Ruffled"),
        ("Chiffon", "Satin", "Cotton", "Ankara Print", "Adire", "Lace", "Crepe", "Silk"),
        ("brunch with friends", "a wedding guest look", "the office", "date night", "a day at the beach"),
        ("Atelier", "Couture", "Boutique"),
        (
            Sub("Dresses", "apparel", (9_000, 45_000), "Maxi Dress|Midi Dress|Wrap Dress|Shirt Dress|Bodycon Dress"),
            Sub("Tops & Blouses", "apparel", (5_000, 18_000), "Blouse|Crop Top|Camisole|Tunic|Peplum Top"),
            Sub(
                "Skirts & Trousers",
                "apparel",
                (7_000, 26_000),
                "Pleated Skirt|Pencil Skirt|Wide Leg Trousers|Palazzo Pants|Mom Jeans",
            ),
            Sub(
                "Women's Native Wear",
                "apparel",
                (14_000, 80_000),
                "Ankara Gown|Iro and Buba|Kaftan Dress|Adire Jumpsuit|Gele Set",
            ),
            Sub("Lingerie & Sleepwear", "apparel", (4_500, 20_000), "Pyjama Set|Nightgown|Robe|Bralette|Lounge Set"),
        ),
    ),
    Department(
        "Shoes",
        ("Comfort", "Classic", "Lightweight", "Handmade", "Waterproof", "Cushioned", "Leather", "Suede"),
        ("full-grain leather", "breathable mesh", "soft suede", "canvas", "recycled rubber", "memory foam"),
        ("all-day walking", "the gym", "a smart dinner", "school runs", "the rainy season"),
        ("Footwear", "Cobblers", "Steps"),
        (
            Sub(
                "Sneakers",
                "shoes",
                (12_000, 75_000),
                "Running Sneakers|Canvas Sneakers|High Top Sneakers|Trainers|Slip-On Sneakers",
            ),
            Sub("Men's Shoes", "shoes", (15_000, 85_000), "Oxford Shoes|Loafers|Chelsea Boots|Brogues|Leather Sandals"),
            Sub(
                "Women's Shoes",
                "shoes",
                (11_000, 70_000),
                "Stiletto Heels|Ballet Flats|Ankle Boots|Mules|Wedge Sandals",
            ),
            Sub(
                "Kids' Shoes",
                "shoes",
                (5_000, 22_000),
                "School Shoes|Light-Up Sneakers|Kids Sandals|Rain Boots|Slippers",
            ),
            Sub(
                "Sports Shoes",
                "shoes",
                (18_000, 95_000),
                "Football Boots|Basketball Shoes|Tennis Shoes|Training Shoes|Hiking Boots",
            ),
        ),
    ),
    Department(
        "Bags & Accessories",
        ("Structured", "Compact", "Oversized", "Minimalist", "Statement", "Vintage", "Everyday", "Luxury"),
        ("genuine leather", "vegan leather", "woven raffia", "stainless steel", "gold-plated brass", "nylon"),
        ("work and travel", "evenings out", "the daily commute", "a weekend away", "gifting"),
        ("Leatherworks", "Goods", "Accessories"),
        (
            Sub("Handbags", "colour", (9_000, 120_000), "Tote Bag|Crossbody Bag|Clutch|Shoulder Bag|Bucket Bag"),
            Sub(
                "Backpacks & Travel",
                "colour",
                (8_000, 150_000),
                "Backpack|Laptop Backpack|Duffel Bag|Suitcase|Travel Pouch",
            ),
            Sub(
                "Watches",
                "colour",
                (15_000, 250_000),
                "Analogue Watch|Chronograph Watch|Dress Watch|Digital Watch|Sports Watch",
            ),
            Sub("Jewellery", "colour", (3_000, 60_000), "Necklace|Hoop Earrings|Beaded Bracelet|Signet Ring|Anklet"),
            Sub(
                "Sunglasses & Belts",
                "colour",
                (4_000, 40_000),
                "Aviator Sunglasses|Wayfarer Sunglasses|Leather Belt|Wallet|Baseball Cap",
            ),
        ),
    ),
    Department(
        "Electronics",
        ("Wireless", "Portable", "Smart", "Ultra-Slim", "Pro", "Compact", "Rugged", "Fast-Charging"),
        ("a 5000 mAh battery", "Bluetooth 5.3", "active noise cancelling", "a full HD display", "USB-C charging"),
        ("working from home", "long commutes", "power cuts", "gaming", "video calls"),
        ("Electronics", "Tech", "Digital"),
        (
            Sub(
                "Phones & Tablets",
                "storage",
                (25_000, 650_000),
                "Smartphone|Android Phone|Tablet|Mobile Phone|Phone Case",
            ),
            Sub("Audio", "colour", (8_000, 220_000), "Headphones|Earbuds|Bluetooth Speaker|Soundbar|Gaming Headset"),
            Sub("Computing", "colour", (6_000, 900_000), "Laptop|Mechanical Keyboard|Wireless Mouse|Monitor|USB Hub"),
            Sub(
                "Power & Charging",
                "single",
                (2_500, 350_000),
                "Power Bank|Fast Charger|Solar Lantern|Inverter|USB-C Cable",
            ),
            Sub(
                "TV & Video",
                "single",
                (12_000, 850_000),
                "Smart TV|Projector|Streaming Stick|TV Wall Mount|Action Camera",
            ),
        ),
    ),
    Department(
        "Home & Kitchen",
        ("Non-Stick", "Heavy-Duty", "Modern", "Rustic", "Stackable", "Easy-Clean", "Handwoven", "Family-Size"),
        ("stainless steel", "cast iron", "Egyptian cotton", "solid wood", "tempered glass", "ceramic"),
        ("Sunday jollof", "busy weeknights", "hosting guests", "a cosy bedroom", "small apartments"),
        ("Home", "Kitchenware", "Living"),
        (
            Sub("Cookware", "single", (6_000, 95_000), "Frying Pan|Pot Set|Pressure Cooker|Skillet|Stock Pot"),
            Sub(
                "Small Appliances", "colour", (9_000, 160_000), "Blender|Air Fryer|Electric Kettle|Toaster|Rice Cooker"
            ),
            Sub("Bedding", "bedding", (7_000, 85_000), "Duvet Cover|Bedsheet Set|Pillow|Mattress Topper|Throw Blanket"),
            Sub("Home Decor", "colour", (3_500, 55_000), "Scented Candle|Wall Art|Table Lamp|Vase|Cushion Cover"),
            Sub("Furniture", "colour", (35_000, 950_000), "Sofa|Coffee Table|Bookshelf|Office Chair|Bed Frame"),
        ),
    ),
    Department(
        "Beauty & Personal Care",
        ("Hydrating", "Brightening", "Gentle", "Organic", "Nourishing", "Long-Lasting", "Matte", "Fragrance-Free"),
        ("shea butter", "vitamin C", "hyaluronic acid", "black soap", "argan oil", "coconut oil"),
        ("dry harmattan skin", "a daily routine", "humid days", "natural hair", "sensitive skin"),
        ("Beauty", "Naturals", "Cosmetics"),
        (
            Sub("Skincare", "volume", (2_500, 38_000), "Face Cream|Serum|Sunscreen|Body Lotion|Cleanser"),
            Sub("Hair Care", "volume", (2_000, 25_000), "Shampoo|Conditioner|Hair Oil|Leave-In Cream|Edge Control"),
            Sub("Fragrance", "volume", (6_000, 120_000), "Perfume|Eau de Parfum|Body Mist|Cologne|Fragrance Oil"),
            Sub("Makeup", "colour", (2_500, 32_000), "Lipstick|Foundation|Mascara|Eyeshadow Palette|Setting Powder"),
            Sub("Men's Grooming", "single", (2_500, 45_000), "Beard Oil|Hair Clipper|Shaving Cream|Aftershave|Trimmer"),
        ),
    ),
    Department(
        "Sports & Outdoors",
        ("Pro", "Training", "All-Weather", "Lightweight", "Adjustable", "Foldable", "Durable", "Competition"),
        ("sweat-wicking fabric", "high-density foam", "reinforced stitching", "aluminium", "ripstop nylon"),
        ("morning runs", "home workouts", "five-a-side football", "camping trips", "weekend rides"),
        ("Sports", "Athletics", "Outdoors"),
        (
            Sub(
                "Fitness", "colour", (3_000, 75_000), "Yoga Mat|Dumbbell Set|Resistance Bands|Skipping Rope|Kettlebell"
            ),
            Sub(
                "Ball Sports",
                "single",
                (4_000, 60_000),
                "Football|Basketball|Volleyball|Tennis Racket|Table Tennis Set",
            ),
            Sub(
                "Sportswear",
                "apparel",
                (5_000, 35_000),
                "Football Jersey|Track Suit|Sports Bra|Running Shorts|Compression Tights",
            ),
            Sub("Camping", "colour", (5_000, 140_000), "Tent|Sleeping Bag|Camping Chair|Cooler Box|Torch"),
            Sub("Cycling", "colour", (4_000, 380_000), "Bicycle|Bike Helmet|Bike Lock|Cycling Gloves|Bike Light"),
        ),
    ),
    Department(
        "Kids",
        ("Colourful", "Educational", "Soft", "Durable", "Fun", "Washable", "Cute", "Safe"),
        ("BPA-free plastic", "organic cotton", "sustainable wood", "bright prints", "easy-grip handles"),
        ("school days", "playtime", "birthday gifts", "long car journeys", "bedtime"),
        ("Kids", "Little Ones", "Playhouse"),
        (
            Sub(
                "Kids' Clothing", "kids", (3_000, 16_000), "Kids T-Shirt|School Uniform|Party Dress|Kids Shorts|Romper"
            ),
            Sub(
                "Toys & Games",
                "single",
                (3_500, 65_000),
                "Building Blocks|Jigsaw Puzzle|Board Game|Remote Control Car|Doll",
            ),
            Sub("Baby", "single", (2_500, 70_000), "Baby Carrier|Feeding Bottle|Diapers|Baby Blanket|Baby Monitor"),
            Sub(
                "School Essentials",
                "colour",
                (1_500, 24_000),
                "School Bag|Lunch Box|Water Bottle|Pencil Case|Exercise Books",
            ),
            Sub("Books", "single", (1_500, 18_000), "Storybook|Colouring Book|Activity Book|Picture Book|Encyclopedia"),
        ),
    ),
    Department(
        "Food & Drinks",
        ("Spicy", "Crunchy", "Organic", "Family Pack", "Homemade", "Premium", "Sugar-Free", "Roasted"),
        ("locally grown ingredients", "pure palm oil", "roasted groundnuts", "natural spices", "whole grains"),
        ("movie nights", "the office snack drawer", "Christmas hampers", "quick breakfasts", "pepper soup"),
        ("Foods", "Farms", "Kitchen"),
        (
            Sub("Snacks", "weight", (800, 9_000), "Plantain Chips|Chin Chin|Cashew Nuts|Groundnuts|Cookies"),
            Sub("Beverages", "weight", (700, 12_000), "Zobo Drink|Instant Coffee|Green Tea|Malt Drink|Fruit Juice"),
            Sub("Pantry", "weight", (900, 45_000), "Jollof Seasoning|Palm Oil|Basmati Rice|Garri|Honey"),
            Sub(
                "Spices", "weight", (500, 6_000), "Suya Spice|Curry Powder|Dried Thyme|Pepper Soup Spice|Ginger Powder"
            ),
            Sub("Breakfast", "weight", (900, 11_000), "Oats|Cornflakes|Custard|Pancake Mix|Peanut Butter"),
        ),
    ),
)

BRAND_PREFIXES = (
    "Eko", "Lagos", "Abuja", "Naija", "Zuma", "Oshun", "Delta", "Kano", "Benin", "Jos", "Calabar", "Ife",
)  # fmt: skip
TAGS = (
    "New In", "Bestseller", "Eco Friendly", "Handmade", "Gift Idea", "Made in Nigeria", "Limited Edition",
    "Back to School", "Festive", "Clearance", "Staff Pick", "Travel Friendly", "Vegan", "Bundle Deal",
    "Exclusive", "Trending", "Premium", "Budget Buy", "Imported", "Local Artisan", "Unisex", "Plus Size",
    "Family Favourite", "Work From Home", "Rainy Season", "Harmattan", "Wedding Season", "Office Wear",
    "Weekend", "Everyday Essential",
)  # fmt: skip
OPENERS = (
    "{brand} made the {title} from {material} for {use}.",
    "Meet the {title} by {brand}: {material}, built for {use}.",
    "The {title} from {brand} pairs {material} with a design that suits {use}.",
    "Made with {material}, this {noun} from {brand} is ready for {use}.",
)
DETAILS = (
    "Every piece is checked by hand before it leaves our Lagos warehouse.",
    "It is easy to care for and keeps its look after months of regular use.",
    "Thoughtful details make it feel more expensive than it is.",
    "Customers love how well it holds up in heat, dust and humidity.",
    "Available in {options}, so there is one for everyone at home.",
    "The finish is neat inside and out, with nothing that snags or scratches.",
    "A favourite with our regular customers, and a safe choice as a gift.",
)
CLOSERS = (
    "Delivered anywhere in Nigeria, with free returns within 7 days.",
    "Order before noon for same-day dispatch in Lagos and Abuja.",
    "Backed by a 6-month warranty from {brand}.",
    "Pay on delivery or by card at checkout.",
)


@dataclass(frozen=True)
class NounFacts:
    """What the catalog says about one kind of product, so queries about it can be sensible."""

    category: str  # its subcategory's slug
    department: str  # its department's slug
    qualifiers: tuple[str, ...]  # words its titles or options carry: the department's adjectives, colours if offered
    brands: tuple[str, ...]  # the brands that make it
    naira: tuple[int, int]  # its price band


@dataclass
class Vocabulary:
    """Words the generated catalog uses, for building realistic search queries."""

    nouns: dict[str, NounFacts] = field(default_factory=dict)


@dataclass
class CatalogReport:
    products: int
    active: int
    variants: int
    categories: int
    brands: int
    vocabulary: Vocabulary


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


class _Ids:
    """Sequential primary keys per table (the database is new, so they start at 1)."""

    def __init__(self) -> None:
        self._last: dict[str, int] = {}

    def next(self, table: str) -> int:
        self._last[table] = self._last.get(table, 0) + 1
        return self._last[table]


class _Rows:
    """Rows waiting to be inserted, per table, flushed in chunks so memory stays flat."""

    ORDER = (Product, ProductTag, ProductImage, ProductOption, ProductOptionValue, Variant, VariantOptionValue)

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.pending: dict[Any, list[dict[str, Any]]] = {model: [] for model in self.ORDER}
        self.counts: dict[Any, int] = dict.fromkeys(self.ORDER, 0)

    def add(self, model: Any, row: dict[str, Any]) -> None:
        self.pending[model].append(row)
        if len(self.pending[model]) >= INSERT_CHUNK and model is Product:
            self.flush()

    def flush(self) -> None:
        """Insert in dependency order (products before their options before their variants)."""
        for model in self.ORDER:
            rows = self.pending[model]
            if rows:
                self.connection.execute(_table(model).insert(), rows)
                self.counts[model] += len(rows)
                rows.clear()


def _table(model: Any) -> Table:
    return model.__table__


def write_catalog(connection: Connection, count: int, seed: int = 7) -> CatalogReport:
    """Insert ``count`` products (and their categories, brands, tags…) into an empty catalog."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    vocabulary = Vocabulary()
    sub_rows, brand_ids = _write_taxonomy(connection, vocabulary)
    tag_ids = list(range(1, len(TAGS) + 1))
    connection.execute(
        _table(Tag).insert(), [{"id": i, "slug": slugify(t), "name": t} for i, t in zip(tag_ids, TAGS, strict=True)]
    )
    ids, rows = _Ids(), _Rows(connection)
    active = 0
    for number in range(1, count + 1):
        department, sub, category_id = sub_rows[rng.randrange(len(sub_rows))]
        status = _status(rng)
        active += status == ProductStatus.ACTIVE
        _add_product(
            rows, ids, rng, number, department, sub, category_id, brand_ids[department.name], tag_ids, status, now
        )
    rows.flush()
    return CatalogReport(
        products=count,
        active=active,
        variants=rows.counts[Variant],
        categories=len(sub_rows) + len(DEPARTMENTS),
        brands=sum(len(b) for b in brand_ids.values()),
        vocabulary=vocabulary,
    )


def _write_taxonomy(
    connection: Connection, vocabulary: Vocabulary
) -> tuple[list[tuple[Department, Sub, int]], dict[str, list[tuple[int, str]]]]:
    """Departments with their subcategories, and each department's own brands."""
    categories: list[dict[str, Any]] = []
    subs: list[tuple[Department, Sub, int]] = []
    brands: list[dict[str, Any]] = []
    brand_ids: dict[str, list[tuple[int, str]]] = {}
    for position, department in enumerate(DEPARTMENTS):
        parent_id = len(categories) + 1
        categories.append(_category(parent_id, None, department.name, position))
        brand_ids[department.name] = []
        for prefix in BRAND_PREFIXES:
            name = f"{prefix} {department.brand_suffixes[len(brands) % len(department.brand_suffixes)]}"
            brands.append({"id": len(brands) + 1, "slug": slugify(name), "name": name})
            brand_ids[department.name].append((len(brands), name))
        for sub_position, sub in enumerate(department.subs):
            category_id = len(categories) + 1
            categories.append(_category(category_id, parent_id, sub.name, sub_position))
            subs.append((department, sub, category_id))
            coloured = any(name == "Colour" for name, _values, _count in SCHEMES[sub.scheme])
            for noun in sub.nouns:
                vocabulary.nouns[noun] = NounFacts(
                    category=slugify(sub.name),
                    department=slugify(department.name),
                    qualifiers=department.adjectives + (COLOURS if coloured else ()),
                    brands=tuple(name for _id, name in brand_ids[department.name]),
                    naira=sub.naira,
                )
    connection.execute(_table(Category).insert(), categories)
    connection.execute(_table(Brand).insert(), brands)
    return subs, brand_ids


def _category(category_id: int, parent_id: int | None, name: str, position: int) -> dict[str, Any]:
    return {
        "id": category_id,
        "parent_id": parent_id,
        "slug": slugify(name),
        "name": name,
        "description": f"{name} at everyday prices.",
        "position": position,
        "image_key": None,
    }


def _status(rng: random.Random) -> ProductStatus:
    roll = rng.random()
    if roll < DRAFT_SHARE:
        return ProductStatus.DRAFT
    if roll < DRAFT_SHARE + ARCHIVED_SHARE:
        return ProductStatus.ARCHIVED
    return ProductStatus.ACTIVE


def _add_product(
    rows: _Rows,
    ids: _Ids,
    rng: random.Random,
    number: int,
    department: Department,
    sub: Sub,
    category_id: int,
    brands: Sequence[tuple[int, str]],
    tag_ids: Sequence[int],
    status: ProductStatus,
    now: datetime,
) -> None:
    noun = rng.choice(sub.nouns)
    material = rng.choice(department.materials)
    adjective = rng.choice(department.adjectives)
    title = f"{adjective} {material.title()} {noun}" if rng.random() < 0.4 else f"{adjective} {noun}"
    brand_id, brand = rng.choice(brands)
    options = _pick_options(rng, sub.scheme)
    created = now - timedelta(seconds=rng.randrange(HISTORY_DAYS * 86_400))
    base = _nice_kobo(rng.randint(*sub.naira))
    variants = list(_variant_rows(rng, number, options, base, status))
    prices = [v["price"] for v in variants]
    product_id = number
    rows.add(
        Product,
        {
            "id": product_id,
            "slug": f"{slugify(title)}-{number}",
            "title": title[:200],
            "description": _describe(rng, title, noun, brand, material, rng.choice(department.uses), options),
            "status": status.value,
            "brand_id": brand_id,
            "category_id": category_id,
            "featured": rng.random() < 0.01,
            "price_min": min(prices),
            "price_max": max(prices),
            "created_at": created,
            "updated_at": created,
        },
    )
    for tag_id in rng.sample(tag_ids, rng.choice((0, 1, 1, 2, 3))):
        rows.add(ProductTag, {"product_id": product_id, "tag_id": tag_id})
    rows.add(
        ProductImage,
        {
            "id": ids.next("image"),
            "product_id": product_id,
            "storage_key": f"products/bench/{number}.jpg",
            "alt": title,
            "position": 0,
        },
    )
    value_ids = _add_options(rows, ids, product_id, options)
    for variant, combination in zip(variants, _combinations(options), strict=True):
        variant_id = ids.next("variant")
        rows.add(Variant, {**variant, "id": variant_id, "product_id": product_id})
        for option_index, value_index in enumerate(combination):
            rows.add(
                VariantOptionValue, {"variant_id": variant_id, "option_value_id": value_ids[option_index][value_index]}
            )


def _pick_options(rng: random.Random, scheme: str) -> list[tuple[str, list[str]]]:
    """Per option of the scheme, a run of consecutive sizes or a handful of colours."""
    picked = []
    for name, values, (low, high) in SCHEMES[scheme]:
        size = rng.randint(low, high)
        if values is COLOURS:
            picked.append((name, rng.sample(COLOURS, size)))
        else:
            start = rng.randrange(len(values) - size + 1)
            picked.append((name, list(values[start : start + size])))
    return picked


def _combinations(options: list[tuple[str, list[str]]]) -> Iterator[tuple[int, ...]]:
    """Index of each option's value for every variant, in variant order (one empty tuple if none)."""
    combos: list[tuple[int, ...]] = [()]
    for _name, values in options:
        combos = [(*combo, i) for combo in combos for i in range(len(values))]
    return iter(combos)


def _variant_rows(
    rng: random.Random, number: int, options: list[tuple[str, list[str]]], base: int, status: ProductStatus
) -> Iterator[dict[str, Any]]:
    sold_out = status == ProductStatus.ACTIVE and rng.random() < SOLD_OUT_SHARE
    on_sale = rng.random() < SALE_SHARE
    for position, combination in enumerate(_combinations(options)):
        # A larger size, more storage or a bigger pack costs more (first option only).
        step = combination[0] if combination else 0
        price = _nice_kobo(base * (100 + 12 * step) // 100 // 100)
        labels = [values[i] for (_name, values), i in zip(options, combination, strict=True)]
        yield {
            "sku": f"BN-{number:06d}-{position:02d}",
            "title": " / ".join(labels),
            "price": price,
            "compare_at_price": _nice_kobo(price * 125 // 100 // 100) if on_sale else None,
            "stock_on_hand": 0 if sold_out else rng.choice((0, 2, 5, 12, 30, 80)),
            "track_inventory": True,
            "weight_grams": rng.randint(100, 3_000),
            "position": position,
        }


def _add_options(rows: _Rows, ids: _Ids, product_id: int, options: list[tuple[str, list[str]]]) -> list[list[int]]:
    value_ids = []
    for position, (name, values) in enumerate(options):
        option_id = ids.next("option")
        rows.add(ProductOption, {"id": option_id, "product_id": product_id, "name": name, "position": position})
        value_ids.append([])
        for value_position, value in enumerate(values):
            value_id = ids.next("value")
            row = {"id": value_id, "option_id": option_id, "value": value, "position": value_position}
            rows.add(ProductOptionValue, row)
            value_ids[-1].append(value_id)
    return value_ids


def _nice_kobo(naira: int) -> int:
    """A shelf price in kobo: naira rounded to the nearest ₦50, never below ₦100."""
    return max(100, round(naira / 50) * 50) * 100


def _describe(
    rng: random.Random,
    title: str,
    noun: str,
    brand: str,
    material: str,
    use: str,
    options: list[tuple[str, list[str]]],
) -> str:
    offered = ", ".join(value for _name, values in options for value in values) or "one standard size"
    words = {"title": title, "noun": noun.lower(), "brand": brand, "material": material, "use": use, "options": offered}
    sentences = [rng.choice(OPENERS), *rng.sample(DETAILS, rng.randint(2, 3)), rng.choice(CLOSERS)]
    return " ".join(sentence.format(**words) for sentence in sentences)
