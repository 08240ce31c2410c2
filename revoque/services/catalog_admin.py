"""The catalog's structure as staff manage it: the category tree, collections and brands.

- **Categories** form a tree. Staff add a category (at the end of its siblings), rename it, move it
  under another category or to the top level, and move it up or down among its siblings. A move that
  would put a category under itself or one of its descendants is refused, so the tree never loops.
  Renaming keeps the slug, so the category's address (and links to it) stay the same.
- **Collections** are hand-picked lists of products: create, rename, add and remove products (new
  members go at the end). **Brands**: create and rename; like categories, renaming keeps the slug.
- Every change writes an audit entry in the caller's transaction. Search documents and embeddings
  carry the category path and the brand name, so renaming or moving a category, or renaming a
  brand, re-indexes the products concerned once the change commits: one job per product for up to
  ``REINDEX_EACH_LIMIT`` products, else one rebuild of each index (as a large import does).
  Collections are not part of a product's search document, so changing one re-indexes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, SQLModel, col, select

from revoque.adapters.queue import enqueue_after_commit
from revoque.errors import NotFound, ValidationError
from revoque.models import Brand, Category, Collection, CollectionProduct, Product, ProductImage, User, Variant
from revoque.services import audit, store_identity
from revoque.services.catalog import category_href, clamp_page, collection_href, image_url
from revoque.services.catalog_cache import invalidate_catalog_structure
from revoque.services.import_parsing import to_slug
from revoque.services.product_admin import ADMIN_ROUTE, category_subtree, next_position, price_text, schedule_reindex

NAME_LENGTH = 120
TITLE_LENGTH = 160
REINDEX_EACH_LIMIT = 200
COLLECTION_PAGE_SIZE = 20
PICK_LIMIT = 8


def _name(text: str, what: str, limit: int = NAME_LENGTH) -> str:
    name = " ".join((text or "").split())
    if not name:
        raise ValidationError(f"Give the {what} a name.")
    if len(name) > limit:
        raise ValidationError(f"The {what} name is longer than {limit} characters.")
    if not to_slug(name):
        raise ValidationError(f"The {what} name needs letters or digits.")
    return name


def _free_slug(session: Session, model: type[SQLModel], text: str) -> str:
    """A slug made from ``text`` that no row of ``model`` has yet (``-2``, ``-3``… when taken)."""
    base = to_slug(text, NAME_LENGTH - 6)
    slug, number = base, 2
    table = model.__table__  # type: ignore[attr-defined]
    while session.exec(select(table.c.id).where(table.c.slug == slug).limit(1)).first() is not None:
        slug, number = f"{base}-{number}", number + 1
    return slug


def _reindex_products(session: Session, product_ids: list[int]) -> None:
    """Re-index these products after commit: each one, or the whole catalog when there are many."""
    if len(product_ids) <= REINDEX_EACH_LIMIT:
        schedule_reindex(session, product_ids)
        return
    from revoque import jobs  # jobs import services: import here to avoid a cycle

    enqueue_after_commit(session, jobs.reindex_catalog, job_id="reindex-catalog")
    enqueue_after_commit(session, jobs.reembed_catalog, job_id="reembed-catalog")


# ---------------------------------------------------------------------------------------------------
# Categories
# ---------------------------------------------------------------------------------------------------


@dataclass
class CategoryNode:
    id: int
    name: str
    slug: str
    parent_id: int  # 0 at the top level
    depth: int
    path: str  # "Men's Clothing › Men's Shirts"
    product_count: int  # products directly in this category
    child_count: int
    is_first: bool  # among its siblings (cannot move up)
    is_last: bool  # cannot move down
    href: str  # on the storefront


def _categories(session: Session) -> list[Category]:
    return list(session.exec(select(Category).order_by(Category.position, Category.name, Category.id)))


def _children(categories: list[Category]) -> dict[int | None, list[Category]]:
    children: dict[int | None, list[Category]] = defaultdict(list)
    ids = {c.id for c in categories}
    for category in categories:  # already in sibling order
        parent = category.parent_id if category.parent_id in ids else None
        children[parent].append(category)
    return children


def category_tree(session: Session, with_counts: bool = True) -> list[CategoryNode]:
    """Every category, depth first, siblings in their order: ready to show as an indented list.
    ``with_counts=False`` skips counting each category's products (a pass over the product table)
    where only the names are wanted, as in menus."""
    categories = _categories(session)
    children = _children(categories)
    counts = (
        dict(
            session.exec(
                select(Product.category_id, func.count())
                .where(col(Product.category_id).is_not(None))
                .group_by(Product.category_id)
            ).all()
        )
        if with_counts
        else {}
    )
    nodes: list[CategoryNode] = []
    seen: set[int] = set()

    def walk(parent_id: int | None, depth: int, trail: list[str]) -> None:
        siblings = children[parent_id]
        for index, category in enumerate(siblings):
            if category.id in seen:  # bad data cannot loop the page
                continue
            seen.add(category.id)
            path = [*trail, category.name]
            nodes.append(
                CategoryNode(
                    id=category.id,
                    name=category.name,
                    slug=category.slug,
                    parent_id=category.parent_id or 0,
                    depth=depth,
                    path=" › ".join(path),
                    product_count=int(counts.get(category.id, 0)),
                    child_count=len(children[category.id]),
                    is_first=index == 0,
                    is_last=index == len(siblings) - 1,
                    href=category_href(category.slug),
                )
            )
            walk(category.id, depth + 1, path)

    walk(None, 0, [])
    return nodes


def _category(session: Session, category_id: int) -> Category:
    category = session.get(Category, category_id)
    if category is None:
        raise NotFound("That category is gone; it may have been changed by someone else. Reload the page.")
    return category


def _siblings(session: Session, parent_id: int | None) -> list[Category]:
    statement = select(Category).order_by(Category.position, Category.name, Category.id)
    statement = statement.where(
        col(Category.parent_id).is_(None) if parent_id is None else col(Category.parent_id) == parent_id
    )
    return list(session.exec(statement))


def _renumber(session: Session, siblings: list[Category]) -> None:
    for position, category in enumerate(siblings):
        if category.position != position:
            category.position = position
            session.add(category)


def _products_under(session: Session, category_id: int) -> list[int]:
    subtree = category_subtree(session, category_id)
    return list(session.exec(select(Product.id).where(col(Product.category_id).in_(subtree))))


def add_category(session: Session, actor: User | None, name: str, parent_id: int | None = None) -> Category:
    name = _name(name, "category")
    parent = _category(session, parent_id) if parent_id else None
    siblings = _siblings(session, parent.id if parent else None)
    category = Category(
        name=name,
        slug=_free_slug(session, Category, name),
        parent_id=parent.id if parent else None,
        position=len(siblings),
    )
    session.add(category)
    session.flush()
    after = {"name": name, "slug": category.slug, "parent": parent.name if parent else None}
    invalidate_catalog_structure(session)  # menus, tiles and listings show names
    audit.record(session, actor, "category.create", category, None, after, summary=name)
    return category


def rename_category(session: Session, actor: User | None, category_id: int, name: str) -> Category:
    category = _category(session, category_id)
    name = _name(name, "category")
    before = {"name": category.name}
    category.name = name
    session.add(category)
    invalidate_catalog_structure(session)  # menus, tiles and listings show names
    if audit.record(session, actor, "category.rename", category, before, {"name": name}, summary=name):
        _reindex_products(session, _products_under(session, category.id))
    return category


def move_category(session: Session, actor: User | None, category_id: int, parent_id: int | None) -> Category:
    """Put the category (with everything under it) under ``parent_id``, or at the top level for
    None, after the new siblings. Refused when the new parent is the category or inside it."""
    category = _category(session, category_id)
    parent = _category(session, parent_id) if parent_id else None
    if parent is not None and parent.id in category_subtree(session, category.id):
        where = "itself" if parent.id == category.id else f"“{parent.name}”, which is inside it"
        raise ValidationError(f"“{category.name}” can't be moved under {where}. Choose another place.")
    if category.parent_id == (parent.id if parent else None):
        return category
    old_parent = session.get(Category, category.parent_id) if category.parent_id else None
    old_siblings = [c for c in _siblings(session, category.parent_id) if c.id != category.id]
    category.parent_id = parent.id if parent else None
    category.position = len(_siblings(session, category.parent_id))
    session.add(category)
    _renumber(session, old_siblings)
    session.flush()
    before = {"parent": old_parent.name if old_parent else "(top level)"}
    after = {"parent": parent.name if parent else "(top level)"}
    invalidate_catalog_structure(session)  # menus, tiles and listings show names
    audit.record(session, actor, "category.move", category, before, after, summary=category.name)
    _reindex_products(session, _products_under(session, category.id))
    return category


def reorder_category(session: Session, actor: User | None, category_id: int, offset: int) -> Category:
    """Move the category ``offset`` places among its siblings (-1 up, +1 down; ends stay put)."""
    category = _category(session, category_id)
    siblings = _siblings(session, category.parent_id)
    index = next(i for i, c in enumerate(siblings) if c.id == category.id)
    target = max(0, min(len(siblings) - 1, index + offset))
    if target == index:
        return category
    before = {"order": [c.name for c in siblings]}
    siblings.insert(target, siblings.pop(index))
    _renumber(session, siblings)
    session.flush()
    invalidate_catalog_structure(session)  # menus, tiles and listings show names
    audit.record(
        session, actor, "category.reorder", category, before, {"order": [c.name for c in siblings]}, category.name
    )
    return category


# ---------------------------------------------------------------------------------------------------
# Collections
# ---------------------------------------------------------------------------------------------------


@dataclass
class CollectionRow:
    id: int
    title: str
    slug: str
    product_count: int
    href: str


@dataclass
class MemberRow:
    id: int
    title: str
    status: str
    image_url: str
    price_text: str
    href: str  # the admin edit page


@dataclass
class MembersPage:
    items: list[MemberRow]
    total: int
    page: int
    pages: int


def list_collections(session: Session) -> list[CollectionRow]:
    counts = dict(
        session.exec(
            select(CollectionProduct.collection_id, func.count()).group_by(CollectionProduct.collection_id)
        ).all()
    )
    rows = session.exec(select(Collection).order_by(Collection.position, Collection.title, Collection.id))
    return [CollectionRow(c.id, c.title, c.slug, int(counts.get(c.id, 0)), collection_href(c.slug)) for c in rows]


def _collection(session: Session, collection_id: int) -> Collection:
    collection = session.get(Collection, collection_id)
    if collection is None:
        raise NotFound("That collection is gone; it may have been changed by someone else. Reload the page.")
    return collection


def create_collection(session: Session, actor: User | None, title: str, description: str = "") -> Collection:
    title = _name(title, "collection", TITLE_LENGTH)
    last = session.exec(select(func.max(Collection.position))).one()
    collection = Collection(
        title=title,
        slug=_free_slug(session, Collection, title),
        description=" ".join(description.split())[:2000],
        position=0 if last is None else last + 1,
    )
    session.add(collection)
    session.flush()
    after = {"title": title, "slug": collection.slug}
    invalidate_catalog_structure(session)  # menus, tiles and listings show names
    audit.record(session, actor, "collection.create", collection, None, after, summary=title)
    return collection


def rename_collection(session: Session, actor: User | None, collection_id: int, title: str) -> Collection:
    collection = _collection(session, collection_id)
    title = _name(title, "collection", TITLE_LENGTH)
    before = {"title": collection.title}
    collection.title = title
    session.add(collection)
    invalidate_catalog_structure(session)  # menus, tiles and listings show names
    audit.record(session, actor, "collection.rename", collection, before, {"title": title}, summary=title)
    return collection


def _existing_products(session: Session, product_ids: list[int]) -> dict[int, str]:
    ids = sorted({int(i) for i in product_ids})
    if not ids:
        raise ValidationError("Choose at least one product.")
    return dict(session.exec(select(Product.id, Product.title).where(col(Product.id).in_(ids))).all())


def add_to_collection(session: Session, actor: User | None, collection_id: int, product_ids: list[int]) -> int:
    """Add the products (at the end, in the order given); ones already in it stay where they are.
    Returns how many were added."""
    collection = _collection(session, collection_id)
    titles = _existing_products(session, product_ids)
    if not titles:
        raise NotFound("None of those products exists any more; reload the page.")
    present = set(
        session.exec(
            select(CollectionProduct.product_id).where(
                CollectionProduct.collection_id == collection.id, col(CollectionProduct.product_id).in_(list(titles))
            )
        )
    )
    added = [pid for pid in dict.fromkeys(int(i) for i in product_ids) if pid in titles and pid not in present]
    position = next_position(session, collection.id)
    for offset, product_id in enumerate(added):
        session.add(CollectionProduct(collection_id=collection.id, product_id=product_id, position=position + offset))
    session.flush()
    if added:
        after = {"added": [titles[pid] for pid in added]}
        invalidate_catalog_structure(session)  # menus, tiles and listings show names
        audit.record(session, actor, "collection.add_products", collection, None, after, summary=collection.title)
    return len(added)


def remove_from_collection(session: Session, actor: User | None, collection_id: int, product_ids: list[int]) -> int:
    """Take the products out of the collection; returns how many were in it."""
    collection = _collection(session, collection_id)
    titles = _existing_products(session, product_ids)
    links = list(
        session.exec(
            select(CollectionProduct).where(
                CollectionProduct.collection_id == collection.id, col(CollectionProduct.product_id).in_(list(titles))
            )
        )
    )
    for link in links:
        session.delete(link)
    session.flush()
    if links:
        before = {"removed": [titles[link.product_id] for link in links]}
        invalidate_catalog_structure(session)  # menus, tiles and listings show names
        audit.record(session, actor, "collection.remove_products", collection, before, None, collection.title)
    return len(links)


def _member_rows(session: Session, products: list) -> list[MemberRow]:
    ids = [p.id for p in products]
    currency = store_identity.currency(session)
    first: dict[int, str] = {}
    for product_id, key in session.exec(
        select(ProductImage.product_id, ProductImage.storage_key)
        .where(col(ProductImage.product_id).in_(ids))
        .order_by(ProductImage.position, ProductImage.id)
    ):
        first.setdefault(product_id, key)
    return [
        MemberRow(
            id=p.id,
            title=p.title,
            status=p.status,
            image_url=image_url(first.get(p.id)),
            price_text=price_text(p.price_min, p.price_max, currency),
            href=f"{ADMIN_ROUTE}/{p.id}",
        )
        for p in products
    ]


def collection_members(
    session: Session, collection_id: int, page: int = 1, page_size: int = COLLECTION_PAGE_SIZE
) -> MembersPage:
    """The collection's products in their order, a page at a time."""
    collection = _collection(session, collection_id)
    total = session.exec(
        select(func.count()).select_from(CollectionProduct).where(CollectionProduct.collection_id == collection.id)
    ).one()
    page, pages = clamp_page(page, total, page_size)
    rows = session.exec(
        select(Product.id, Product.title, Product.status, Product.price_min, Product.price_max)
        .join(CollectionProduct, col(CollectionProduct.product_id) == col(Product.id))
        .where(CollectionProduct.collection_id == collection.id)
        .order_by(CollectionProduct.position, Product.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    return MembersPage(_member_rows(session, list(rows)), total, page, pages)


def find_products(session: Session, text: str, limit: int = PICK_LIMIT) -> list[MemberRow]:
    """Products whose title has every word, or whose SKU starts with the text (to add somewhere)."""
    text = " ".join((text or "").split())[:100]
    if len(text) < 2:
        return []
    words = text.split()[:8]
    statement = select(Product.id, Product.title, Product.status, Product.price_min, Product.price_max)
    for word in words:
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        statement = statement.where(col(Product.title).ilike(f"%{escaped}%", escape="\\"))
    rows = list(session.exec(statement.order_by(Product.title, Product.id).limit(limit)).all())
    if len(rows) < limit:
        sku_rows = session.exec(
            select(Product.id, Product.title, Product.status, Product.price_min, Product.price_max)
            .join(Variant, col(Variant.product_id) == col(Product.id))
            .where(func.upper(Variant.sku).startswith(text.upper(), autoescape=True))
            .distinct()
            .order_by(Product.title, Product.id)
            .limit(limit)
        ).all()
        seen = {row.id for row in rows}
        rows += [row for row in sku_rows if row.id not in seen][: limit - len(rows)]
    return _member_rows(session, rows)


# ---------------------------------------------------------------------------------------------------
# Brands
# ---------------------------------------------------------------------------------------------------


@dataclass
class BrandRow:
    id: int
    name: str
    slug: str
    product_count: int


@dataclass
class BrandsPage:
    items: list[BrandRow]
    total: int
    page: int
    pages: int


BRAND_PAGE_SIZE = 30


def list_brands(session: Session, page: int = 1, page_size: int = BRAND_PAGE_SIZE) -> BrandsPage:
    """Brands by name, a page at a time, with how many products each has."""
    total = session.exec(select(func.count()).select_from(Brand)).one()
    page, pages = clamp_page(page, total, page_size)
    brands = session.exec(
        select(Brand).order_by(Brand.name, Brand.id).offset((page - 1) * page_size).limit(page_size)
    ).all()
    ids = [b.id for b in brands]
    counts = (
        dict(
            session.exec(
                select(Product.brand_id, func.count()).where(col(Product.brand_id).in_(ids)).group_by(Product.brand_id)
            ).all()
        )
        if ids
        else {}
    )
    items = [BrandRow(b.id, b.name, b.slug, int(counts.get(b.id, 0))) for b in brands]
    return BrandsPage(items, total, page, pages)


def _brand(session: Session, brand_id: int) -> Brand:
    brand = session.get(Brand, brand_id)
    if brand is None:
        raise NotFound("That brand is gone; it may have been changed by someone else. Reload the page.")
    return brand


def _brand_taken(session: Session, name: str, brand_id: int | None = None) -> None:
    statement = select(Brand.id).where(func.lower(Brand.name) == name.lower())
    if brand_id is not None:
        statement = statement.where(col(Brand.id) != brand_id)
    if session.exec(statement.limit(1)).first() is not None:
        raise ValidationError(f"There is already a brand called “{name}”.")


def create_brand(session: Session, actor: User | None, name: str) -> Brand:
    name = _name(name, "brand")
    _brand_taken(session, name)
    brand = Brand(name=name, slug=_free_slug(session, Brand, name))
    session.add(brand)
    session.flush()
    invalidate_catalog_structure(session)  # menus, tiles and listings show names
    audit.record(session, actor, "brand.create", brand, None, {"name": name, "slug": brand.slug}, summary=name)
    return brand


def rename_brand(session: Session, actor: User | None, brand_id: int, name: str) -> Brand:
    brand = _brand(session, brand_id)
    name = _name(name, "brand")
    _brand_taken(session, name, brand.id)
    before = {"name": brand.name}
    brand.name = name
    session.add(brand)
    invalidate_catalog_structure(session)  # menus, tiles and listings show names
    if audit.record(session, actor, "brand.rename", brand, before, {"name": name}, summary=name):
        product_ids = list(session.exec(select(Product.id).where(Product.brand_id == brand.id)))
        _reindex_products(session, product_ids)
    return brand
