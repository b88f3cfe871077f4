"""Where the project keeps its data cache, results and build outputs."""
from __future__ import annotations

import os
from pathlib import Path

_PACKAGE_PARENT = Path(__file__).resolve().parent.parent


def project_root() -> Path:
    """The checkout holding `helpers/` (editable install), else the current directory."""
    if (_PACKAGE_PARENT / "pyproject.toml").is_file():
        return _PACKAGE_PARENT
    return Path.cwd()


def data_dir() -> Path:
    """The dataset cache: `$DATA_DIR` if set, else `<project>/data`."""
    return Path(os.environ.get("DATA_DIR") or project_root() / "data")


def mirror_dir() -> Path | None:
    """The offline mirror named by `$DATA_MIRROR` (relative to the current directory), or None."""
    value = os.environ.get("DATA_MIRROR", "").strip()
    return Path(value).expanduser().resolve() if value else None
