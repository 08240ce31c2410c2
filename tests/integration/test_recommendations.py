"""Frequently bought together, from real orders, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from revoque.db import session_scope
from revoque.models import Order, OrderStatus, PaymentMethod, PaymentStatus, Product, Variant
from revoque.models.base import utcnow
from revoque.services import recommendations
from revoque.services.recommendations import frequently_bought_together
from revoque.settings import get_settings
from tests.conftest import use_settings
from tests.factories import add_order, add_product, variants_of


def first_variant(session: Session, product: Product) -> Variant:
    return variants_of(session, product)[0]


def order_of(session: Session, *products: Product, **fields) -> Order:
    """One of each product; stock is left alone (stock rules are not what these tests are about)."""
    return add_order(session, [(first_variant(session, p), 1) for p in products], take_stock=False, **fields)


def test_products_sharing_the_most_orders_come_first(database) -> None:
    with session_scope(write=True) as session:
        target = add_product(session, "Espresso machine")
        apron = add_product(session, "Barista apron", variants=[({"Size": "S"}, 50_000, 5), ({"Size": "M"}, 50_000, 5)])
        beans = add_product(session, "Coffee beans")
        grinder = add_product(session, "Burr grinder")
        cancelled = add_product(session, "Milk jug")
        abandoned = add_product(session, "Tamper")
        sold_out = add_product(session, "Descaler", variants=[({}, 5_000, 0)])
        draft = add_product(session, "Knock box", status="draft")
        elsewhere = add_product(session, "Tea pot")

        # Two sizes of the apron with the machine twice: four pairs of lines, but one order.
        machine, (small, medium) = first_variant(session, target), variants_of(session, apron)
        add_order(session, [(machine, 1), (machine, 1), (small, 1), (medium, 1)], take_stock=False)
        order_of(session, target, grinder, status=OrderStatus.DELIVERED, payment_status=PaymentStatus.PAID)
        order_of(session, target, beans)  # one order like the apron, but a later one
        for _ in range(3):
            order_of(session, target, cancelled, status=OrderStatus.CANCELLED)
            expired = order_of(session, target, abandoned, payment_method=PaymentMethod.CARD)
            expired.created_at = utcnow() - timedelta(minutes=get_settings().reservation_minutes + 5)
            session.add(expired)
            order_of(session, target, sold_out)
            order_of(session, target, draft)
            order_of(session, apron, elsewhere)  # never with the machine
        # A card order still inside its payment window counts.
        order_of(session, target, grinder, payment_method=PaymentMethod.CARD)
        session.flush()
        ids = {name: p.id for name, p in [("target", target), ("apron", apron), ("beans", beans), ("grinder", grinder)]}

    with session_scope() as session:
        assert frequently_bought_together(session, ids["target"]) == [ids["grinder"], ids["beans"], ids["apron"]]
        assert frequently_bought_together(session, ids["target"], limit=2) == [ids["grinder"], ids["beans"]]
        assert frequently_bought_together(session, ids["target"], limit=0) == []
        assert frequently_bought_together(session, ids["beans"]) == [ids["target"]]
        assert frequently_bought_together(session, 999_999) == []


def test_a_product_never_ordered_with_others_has_none(database) -> None:
    with session_scope(write=True) as session:
        alone = add_product(session, "Standing desk")
        order_of(session, alone)
        alone_id = alone.id
    with session_scope() as session:
        assert frequently_bought_together(session, alone_id) == []


def test_results_are_cached_briefly_and_caching_can_be_turned_off(database, monkeypatch) -> None:
    with session_scope(write=True) as session:
        target, beans, grinder = (add_product(session, t) for t in ("Espresso machine", "Coffee beans", "Burr grinder"))
        order_of(session, target, beans)
        ids = target.id, beans.id, grinder.id
    target_id, beans_id, grinder_id = ids

    computed = []
    original = recommendations._bought_together
    monkeypatch.setattr(recommendations, "_bought_together", lambda *a: computed.append(a) or original(*a))
    with session_scope() as session:
        assert frequently_bought_together(session, target_id) == [beans_id]
        assert frequently_bought_together(session, target_id) == [beans_id]
    assert len(computed) == 1  # the second answer came from the cache
    with session_scope(write=True) as session:
        order_of(session, session.get(Product, beans_id), session.get(Product, grinder_id))
    with session_scope() as session:
        assert frequently_bought_together(session, target_id) == [beans_id]
    assert len(computed) == 1  # an order without the machine changes nothing of its row: still cached
    with session_scope(write=True) as session:
        for _ in range(2):
            order_of(session, session.get(Product, target_id), session.get(Product, grinder_id))
    with session_scope() as session:
        assert frequently_bought_together(session, target_id) == [grinder_id, beans_id]  # new orders: fresh
    assert len(computed) == 2

    use_settings(monkeypatch, cache_ttl_seconds="0")
    with session_scope(write=True) as session:
        for _ in range(3):
            order_of(session, session.get(Product, target_id), session.get(Product, beans_id))
    with session_scope() as session:
        assert frequently_bought_together(session, target_id) == [beans_id, grinder_id]
