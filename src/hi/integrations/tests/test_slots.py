"""The worker's slots: never more than N tasks, nor more than K of one integration, at once."""
from __future__ import annotations

import threading

import pytest

from hi.integrations.core.errors import SlotsClosed
from hi.integrations.engine.slots import Slots
from hi.integrations.testing.waiting import wait_for


def test_room_is_limited_per_slot_and_per_integration():
    slots, release = Slots(size=3, per_integration=2), threading.Event()
    assert slots.start("x", "x1", release.wait) and slots.start("x", "x2", release.wait)
    assert not slots.start("x", "x3", release.wait)  # x runs its limit
    assert slots.full_keys() == {"x"} and not slots.room_for("x") and slots.room_for("y")
    assert slots.start("y", "y1", release.wait)
    assert slots.free == 0 and not slots.start("z", "z1", release.wait)  # every slot runs something
    mark = slots.finished
    release.set()
    slots.wait(mark, 10)
    assert wait_for(lambda: slots.idle, 10)
    slots.close()
    with pytest.raises(SlotsClosed):
        slots.start("x", "late", release.wait)


def test_a_task_goes_on_under_another_integration_only_if_it_has_room():
    slots, release, moved = Slots(size=3, per_integration=1), threading.Event(), []

    def lane() -> None:
        """A lane moving to y and z while x is still held."""
        assert slots.full_keys_for_next() == {"y"}  # its own x no longer counts against x
        moved.append(slots.move("y"))  # y runs its limit already
        moved.append(slots.move("z"))
        release.wait()

    assert slots.start("y", "y1", release.wait) and slots.start("x", "x1", lane)
    assert wait_for(lambda: len(moved) == 2, 10)
    assert moved == [False, True] and slots.full_keys() == {"y", "z"} and slots.room_for("x")
    release.set()
    slots.close(timeout_s=10)
    assert slots.idle and slots.full_keys() == set()


def test_an_escaping_error_is_kept_for_the_worker_and_frees_the_slot():
    slots = Slots(size=1, per_integration=1)

    def broken() -> None:
        """A task that fails."""
        raise RuntimeError("database gone")

    assert slots.start("x", "broken", broken)
    assert wait_for(lambda: slots.idle, 10)
    assert isinstance(slots.failure, RuntimeError)
    slots.close()


def test_a_worker_needs_at_least_one_slot():
    with pytest.raises(ValueError):
        Slots(size=0, per_integration=1)
