"""What a fresh store needs to take orders at once: delivery methods, bank details and demo coupons."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from revoque.models import Coupon, CouponKind
from revoque.models.base import utcnow
from revoque.services.pricing import get_store_config
from revoque.services.shipping import ensure_default_methods

DEMO_DETAILS = {
    "bank_name": "Zenith Bank",
    "bank_account_name": "Revoque Stores Ltd",
    "bank_account_number": "1012345678",
    "contact_email": "hello@revoque.ng",
    "contact_phone": "+234 803 123 4567",
    "contact_address": "12 Admiralty Way, Lekki Phase 1, Lagos",
}


def ensure_demo_store(session: Session, now: datetime | None = None) -> None:
    """Delivery methods, demo bank and contact details (each only while empty) and demo coupons;
    safe to rerun, and never overwrites what staff have set."""
    ensure_default_methods(session)
    config = get_store_config(session)
    for field, value in DEMO_DETAILS.items():
        if not getattr(config, field):
            setattr(config, field, value)
    session.add(config)
    ensure_demo_coupons(session, now)


def ensure_demo_coupons(session: Session, now: datetime | None = None) -> None:
    """Create WELCOME10, SAVE5K and EXPIRED20 while the store has no coupons at all; once staff have
    any coupon the table is theirs, so a re-seed never brings back a code they deleted."""
    if session.exec(select(func.count()).select_from(Coupon)).one():
        return
    now = now or utcnow()
    session.add_all(
        [
            Coupon(code="WELCOME10", kind=CouponKind.PERCENT, value=1000),
            Coupon(code="SAVE5K", kind=CouponKind.FIXED, value=500_000, min_subtotal=3_000_000),
            Coupon(
                code="EXPIRED20",
                kind=CouponKind.PERCENT,
                value=2000,
                starts_at=now - timedelta(days=30),
                ends_at=now - timedelta(days=1),
            ),
        ]
    )
    session.flush()
