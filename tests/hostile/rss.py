"""Peak memory of a command, measured from a small go-between process.

Linux keeps a process's peak RSS across exec, and Python starts children with vfork: a child
started straight from the test process would report that process's own size (hundreds of MB
late in a test run) as its peak. The go-between is small, so its child's peak is its own.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path


def measured(
    command: Sequence[object], *, cwd: Path | None = None, env: dict[str, str] | None = None
) -> tuple[int, int, bytes, bytes]:
    """(exit status, peak RSS in MB, stdout, stderr) of ``command``."""
    script = (
        "import os, resource, subprocess, sys\n"
        "process = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, "
        "stderr=subprocess.PIPE)\n"
        "stdout, stderr = process.communicate()\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "sys.stderr.buffer.write(stderr)\n"
        "sys.stdout.buffer.write(stdout + f'\\n{process.returncode} {peak}\\n'.encode())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, *map(str, command)],
        cwd=cwd,
        env=env,
        capture_output=True,
        timeout=600,
    )
    stdout, _, last = result.stdout.rstrip(b"\n").rpartition(b"\n")
    status, peak = (int(n) for n in last.split())
    return status, peak // 1024, stdout, result.stderr  # Linux: ru_maxrss in kB
