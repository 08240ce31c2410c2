"""Carts: a guest's is found by a browser token (only its hash is stored), a customer's by user id.

Quantities are checked against what is available to this cart (on hand − other carts' active
reservations) whenever a shopper adds or changes a line, and again when checkout starts; the cart
view flags lines that now ask for more than is left rather than silently changing them.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field

from sqlmodel import Session, col, func, select

from revoque.errors import NotFound, ValidationError
from revoque.models import Cart, CartLine, Product, ProductImage, ProductStatus, StoreEventKind, Variant
from revoque.services import analytics, inventory, store_identity
from revoque.services.catalog import image_url, product_href
from revoque.services.money import format_money

MAX_LINE_QUANTITY = 99
MAX_CART_LINES = 40  # different items in one cart: keeps the cart and checkout pages' client state small


class StockError(ValidationError):
    """Not enough stock for what the shopper asked; the message names the product and what is left."""


@dataclass
class CartLineView:
    variant_id: int
    product_title: str
    variant_title: str
    sku: str
    href: str
    image_url: str
    unit_price: int
    quantity: int
    line_total: int
    unit_price_text: str
    line_total_text: str
    available: int
    warning: str


@dataclass
class CartView:
    cart_id: int | None
    lines: list[CartLineView] = field(default_factory=list)
    count: int = 0
    subtotal: int = 0
    subtotal_text: str = ""
    coupon_code: str = ""
    currency: str = ""  # the store's currency, which every amount above is in

    @property
    def has_problems(self) -> bool:
        return any(line.warning for line in self.lines)


def new_token() -> str:
    return secrets.token_urlsafe(24)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def find_cart(session: Session, *, token: str | None = None, user_id: int | None = None) -> Cart | None:
    """The open cart of the signed-in customer, else the open guest cart of this browser's token."""
    if user_id is not None:
        cart = session.exec(
            select(Cart).where(Cart.user_id == user_id, Cart.status == "open").order_by(col(Cart.id).desc())
        ).first()
        if cart is not None:
            return cart
    if token:
        return session.exec(
            select(Cart).where(Cart.token_hash == hash_token(token), Cart.status == "open", col(Cart.user_id).is_(None))
        ).first()
    return None


def open_cart(session: Session, *, token: str, user_id: int | None = None) -> Cart:
    """Find the cart or start one tied to ``token`` (and to the customer when signed in)."""
    cart = find_cart(session, token=token, user_id=user_id)
    if cart is None:
        # A customer's cart is found by their id, never by the browser's token, so it does not take
        # the token: token hashes are unique, and the browser keeps its token after the session ends.
        cart = Cart(token_hash=hash_token(token if user_id is None else new_token()), user_id=user_id)
        session.add(cart)
        session.flush()
    return cart


def _sellable_variant(session: Session, variant_id: int) -> tuple[Variant, Product]:
    row = session.exec(
        select(Variant, Product).join(Product, Product.id == Variant.product_id).where(Variant.id == variant_id)
    ).first()
    if row is None or row[1].status != ProductStatus.ACTIVE:
        raise NotFound("That product is no longer available.")
    return row


def _check_quantity(quantity: int) -> None:
    if not 1 <= quantity <= MAX_LINE_QUANTITY:
        raise ValidationError(f"Choose a quantity between 1 and {MAX_LINE_QUANTITY}.")


def _ensure_available(session: Session, cart: Cart, variant: Variant, product: Product, quantity: int) -> None:
    available = inventory.availability(session, [variant], cart.id)[variant.id]
    if quantity <= available:
        return
    name = product.title + (f" ({variant.title})" if variant.title else "")
    if available == 0:
        raise StockError(f"{name} is out of stock.")
    raise StockError(f"Only {available} of {name} left.")


def _line_count(session: Session, cart_id: int) -> int:
    return session.exec(select(func.count()).select_from(CartLine).where(CartLine.cart_id == cart_id)).one()


def _line(session: Session, cart_id: int, variant_id: int) -> CartLine | None:
    return session.exec(select(CartLine).where(CartLine.cart_id == cart_id, CartLine.variant_id == variant_id)).first()


def add_item(session: Session, cart: Cart, variant_id: int, quantity: int = 1) -> CartLine:
    """Add to the line for this variant (creating it), refusing more than is available."""
    _check_quantity(quantity)
    variant, product = _sellable_variant(session, variant_id)
    line = _line(session, cart.id, variant_id)
    wanted = quantity + (line.quantity if line else 0)
    if wanted > MAX_LINE_QUANTITY:
        raise ValidationError(f"You can buy at most {MAX_LINE_QUANTITY} of one item.")
    if line is None and _line_count(session, cart.id) >= MAX_CART_LINES:
        raise ValidationError(
            f"Your cart holds up to {MAX_CART_LINES} different items. Check out or remove something first."
        )
    _ensure_available(session, cart, variant, product, wanted)
    line = line or CartLine(cart_id=cart.id, variant_id=variant_id, quantity=0)
    line.quantity = wanted
    session.add(line)
    session.flush()
    analytics.record_event(
        session,
        StoreEventKind.ADD_TO_CART,
        product_id=product.id,
        user_id=cart.user_id,
        visitor=analytics.cart_visitor(cart),
    )
    return line


