"""How the inference libraries run in this process: intra-op threads (torch, onnxruntime,
OpenVINO) and transformers' own progress bars. torch and transformers are imported only
inside the functions that touch them."""

from __future__ import annotations

import contextlib
import os
from typing import Iterator


def available_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover  (non-Linux)
        return max(1, os.cpu_count() or 1)


def set_torch_threads(threads: int | None = None) -> None:
    """``threads`` if given (the server's choice), else one intra-op thread per available
    core unless the user chose with OMP_NUM_THREADS."""
    import torch

    if threads:
        torch.set_num_threads(threads)
    elif not os.environ.get("OMP_NUM_THREADS"):
        torch.set_num_threads(available_cores())


def intra_op_threads() -> int:
    """Same rule as torch: OMP_NUM_THREADS if set, else one thread per available core."""
    try:
        n = int(os.environ.get("OMP_NUM_THREADS") or 0)
    except ValueError:
        n = 0
    return n if n > 0 else available_cores()


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """Hide transformers' own progress bars ("Loading weights", "Writing model shards")
    for the duration; restores the previous setting."""
    from transformers.utils import logging as tlog

    was_enabled = tlog.is_progress_bar_enabled()
    tlog.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            tlog.enable_progress_bar()
