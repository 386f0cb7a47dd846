"""pyinstrument around a benchmark's serving child: where its CPU goes.

Each bench that supports `--profile FILE` sets CONVENE_BENCH_PROFILE for its child,
which calls `profiled()` around the part being measured. CONVENE_BENCH_PROFILE_ALL=1
keeps library frames (httpx, aiohttp, slack_sdk) instead of folding them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PROFILE_ENV = "CONVENE_BENCH_PROFILE"


@contextmanager
def profiled() -> Iterator[None]:
    path = os.environ.get(PROFILE_ENV)
    if not path:
        yield
        return
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0005, async_mode="disabled")
    profiler.start()
    try:
        yield
    finally:
        profiler.stop()
        every_frame = os.environ.get("CONVENE_BENCH_PROFILE_ALL") == "1"
        Path(path).write_text(profiler.output_text(unicode=True, show_all=every_frame))


def ask_child_to_profile(path: str | None) -> None:
    """The parent's `--profile FILE`: the child finds it in the environment."""
    if path:
        os.environ[PROFILE_ENV] = str(Path(path).resolve())
