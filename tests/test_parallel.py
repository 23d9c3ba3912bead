"""side_by_side: both jobs done, or the first error raised, whichever way they ran."""

from __future__ import annotations

from pathlib import Path

import pytest

from accuse.errors import InputError
from accuse.parallel import side_by_side


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