def set_quantity(session: Session, cart: Cart, variant_id: int, quantity: int) -> None:
    """Change a line's quantity; 0 removes it. Lowering is always allowed, raising is checked."""
    line = _line(session, cart.id, variant_id)
    if line is None:
        raise NotFound("That item is no longer in your cart.")
    if quantity <= 0:
        session.delete(line)
        return
    _check_quantity(quantity)
    if quantity > line.quantity:
        variant, product = _sellable_variant(session, variant_id)
        _ensure_available(session, cart, variant, product, quantity)
    line.quantity = quantity
    session.add(line)


def remove_item(session: Session, cart: Cart, variant_id: int) -> None:
    set_quantity(session, cart, variant_id, 0)


def merge_guest_cart(session: Session, guest_token: str | None, user_id: int) -> Cart | None:
    """On sign-in the guest cart joins the customer's: quantities are summed and capped by stock.

    When the customer has no open cart, the guest cart simply becomes theirs."""
    guest = find_cart(session, token=guest_token) if guest_token else None
    mine = find_cart(session, user_id=user_id)
    if guest is None:
        return mine
    guest.token_hash = hash_token(new_token())  # the browser's token is free for a later guest cart
    if mine is None:
        guest.user_id = user_id
        session.add(guest)
        return guest
    for line in session.exec(select(CartLine).where(CartLine.cart_id == guest.id)).all():
        _merge_line(session, mine, line)
        session.delete(line)
    guest.status = "merged"
    session.add(guest)
    inventory.release_cart(session, guest.id)
    return mine


def _merge_line(session: Session, cart: Cart, guest_line: CartLine) -> None:
    variant = session.get(Variant, guest_line.variant_id)
    if variant is None:
        return
    existing = _line(session, cart.id, variant.id)
    if existing is None and _line_count(session, cart.id) >= MAX_CART_LINES:
        return  # the customer's cart is full: the guest's extra item stays out rather than overfill it
    wanted = min(guest_line.quantity + (existing.quantity if existing else 0), MAX_LINE_QUANTITY)
    capped = min(wanted, inventory.availability(session, [variant], cart.id)[variant.id])
    if capped <= 0:
        return
    line = existing or CartLine(cart_id=cart.id, variant_id=variant.id, quantity=capped)
    line.quantity = max(line.quantity, capped) if existing else capped
    session.add(line)
    session.flush()


def view_cart(session: Session, cart: Cart | None) -> CartView:
    """Lines with images, prices and stock warnings, plus the subtotal, for the drawer and pages."""
    currency = store_identity.currency(session)
    if cart is None:
        return CartView(cart_id=None, subtotal_text=format_money(0, currency), currency=currency)
    rows = session.exec(
        select(CartLine, Variant, Product)
        .join(Variant, Variant.id == CartLine.variant_id)
        .join(Product, Product.id == Variant.product_id)
        .where(CartLine.cart_id == cart.id)
        .order_by(CartLine.id)
    ).all()
    available = inventory.availability(session, [variant for _, variant, _ in rows], cart.id)
    images = _first_images(session, [product.id for _, _, product in rows])
    lines = [
        _line_view(line, variant, product, images.get(product.id), available[variant.id], currency)
        for line, variant, product in rows
    ]
    subtotal = sum(line.line_total for line in lines)
    return CartView(
        cart_id=cart.id,
        lines=lines,
        count=sum(line.quantity for line in lines),
        subtotal=subtotal,
        subtotal_text=format_money(subtotal, currency),
        coupon_code=cart.coupon_code,
        currency=currency,
    )


def _first_images(session: Session, product_ids: list[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    for image in session.exec(
        select(ProductImage).where(col(ProductImage.product_id).in_(product_ids)).order_by(ProductImage.position)
    ):
        found.setdefault(image.product_id, image_url(image.storage_key))
    return found


def _line_view(
    line: CartLine, variant: Variant, product: Product, image: str | None, available: int, currency: str
) -> CartLineView:
    warning = ""
    if product.status != ProductStatus.ACTIVE:
        warning = "No longer available: remove it to continue."
    elif available == 0:
        warning = "Out of stock: remove it to continue."
    elif line.quantity > available:
        warning = f"Only {available} left: lower the quantity to continue."
    total = variant.price * line.quantity
    return CartLineView(
        variant_id=variant.id,
        product_title=product.title,
        variant_title=variant.title,
        sku=variant.sku,
        href=product_href(product.slug),
        image_url=image or image_url(None),
        unit_price=variant.price,
        quantity=line.quantity,
        line_total=total,
        unit_price_text=format_money(variant.price, currency),
        line_total_text=format_money(total, currency),
        available=min(available, MAX_LINE_QUANTITY),
        warning=warning,
    )
