"""Typed errors of the orders hub."""
from __future__ import annotations


class OrderError(Exception):
    """Base class of the orders hub's errors."""


class IllegalTransition(OrderError):
    """A status change the transition table forbids; nothing was changed."""

    def __init__(self, ref: str, old_status: str, new_status: str) -> None:
        """The error for order `ref` going from `old_status` to `new_status`."""
        super().__init__(f"Order {ref} is {old_status}; it cannot become {new_status}.")
        self.ref = ref
        self.old_status = old_status
        self.new_status = new_status


class ActionRefused(OrderError):
    """An order action that cannot run: unknown, not allowed now, a bad reason, or the provider refused."""
