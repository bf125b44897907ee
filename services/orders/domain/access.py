"""Who may see an order: its buyer organisation, the aggregator quoting it (or any, while open), admins."""

from __future__ import annotations

from services.orders.domain.order import Order
from shared.auth import Principal, Role


def can_see(principal: Principal, buyer_org: str, aggregator_org: str | None, state: str | None) -> bool:
    if principal.is_admin:
        return True
    if principal.role is Role.BUYER:
        return buyer_org == principal.org
    if principal.role is Role.AGGREGATOR:
        return aggregator_org == principal.org or state == "requested"
    return False


def can_see_order(principal: Principal, order: Order) -> bool:
    return order.state is not None and can_see(principal, order.buyer_org, order.aggregator_org, order.state)
