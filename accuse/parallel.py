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
import os
import sys
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection

from accuse.errors import InputError
from accuse.output import forked_from

Job = Callable[[], object]
# A job that runs after ``second``, on its side: it is handed ``ready``, which it calls just
# before making its work permanent and which answers whether ``first`` succeeded (it waits for
# ``first`` to end when they run side by side). Its result (a sentence) comes back to the caller.
Ready = Callable[[], bool]
Then = Callable[[Ready], str]

# ACCUSE_PARALLELE=0 never forks, =1 forks whatever the size (for tests and measurements).
FORCE_VARIABLE = "ACCUSE_PARALLELE"


def parallel_wanted(default: bool) -> bool:
    """Whether to run side by side: the caller's choice unless ACCUSE_PARALLELE says."""
    forced = os.environ.get(FORCE_VARIABLE, "").strip()
    if forced in ("0", "1"):
        return forced == "1"
    return default


def _run_child(
    job: Job,
    then: Then | None,
    sender: Connection,
    told: Connection | None,
    parents_ends: tuple[Connection | None, ...],
    parent: int,
) -> None:
    # The fork copied the parent's ends of both pipes: closed here, so that a parent killed
    # mid-run is seen as end of file instead of leaving this child waiting for its word forever
    # (and holding the history's write lock meanwhile).
    for end in parents_ends:
        if end is not None:
            end.close()
    # A parent killed mid-run wrote no worksheet: this child's report must not replace the
    # one beside the worksheet of an earlier run.
    forked_from(parent)
    outcome: object = None
    try:
        job()
    except InputError as error:
        outcome = ("input", error.message, str(error.path) if error.path else None)
        then = None
    except BaseException as error:  # reported to the parent, which decides
        outcome = ("bug", f"{type(error).__name__}: {error}", None)
        then = None
    try:
        sender.send(outcome)
        if then is not None and told is not None:
            sender.send(then(_Told(told)))
    except BaseException:  # no sentence (or no parent): the parent then does it again itself
        pass
    finally:
        sender.close()


class _Told:
    """The parent's word on ``first``, waited for once: True when it succeeded (False when
    the parent is gone)."""

    def __init__(self, told: Connection) -> None:
        self._told = told
        self._word: bool | None = None

    def __call__(self) -> bool:
        if self._word is None:
            try:
                self._word = bool(self._told.recv())
            except (EOFError, OSError):
                self._word = False
        return self._word


def _raise(outcome: tuple[str, str, str | None] | None) -> None:
    if outcome is None:
        return
    kind, message, path = outcome
    if kind == "input":
        raise InputError(message, path)
    raise RuntimeError(message)


def _always_ready() -> bool:
    return True


def side_by_side(
    first: Job, second: Job, parallel: bool = True, *, then: Then | None = None
) -> str | None:
    """Run ``first`` here and ``second`` in a child when ``parallel`` and the OS forks; then
    ``then`` (if given) after ``second``, in the child too, and return its sentence.

    ``then`` makes nothing permanent unless ``first`` succeeded: it calls ``ready()`` before,
    which waits for ``first``'s outcome. Should the child die before its sentence comes back
    (killed, out of memory), ``then`` runs again here, as it does without a fork: its work is
    one transaction, so a child that died left nothing half done.

    On a busy machine where the second core is taken, the child and this process share one
    core: the same work is done in the same order of cost as one after the other (plus the
    fork's copy-on-write pages), so it is no slower than serial, only not faster.
    """
    if not parallel or not sys.platform.startswith("linux"):
        first()
        second()
        return then(_always_ready) if then is not None else None
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    told, tell = context.Pipe(duplex=False) if then is not None else (None, None)
    child = context.Process(
        target=_run_child,
        args=(second, then, sender, told, (receiver, tell), os.getpid()),
        daemon=True,
    )
    child.start()
    sender.close()
    if told is not None:
        told.close()
    sentence: str | None = None
    lost = False
    succeeded = False
    try:
        first()
        succeeded = True
    finally:
        if tell is not None:
            with contextlib.suppress(OSError):  # a child already gone needs no word
                tell.send(succeeded)
            tell.close()
        try:
            outcome = receiver.recv()
        except EOFError:  # the child died without a word (killed)
            outcome = ("bug", "le processus d'écriture du rapport s'est arrêté", None)
        if outcome is None and then is not None:
            try:
                sentence = receiver.recv()
            except EOFError:  # died after the report, before its sentence came back
                lost = True
        child.join()
        receiver.close()
    _raise(outcome)
    if lost and then is not None:
        sentence = then(_always_ready)
    return sentence


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
