"""Where a virtualenv keeps its Python: one answer for the pack's, the program's and the Action's."""
from __future__ import annotations

import os


def venv_python(directory: str) -> str:
    """The interpreter of the virtualenv at `directory` (it may not exist yet)."""
    if os.name == "nt":
        return os.path.join(directory, "Scripts", "python.exe")
    return os.path.join(directory, "bin", "python")
