"""Demo coupons for a fresh store, so checkout's discount paths can be tried (and shown) at once."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from revoque.models import Coupon, CouponKind
from revoque.models.base import utcnow


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
