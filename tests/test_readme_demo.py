"""The README's first command, run as written: it must work and leave the user's history alone."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import FIXTURES, ROOT


def _demo() -> tuple[list[str], str]:
    """The arguments of `accuse` in the README's set-up command, and the folder it names."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = next(line for line in readme.splitlines() if ".venv/bin/accuse analyse" in line)
    arguments = shlex.split(command.split(".venv/bin/accuse ", 1)[1])
    folder = re.search(r"dans `([^`]+)/`", readme[readme.index(command) :])
    assert folder is not None, "the README says where the demo writes"
    return arguments, folder.group(1)


def test_readme_demo_writes_its_outputs_and_not_the_users_history(tmp_path: Path) -> None:
    arguments, folder = _demo()
    shutil.copytree(FIXTURES, tmp_path / "fixtures")
    env = {k: v for k, v in os.environ.items() if k != "ACCUSE_HISTORIQUE"}
    env.update(
        HOME=str(tmp_path / "home"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        ACCUSE_CATALOGUE=str(tmp_path / "absent.toml"),
    )
    result = subprocess.run(
        [sys.executable, "-m", "accuse", *arguments],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1, result.stderr  # 1: passages are refused
    assert "7 passages sur 24 ont été refusés" in result.stdout
    assert (tmp_path / folder / "corrections.xlsx").is_file()
    assert (tmp_path / folder / "rapport.html").is_file()
    # The demo's fictitious passages never reach the user's own history.
    assert not list((tmp_path / "data").rglob("*.sqlite"))
    assert not list((tmp_path / "home").rglob("*.sqlite"))
    assert "non enregistré" in result.stdout
