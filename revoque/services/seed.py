"""A realistic demo catalog for a Nigerian store, so a fresh install has something to sell and show.

Everything is derived from ``random.Random(42)`` and the tables below, so every run produces the same
products, prices, stock and images (only ``created_at`` moves with today's date, which keeps the
"newest" sort meaningful). Product pictures are drawn with Pillow, never downloaded, so seeding works
offline. The store is seeded only while it has no products; a second run changes nothing.
"""

from __future__ import annotations

import io
import itertools
import random
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFilter, ImageOps
from sqlmodel import Session, SQLModel, select

from revoque.adapters.storage import Storage
from revoque.models.catalog import (
    Brand,
    Category,
    Collection,
    CollectionProduct,
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
from revoque.services.knowledge import seed_knowledge

RGB = tuple[int, int, int]
Progress = Callable[[int, int], None]

SEED = 42
HISTORY_DAYS = 120
DRAFT_COUNT, ARCHIVED_COUNT, FEATURED_COUNT, SOLD_OUT_COUNT = 3, 2, 12, 4
SALE_SHARE = 0.2
PRODUCT_IMAGE_SIZE = (800, 800)
CATEGORY_IMAGE_SIZE = (600, 600)
COLLECTION_IMAGE_SIZE = (1200, 600)
JPEG_QUALITY = 85

# ---------------------------------------------------------------------------------------------------
# Catalog tables
# ---------------------------------------------------------------------------------------------------

COLOURS: dict[str, tuple[str, RGB]] = {
    "Black": ("BLK", (48, 48, 54)),
    "White": ("WHT", (246, 245, 240)),
    "Navy": ("NVY", (38, 58, 104)),
    "Red": ("RED", (196, 52, 52)),
    "Olive": ("OLV", (112, 122, 62)),
    "Mustard": ("MUS", (214, 164, 42)),
    "Burgundy": ("BUR", (122, 34, 54)),
    "Sky Blue": ("SKY", (108, 168, 218)),
    "Emerald": ("EMR", (28, 138, 100)),
    "Pink": ("PNK", (232, 138, 168)),
    "Brown": ("BRN", (118, 76, 46)),
    "Tan": ("TAN", (196, 148, 98)),
    "Beige": ("BEI", (224, 204, 170)),
    "Grey": ("GRY", (140, 142, 148)),
    "Silver": ("SLV", (192, 196, 202)),
    "Midnight Blue": ("MNB", (32, 42, 82)),
    "Gold": ("GLD", (200, 160, 62)),
    "Cream": ("CRM", (238, 228, 204)),
    "Sage": ("SGE", (148, 172, 138)),
    "Terracotta": ("TER", (188, 98, 70)),
    "Yellow": ("YEL", (242, 198, 52)),
    "Green": ("GRN", (82, 168, 82)),
}

PALETTES: dict[str, tuple[str, ...]] = {
    "fashion": (
        "Black",
        "White",
        "Navy",
        "Red",
        "Olive",
        "Mustard",
        "Burgundy",
        "Sky Blue",
        "Emerald",
        "Pink",
    ),
    "leather": ("Black", "Brown", "Tan", "Beige"),
    "tech": ("Black", "Silver", "Midnight Blue", "White", "Gold"),
    "home": ("Grey", "Cream", "Sage", "Terracotta", "Navy"),
    "kids": ("Red", "Yellow", "Sky Blue", "Pink", "Green"),
    "beauty": ("Pink", "Cream", "Terracotta", "Gold", "Sage", "Burgundy", "White"),
    "jewel": ("Gold", "Silver", "Burgundy", "Emerald"),
    "sport": ("Black", "Red", "Navy", "Emerald", "Grey"),
}


@dataclass(frozen=True)
class OptionSpec:
    """One option dimension; ``uplift_pct`` prices each value relative to the base (100 = base)."""

    name: str
    values: tuple[str, ...] = ()
    uplift_pct: tuple[int, ...] = ()
    colours: tuple[int, int] | None = None  # pick this many colours (min, max) from the line's palette


def _colour(low: int = 2, high: int = 3) -> OptionSpec:
    return OptionSpec("Colour", colours=(low, high))


def _size(*values: str, uplift: tuple[int, ...] = ()) -> OptionSpec:
    return OptionSpec("Size", values, uplift)


SCHEMES: dict[str, tuple[OptionSpec, ...]] = {
    "single": (),
    "apparel": (_size("S", "M", "L", "XL"), _colour()),
    "tailored": (_size("S", "M", "L", "XL", "XXL", uplift=(100, 100, 100, 108, 115)), _colour(2, 2)),
    "kids": (_size("2-3Y", "4-5Y", "6-7Y", "8-9Y"), _colour(2, 2)),
    "shoes-men": (_size("40", "41", "42", "43", "44", "45"), _colour(2, 2)),
    "shoes-women": (_size("37", "38", "39", "40", "41"), _colour(2, 2)),
    "colour": (_colour(),),
    "bedding": (_size("Double", "King", "Super King", uplift=(100, 120, 135)), _colour(2, 2)),
    "lotion": (_size("100ml", "250ml", uplift=(100, 190)),),
    "hair": (_size("250ml", "500ml", uplift=(100, 175)),),
    "perfume": (_size("50ml", "100ml", uplift=(100, 160)),),
    "storage": (OptionSpec("Storage", ("64GB", "128GB", "256GB"), (100, 118, 140)), _colour(2, 2)),
}


@dataclass(frozen=True)
class Voice:
    """Sentence pools for one kind of product. Sentences never make the title their grammatical
    subject, so plural titles ("Chelsea Boots") and singular ones read equally well."""

    openers: tuple[str, ...]
    details: tuple[str, ...]
    closers: tuple[str, ...]


VOICES: dict[str, Voice] = {
    "clothing": Voice(
        (
            "{brand} made the {title} from {feature}, cut for an easy, flattering fit.",
            "Cut from {feature} by {brand}, the {title} will be on repeat all season.",
            "From {brand}: the {title}, in {feature} that stays cool through a long Lagos afternoon.",
        ),
        (
            "Neat seams and a considered cut look as sharp at a Friday owambe as at the office.",
            "Pair with simple sneakers or sandals; the fabric keeps its shape wash after wash.",
            "Fast-dyed colours stay rich through sun, dust and regular washing.",
        ),
        (
            "Machine wash cold and line dry in the shade.",
            "Most customers take their usual size; see the size guide for measurements.",
        ),
    ),
    "shoes": Voice(
        (
            "{brand} made the {title} in {feature} on a cushioned, flexible sole.",
            "Crafted in {feature}, the {title} from {brand} go from morning meetings to evening plans.",
            "From {brand}: the {title}, in {feature} with a grippy rubber outsole.",
        ),
        (
            "A padded footbed and reinforced heel counter keep long days comfortable.",
            "Stitched, not just glued, for a pair that lasts through rainy season.",
            "Lightweight construction means there is no break-in period worth mentioning.",
        ),
        (
            "Wipe clean with a damp cloth and air dry away from direct heat.",
            "Fits true to size; if you are between sizes, go up one.",
        ),
    ),
    "bags": Voice(
        (
            "{brand} made the {title} in {feature}, with hardware that feels solid in the hand.",
            "Finished in {feature}, the {title} from {brand} pulls any outfit together.",
            "From {brand}: the {title}, in {feature} and finished by hand.",
        ),
        (
            "There is room for a phone, wallet, keys and the little extras, each in its own pocket.",
            "Reinforced stitching at the stress points keeps its shape with daily use.",
            "A lined interior and a zipped inner pocket keep valuables safe on a crowded bus.",
        ),
        (
            "Spot clean only and store stuffed with paper to keep the shape.",
            "A dust bag is included for storage.",
        ),
    ),
    "accessories": Voice(
        (
            "{brand} made the {title} with {feature}, a finishing touch for any outfit.",
            "Finished with {feature}, the {title} from {brand} makes an easy gift.",
            "From {brand}: the {title}, with {feature} and a clean, timeless design.",
        ),
        (
            "Light enough to wear all day without a second thought.",
            "Every piece is checked by hand before it leaves the workshop.",
            "Understated enough for work, special enough for a wedding weekend.",
        ),
        (
            "Arrives in a gift box, ready to give.",
            "Keep away from perfume and water to preserve the finish.",
        ),
    ),
    "home": Voice(
        (
            "{brand} made the {title} with {feature}, built for everyday family use.",
            "With {feature}, the {title} from {brand} earns its place in a busy home.",
            "From {brand}: the {title}, made with {feature} to last for years.",
        ),
        (
            "Easy to clean and tough enough for daily use.",
            "A calm, modern design sits well with both bold and neutral interiors.",
            "Tested for Nigerian homes, with generator-friendly power draw where it matters.",
        ),
        (
            "Backed by a 12-month warranty from the brand.",
            "Makes a thoughtful housewarming gift.",
        ),
    ),
    "beauty": Voice(
        (
            "{brand} made the {title} with {feature}, for skin and hair that feel cared for.",
            "Made with {feature}, the {title} from {brand} suits daily use in heat and humidity.",
            "From {brand}: the {title}, formulated with {feature}.",
        ),
        (
            "Free from parabens and mineral oil, and never tested on animals.",
            "A little goes a long way, and it absorbs quickly without a greasy feel.",
            "Dermatologist tested and suitable for melanin-rich skin.",
        ),
        (
            "Patch test before first use.",
            "Store in a cool place away from direct sunlight.",
        ),
    ),
    "electronics": Voice(
        (
            "{brand} built the {title} around {feature}.",
            "With {feature}, the {title} from {brand} keeps up with work and play.",
            "From {brand}: the {title}, featuring {feature}.",
        ),
        (
            "Power-efficient components get more out of every charge when NEPA takes the light.",
            "Setup takes minutes, with clear instructions in the box.",
            "A sturdy build stands up to daily commutes and the occasional drop.",
        ),
        (
            "Comes with a 12-month warranty and local after-sales support.",
            "Charger and cable included in the box.",
        ),
    ),
    "sports": Voice(
        (
            "{brand} made the {title} with {feature} for serious training.",
            "Built with {feature}, the {title} from {brand} is ready for the pitch, the gym or the park.",
            "From {brand}: the {title}, made with {feature}.",
        ),
        (
            "Designed to handle hot, humid sessions without slowing you down.",
            "Durable enough for daily use, light enough to carry anywhere.",
            "A favourite with estate football teams and home gyms alike.",
        ),
        (
            "Rinse after use and dry in the shade.",
            "Suitable for beginners and regular athletes.",
        ),
    ),
    "kids": Voice(
        (
            "{brand} made the {title} with {feature}, for little ones who never sit still.",
            "Made with {feature}, the {title} from {brand} is built for play.",
            "From {brand}: the {title}, with {feature}.",
        ),
        (
            "Rounded edges and child-safe, non-toxic finishes give parents peace of mind.",
            "Bright, cheerful colours that survive the washing machine and the playground.",
            "Sized and designed with real children, and real mess, in mind.",
        ),
        (
            "Recommended for ages 3 and up.",
            "A birthday favourite.",
        ),
    ),
}


@dataclass(frozen=True)
class CategorySpec:
    """A top-level category; its ``glyph`` and ``colour`` also drive the look of its products' images."""

    name: str
    colour: RGB
    glyph: str
    description: str
    children: tuple[str, ...] = ()


CATEGORIES: tuple[CategorySpec, ...] = (
    CategorySpec(
        "Men's Clothing",
        (52, 96, 140),
        "shirt",
        "Shirts, trousers and native wear for men.",
        ("Men's Shirts", "Trousers & Shorts", "Men's Native Wear"),
    ),
    CategorySpec(
        "Women's Clothing",
        (190, 84, 118),
        "dress",
        "Dresses, tops and native styles for women.",
        ("Dresses", "Tops & Blouses", "Women's Native Wear"),
    ),
    CategorySpec(
        "Shoes",
        (150, 102, 62),
        "sneaker",
        "Boots, heels, sandals and sneakers.",
        ("Men's Shoes", "Women's Shoes", "Sneakers"),
    ),
    CategorySpec(
        "Bags & Accessories",
        (118, 80, 140),
        "handbag",
        "Bags, watches, jewellery and sunglasses.",
        ("Handbags", "Backpacks & Travel", "Watches & Jewellery"),
    ),
    CategorySpec(
        "Home & Kitchen",
        (64, 136, 108),
        "pot",
        "Cookware, bedding, decor and small appliances.",
        ("Cookware", "Bedding", "Home Decor"),
    ),
    CategorySpec(
        "Beauty & Personal Care",
        (214, 122, 104),
        "bottle",
        "Skincare, hair care and fragrance.",
        ("Skincare", "Hair Care", "Fragrance"),
    ),
    CategorySpec(
        "Electronics",
        (58, 78, 112),
        "phone",
        "Phones, audio, computing and power.",
        ("Phones & Tablets", "Audio", "Computing"),
    ),
    CategorySpec(
        "Sports & Outdoors", (222, 130, 40), "ball", "Fitness kit, balls and training wear.", ("Fitness", "Ball Sports")
    ),
    CategorySpec(
        "Kids",
        (226, 170, 40),
        "blocks",
        "Clothes, toys and school essentials for children.",
        ("Kids' Clothing", "Toys & Games"),
    ),
)


@dataclass(frozen=True)
class Line:
    """A family of similar products: same category, options, price band, look and description voice."""

    code: str
    category: str
    glyph: str
    scheme: str
    naira: tuple[int, int]
    grams: int
    voice: str
    brands: tuple[str, ...]
    products: tuple[tuple[str, str], ...]  # (title, the material or feature its description leads with)
    tags: tuple[str, ...] = ()
    palette: str = "fashion"  # colours on offer, or the colour drawn when the product has no Colour option


LINES: tuple[Line, ...] = (
    Line(
        "MEN-SHT",
        "mens-shirts",
        "shirt",
        "apparel",
        (6_500, 18_000),
        250,
        "clothing",
        ("Eko Threads", "Lagos Loom"),
        (
            ("Slim Fit Oxford Shirt", "crisp Oxford cotton"),
            ("Short Sleeve Linen Shirt", "soft washed linen"),
            ("Cotton Polo Shirt", "breathable cotton piqué"),
            ("Striped Poplin Shirt", "smooth cotton poplin"),
            ("Denim Overshirt", "light, pre-washed denim"),
            ("Classic Crew Neck T-Shirt", "heavyweight combed cotton"),
        ),
        ("Cotton",),
    ),
    Line(
        "MEN-TRS",
        "trousers-and-shorts",
        "trousers",
        "apparel",
        (8_000, 22_000),
        450,
        "clothing",
        ("Eko Threads",),
        (
            ("Chino Trousers", "stretch cotton twill"),
            ("Slim Fit Stretch Jeans", "rigid-look stretch denim"),
            ("Cargo Shorts", "tough ripstop cotton"),
            ("Tailored Suit Trousers", "a fine wool blend"),
            ("Drawstring Linen Trousers", "washed linen"),
        ),
    ),
    Line(
        "MEN-NTV",
        "mens-native-wear",
        "robe",
        "tailored",
        (15_000, 65_000),
        650,
        "clothing",
        ("Lagos Loom", "Adire House"),
        (
            ("Embroidered Senator Kaftan", "premium cashmere-touch wool blend"),
            ("Agbada Three-Piece Set", "rich Guinea brocade"),
            ("Linen Kaftan Shirt", "cool, breathable linen"),
            ("Adire Dashiki Top", "hand-dyed adire cotton"),
            ("Ankara Buba and Sokoto", "bold wax-print Ankara"),
        ),
        ("Made in Nigeria", "Native Wear"),
    ),
    Line(
        "WMN-DRS",
        "dresses",
        "dress",
        "apparel",
        (9_000, 35_000),
        350,
        "clothing",
        ("Adire House", "Eko Threads"),
        (
            ("Ankara Print Wrap Dress", "wax-print Ankara cotton"),
            ("Floral Midi Dress", "lightweight viscose"),
            ("Satin Slip Dress", "fluid satin"),
            ("Bodycon Knit Dress", "soft rib knit"),
            ("Tiered Maxi Dress", "airy cotton voile"),
            ("Belted Shirt Dress", "crisp cotton poplin"),
        ),
        ("Ankara",),
    ),
    Line(
        "WMN-TOP",
        "tops-and-blouses",
        "shirt",
        "apparel",
        (5_000, 15_000),
        200,
        "clothing",
        ("Eko Threads",),
        (
            ("Puff Sleeve Blouse", "light cotton voile"),
            ("Ribbed Tank Top", "stretchy ribbed modal"),
            ("Off-Shoulder Crop Top", "soft jersey cotton"),
            ("Silk Camisole", "washed mulberry silk"),
            ("Oversized Graphic Tee", "heavyweight cotton"),
        ),
    ),
    Line(
        "WMN-NTV",
        "womens-native-wear",
        "dress",
        "tailored",
        (18_000, 85_000),
        700,
        "clothing",
        ("Lagos Loom", "Adire House"),
        (
            ("Aso Oke Iro and Buba Set", "hand-woven aso oke"),
            ("Lace Kaftan Gown", "French cord lace"),
            ("Ankara Peplum Top", "wax-print Ankara"),
            ("Adire Kimono Jacket", "hand-dyed adire cotton"),
            ("Kente Print Maxi Skirt", "kente-print cotton"),
        ),
        ("Made in Nigeria", "Native Wear"),
    ),
    Line(
        "SHO-MEN",
        "mens-shoes",
        "boot",
        "shoes-men",
        (18_000, 60_000),
        950,
        "shoes",
        ("Kano Leatherworks", "Naija Stride"),
        (
            ("Leather Chelsea Boots", "full-grain leather"),
            ("Suede Penny Loafers", "soft suede"),
            ("Oxford Brogues", "hand-burnished leather"),
            ("Leather Palm Slippers", "Kano-tanned leather"),
            ("Desert Boots", "sand-coloured suede"),
        ),
        ("Leather",),
        "leather",
    ),
    Line(
        "SHO-WMN",
        "womens-shoes",
        "heel",
        "shoes-women",
        (12_000, 45_000),
        600,
        "shoes",
        ("Naija Stride", "Kano Leatherworks"),
        (
            ("Block Heel Sandals", "soft nappa leather"),
            ("Pointed Toe Pumps", "glossy patent leather"),
            ("Strappy Kitten Heels", "smooth leather"),
            ("Woven Espadrille Wedges", "woven raffia and jute"),
            ("Slingback Mules", "supple suede"),
        ),
        palette="leather",
    ),
    Line(
        "SHO-SNK",
        "sneakers",
        "sneaker",
        "shoes-men",
        (20_000, 75_000),
        820,
        "shoes",
        ("Naija Stride", "Arewa Sports"),
        (
            ("Canvas Low-Top Sneakers", "durable cotton canvas"),
            ("Retro Running Trainers", "suede and mesh"),
            ("Knit Slip-On Sneakers", "breathable knit"),
            ("High-Top Court Sneakers", "vegan leather"),
            ("Chunky Platform Trainers", "layered leather and mesh"),
        ),
        ("Unisex",),
        "sport",
    ),
    Line(
        "BAG-HND",
        "handbags",
        "handbag",
        "colour",
        (12_000, 55_000),
        700,
        "bags",
        ("Kano Leatherworks", "Adire House"),
        (
            ("Leather Tote Bag", "pebbled genuine leather"),
            ("Woven Raffia Clutch", "hand-woven raffia"),
            ("Ankara Crossbody Bag", "Ankara-print cotton"),
            ("Structured Top Handle Bag", "saffiano leather"),
            ("Quilted Chain Shoulder Bag", "quilted vegan leather"),
        ),
        ("Gift Idea",),
        "leather",
    ),
    Line(
        "BAG-BPK",
        "backpacks-and-travel",
        "backpack",
        "colour",
        (15_000, 95_000),
        1_200,
        "bags",
        ("Arewa Sports", "Kano Leatherworks"),
        (
            ("Laptop Backpack 15.6 Inch", "water-resistant nylon"),
            ("Canvas Rolltop Backpack", "waxed cotton canvas"),
            ("Weekender Duffel Bag", "leather-trimmed canvas"),
            ("Anti-Theft Travel Backpack", "slash-proof recycled polyester"),
            ("Waterproof Commuter Backpack", "welded waterproof fabric"),
        ),
        palette="sport",
    ),
    Line(
        "ACC-WCH",
        "watches-and-jewellery",
        "watch",
        "colour",
        (15_000, 120_000),
        150,
        "accessories",
        ("Zaria Gold",),
        (
            ("Minimalist Leather Strap Watch", "a slim case and a soft leather strap"),
            ("Stainless Steel Chronograph Watch", "a stainless steel case and a working chronograph"),
            ("Gold Tone Dress Watch", "a gold-tone case and sapphire-coated glass"),
            ("Digital Sports Watch", "a backlit display and 50m water resistance"),
        ),
        ("Gift Idea",),
        "leather",
    ),
    Line(
        "ACC-JWL",
        "watches-and-jewellery",
        "ring",
        "single",
        (6_000, 65_000),
        40,
        "accessories",
        ("Zaria Gold",),
        (
            ("Gold Plated Hoop Earrings", "18k gold plating over brass"),
            ("Coral Bead Necklace", "hand-strung coral beads"),
            ("Sterling Silver Cuff Bracelet", "hammered sterling silver"),
            ("Stackable Gold Ring Set", "18k gold plating"),
            ("Pearl Drop Earrings", "freshwater pearls"),
        ),
        ("Gift Idea", "Handmade"),
        "jewel",
    ),
    Line(
        "ACC-SUN",
        "bags-and-accessories",
        "glasses",
        "colour",
        (4_500, 25_000),
        60,
        "accessories",
        ("Eko Threads", "Zaria Gold"),
        (
            ("Polarised Aviator Sunglasses", "polarised UV400 lenses"),
            ("Cat-Eye Sunglasses", "a lightweight acetate frame"),
            ("Round Tortoiseshell Sunglasses", "a tortoiseshell acetate frame"),
            ("Sports Wraparound Sunglasses", "shatterproof wraparound lenses"),
        ),
        ("Unisex",),
        "leather",
    ),
    Line(
        "HOM-CKW",
        "cookware",
        "pot",
        "single",
        (8_000, 95_000),
        2_600,
        "home",
        ("Iya Kitchen",),
        (
            ("Stainless Steel Pot Set", "tri-ply stainless steel"),
            ("Non-Stick Frying Pan 28cm", "a PFOA-free non-stick coating"),
            ("Cast Iron Dutch Oven", "enamelled cast iron"),
            ("Pressure Cooker 6L", "a triple safety-valve lid"),
            ("Ceramic Casserole Dish Set", "oven-safe stoneware"),
            ("Jollof Party Pot 20L", "heavy-gauge aluminium"),
        ),
        palette="home",
    ),
    Line(
        "HOM-BED",
        "bedding",
        "pillow",
        "bedding",
        (15_000, 60_000),
        1_800,
        "home",
        ("Harmattan Home",),
        (
            ("Egyptian Cotton Duvet Set", "400-thread-count Egyptian cotton"),
            ("Adire Print Bedsheet Set", "hand-printed adire cotton"),
            ("Quilted Mattress Protector", "a waterproof, breathable backing"),
            ("Waffle Knit Throw Blanket", "soft waffle-knit cotton"),
            ("Bamboo Pillowcase Pair", "cool bamboo fibre"),
        ),
        palette="home",
    ),
    Line(
        "HOM-DCR",
        "home-decor",
        "vase",
        "single",
        (4_500, 38_000),
        900,
        "home",
        ("Harmattan Home", "Adire House"),
        (
            ("Handwoven Raffia Wall Basket", "hand-woven raffia"),
            ("Ceramic Bud Vase", "hand-thrown ceramic"),
            ("Scented Soy Candle", "natural soy wax and a cotton wick"),
            ("Rattan Table Lamp", "hand-woven rattan"),
            ("Mudcloth Cushion Cover", "hand-printed mudcloth cotton"),
        ),
        ("Handmade", "Gift Idea"),
        "home",
    ),
    Line(
        "HOM-APL",
        "home-and-kitchen",
        "kettle",
        "colour",
        (12_000, 85_000),
        2_200,
        "home",
        ("Iya Kitchen",),
        (
            ("Electric Kettle 1.7L", "a fast-boil 2200W element"),
            ("Blender with Grinder Mill", "a pepper-grinding mill attachment"),
            ("Air Fryer 4.5L", "rapid hot-air circulation"),
            ("Rice Cooker 1.8L", "a keep-warm setting"),
            ("Two-Slice Toaster", "seven browning levels"),
        ),
        palette="home",
    ),
    Line(
        "BEA-SKN",
        "skincare",
        "jar",
        "lotion",
        (3_500, 15_000),
        260,
        "beauty",
        ("Zuri Beauty", "Ori Naturals"),
        (
            ("Black Soap Face Wash", "African black soap"),
            ("Vitamin C Brightening Serum", "stabilised vitamin C"),
            ("Cocoa Butter Body Lotion", "pure cocoa butter"),
            ("Aloe Vera Soothing Gel", "fresh aloe vera"),
            ("Rose Water Hydrating Toner", "distilled rose water"),
        ),
        ("Natural",),
        "beauty",
    ),
    Line(
        "BEA-ESS",
        "beauty-and-personal-care",
        "jar",
        "single",
        (2_500, 9_000),
        280,
        "beauty",
        ("Ori Naturals", "Zuri Beauty"),
        (
            ("Shea Butter Body Cream 250ml", "unrefined Nigerian shea butter"),
            ("Charcoal Bar Soap 3-Pack", "activated charcoal"),
            ("Lip Balm Trio", "beeswax and shea butter"),
            ("Argan Oil Hand Cream 75ml", "cold-pressed argan oil"),
            ("Bamboo Makeup Brush Set", "soft, cruelty-free bristles"),
        ),
        ("Natural", "Made in Nigeria"),
        "beauty",
    ),
    Line(
        "BEA-HAR",
        "hair-care",
        "bottle",
        "hair",
        (3_000, 12_000),
        320,
        "beauty",
        ("Ori Naturals",),
        (
            ("Coconut Curl Cream", "virgin coconut oil"),
            ("Chebe Hair Growth Oil", "chebe powder and castor oil"),
            ("Moisturising Shampoo", "a sulphate-free formula"),
            ("Leave-In Conditioner", "shea butter and aloe"),
            ("Edge Control Gel", "rosemary and peppermint oil"),
        ),
        ("Natural",),
        "beauty",
    ),
    Line(
        "BEA-FRG",
        "fragrance",
        "perfume",
        "perfume",
        (15_000, 85_000),
        300,
        "beauty",
        ("Oasis Scents",),
        (
            ("Oud Noir Eau de Parfum", "notes of oud and amber"),
            ("Citrus Bloom Eau de Toilette", "bergamot and neroli"),
            ("Sandalwood Musk Perfume Oil", "sandalwood and white musk"),
            ("Vanilla Amber Body Mist", "warm vanilla and amber"),
            ("Vetiver Cologne", "vetiver and cedarwood"),
        ),
        ("Gift Idea",),
        "beauty",
    ),
    Line(
        "ELE-PHN",
        "phones-and-tablets",
        "phone",
        "storage",
        (85_000, 280_000),
        210,
        "electronics",
        ("Volta",),
        (
            ("Volta X5 Smartphone", "a 6.7-inch AMOLED display"),
            ("Volta Note 12 Pro", "a 50MP night-mode camera"),
            ("Volta A3 Lite Smartphone", "a 5,000mAh all-day battery"),
            ("Volta Tab 10 Tablet", "a 10.4-inch 2K display"),
            ("Volta Tab Mini 8", "a compact 8-inch screen and dual SIM"),
        ),
        palette="tech",
    ),
    Line(
        "ELE-AUD",
        "audio",
        "headphones",
        "colour",
        (9_000, 120_000),
        320,
        "electronics",
        ("Kora Audio",),
        (
            ("Wireless Over-Ear Headphones", "40-hour battery life"),
            ("True Wireless Earbuds", "a pocket-sized charging case"),
            ("Noise Cancelling Headphones", "active noise cancelling"),
            ("Sports Neckband Earphones", "a sweat-proof design"),
            ("Studio Monitor Headphones", "flat, accurate 50mm drivers"),
        ),
        ("Wireless", "Gift Idea"),
        "tech",
    ),
    Line(
        "ELE-CMP",
        "computing",
        "laptop",
        "single",
        (25_000, 420_000),
        1_700,
        "electronics",
        ("Pulse Tech",),
        (
            ("Pulse 14 Inch Ultrabook Laptop", "a fast 512GB SSD"),
            ("Pulse 15.6 Inch Everyday Laptop", "a full HD anti-glare screen"),
            ("27 Inch Full HD Monitor", "an IPS panel with slim bezels"),
            ("Wireless Keyboard and Mouse Combo", "a quiet, full-size keyboard"),
            ("USB-C Docking Hub", "seven ports in one cable"),
        ),
        palette="tech",
    ),
    Line(
        "ELE-PWR",
        "electronics",
        "powerbank",
        "colour",
        (5_000, 45_000),
        380,
        "electronics",
        ("Volta", "Pulse Tech"),
        (
            ("20000mAh Power Bank", "a 20,000mAh cell"),
            ("65W Fast Charger", "fast charging up to 65W"),
            ("Solar Rechargeable Lantern", "a built-in solar panel"),
            ("Smart Fitness Band", "heart-rate and sleep tracking"),
            ("Braided USB-C Cable 2m", "a tangle-free braided jacket"),
        ),
        palette="tech",
    ),
    Line(
        "SPT-FIT",
        "fitness",
        "dumbbell",
        "single",
        (4_000, 70_000),
        2_000,
        "sports",
        ("Arewa Sports",),
        (
            ("Adjustable Dumbbell Set 20kg", "a steel core and non-slip grips"),
            ("Non-Slip Yoga Mat", "dense, cushioning TPE foam"),
            ("Resistance Band Set", "five colour-coded strengths"),
            ("Skipping Rope with Counter", "a built-in jump counter"),
            ("Ab Roller Wheel", "a wide, stable wheel"),
            ("Kettlebell 12kg", "solid cast iron"),
        ),
        palette="sport",
    ),
    Line(
        "SPT-BAL",
        "ball-sports",
        "ball",
        "single",
        (6_000, 28_000),
        450,
        "sports",
        ("Arewa Sports",),
        (
            ("Match Football Size 5", "a thermo-bonded outer shell"),
            ("Training Football Size 4", "a tough, stitched cover"),
            ("Futsal Ball", "a low-bounce design"),
            ("Beach Volleyball", "a soft-touch cover"),
            ("Basketball Size 7", "deep channels for grip"),
        ),
        palette="sport",
    ),
    Line(
        "SPT-WER",
        "sports-and-outdoors",
        "shirt",
        "apparel",
        (7_000, 25_000),
        220,
        "sports",
        ("Arewa Sports",),
        (
            ("Dri-Fit Training Jersey", "quick-dry mesh"),
            ("Compression Running Shorts", "four-way stretch fabric"),
            ("Zip-Up Track Jacket", "smooth tricot"),
            ("Seamless Sports Bra", "moisture-wicking knit"),
        ),
        palette="sport",
    ),
    Line(
        "KID-CLO",
        "kids-clothing",
        "shirt",
        "kids",
        (3_500, 12_000),
        180,
        "kids",
        ("Tiny Tribe",),
        (
            ("Dinosaur Print T-Shirt", "soft organic cotton"),
            ("Striped Cotton Polo", "easy-care cotton piqué"),
            ("Kids' Zip Hoodie", "cosy brushed fleece"),
            ("Cotton Pyjama Set", "breathable cotton jersey"),
            ("Ankara Print Kids' Shirt", "wax-print Ankara cotton"),
        ),
        palette="kids",
    ),
    Line(
        "KID-TOY",
        "toys-and-games",
        "blocks",
        "single",
        (3_000, 35_000),
        800,
        "kids",
        ("Ayo Play",),
        (
            ("Wooden Building Blocks 50pc", "sustainably sourced wood"),
            ("Ayo Olopon Board Game", "a hand-carved wooden board"),
            ("Remote Control Racing Car", "rechargeable batteries"),
            ("Plush Teddy Bear", "super-soft, washable plush"),
            ("Alphabet Learning Puzzle", "chunky, easy-grip pieces"),
            ("Kids' Art and Craft Kit", "washable, non-toxic paints"),
        ),
        ("Gift Idea",),
        "kids",
    ),
    Line(
        "KID-SCH",
        "kids",
        "backpack",
        "colour",
        (4_000, 15_000),
        500,
        "kids",
        ("Tiny Tribe",),
        (
            ("Kids' School Backpack", "padded, adjustable straps"),
            ("Insulated Lunch Bag", "double-wall insulation"),
            ("Kids' Water Bottle 500ml", "a leak-proof flip lid"),
            ("Pencil Case Set", "wipe-clean fabric"),
        ),
        ("Back to School",),
        "kids",
    ),
)


@dataclass(frozen=True)
class CollectionSpec:
    slug: str
    title: str
    description: str
    colour: RGB


COLLECTIONS: tuple[CollectionSpec, ...] = (
    CollectionSpec("new-season", "New Season", "Fresh arrivals from this season's makers.", (36, 92, 96)),
    CollectionSpec("under-10000", "Under ₦10,000", "Everyday treats, easy on the pocket.", (170, 72, 50)),
    CollectionSpec("gift-ideas", "Gift Ideas", "Birthdays, weddings and thank-yous, sorted.", (110, 56, 110)),
    CollectionSpec("best-sellers", "Best Sellers", "What shoppers across Nigeria keep coming back for.", (40, 56, 104)),
)
COLLECTION_SIZE = 16
BUDGET_NAIRA = 10_000
NEW_ARRIVAL_DAYS = 21

# ---------------------------------------------------------------------------------------------------
# Glyphs: product silhouettes in a 0–100 box. Layers: "body" draws the silhouette, "cut" punches
# holes in it, "accent" is painted on top in a contrasting shade. Order matters within a glyph.
# ---------------------------------------------------------------------------------------------------

Primitive = tuple[str, str, tuple]

GLYPHS: dict[str, tuple[Primitive, ...]] = {
    "shirt": (
        (
            "body",
            "poly",
            (
                (34, 10),
                (44, 6),
                (56, 6),
                (66, 10),
                (92, 28),
                (83, 43),
                (72, 36),
                (72, 92),
                (28, 92),
                (28, 36),
                (17, 43),
                (8, 28),
            ),
        ),
        ("accent", "poly", ((43, 6), (50, 17), (57, 6), (54, 6), (50, 11), (46, 6))),
        ("accent", "line", (1.2, (50, 17), (50, 92))),
    ),
    "dress": (
        (
            "body",
            "poly",
            (
                (38, 6),
                (44, 6),
                (47, 14),
                (53, 14),
                (56, 6),
                (62, 6),
                (64, 30),
                (60, 40),
                (84, 94),
                (16, 94),
                (40, 40),
                (36, 30),
            ),
        ),
        ("accent", "rect", (39, 37, 61, 43, 1)),
    ),
    "trousers": (
        ("body", "poly", ((27, 6), (73, 6), (80, 94), (59, 94), (50, 36), (41, 94), (20, 94))),
        ("accent", "rect", (27, 6, 73, 13, 1)),
        ("accent", "line", (1.0, (50, 13), (50, 30))),
    ),
    "robe": (
        (
            "body",
            "poly",
            (
                (30, 9),
                (42, 5),
                (58, 5),
                (70, 9),
                (95, 36),
                (84, 47),
                (72, 38),
                (76, 95),
                (24, 95),
                (28, 38),
                (16, 47),
                (5, 36),
            ),
        ),
        ("accent", "poly", ((42, 5), (50, 24), (58, 5), (55, 5), (50, 15), (45, 5))),
        ("accent", "line", (1.6, (50, 24), (50, 62))),
        ("accent", "line", (1.0, (44, 30), (56, 30))),
        ("accent", "line", (1.0, (45, 38), (55, 38))),
    ),
    "boot": (
        ("body", "poly", ((24, 10), (52, 10), (54, 54), (84, 64), (93, 74), (93, 86), (14, 86), (14, 74), (20, 58))),
        ("accent", "poly", ((36, 16), (48, 16), (49, 50), (37, 50))),
        ("accent", "rect", (12, 82, 95, 90, 2)),
    ),
    "heel": (
        (
            "body",
            "poly",
            (
                (10, 42),
                (24, 38),
                (44, 54),
                (74, 60),
                (92, 66),
                (94, 74),
                (40, 74),
                (26, 64),
                (24, 66),
                (22, 92),
                (16, 92),
                (12, 64),
            ),
        ),
        ("cut", "poly", ((16, 46), (24, 44), (38, 56), (28, 58))),
        ("accent", "rect", (15, 86, 23, 92, 1)),
    ),
    "sneaker": (
        ("body", "poly", ((8, 60), (14, 40), (34, 36), (48, 50), (72, 54), (88, 60), (95, 72), (95, 80), (8, 80))),
        ("accent", "rect", (6, 76, 97, 88, 4)),
        ("accent", "poly", ((38, 54), (60, 58), (54, 72), (32, 68))),
        ("accent", "line", (1.4, (30, 42), (38, 48))),
        ("accent", "line", (1.4, (36, 40), (44, 47))),
    ),
    "handbag": (
        ("body", "arc", (30, 10, 70, 58, 180, 360, 5)),
        ("body", "rect", (12, 34, 88, 90, 8)),
        ("accent", "poly", ((12, 42), (88, 42), (88, 52), (50, 64), (12, 52))),
        ("accent", "ellipse", (46, 60, 54, 68)),
    ),
    "backpack": (
        ("body", "arc", (38, 4, 62, 30, 180, 360, 4)),
        ("body", "rect", (20, 16, 80, 94, 14)),
        ("accent", "rect", (30, 56, 70, 86, 6)),
        ("accent", "line", (1.2, (30, 64), (70, 64))),
        ("accent", "line", (1.5, (32, 24), (32, 50))),
        ("accent", "line", (1.5, (68, 24), (68, 50))),
    ),
    "watch": (
        ("body", "rect", (38, 4, 62, 30, 3)),
        ("body", "rect", (38, 70, 62, 96, 3)),
        ("body", "ellipse", (22, 22, 78, 78)),
        ("cut", "ellipse", (28, 28, 72, 72)),
        ("accent", "line", (1.2, (44, 8), (56, 8))),
        ("accent", "line", (1.2, (44, 92), (56, 92))),
        ("body", "line", (2.0, (50, 50), (50, 35))),
        ("body", "line", (2.0, (50, 50), (61, 56))),
        ("body", "ellipse", (47, 47, 53, 53)),
    ),
    "ring": (
        ("body", "ellipse", (20, 32, 80, 94)),
        ("cut", "ellipse", (28, 40, 72, 86)),
        ("body", "poly", ((36, 30), (43, 16), (57, 16), (64, 30), (50, 44))),
        ("accent", "poly", ((43, 16), (57, 16), (54, 28), (46, 28))),
    ),
    "glasses": (
        ("body", "rect", (8, 36, 46, 66, 12)),
        ("body", "rect", (54, 36, 92, 66, 12)),
        ("body", "line", (2.5, (44, 44), (50, 40), (56, 44))),
        ("body", "line", (2.0, (9, 42), (3, 36))),
        ("body", "line", (2.0, (91, 42), (97, 36))),
        ("accent", "rect", (12, 40, 42, 62, 9)),
        ("accent", "rect", (58, 40, 88, 62, 9)),
    ),
    "pot": (
        ("body", "rect", (18, 38, 82, 86, 7)),
        ("body", "ellipse", (14, 28, 86, 44)),
        ("body", "ellipse", (43, 20, 57, 32)),
        ("body", "rect", (4, 46, 20, 54, 3)),
        ("body", "rect", (80, 46, 96, 54, 3)),
        ("accent", "rect", (18, 56, 82, 61, 0)),
    ),
    "pillow": (
        ("body", "rect", (8, 28, 92, 82, 18)),
        ("accent", "line", (1.2, (16, 36), (46, 53))),
        ("accent", "line", (1.2, (84, 36), (54, 53))),
        ("accent", "line", (1.2, (16, 74), (46, 57))),
        ("accent", "line", (1.2, (84, 74), (54, 57))),
        ("accent", "ellipse", (45, 50, 55, 60)),
    ),
    "vase": (
        ("body", "rect", (40, 8, 60, 30, 2)),
        ("body", "ellipse", (22, 22, 78, 92)),
        ("accent", "rect", (36, 6, 64, 12, 2)),
        ("accent", "rect", (25, 50, 75, 56, 0)),
    ),
    "kettle": (
        ("body", "poly", ((28, 30), (72, 30), (80, 88), (20, 88))),
        ("body", "ellipse", (28, 22, 72, 38)),
        ("body", "arc", (62, 30, 94, 76, 270, 90, 5)),
        ("body", "poly", ((30, 42), (8, 30), (12, 26), (32, 36))),
        ("accent", "rect", (18, 84, 82, 92, 2)),
        ("accent", "rect", (44, 44, 56, 72, 3)),
    ),
    "jar": (
        ("body", "rect", (20, 40, 80, 90, 9)),
        ("accent", "rect", (17, 24, 83, 42, 5)),
        ("accent", "rect", (30, 54, 70, 76, 3)),
    ),
    "bottle": (
        ("body", "rect", (30, 30, 70, 94, 11)),
        ("body", "rect", (42, 16, 58, 34, 1)),
        ("accent", "rect", (39, 5, 61, 18, 3)),
        ("accent", "rect", (35, 50, 65, 78, 4)),
    ),
    "perfume": (
        ("body", "rect", (20, 40, 80, 92, 12)),
        ("body", "rect", (44, 28, 56, 42, 0)),
        ("accent", "rect", (34, 8, 66, 30, 5)),
        ("accent", "rect", (34, 58, 66, 74, 2)),
    ),
    "phone": (
        ("body", "rect", (28, 4, 72, 96, 9)),
        ("accent", "rect", (32, 12, 68, 86, 3)),
        ("cut", "ellipse", (47, 88, 53, 93)),
        ("cut", "rect", (44, 6, 56, 9, 1)),
    ),
    "headphones": (
        ("body", "arc", (16, 10, 84, 80, 180, 360, 7)),
        ("body", "rect", (10, 46, 30, 84, 8)),
        ("body", "rect", (70, 46, 90, 84, 8)),
        ("accent", "rect", (26, 52, 33, 78, 2)),
        ("accent", "rect", (67, 52, 74, 78, 2)),
    ),
    "laptop": (
        ("body", "rect", (18, 16, 82, 66, 4)),
        ("accent", "rect", (22, 20, 78, 62, 1)),
        ("body", "poly", ((8, 70), (92, 70), (97, 80), (3, 80))),
        ("accent", "rect", (42, 72, 58, 76, 1)),
    ),
    "powerbank": (
        ("body", "rect", (26, 8, 74, 92, 10)),
        ("accent", "poly", ((55, 22), (36, 54), (49, 54), (44, 78), (64, 44), (51, 44), (58, 22))),
    ),
    "dumbbell": (
        ("body", "rect", (26, 46, 74, 54, 2)),
        ("body", "rect", (14, 26, 28, 74, 4)),
        ("body", "rect", (72, 26, 86, 74, 4)),
        ("body", "rect", (5, 34, 15, 66, 3)),
        ("body", "rect", (85, 34, 95, 66, 3)),
        ("accent", "rect", (38, 46, 62, 54, 1)),
    ),
    "ball": (
        ("body", "ellipse", (12, 12, 88, 88)),
        ("accent", "poly", ((50, 35), (64, 46), (59, 62), (41, 62), (36, 46))),
        ("accent", "line", (1.6, (50, 35), (50, 13))),
        ("accent", "line", (1.6, (64, 46), (85, 39))),
        ("accent", "line", (1.6, (59, 62), (72, 80))),
        ("accent", "line", (1.6, (41, 62), (28, 80))),
        ("accent", "line", (1.6, (36, 46), (15, 39))),
    ),
    "blocks": (
        ("body", "rect", (12, 54, 48, 90, 5)),
        ("body", "rect", (52, 54, 88, 90, 5)),
        ("body", "rect", (32, 14, 68, 50, 5)),
        ("accent", "ellipse", (23, 65, 37, 79)),
        ("accent", "poly", ((70, 62), (80, 80), (60, 80))),
        ("accent", "rect", (43, 25, 57, 39, 1)),
    ),
}

# ---------------------------------------------------------------------------------------------------
# The plan: every product decided in memory first, then written in a few bulk inserts
# ---------------------------------------------------------------------------------------------------


@dataclass
class VariantPlan:
    sku: str
    values: tuple[tuple[str, str], ...]  # (option name, value)
    price: int
    compare_at_price: int | None
    stock: int
    grams: int

    @property
    def title(self) -> str:
        return " / ".join(value for _, value in self.values)


@dataclass
class ProductPlan:
    line: Line
    slug: str
    title: str
    brand: str
    colour_names: tuple[str, ...]
    look: str  # the colour its pictures are drawn in when it has no Colour option
    options: tuple[tuple[str, tuple[str, ...]], ...]
    variants: list[VariantPlan]
    created_at: datetime
    image_count: int
    description: str
    status: str = ProductStatus.ACTIVE.value
    featured: bool = False
    tags: set[str] = field(default_factory=set)

    @property
    def price_range(self) -> tuple[int, int]:
        prices = [variant.price for variant in self.variants]
        return min(prices), max(prices)

    @property
    def in_stock(self) -> bool:
        return any(variant.stock > 0 for variant in self.variants)

    @property
    def on_sale(self) -> bool:
        return any(variant.compare_at_price for variant in self.variants)


@dataclass(frozen=True)
class SeedReport:
    """What a seed run wrote; ``created`` is False when the store already had products."""

    created: bool
    categories: int = 0
    brands: int = 0
    tags: int = 0
    collections: int = 0
    products: int = 0
    variants: int = 0
    images: int = 0
    image_bytes: int = 0


def slugify(text: str) -> str:
    """Storage keys and URLs only allow [a-z0-9-], so apostrophes vanish and '&' reads as 'and'."""
    text = text.lower().replace("&", " and ").replace("'", "").replace("₦", "")
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def _nice_kobo(naira: int) -> int:
    """Round to prices a Nigerian shop would print (₦4,700, ₦12,500, ₦249,000), then to kobo."""
    step = 100 if naira < 10_000 else 500 if naira < 100_000 else 1_000
    return max(step, round(naira / step) * step) * 100


def _join(words: Sequence[str], conjunction: str) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {conjunction} {words[-1]}"


def _options_sentence(options: Sequence[tuple[str, Sequence[str]]]) -> str:
    """Tells shoppers the choices in prose, since the description is also what search indexes."""
    phrases = []
    for name, values in options:
        if name == "Size" and len(values) > 2:
            phrases.append(f"sizes {values[0]} to {values[-1]}")
        elif name == "Size":
            phrases.append(f"{_join(values, 'and')} sizes")
        elif name == "Storage":
            phrases.append(f"{_join(values, 'and')} storage")
        else:
            phrases.append(_join(values, "or"))
    return f"Available in {' and '.join(phrases)}."


def _describe(
    rng: random.Random,
    line: Line,
    title: str,
    feature: str,
    brand: str,
    options: Sequence[tuple[str, Sequence[str]]],
) -> str:
    voice = VOICES[line.voice]
    sentences = [
        rng.choice(voice.openers).format(title=title, brand=brand, feature=feature),
        rng.choice(voice.details),
    ]
    if options:
        sentences.append(_options_sentence(options))
    if rng.random() < 0.5 or not options:
        sentences.append(rng.choice(voice.closers))
    return " ".join(sentences)


def _pick_options(rng: random.Random, line: Line) -> list[tuple[OptionSpec, tuple[str, ...]]]:
    """Each option with the values this product offers; colours differ product to product."""
    chosen = []
    for spec in SCHEMES[line.scheme]:
        picked = tuple(rng.sample(PALETTES[line.palette], rng.randint(*spec.colours))) if spec.colours else ()
        chosen.append((spec, picked or spec.values))
    return chosen


def _value_code(option: str, value: str) -> str:
    return COLOURS[value][0] if option == "Colour" else re.sub(r"[^A-Z0-9]", "", value.upper())


def _stock(rng: random.Random) -> int:
    """About one variant in eight is sold out, the rest hold a realistic 1–40 units."""
    return 0 if rng.random() < 0.12 else rng.randint(1, 40)


def _plan_variants(
    rng: random.Random, line: Line, number: int, options: list[tuple[OptionSpec, tuple[str, ...]]]
) -> list[VariantPlan]:
    base = rng.randint(*line.naira)
    sale_pct = rng.choice((115, 120, 125, 130, 140)) if rng.random() < SALE_SHARE else None
    variants = []
    for indexes in itertools.product(*(range(len(values)) for _, values in options)):
        pct = size_pct = 100
        picks = list(zip(options, indexes, strict=True))
        for (spec, _), index in picks:
            uplift = spec.uplift_pct[index] if spec.uplift_pct else 100
            pct = pct * uplift // 100
            if spec.name == "Size":  # bigger bottles and beds weigh more; more storage does not
                size_pct = size_pct * uplift // 100
        chosen = tuple((spec.name, values[index]) for (spec, values), index in picks)
        price = _nice_kobo(base * pct // 100)
        sku = "-".join([f"{line.code}-{number:03d}", *(_value_code(name, value) for name, value in chosen)])
        variants.append(
            VariantPlan(
                sku=sku,
                values=chosen,
                price=price,
                compare_at_price=_nice_kobo(price // 100 * sale_pct // 100) if sale_pct else None,
                stock=_stock(rng),
                grams=line.grams * size_pct // 100,
            )
        )
    return variants


def _plan_product(rng: random.Random, line: Line, number: int, title: str, feature: str, now: datetime) -> ProductPlan:
    brand = rng.choice(line.brands)
    chosen = _pick_options(rng, line)
    options = tuple((spec.name, values) for spec, values in chosen)
    return ProductPlan(
        line=line,
        slug=slugify(title),
        title=title,
        brand=brand,
        colour_names=dict(options).get("Colour", ()),
        look=rng.choice(PALETTES[line.palette]),
        options=options,
        variants=_plan_variants(rng, line, number, chosen),
        created_at=now - timedelta(minutes=rng.randrange(HISTORY_DAYS * 24 * 60)),
        image_count=rng.choice((1, 2, 2, 3)),
        description=_describe(rng, line, title, feature, brand, options),
    )


def _assign_statuses(rng: random.Random, plans: list[ProductPlan], now: datetime) -> None:
    """A few drafts, archived and sold-out products exist on purpose, so the storefront's filtering
    of unpublished and unavailable goods is visible and testable on demo data."""
    hidden = rng.sample(plans, DRAFT_COUNT + ARCHIVED_COUNT)
    for index, plan in enumerate(hidden):
        plan.status = (ProductStatus.DRAFT if index < DRAFT_COUNT else ProductStatus.ARCHIVED).value
    active = [plan for plan in plans if plan.status == ProductStatus.ACTIVE.value]
    for plan in rng.sample([plan for plan in active if plan.in_stock], FEATURED_COUNT):
        plan.featured = True
    for plan in rng.sample([plan for plan in active if not plan.featured], SOLD_OUT_COUNT):
        for variant in plan.variants:
            variant.stock = 0
    for plan in plans:
        plan.tags.update(plan.line.tags)
        if plan.on_sale:
            plan.tags.add("Sale")
        if now - plan.created_at < timedelta(days=NEW_ARRIVAL_DAYS):
            plan.tags.add("New Arrival")


def plan_catalog(now: datetime) -> list[ProductPlan]:
    """Every product, variant, price and stock level, decided before anything touches the database."""
    rng = random.Random(SEED)
    plans = [
        _plan_product(rng, line, number, title, feature, now)
        for line in LINES
        for number, (title, feature) in enumerate(line.products, start=1)
    ]
    _assign_statuses(rng, plans, now)
    return plans


def _collection_members(plans: list[ProductPlan]) -> dict[str, list[ProductPlan]]:
    """Rules rather than hand-picked lists, so collections stay sensible if the tables change."""
    active = [plan for plan in plans if plan.status == ProductStatus.ACTIVE.value]
    stocked = [plan for plan in active if plan.in_stock]
    best = sorted(stocked, key=lambda plan: (not plan.featured, -sum(v.stock for v in plan.variants)))
    return {
        "new-season": sorted(active, key=lambda plan: plan.created_at, reverse=True)[:COLLECTION_SIZE],
        "under-10000": sorted(
            (plan for plan in active if plan.price_range[0] < BUDGET_NAIRA * 100),
            key=lambda plan: plan.price_range[0],
        )[:COLLECTION_SIZE],
        "gift-ideas": sorted(
            (plan for plan in stocked if "Gift Idea" in plan.tags),
            key=lambda plan: (not plan.featured, plan.slug),
        )[:COLLECTION_SIZE],
        "best-sellers": best[:COLLECTION_SIZE],
    }


# ---------------------------------------------------------------------------------------------------
# Images
# ---------------------------------------------------------------------------------------------------

HERO_CENTRE = (PRODUCT_IMAGE_SIZE[0] // 2, PRODUCT_IMAGE_SIZE[1] // 2)
ANGLED_CENTRE = (PRODUCT_IMAGE_SIZE[0] // 2, PRODUCT_IMAGE_SIZE[1] // 2)
SHADOW: RGB = (20, 22, 30)


def _mix(colour: RGB, other: RGB, amount: float) -> RGB:
    """``amount`` of ``other`` blended into ``colour``."""
    return tuple(round(a + (b - a) * amount) for a, b in zip(colour, other, strict=True))


def _tint(colour: RGB, amount: float) -> RGB:
    return _mix(colour, (255, 255, 255), amount)


def _luminance(colour: RGB) -> float:
    red, green, blue = colour
    return 0.299 * red + 0.587 * green + 0.114 * blue


def _accent(colour: RGB) -> RGB:
    """Details must stand out from the body whether the product is black, white or mid-toned."""
    return _tint(colour, 0.45) if _luminance(colour) < 110 else _mix(colour, (0, 0, 0), 0.28)


def _gradient(size: tuple[int, int], start: RGB, end: RGB, *, horizontal: bool = False) -> Image.Image:
    ramp = Image.linear_gradient("L")
    if horizontal:
        ramp = ramp.transpose(Image.Transpose.ROTATE_90)
    return Image.composite(Image.new("RGB", size, end), Image.new("RGB", size, start), ramp.resize(size))


def _draw_primitive(draw: ImageDraw.ImageDraw, kind: str, data: tuple, scale: float, fill: int) -> None:
    def box(values: Iterable[float]) -> list[float]:
        return [value * scale for value in values]

    match kind:
        case "poly":
            draw.polygon([(x * scale, y * scale) for x, y in data], fill=fill)
        case "ellipse":
            draw.ellipse(box(data), fill=fill)
        case "rect":
            draw.rounded_rectangle(box(data[:4]), radius=data[4] * scale, fill=fill)
        case "line":
            width, *points = data
            draw.line([(x * scale, y * scale) for x, y in points], fill=fill, width=round(width * scale), joint="curve")
        case "arc":
            draw.arc(box(data[:4]), data[4], data[5], fill=fill, width=round(data[6] * scale))
        case _:
            raise ValueError(f"unknown glyph primitive {kind!r}")


@lru_cache(maxsize=256)
def _glyph_masks(
    name: str, size: int, mirror: bool = False, angle: int = 0
) -> tuple[Image.Image, Image.Image, Image.Image]:
    """Body, accent and soft-shadow masks. Drawn at twice the size and halved because Pillow draws
    shapes without anti-aliasing; cached because ~350 images share a few dozen glyph poses."""
    if mirror:
        return tuple(ImageOps.mirror(mask) for mask in _glyph_masks(name, size, angle=angle))
    if angle:
        upright = _glyph_masks(name, size)
        return tuple(mask.rotate(angle, resample=Image.Resampling.BICUBIC) for mask in upright)
    scale = 2 * size / 100
    masks = {layer: Image.new("L", (2 * size, 2 * size)) for layer in ("body", "accent")}
    draws = {layer: ImageDraw.Draw(mask) for layer, mask in masks.items()}
    for layer, kind, data in GLYPHS[name]:
        target = "accent" if layer == "accent" else "body"
        _draw_primitive(draws[target], kind, data, scale, 0 if layer == "cut" else 255)
    body, accent = masks["body"].reduce(2), masks["accent"].reduce(2)
    shadow = body.filter(ImageFilter.GaussianBlur(max(2, size // 40))).point(lambda value: value * 3 // 10)
    return body, accent, shadow


def _paint_glyph(
    image: Image.Image,
    name: str,
    centre: tuple[int, int],
    size: int,
    colour: RGB,
    *,
    mirror: bool = False,
    angle: int = 0,
) -> None:
    body, accent, shadow = _glyph_masks(name, size, mirror, angle)
    left, top = centre[0] - size // 2, centre[1] - size // 2
    offset = max(3, size // 45)
    image.paste(SHADOW, (left + offset, top + offset * 2), shadow)
    image.paste(colour, (left, top), body)
    image.paste(_accent(colour), (left, top), accent)


@lru_cache(maxsize=8)
def _disc(diameter: int) -> Image.Image:
    mask = Image.new("L", (diameter * 2, diameter * 2))
    ImageDraw.Draw(mask).ellipse((0, 0, diameter * 2 - 1, diameter * 2 - 1), fill=255)
    return mask.reduce(2)


def _paint_disc(image: Image.Image, centre: tuple[int, int], diameter: int, colour: RGB) -> None:
    image.paste(colour, (centre[0] - diameter // 2, centre[1] - diameter // 2), _disc(diameter))


def _encode(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return buffer.getvalue()


def _product_colour(plan: ProductPlan, view: int) -> tuple[RGB, str | None]:
    """The colour drawn in ``view``, and its name when it is one the shopper can choose."""
    if not plan.colour_names:
        return COLOURS[plan.look][1], None
    name = plan.colour_names[view % len(plan.colour_names)]
    return COLOURS[name][1], name


@lru_cache(maxsize=64)
def _product_backdrop(theme: RGB, angled: bool) -> Image.Image:
    """Gradient and spotlight disc; cached because every product of a department shares them."""
    image = _gradient(PRODUCT_IMAGE_SIZE, _tint(theme, 0.9), _tint(theme, 0.76))
    _paint_disc(image, ANGLED_CENTRE if angled else HERO_CENTRE, 680 if angled else 470, _tint(theme, 0.96))
    return image


def render_product_image(plan: ProductPlan, view: int, theme: RGB) -> bytes:
    """View 0 is the hero shot; view 1 the reverse side in the next colour; view 2 a large, angled
    shot, the way a real product gallery varies. No text: the page shows title and brand itself."""
    colour, _ = _product_colour(plan, view)
    angled = view == 2
    image = _product_backdrop(theme, angled).copy()
    if angled:
        _paint_glyph(image, plan.line.glyph, ANGLED_CENTRE, 540, colour, angle=-12)
        return _encode(image)
    _paint_glyph(image, plan.line.glyph, HERO_CENTRE, 380, colour, mirror=view == 1)
    return _encode(image)


def _image_alt(plan: ProductPlan, view: int, colour_name: str | None) -> str:
    subject = f"{plan.title} in {colour_name}" if colour_name else plan.title
    return (f"{subject} by {plan.brand}", f"{subject}, reverse view", f"{subject}, angled view")[view]


def render_category_tile(glyph: str, theme: RGB) -> bytes:
    """Art only: the storefront lays the category name over the lower part of the tile."""
    width, height = CATEGORY_IMAGE_SIZE
    image = _gradient(CATEGORY_IMAGE_SIZE, _tint(theme, 0.35), theme)
    _paint_disc(image, (width // 2, height * 2 // 5), 380, _tint(theme, 0.5))
    _paint_glyph(image, glyph, (width // 2, height * 2 // 5), 300, _tint(theme, 0.92))
    return _encode(image)


def render_collection_banner(spec: CollectionSpec, members: Sequence[tuple[str, RGB]]) -> bytes:
    """Up to three of the collection's products as glyphs on the right; the left is left plain for
    the title and blurb that the storefront lays over it."""
    image = _gradient(COLLECTION_IMAGE_SIZE, spec.colour, _tint(spec.colour, 0.55), horizontal=True)
    for (glyph, colour), centre in zip(members, ((770, 190), (1030, 190), (900, 415)), strict=False):
        _paint_disc(image, centre, 220, _tint(spec.colour, 0.9))
        _paint_glyph(image, glyph, centre, 170, colour)
    return _encode(image)


# ---------------------------------------------------------------------------------------------------
# Writing to the database and storage
# ---------------------------------------------------------------------------------------------------


class _Writer:
    """Carries the session, storage and running counts through the seed steps."""

    def __init__(self, session: Session, storage: Storage, total_images: int, progress: Progress | None):
        self.session = session
        self.storage = storage
        self.total_images = total_images
        self.progress = progress
        self.images = 0
        self.image_bytes = 0

    def put_image(self, key: str, data: bytes) -> str:
        self.storage.put(key, data, "image/jpeg")
        self.images += 1
        self.image_bytes += len(data)
        if self.progress:
            self.progress(self.images, self.total_images)
        return key

    def get_or_create(self, model: type[SQLModel], rows: dict[str, dict]) -> dict[str, SQLModel]:
        """Rows by slug, reusing any that exist: a store may have categories or brands but no
        products yet, and seeding must not collide with them."""
        existing = {
            row.slug: row
            for row in self.session.exec(select(model).where(model.slug.in_(list(rows))))  # type: ignore[attr-defined]
        }
        created = {slug: model(slug=slug, **values) for slug, values in rows.items() if slug not in existing}
        self.session.add_all(created.values())
        self.session.flush()
        return existing | created


def _write_categories(writer: _Writer) -> dict[str, Category]:
    glyphs = {slugify(spec.name): spec.glyph for spec in CATEGORIES}
    glyphs |= {line.category: line.glyph for line in reversed(LINES) if line.category not in glyphs}
    parents = writer.get_or_create(
        Category,
        {
            slugify(spec.name): {
                "name": spec.name,
                "description": spec.description,
                "position": position,
                "image_key": f"categories/{slugify(spec.name)}.jpg",
            }
            for position, spec in enumerate(CATEGORIES)
        },
    )
    children = writer.get_or_create(
        Category,
        {
            slugify(child): {
                "name": child,
                "parent_id": parents[slugify(spec.name)].id,
                "position": position,
                "description": f"{child} in {spec.name}.",
                "image_key": f"categories/{slugify(child)}.jpg",
            }
            for spec in CATEGORIES
            for position, child in enumerate(spec.children)
        },
    )
    for spec in CATEGORIES:
        for name in (spec.name, *spec.children):
            tile = render_category_tile(glyphs[slugify(name)], spec.colour)
            writer.put_image(f"categories/{slugify(name)}.jpg", tile)
    return parents | children  # type: ignore[return-value]


def _theme_by_category() -> dict[str, RGB]:
    """Subcategories inherit their top-level category's colour, so a department looks consistent."""
    return {slugify(name): spec.colour for spec in CATEGORIES for name in (spec.name, *spec.children)}


def _write_products(
    writer: _Writer, plans: list[ProductPlan], categories: dict[str, Category], brands: dict, tags: dict
) -> list[Product]:
    session = writer.session
    products = [
        Product(
            slug=plan.slug,
            title=plan.title,
            description=plan.description,
            status=plan.status,
            brand_id=brands[slugify(plan.brand)].id,
            category_id=categories[plan.line.category].id,
            featured=plan.featured,
            price_min=plan.price_range[0],
            price_max=plan.price_range[1],
            created_at=plan.created_at,
            updated_at=plan.created_at,
        )
        for plan in plans
    ]
    session.add_all(products)
    session.flush()
    _write_options_and_variants(session, plans, products)
    session.add_all(
        ProductTag(product_id=product.id, tag_id=tags[slugify(tag)].id)
        for plan, product in zip(plans, products, strict=True)
        for tag in sorted(plan.tags)
    )
    themes = _theme_by_category()
    for plan, product in zip(plans, products, strict=True):
        for view in range(plan.image_count):
            theme = themes[plan.line.category]
            image = render_product_image(plan, view, theme)
            key = writer.put_image(f"products/{plan.slug}/{view + 1}.jpg", image)
            alt = _image_alt(plan, view, _product_colour(plan, view)[1])
            session.add(ProductImage(product_id=product.id, storage_key=key, alt=alt, position=view))
    session.flush()
    return products


def _write_options_and_variants(session: Session, plans: list[ProductPlan], products: list[Product]) -> None:
    options = {
        (product.id, name): ProductOption(product_id=product.id, name=name, position=position)
        for plan, product in zip(plans, products, strict=True)
        for position, (name, _) in enumerate(plan.options)
    }
    session.add_all(options.values())
    session.flush()
    values = {
        (product.id, name, value): ProductOptionValue(
            option_id=options[product.id, name].id, value=value, position=position
        )
        for plan, product in zip(plans, products, strict=True)
        for name, option_values in plan.options
        for position, value in enumerate(option_values)
    }
    variants = [
        (
            product.id,
            variant_plan,
            Variant(
                product_id=product.id,
                sku=variant_plan.sku,
                title=variant_plan.title,
                price=variant_plan.price,
                compare_at_price=variant_plan.compare_at_price,
                stock_on_hand=variant_plan.stock,
                weight_grams=variant_plan.grams,
                position=position,
            ),
        )
        for plan, product in zip(plans, products, strict=True)
        for position, variant_plan in enumerate(plan.variants)
    ]
    session.add_all([*values.values(), *(variant for _, _, variant in variants)])
    session.flush()
    session.add_all(
        VariantOptionValue(variant_id=variant.id, option_value_id=values[product_id, name, value].id)
        for product_id, variant_plan, variant in variants
        for name, value in variant_plan.values
    )


def _write_collections(writer: _Writer, plans: list[ProductPlan], products: list[Product]) -> int:
    members = _collection_members(plans)
    product_by_slug = {product.slug: product for product in products}
    collections = writer.get_or_create(
        Collection,
        {
            spec.slug: {
                "title": spec.title,
                "description": spec.description,
                "position": position,
                "image_key": f"collections/{spec.slug}.jpg",
            }
            for position, spec in enumerate(COLLECTIONS)
        },
    )
    for spec in COLLECTIONS:
        chosen = members[spec.slug]
        writer.session.add_all(
            CollectionProduct(
                collection_id=collections[spec.slug].id,
                product_id=product_by_slug[plan.slug].id,
                position=position,
            )
            for position, plan in enumerate(chosen)
        )
        shown: dict[str, RGB] = {}  # one product per glyph, so the banner shows variety
        for plan in chosen:
            shown.setdefault(plan.line.glyph, _product_colour(plan, 0)[0])
        banner = render_collection_banner(spec, list(shown.items())[:3])
        writer.put_image(f"collections/{spec.slug}.jpg", banner)
    writer.session.flush()
    return len(collections)


def seed_demo_catalog(session: Session, storage: Storage, *, progress: Progress | None = None) -> SeedReport:
    """Fill an empty store with the demo catalog, writing through ``session`` without committing
    (the caller's session scope decides). ``progress(done, total)`` is called per stored image, the
    slow part. Returns ``SeedReport(created=False)`` and touches nothing if any product exists."""
    seed_knowledge(session)  # the assistant's FAQs and policies: only those missing, even in a stocked store
    if session.exec(select(Product.id).limit(1)).first() is not None:
        return SeedReport(created=False)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    plans = plan_catalog(now)
    category_count = sum(1 + len(spec.children) for spec in CATEGORIES)
    total_images = category_count + len(COLLECTIONS) + sum(plan.image_count for plan in plans)
    writer = _Writer(session, storage, total_images, progress)
    try:
        categories = _write_categories(writer)
        brands = writer.get_or_create(Brand, {slugify(name): {"name": name} for name in _brand_names()})
        tag_names = sorted({tag for plan in plans for tag in plan.tags})
        tags = writer.get_or_create(Tag, {slugify(name): {"name": name} for name in tag_names})
        products = _write_products(writer, plans, categories, brands, tags)
        collection_count = _write_collections(writer, plans, products)
    finally:
        _clear_image_caches()
    return SeedReport(
        created=True,
        categories=len(categories),
        brands=len(brands),
        tags=len(tags),
        collections=collection_count,
        products=len(products),
        variants=sum(len(plan.variants) for plan in plans),
        images=writer.images,
        image_bytes=writer.image_bytes,
    )


def _clear_image_caches() -> None:
    """The glyph and backdrop caches pay off only during a run; holding ~50 MB afterwards would not."""
    for cached in (_glyph_masks, _product_backdrop, _disc):
        cached.cache_clear()


def _brand_names() -> list[str]:
    return sorted({brand for line in LINES for brand in line.brands})
