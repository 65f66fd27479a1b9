"""The order status flow: an explicit transition table and the shortest legal path between statuses."""
from __future__ import annotations

from collections import deque

from .models import OrderStatus

S = OrderStatus

#: Statuses no transition leaves.
TERMINAL: frozenset[str] = frozenset({S.COMPLETED, S.CANCELLED})

#: The only legal moves; cancelled is reachable from every non-terminal status.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.NEW: frozenset({S.CONFIRMED, S.CANCELLED}),
    S.CONFIRMED: frozenset({S.PREPARING, S.CANCELLED}),
    S.PREPARING: frozenset({S.READY, S.CANCELLED}),
    # ready → completed is a pickup (takeout, dine-in): nothing is dispatched.
    S.READY: frozenset({S.DISPATCHED, S.COMPLETED, S.CANCELLED}),
    S.DISPATCHED: frozenset({S.DELIVERED, S.CANCELLED}),
    S.DELIVERED: frozenset({S.COMPLETED, S.CANCELLED}),
    S.COMPLETED: frozenset(),
    S.CANCELLED: frozenset(),
}


def is_legal(current: str, new: str) -> bool:
    """Whether the table allows moving from `current` to `new`."""
    return new in TRANSITIONS.get(current, frozenset())


def path_to(current: str, target: str) -> list[str]:
    """The shortest legal sequence of statuses from `current` to `target` (excluding current); [] if none."""
    if current == target or current not in TRANSITIONS:
        return []
    previous: dict[str, str] = {current: ""}
    queue = deque([current])
    # Breadth-first, trying statuses in declaration order so the path is the natural one.
    order = list(OrderStatus.values)
    while queue:
        status = queue.popleft()
        for following in sorted(TRANSITIONS[status], key=order.index):
            if following in previous:
                continue
            previous[following] = status
            if following == target:
                path = [following]
                while previous[path[-1]] != current:
                    path.append(previous[path[-1]])
                return path[::-1]
            queue.append(following)
    return []
