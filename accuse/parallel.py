"""How the heavy work runs: two independent jobs side by side on the machine's two cores
where that is cheap, and without the cyclic garbage collector while big tables are built.

On Linux the second job runs in a forked child: it sees the parent's memory as it was (nothing
is copied or pickled up front) and reports back through a pipe. Elsewhere, or for small jobs,
the two run one after the other. Either way the caller sees the same outcome: both done, or the
first error raised (a user's InputError stays one).
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import sys
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection

from accuse.errors import InputError

Job = Callable[[], object]


def _run_child(job: Job, sender: Connection) -> None:
    try:
        job()
        sender.send(None)
    except InputError as error:
        sender.send(("input", error.message, str(error.path) if error.path else None))
    except BaseException as error:  # reported to the parent, which decides
        sender.send(("bug", f"{type(error).__name__}: {error}", None))
    finally:
        sender.close()


def _raise(outcome: tuple[str, str, str | None] | None) -> None:
    if outcome is None:
        return
    kind, message, path = outcome
    if kind == "input":
        raise InputError(message, path)
    raise RuntimeError(message)


def side_by_side(first: Job, second: Job, parallel: bool = True) -> None:
    """Run ``first`` here and ``second`` in a child when ``parallel`` and the OS forks."""
    if not parallel or not sys.platform.startswith("linux"):
        first()
        second()
        return
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_run_child, args=(second, sender), daemon=True)
    child.start()
    sender.close()
    try:
        first()
    finally:
        try:
            outcome = receiver.recv()
        except EOFError:  # the child died without a word (killed)
            outcome = ("bug", "le processus d'écriture du rapport s'est arrêté", None)
        child.join()
        receiver.close()
    _raise(outcome)


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic collector during bulk reading and writing.

    Reading 200,000 rows keeps hundreds of thousands of containers alive; each automatic
    collection walks them all again (about a second at that size). Nothing built here forms
    reference cycles worth collecting: reference counting frees it as usual. On the way out
    the survivors are frozen (gc.freeze) so later collections skip them too.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            # What was built stays alive for the rest of the command: frozen, the next
            # automatic collections do not walk it again (0.2-0.7 s at 200,000 rows).
            gc.freeze()
            gc.enable()
