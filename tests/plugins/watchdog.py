"""A guard against a test teardown that never ends. One was seen once in many runs: an async
fixture's finalizer on a worker with Redis awaited something that never came, and the cause
is not known yet.

When a teardown runs past `TEARDOWN_LIMIT` seconds (`TEST_TEARDOWN_LIMIT`), the guard:
1. takes every thread's stack;
2. takes the coroutine stack of every task of the event loop running the teardown, so the
   next time says where it was;
3. cancels those tasks, which ends the stuck finalizer.

The test's own outcome stands: the teardown that was cancelled is reported as passed, with a
`watchdog:` warning carrying the stacks in the run's warnings summary. A teardown stuck outside an event
loop is interrupted like Ctrl-C, which stops the session; a hang would have done that anyway,
once CI's time limit ran out."""

from __future__ import annotations

import asyncio
import faulthandler
import gc
import io
import os
import signal
import sys
import tempfile
import threading
import types

import pytest

TEARDOWN_LIMIT = float(os.environ.get("TEST_TEARDOWN_LIMIT", "60"))
RESCUED: dict[str, str] = {}  # test id -> the stacks taken when its teardown was cancelled


def _running_loops(thread_id: int) -> list[asyncio.AbstractEventLoop]:
    """The event loops running in the thread `thread_id` (asyncio keeps no public registry)."""
    return [
        found
        for found in gc.get_objects()
        if isinstance(found, asyncio.BaseEventLoop)
        and found.is_running()
        and getattr(found, "_thread_id", None) == thread_id
    ]


def _await_chain(awaiting: object, out: io.StringIO) -> None:
    """The frames of a coroutine or generator and of what it awaits, outermost first."""
    for _ in range(50):
        frame = next(
            (
                getattr(awaiting, a)
                for a in ("cr_frame", "ag_frame", "gi_frame")
                if hasattr(awaiting, a)
            ),
            None,
        )
        if frame is None:
            print(f"    awaiting {awaiting!r}", file=out)
            return
        print(
            f"    {frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}", file=out
        )
        awaiting = next(
            (
                getattr(awaiting, a)
                for a in ("cr_await", "ag_await", "gi_yieldfrom")
                if hasattr(awaiting, a)
            ),
            None,
        )
        if awaiting is None:
            return


def _cancel_all(loop: asyncio.AbstractEventLoop, nodeid: str, threads: str) -> None:
    stacks = io.StringIO()
    for task in asyncio.all_tasks(loop):
        print(f"--- {task!r}", file=stacks)
        _await_chain(task.get_coro(), stacks)
        task.cancel()
    for gen in gc.get_objects():  # an async generator fixture's frames (a task shows none)
        if isinstance(gen, types.AsyncGeneratorType) and gen.ag_running:
            print(f"--- running {gen!r}", file=stacks)
            _await_chain(gen, stacks)
    RESCUED[nodeid] = f"{threads}\n{stacks.getvalue()}"


def _thread_stacks() -> str:
    with tempfile.TemporaryFile("w+") as out:  # faulthandler writes to a file descriptor
        faulthandler.dump_traceback(file=out, all_threads=True)
        out.seek(0)
        return out.read()


def _stuck(nodeid: str) -> None:
    threads = _thread_stacks()
    main = threading.main_thread().ident
    loops = _running_loops(main)
    if loops:
        loops[0].call_soon_threadsafe(_cancel_all, loops[0], nodeid, threads)
    else:
        print(f"watchdog: the teardown of {nodeid} is stuck\n{threads}", file=sys.__stderr__)
        signal.pthread_kill(main, signal.SIGINT)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    timer = threading.Timer(TEARDOWN_LIMIT, _stuck, args=(item.nodeid,))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if call.when == "teardown" and item.nodeid in RESCUED:
        stacks = RESCUED.pop(item.nodeid)
        item.warn(
            pytest.PytestWarning(
                f"watchdog: the teardown of {item.nodeid} ran past {TEARDOWN_LIMIT:.0f} s and "
                f"was cancelled; its stacks then:\n{stacks}"
            )
        )
        report.outcome, report.longrepr = "passed", None
