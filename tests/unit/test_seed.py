"""The demo catalog: big and varied enough to exercise the storefront, consistent, and seeded once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image
from sqlmodel import Session, SQLModel, func, select

import revoque.models  # noqa: F401  (registers every table on SQLModel.metadata)
from revoque.adapters.storage import LocalStorage
from revoque.db import build_engine
from revoque.models import (
    Category,
    Collection,
    CollectionProduct,
    Product,
    ProductImage,
    ProductStatus,
    Variant,
)
from revoque.services.seed import PRODUCT_IMAGE_SIZE, SeedReport, plan_catalog, seed_demo_catalog


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Session, LocalStorage, SeedReport]]:
    """One seeded store shared by the module: seeding draws a few hundred images, so do it once."""
    root = tmp_path_factory.mktemp("seed")
    engine = build_engine(f"sqlite:///{root / 'store.db'}")
    SQLModel.metadata.create_all(engine)
    storage = LocalStorage(root / "media")
    calls: list[tuple[int, int]] = []
    with Session(engine) as session:
        report = seed_demo_catalog(session, storage, progress=lambda done, total: calls.append((done, total)))
        session.commit()
        assert calls and calls[-1][0] == calls[-1][1] == report.images
        yield session, storage, report
    engine.dispose()


def test_report_counts_what_was_written(seeded: tuple[Session, LocalStorage, SeedReport]) -> None:
    session, _, report = seeded
    assert report.created
    assert report.products == session.exec(select(func.count()).select_from(Product)).one()
    assert report.variants == session.exec(select(func.count()).select_from(Variant)).one()
    assert report.images > report.products
    assert 0 < report.image_bytes < report.images * 60_000


def test_catalog_is_large_and_structured(seeded: tuple[Session, LocalStorage, SeedReport]) -> None:
    session, _, _ = seeded
    products = session.exec(select(Product)).all()
    assert len(products) >= 120
    categories = session.exec(select(Category)).all()
    top_level = [category for category in categories if category.parent_id is None]
    assert len(top_level) >= 8
    assert sum(1 for category in categories if category.parent_id is not None) >= 16
    assert all(category.image_key for category in categories)
    collections = session.exec(select(Collection)).all()
    assert len(collections) >= 3
    for collection in collections:
        members = session.exec(select(CollectionProduct).where(CollectionProduct.collection_id == collection.id)).all()
        assert members, collection.slug
        assert sorted(member.position for member in members) == list(range(len(members)))


def test_statuses_and_featured(seeded: tuple[Session, LocalStorage, SeedReport]) -> None:
    session, _, _ = seeded
    statuses = Counter(session.exec(select(Product.status)).all())
    assert statuses[ProductStatus.DRAFT.value] >= 1
    assert statuses[ProductStatus.ARCHIVED.value] >= 1
    featured = session.exec(select(Product).where(Product.featured)).all()
    assert len(featured) >= 8
    assert all(product.status == ProductStatus.ACTIVE.value for product in featured)


def test_variants_are_varied_and_consistent(seeded: tuple[Session, LocalStorage, SeedReport]) -> None:
    session, _, _ = seeded
    variants = session.exec(select(Variant)).all()
    skus = [variant.sku for variant in variants]
    assert len(skus) == len(set(skus))
    by_product: dict[int, list[Variant]] = {}
    for variant in variants:
        by_product.setdefault(variant.product_id, []).append(variant)
    products = session.exec(select(Product)).all()
    assert sum(1 for product in products if len(by_product[product.id]) > 1) > 0.6 * len(products)
    for product in products:
        prices = [variant.price for variant in by_product[product.id]]
        assert (product.price_min, product.price_max) == (min(prices), max(prices)), product.slug
    assert all(250_000 <= variant.price <= 45_000_000 for variant in variants)
    assert any(variant.stock_on_hand == 0 for variant in variants)
    on_sale = [variant for variant in variants if variant.compare_at_price is not None]
    assert on_sale and all(variant.compare_at_price > variant.price for variant in on_sale)


def test_every_active_product_has_a_readable_image(seeded: tuple[Session, LocalStorage, SeedReport]) -> None:
    session, storage, _ = seeded
    active = session.exec(select(Product).where(Product.status == ProductStatus.ACTIVE.value)).all()
    for product in active:
        images = session.exec(select(ProductImage).where(ProductImage.product_id == product.id)).all()
        assert images, product.slug
        for image in images:
            path: Path = storage.path_for(image.storage_key)
            assert path.is_file(), image.storage_key
            with Image.open(path) as picture:
                picture.verify()
            with Image.open(path) as picture:
                assert picture.size == PRODUCT_IMAGE_SIZE
            assert image.alt


def test_second_run_creates_nothing(seeded: tuple[Session, LocalStorage, SeedReport]) -> None:
    session, storage, report = seeded
    again = seed_demo_catalog(session, storage)
    assert again == SeedReport(created=False)
    assert session.exec(select(func.count()).select_from(Product)).one() == report.products


def test_plan_is_deterministic() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    first, second = plan_catalog(now), plan_catalog(now)
    assert [(p.slug, p.description, p.status, p.featured, p.created_at) for p in first] == [
        (p.slug, p.description, p.status, p.featured, p.created_at) for p in second
    ]
    assert [v for p in first for v in p.variants] == [v for p in second for v in p.variants]
