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


def shown_path(path: str | os.PathLike) -> str:
    """How a notebook prints `path`: relative to the project root (`results/x.json`), else `~/…` under the home
    folder, else only its last two components with a note, so a saved notebook never shows a machine's file system."""
    path = Path(path).expanduser().resolve()
    for base, prefix in ((project_root().resolve(), ""), (Path.home().resolve(), "~/")):
        try:
            relative = path.relative_to(base)
        except ValueError:
            continue
        return prefix + relative.as_posix() if relative.parts else (prefix.rstrip("/") or ".")
    tail = "/".join(path.parts[-2:]) if len(path.parts) > 2 else path.name
    return f"…/{tail} (outside the project)"


class ShownPath(type(Path())):
    """A `Path` that formats (`f"{path}"`) as `shown_path(path)`; `str()`, `open()` and `os.fspath()` keep the full path."""

    def __format__(self, spec: str) -> str:
        return format(shown_path(self), spec)
