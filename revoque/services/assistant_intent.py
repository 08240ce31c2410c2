"""What a shopper's chat message asks for: products (with a price limit, colour, size, category,
"cheapest" / "best rated"), an order, a store policy, or just hello.

Pure functions over the message and a ``Vocabulary`` of the catalog's words (category names,
colour and size values as products name them), so the rules are unit-tested without a database.
Price limits come from ``revoque.services.query_parsing`` (shared with the search page); everything
matched here becomes a filter and is taken out of the words left for product search, so "red
dresses under 20k" searches dresses for red ones under ₦20,000 instead of hoping some title
contains "under 20k".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import StrEnum

from revoque.adapters.search import SearchFilters, fold
from revoque.services.knowledge import STOP_WORDS
from revoque.services.orders import ORDER_NUMBER_PREFIX
from revoque.services.query_parsing import parse_price_limits


class Sort(StrEnum):
    RELEVANCE = "relevance"
    CHEAPEST = "cheapest"
    PRICIEST = "priciest"
    BEST_RATED = "best_rated"


_SORT_PHRASES: tuple[tuple[Sort, re.Pattern[str]], ...] = (
    (Sort.BEST_RATED, re.compile(r"\b(?:best|top|highest|well)[ -]?(?:rated|reviewed)\b|\bbest reviews?\b")),
    (Sort.CHEAPEST, re.compile(r"\b(?:cheapest|cheaper|cheap|lowest[ -]priced?|least expensive|most affordable)\b")),
    (Sort.PRICIEST, re.compile(r"\b(?:most expensive|priciest|highest[ -]priced?|premium)\b")),
)
_ORDER_NUMBER = re.compile(rf"\b{re.escape(ORDER_NUMBER_PREFIX.rstrip('-'))}[- ]?(\d{{4,9}})\b", re.IGNORECASE)
_ORDER_WORDS = re.compile(
    r"\b(?:my|our)\s+(?:\w+\s+)?(?:orders?|packages?|parcels?|deliver(?:y|ies)|purchases?)\b"
    r"|\b(?:track|tracking|where(?:'s| is)|status of)\b.*\b(?:orders?|packages?|parcels?)\b"
    r"|\border\s*(?:number|no\.?|#)"
)
_SIZE_AFTER_WORD = re.compile(r"\bsize[ds]?\s+([a-z0-9-]+(?:\s?ml)?)", re.IGNORECASE)
_STANDALONE_SIZES = frozenset({"xs", "xl", "xxl", "xxxl"})
_GREETING = re.compile(r"^\s*(?:hi|hello|hey|good (?:morning|afternoon|evening)|thanks?|thank you)\b[\s!.,]*$", re.I)
# Words that make a message a store-policy question (delivery, returns, payment…) when it names no product.
_POLICY_TEXT = (
    "deliver delivery deliveries shipping ship ships shipped return returns refund refunds exchange exchanges "
    "pay payment payments paying paystack transfer cancel cancellation contact sizing warranty pickup collect "
    "privacy vat tax hours policy policies"
)
POLICY_WORDS = frozenset(_POLICY_TEXT.split())


@dataclass(frozen=True)
class Vocabulary:
    """The catalog's words the parser recognises, as the catalog spells them."""

    categories: tuple[tuple[str, str], ...] = ()  # (name, slug)
    colours: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Intent:
    message: str
    search_text: str = ""  # words left for product search once filters and filler are taken out
    price_min: int | None = None  # inclusive, minor units of ``currency``
    price_max: int | None = None
    currency: str = ""  # the store's, which the price words were read in
    categories: tuple[str, ...] = ()  # slugs
    category_names: tuple[str, ...] = ()
    colours: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()
    sort: Sort = Sort.RELEVANCE
    about_orders: bool = False
    order_number: str = ""  # normalised ("RVQ-100042") when the message names one
    about_policy: bool = False
    greeting: bool = False

    @property
    def has_product_filters(self) -> bool:
        return bool(
            self.categories
            or self.colours
            or self.sizes
            or self.price_min is not None
            or self.price_max is not None
            or self.sort is not Sort.RELEVANCE
        )

    @property
    def wants_products(self) -> bool:
        """Search the catalog unless this is only a hello, an order question or a policy question."""
        if self.has_product_filters:
            return True
        if self.greeting or self.about_orders or self.about_policy:
            return False
        return bool(self.search_text)

    def colours_as_words(self) -> Intent:
        """The same request with its colour names read as plain words: "cream" in "face cream" or
        "rose" in "rose perfume" name the product, not its colour."""
        words = [colour.lower() for colour in self.colours]
        return replace(self, colours=(), search_text=" ".join([*words, self.search_text]).strip())

    def filters(self) -> SearchFilters:
        return SearchFilters(
            categories=self.categories,
            colours=self.colours,
            sizes=self.sizes,
            price_min=self.price_min,
            price_max=self.price_max,
        )


