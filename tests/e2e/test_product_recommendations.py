"""A product page shows related products (from the embeddings `setup` built) and what other
shoppers bought with it, after the product itself, as cards that lead to other products."""

import re

from playwright.sync_api import Page, expect
from sqlalchemy import or_
from sqlmodel import Session, select

from revoque.db import build_engine
from revoque.models import Category, Product, Variant
from revoque.services.search_documents import active_product_ids
from tests.e2e.test_storefront_journey import open_page
from tests.factories import add_order, variants_of

MAX_CARDS = 4


def card_slugs(row) -> list[str]:
    hrefs = [card.get_attribute("href") or "" for card in row.get_by_test_id("product-card").all()]
    return [re.sub(r"^.*/product/", "", href).strip("/") for href in hrefs]


def in_stock_products(session: Session) -> list[Product]:
    on_shelf = or_(Variant.stock_on_hand > 0, Variant.track_inventory.is_(False))
    ids = set(session.exec(select(Variant.product_id).where(on_shelf))) & active_product_ids(session)
    products = session.exec(select(Product).where(Product.id.in_(ids)).order_by(Product.id))
    # Seeded products only: other e2e tests add their own (and visit them, which caches their rows).
    return [product for product in products if not product.slug.startswith("e2e-")]


def test_related_products_lead_to_other_products(page: Page, store, store_db, shot):
    product = in_stock_products(store_db)[0]
    open_page(page, f"{store.url}/product/{product.slug}")
    expect(page.get_by_test_id("product-heading")).to_have_text(product.title)

    related = page.get_by_test_id("related-products")
    expect(related.get_by_test_id("product-card").first).to_be_visible()
    expect(page.get_by_test_id("recommendations-loading")).to_have_count(0)
    expect(related.get_by_role("heading", name="Related products")).to_be_visible()
    slugs = card_slugs(related)
    assert 1 <= len(slugs) <= MAX_CARDS and product.slug not in slugs
    active = {p.slug for p in in_stock_products(store_db)}
    assert set(slugs) <= active  # only products a shopper can buy
    # The seed has no orders yet, so the "bought together" row is hidden, not an empty heading.
    expect(page.get_by_test_id("bought-together")).to_have_count(0)
    shot(page, "1-related")

    related.get_by_test_id("product-card").first.click()
    expect(page).to_have_url(re.compile(rf"/product/{re.escape(slugs[0])}$"))
    expect(page.get_by_test_id("product-heading")).not_to_have_text(product.title)
    # The previous product's rows give way to a skeleton until this product's rows arrive.
    expect(page.get_by_test_id("recommendations-loading")).to_have_count(0)
    expect(page.get_by_test_id("related-products").get_by_test_id("product-card").first).to_be_visible()
    assert slugs[0] not in card_slugs(page.get_by_test_id("related-products"))


def test_products_bought_together_are_offered(page: Page, store, shot):
    engine = build_engine(store.env["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://"))
    with Session(engine) as session:
        products = in_stock_products(session)
        product = products[-1]
        # Something from another top-level part of the catalog, so the embeddings would not relate them.
        roots = {c.id: c.parent_id for c in session.exec(select(Category))}

        def root(category_id: int | None) -> int | None:
            while category_id is not None and roots.get(category_id) is not None:
                category_id = roots[category_id]
            return category_id

        partner = next(p for p in products if root(p.category_id) != root(product.category_id))
        for _ in range(2):
            add_order(
                session,
                [(variants_of(session, product)[0], 1), (variants_of(session, partner)[0], 1)],
                email="bought-together@example.com",
                take_stock=False,
            )
        session.commit()
        slug, partner_slug, partner_title = product.slug, partner.slug, partner.title
    engine.dispose()

    open_page(page, f"{store.url}/product/{slug}")
    together = page.get_by_test_id("bought-together")
    expect(together.get_by_role("heading", name="Frequently bought together")).to_be_visible()
    expect(together.get_by_test_id("product-title").first).to_have_text(partner_title)
    assert card_slugs(together)[0] == partner_slug
    expect(page.get_by_test_id("related-products").get_by_test_id("product-card").first).to_be_visible()
    assert partner_slug not in card_slugs(page.get_by_test_id("related-products"))  # not shown twice
    shot(page, "2-bought-together")
