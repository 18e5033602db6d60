"""What every benchmark script does before it measures."""

from __future__ import annotations

import compileall
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def compile_bytecode() -> bool:
    """Write casekit's bytecode (``__pycache__``), as installing a package does; whether
    this process's environment forbids writing it (``PYTHONDONTWRITEBYTECODE``, set on
    the machine these figures come from). Without it every process and kernel would
    compile casekit from source on import: 0.6 s more for a fork server's imports."""
    compileall.compile_dir(str(ROOT / "casekit"), quiet=1)
    return bool(os.environ.get("PYTHONDONTWRITEBYTECODE"))