def parse_intent(message: str, vocabulary: Vocabulary, currency: str) -> Intent:
    """Read ``message``: every recognised constraint becomes a field, and is removed from the
    words that are left for product search."""
    text = " ".join(message.replace("\u2019", "'").split())
    order_match = _ORDER_NUMBER.search(text)
    order_number = f"{ORDER_NUMBER_PREFIX}{order_match.group(1)}" if order_match else ""
    if order_match:
        text = _cut(text, order_match.span())
    limits = parse_price_limits(text, currency)
    text = limits.text
    lowered = fold(text)
    sort = Sort.RELEVANCE
    for candidate, pattern in _SORT_PHRASES:
        if found := pattern.search(lowered):
            sort, lowered = candidate, _cut(lowered, found.span())
            break
    sizes, lowered = _sizes(lowered, vocabulary)
    categories, lowered = _categories(lowered, vocabulary)
    colours, lowered = _colours(lowered, vocabulary)
    words = _content_words(lowered)
    about_orders = bool(order_number or _ORDER_WORDS.search(fold(message)))
    return Intent(
        message=message,
        search_text=" ".join(w for w in words if w not in POLICY_WORDS),
        price_min=limits.minimum,
        price_max=limits.maximum,
        currency=currency,
        categories=tuple(slug for _name, slug in categories),
        category_names=tuple(name for name, _slug in categories),
        colours=colours,
        sizes=sizes,
        sort=sort,
        about_orders=about_orders,
        order_number=order_number,
        about_policy=any(_singular(w) in POLICY_WORDS or w in POLICY_WORDS for w in words),
        greeting=bool(_GREETING.match(message)),
    )


def _cut(text: str, span: tuple[int, int]) -> str:
    return f"{text[: span[0]]} {text[span[1] :]}"


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("es") and word[-3] in "sxz":
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9][a-z0-9'-]*", text)


def _content_words(text: str) -> list[str]:
    return [w.strip("'-") for w in _words(text) if w not in STOP_WORDS and w.strip("'-")]


def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    """A category or colour name as the shopper may type it: any case, "men's" or "mens", "&" or
    "and", the last word singular or plural."""
    words = _words(fold(phrase).replace("&", " and "))
    if not words:
        return re.compile(r"(?!x)x")
    *head, last = (w.replace("'", "'?") for w in words)
    stem = re.escape(_singular(last.replace("'?", "'"))).replace("'", "'?")
    body = r"\s+".join([*head, rf"{stem}(?:s|es)?"]) if head else rf"{stem}(?:s|es)?"
    return re.compile(rf"\b{body}\b")


def _categories(text: str, vocabulary: Vocabulary) -> tuple[list[tuple[str, str]], str]:
    """Category names in the text, longest first (so "men's shoes" beats "shoes"); a name matched
    whole, or by its one distinctive word ("sneakers", "fragrance")."""
    found: list[tuple[str, str]] = []
    for name, slug in sorted(vocabulary.categories, key=lambda c: -len(c[0])):
        match = _phrase_pattern(name).search(text)
        if match is None:
            words = [w for w in _words(fold(name).replace("&", " ")) if w not in STOP_WORDS and w != "and"]
            if len(words) != 1:
                continue
            match = _phrase_pattern(words[0]).search(text)
        if match is not None:
            found.append((name, slug))
            text = _cut(text, match.span())
    return found, text


def _colours(text: str, vocabulary: Vocabulary) -> tuple[tuple[str, ...], str]:
    found: list[str] = []
    for colour in sorted(set(vocabulary.colours), key=lambda c: -len(c)):
        match = re.search(rf"\b{re.escape(fold(colour))}\b", text)
        if match is not None:
            found.append(colour)
            text = _cut(text, match.span())
    return tuple(found), text


def _sizes(text: str, vocabulary: Vocabulary) -> tuple[tuple[str, ...], str]:
    """Sizes only where the text says "size …", or ones that cannot mean anything else (XL, XXL):
    a lone "m" or "42" is too ambiguous to filter on."""
    known = {fold(size).replace(" ", ""): size for size in vocabulary.sizes}
    found: list[str] = []
    for match in list(_SIZE_AFTER_WORD.finditer(text))[::-1]:
        size = known.get(match.group(1).replace(" ", ""))
        if size is not None:
            found.append(size)
            text = _cut(text, match.span())
    for word in _words(text):
        if word in _STANDALONE_SIZES and word in known and known[word] not in found:
            found.append(known[word])
            text = re.sub(rf"\b{word}\b", " ", text, count=1)
    return tuple(found), text
