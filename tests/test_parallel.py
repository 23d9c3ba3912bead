"""side_by_side: both jobs done, or the first error raised, whichever way they ran; the job
that follows the second one (the history) keeps nothing unless the first succeeded."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from accuse.errors import InputError
from accuse.parallel import Then, parallel_wanted, side_by_side


@pytest.mark.parametrize("parallel", [True, False])
def test_both_jobs_write(tmp_path: Path, parallel: bool) -> None:
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    side_by_side(lambda: first.write_text("a"), lambda: second.write_text("b"), parallel)
    assert first.read_text() == "a" and second.read_text() == "b"


@pytest.mark.parametrize("parallel", [True, False])
def test_user_error_of_the_second_job_stays_a_user_error(tmp_path: Path, parallel: bool) -> None:
    def refuse() -> None:
        raise InputError("disque plein.", tmp_path / "rapport.html")

    with pytest.raises(InputError, match="disque plein") as caught:
        side_by_side(lambda: None, refuse, parallel)
    assert caught.value.path == tmp_path / "rapport.html"


def test_error_of_the_first_job_waits_for_the_second(tmp_path: Path) -> None:
    done = tmp_path / "b.txt"

    def fail() -> None:
        raise InputError("feuille impossible.")

    with pytest.raises(InputError, match="feuille impossible"):
        side_by_side(fail, lambda: done.write_text("b"), parallel=True)
    assert done.read_text() == "b"  # the child finished before the error came back


def test_a_bug_in_the_child_is_not_swallowed() -> None:
    def bug() -> None:
        raise ZeroDivisionError("division")

    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        side_by_side(lambda: None, bug, parallel=True)


def _keep(path: Path) -> Then:
    """A ``then`` that writes ``path`` only when told ``first`` succeeded, and says which."""

    def then(ready: Callable[[], bool]) -> str:
        if not ready():
            return "abandonné"
        path.write_text("gardé")
        return f"gardé par {os.getpid()}"

    return then


@pytest.mark.parametrize("parallel", [True, False])
def test_then_runs_after_the_second_job_and_its_sentence_comes_back(
    tmp_path: Path, parallel: bool
) -> None:
    report, kept = tmp_path / "b.txt", tmp_path / "c.txt"
    sentence = side_by_side(
        lambda: None, lambda: report.write_text("b"), parallel, then=_keep(kept)
    )
    assert report.read_text() == "b" and kept.read_text() == "gardé"
    assert sentence is not None and sentence.startswith("gardé par ")
    # Forked on Linux: the sentence was written by another process.
    forked = parallel and sys.platform.startswith("linux")
    assert (sentence != f"gardé par {os.getpid()}") is forked


@pytest.mark.parametrize("parallel", [True, False])
def test_then_keeps_nothing_when_the_first_job_fails(tmp_path: Path, parallel: bool) -> None:
    kept = tmp_path / "c.txt"

    def fail() -> None:
        raise InputError("feuille impossible.")

    with pytest.raises(InputError, match="feuille impossible"):
        side_by_side(fail, lambda: None, parallel, then=_keep(kept))
    assert not kept.exists()


@pytest.mark.parametrize("parallel", [True, False])
def test_then_does_not_run_when_the_second_job_fails(tmp_path: Path, parallel: bool) -> None:
    kept = tmp_path / "c.txt"

    def refuse() -> None:
        raise InputError("disque plein.")

    with pytest.raises(InputError, match="disque plein"):
        side_by_side(lambda: None, refuse, parallel, then=_keep(kept))
    assert not kept.exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork: Linux only")
def test_a_child_dead_before_its_sentence_leaves_then_to_the_parent(tmp_path: Path) -> None:
    parent = os.getpid()
    kept = tmp_path / "c.txt"

    def then(ready: Callable[[], bool]) -> str:
        if os.getpid() != parent:
            os._exit(9)  # killed in the middle: no sentence, nothing kept
        return _keep(kept)(ready)

    sentence = side_by_side(lambda: None, lambda: None, parallel=True, then=then)
    assert sentence == f"gardé par {parent}" and kept.read_text() == "gardé"


_ORPHAN = """
import sys, time
from pathlib import Path
from accuse.parallel import side_by_side

folder = Path(sys.argv[1])

def then(ready):
    (folder / "asked").write_text("")
    (folder / "word").write_text(str(ready()))  # the parent's word, or False once it is gone
    return ""

side_by_side(lambda: time.sleep(120), lambda: None, parallel=True, then=then)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork: Linux only")
def test_a_child_whose_parent_is_killed_does_not_wait_forever(tmp_path: Path) -> None:
    """The child records the history only on the parent's word that the worksheet was written:
    a parent killed meanwhile is an end of file to it, not a wait for ever (holding the
    history's write lock)."""
    parent = subprocess.Popen([sys.executable, "-c", _ORPHAN, str(tmp_path)])
    deadline = time.monotonic() + 60
    while not (tmp_path / "asked").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert (tmp_path / "asked").exists(), "the child never asked for the parent's word"
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    while not (tmp_path / "word").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert (tmp_path / "word").read_text() == "False"


@pytest.mark.parametrize(("value", "expected"), [("0", False), ("1", True), ("", None)])
def test_accuse_parallele_forces_either_way(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: bool | None
) -> None:
    monkeypatch.setenv("ACCUSE_PARALLELE", value)
    for default in (True, False):
        assert parallel_wanted(default) is (default if expected is None else expected)


_ORPHAN_WRITER = """
import sys, time
from pathlib import Path
from accuse.output import write_bytes
from accuse.parallel import side_by_side

folder = Path(sys.argv[1])

def second():
    (folder / "started").write_text("")
    while not (folder / "go").exists():
        time.sleep(0.01)
    try:
        write_bytes(folder / "rapport.html", b"nouveau")
    finally:
        (folder / "done").write_text("")

side_by_side(lambda: time.sleep(120), second, parallel=True)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork: Linux only")
def test_a_child_whose_parent_is_killed_puts_no_file_in_place(tmp_path: Path) -> None:
    """A run killed while its report is being written in the child: the report of the
    earlier run stays, beside the worksheet of that run (no pair from two runs)."""
    report = tmp_path / "rapport.html"
    report.write_bytes(b"ancien")
    parent = subprocess.Popen([sys.executable, "-c", _ORPHAN_WRITER, str(tmp_path)])
    deadline = time.monotonic() + 60
    while not (tmp_path / "started").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert (tmp_path / "started").exists(), "the child never started"
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    (tmp_path / "go").write_text("")
    while not (tmp_path / "done").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert (tmp_path / "done").exists(), "the child never finished"
    time.sleep(0.2)  # the child's last steps after its marker
    assert report.read_bytes() == b"ancien"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["done", "go", "rapport.html", "started"]
