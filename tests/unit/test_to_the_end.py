"""A consumer letting go of what it holds runs to the end though ``Runtime.stop`` cancels it again and again."""

from __future__ import annotations

import asyncio

import pytest

from shared.consumer import to_the_end
from shared.runtime import cancel

pytestmark = pytest.mark.unit


async def test_cleanup_runs_to_its_end_through_repeated_cancellations_which_are_raised_after() -> None:
    steps: list[int] = []

    async def cleanup() -> None:
        for step in range(5):
            await asyncio.sleep(0.05)  # each longer than a turn of the loop: every cancellation lands midway
            steps.append(step)

    task = asyncio.create_task(to_the_end(cleanup()))
    await asyncio.sleep(0)
    for _ in range(10):
        task.cancel()
        await asyncio.sleep(0.01)
    with pytest.raises(asyncio.CancelledError):
        await task
    assert steps == [0, 1, 2, 3, 4]


async def test_a_task_cleaning_up_so_is_stopped_by_the_runtime_once_the_cleanup_ends() -> None:
    cleaned = asyncio.Event()

    async def cleanup() -> None:
        await asyncio.sleep(0.3)  # longer than the tenth of a second after which ``cancel`` cancels again
        cleaned.set()

    async def consuming() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            await to_the_end(cleanup())

    task = asyncio.create_task(consuming())
    await asyncio.sleep(0)
    await cancel([task], timeout=5)
    assert task.cancelled() and cleaned.is_set()


async def test_a_cleanup_that_fails_raises_its_error() -> None:
    async def cleanup() -> None:
        raise ValueError("a bug")

    with pytest.raises(ValueError, match="a bug"):
        await to_the_end(cleanup())
