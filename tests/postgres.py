"""A throwaway PostgreSQL server for the history tests (a pytest plugin: ``pytest_plugins``),
and the ``store`` fixture that runs a test on SQLite and again on PostgreSQL.

The server listens on a Unix socket in a temporary folder only (no TCP port), with fsync off,
and is stopped at the end of the session. initdb refuses to run as root: as root, the server
runs as the ``postgres`` system user and the tests connect over the socket as that user.
Without PostgreSQL binaries the tests skip, except under CI (env var CI set) where they fail:
.ci/postgres-deps installs the Debian package.
"""

from __future__ import annotations

import getpass
import itertools
import os
import pwd
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

_counter = itertools.count(1)


def find_bindir() -> Path | None:
    """The newest server's bin folder: Debian's layout, or the PATH; ACCUSE_PG_BINDIR, when
    set, is the only place looked at."""
    given = os.environ.get("ACCUSE_PG_BINDIR")

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", path.parent.name))

    candidates = [Path(given)] if given else []
    if not given:
        candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True)
        on_path = shutil.which("pg_ctl")
        if on_path:
            candidates.append(Path(on_path).parent)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    return None


def _unavailable(reason: str) -> None:
    message = f"{reason} : tests PostgreSQL de l'historique non exécutés (.ci/postgres-deps)"
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """URL of the server's maintenance database ``postgres``."""
    bindir = find_bindir()
    if bindir is None:
        _unavailable("PostgreSQL est absent (ni /usr/lib/postgresql/*/bin ni pg_ctl)")
    assert bindir is not None
    as_root = os.geteuid() == 0
    if as_root:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            _unavailable("l'utilisateur système postgres est absent")
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    user = "postgres" if as_root else getpass.getuser()
    # Short path in /tmp: a socket path is limited to about 100 characters.
    root = Path(tempfile.mkdtemp(prefix="accuse-pg-", dir="/tmp"))
    if as_root:
        shutil.chown(root, "postgres", "postgres")
    data, log = root / "data", root / "server.log"

    def run(*command: str) -> None:
        result = subprocess.run(
            [*prefix, *command], capture_output=True, text=True, timeout=60, check=False
        )
        if result.returncode != 0:
            details = log.read_text() if log.exists() else ""
            raise RuntimeError(f"{command[0]} failed:\n{result.stdout}{result.stderr}{details}")

    run(
        str(bindir / "initdb"),
        "-D",
        str(data),
        "-U",
        user,
        "--auth=trust",
        "--encoding=UTF8",
        "--no-locale",
        "--no-sync",
    )
    options = f"-k {root} -c listen_addresses='' -c fsync=off -c full_page_writes=off"
    run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "start")
    try:
        yield f"postgresql://{user}@/postgres?host={root}"
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: str) -> str:
    """A fresh empty database on the session's server, for one test."""
    import psycopg

    name = f"accuse_{os.getpid()}_{next(_counter)}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return postgres_server.replace("/postgres?", f"/{name}?", 1)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a history test keeps its history: a SQLite file, then a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "historique.sqlite")
    return request.getfixturevalue("postgres_url")
