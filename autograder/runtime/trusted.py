"""Limits on trusted code: what runs in the grader on data a kernel chose.

Test cells, the instructor's setup and demo cells, the test's own objects called back from
the kernel, and models rebuilt from a student's description (module 08) all run in the
grading process, on inputs a submission picked. :func:`bounded` runs such a block under

- the test cell's **time limit**: a real-time alarm raises :class:`TrustedLimit` in the
  block wherever it is (NumPy's C loops finish their current call first), so no callback or
  fit can run on past the cell's deadline;
- a **memory budget**: the address-space limit is lowered, for the block only, to what the
  process uses now plus the budget, so an allocation past it raises ``MemoryError`` there
  and the process stays well;

and afterwards drops the state trusted code can leave behind: pyplot's figures and the
garbage a failed cell leaves. :class:`TrustedLimit` derives from ``BaseException`` so that a
test's own ``except Exception`` cannot swallow it.

The alarm needs the main thread of its process: grading workers (local, and on a Dask
cluster, see :mod:`autograder.pipeline.cluster`) run the runner there. Elsewhere the block
runs without an alarm, bounded by the kernel's own limits only, and says so in the log.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import resource
import signal
import sys
import threading

log = logging.getLogger(__name__)

MEMORY_BUDGET_BYTES = 640 * 2**20
"""How much more address space trusted code may take during one cell. Honest grading uses
about 180 MB in all; the worker stays under 1 GB with this budget on top."""


class TrustedLimit(BaseException):
    """Trusted code ran past the test cell's time limit; the message says so in one line."""


def address_space() -> int:
    """This process's virtual memory size in bytes (0 where it cannot be read)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            pages = int(handle.read().split()[0])
        return pages * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return 0


@contextlib.contextmanager
def bounded(seconds: float, memory_bytes: int | None = MEMORY_BUDGET_BYTES):
    """Run the block within ``seconds`` and ``memory_bytes`` more memory; clean up after."""
    alarm = threading.current_thread() is threading.main_thread() and seconds > 0
    previous = None
    if alarm:

        def expire(signum, frame):
            raise TrustedLimit(f"the test cell ran longer than {seconds:g} s")

        previous = signal.signal(signal.SIGALRM, expire)
        signal.setitimer(signal.ITIMER_REAL, seconds)
    else:
        log.warning("trusted code runs without an alarm (not the main thread)")
    limits = lower_memory(memory_bytes)
    try:
        yield
    finally:
        if alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        if limits is not None:
            with contextlib.suppress(ValueError, OSError):
                resource.setrlimit(resource.RLIMIT_AS, limits)
        clear_state()


def lower_memory(memory_bytes: int | None) -> tuple[int, int] | None:
    """Lower the soft address-space limit to the current size plus ``memory_bytes``.

    Returns the limits to restore, or ``None`` when nothing was changed (no budget, the size
    cannot be read, or the platform refuses ``RLIMIT_AS``).
    """
    size = address_space()
    if not memory_bytes or not size:
        return None
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        wanted = size + memory_bytes
        if hard != resource.RLIM_INFINITY:
            wanted = min(wanted, hard)
        if soft != resource.RLIM_INFINITY and soft <= wanted:
            return None
        resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))
    except (ValueError, OSError):
        return None
    return soft, hard


def clear_state() -> None:
    """Drop what trusted code may have left: pyplot's figures, then unreachable objects."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        with contextlib.suppress(Exception):
            pyplot.close("all")
    gc.collect()
