"""Google Colab: the bootstrap cell every notebook starts with, the packages it installs there, the badges.

In Colab a notebook opened from GitHub arrives alone, without this repository. Its first code cell (the same in
every notebook; `BOOTSTRAP` below is its text) clones the repository at the commit pinned in `colab.json`, puts
the clone on `sys.path` (importable at once, no runtime restart), changes into it so `data/`, `results/` and
`runs/` resolve as in a local checkout, and calls `install_missing()`. Outside Colab the cell does nothing.

`python -m helpers.colab [--repo URL] [--ref REF]` (what `make colab` runs) writes `colab.json` and rewrites
every notebook's bootstrap cell and "Open in Colab" badge, and the README's badges, from it.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from .paths import project_root

CONFIG = "colab.json"
# Colab ships these; reinstalling them in a running Colab kernel can crash it, so they are only ever checked.
NEVER_INSTALL = frozenset({"torch", "torchvision", "numpy", "matplotlib", "pillow", "ipywidgets", "ipykernel",
                           "ipython", "tornado"})
MARKER = "# Colab set-up"
RUNNING_TAG = "how-to-run"
# The "Running this notebook" cell, word for word the same in every notebook, just before the set-up cell.
RUNNING = (
    "**Running this notebook.** The outputs shown come from `PROFILE=full`, the real run; `PROFILE=quick` runs the same "
    "cells on tiny subsets in seconds. Unset, the profile is `full` on a GPU and `quick` on a CPU; "
    "to choose, run `%env PROFILE=full` before the setup cell.\n"
    "In Google Colab, run the next cell first (elsewhere it does nothing). "
    "The README gives each notebook's time on CPU and GPU."
)
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
BADGE_PATTERN = re.compile(r"\[!\[Open In Colab\]\(" + re.escape(BADGE_IMAGE) + r"\)\]\((?P<url>[^)\s]+)\)")

BOOTSTRAP = '''\
# Colab set-up: a no-op outside Google Colab. In Colab it clones this notebook's repository at the commit the
# notebook was run with, makes its helpers importable and installs only the packages Colab lacks.
import importlib.util, os, subprocess, sys
REPO, REF = {repo!r}, {ref!r}
IN_COLAB = "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ
if IN_COLAB and importlib.util.find_spec("helpers") is None:
    if not REPO:
        raise RuntimeError("set REPO above to the GitHub URL you opened this notebook from "
                           "(https://github.com/OWNER/NAME) and REF to 'main', then run this cell again")
    clone = os.path.join("/content" if os.path.isdir("/content") else os.getcwd(), REPO.rstrip("/").split("/")[-1])
    if not os.path.isdir(os.path.join(clone, ".git")):
        subprocess.run(["git", "clone", "--quiet", "--filter=blob:none", "--no-checkout", REPO, clone], check=True)
    subprocess.run(["git", "-C", clone, "-c", "advice.detachedHead=false", "checkout", "--quiet", REF], check=True)
    sys.path.insert(0, clone)
    os.chdir(clone)
    from helpers.colab import install_missing
    install_missing()
'''


# --------------------------------------------------------------------------- in Colab: what to install

def _requirement_parser():
    try:
        from packaging.requirements import Requirement
    except ImportError:  # packaging is not importable in every environment; pip always vendors it
        from pip._vendor.packaging.requirements import Requirement  # type: ignore[no-redef]
    return Requirement


def runtime_requirements(path: str | Path | None = None) -> list:
    """The runtime requirements (`packaging` Requirement objects) of requirements.txt, comments dropped."""
    Requirement = _requirement_parser()
    path = Path(path) if path else project_root() / "requirements.txt"
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [Requirement(line) for line in lines if line and not line.startswith("-")]


def plan_installs(requirements, installed: dict[str, str]) -> tuple[list[str], list[str]]:
    """(what to pip install, warnings) for `requirements` given `installed` {normalised name: version}.

    Only missing packages are installed; a package Colab ships (`NEVER_INSTALL`) is never installed or upgraded,
    and one whose installed version is outside our range gets a warning instead of a reinstall.
    """
    to_install, warnings = [], []
    for req in requirements:
        name = _normalise(req.name)
        version = installed.get(name)
        if version is None:
            if name in NEVER_INSTALL:
                warnings.append(f"{req.name} is not installed; Colab normally ships it: pick a standard runtime "
                                f"(Runtime -> Change runtime type) rather than installing it here")
            else:
                to_install.append(str(req))
        elif req.specifier and not req.specifier.contains(version, prereleases=True):
            warnings.append(f"{req.name} {version} is outside the tested range {req.specifier}; keeping it (a "
                            f"reinstall can break the runtime). If a cell fails on it, that is the likely cause")
    return to_install, warnings


def _valid_version(version: str) -> bool:
    try:
        from packaging.version import InvalidVersion, Version
    except ImportError:
        from pip._vendor.packaging.version import InvalidVersion, Version  # type: ignore[no-redef]
    try:
        Version(version)
        return True
    except InvalidVersion:
        return False


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_versions() -> dict[str, str]:
    """{normalised distribution name: version} of this interpreter's environment."""
    return {_normalise(d.metadata["Name"]): d.version for d in importlib.metadata.distributions() if d.metadata["Name"]}


def install_missing(requirements_file: str | Path | None = None, verbose: bool = True) -> list[str]:
    """pip install the runtime requirements this environment lacks, pinning everything already installed so
    nothing there changes; print the warnings of `plan_installs`. Returns the requirements installed."""
    installed = installed_versions()
    to_install, warnings = plan_installs(runtime_requirements(requirements_file), installed)
    for line in warnings:
        print(f"[colab] warning: {line}")
    if to_install:
        if verbose:
            print(f"[colab] installing what this runtime lacks: {', '.join(to_install)}")
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as pins:  # keep what is installed
            pins.write("".join(f"{name}=={version}\n" for name, version in sorted(installed.items())
                               if _valid_version(version)))
        subprocess.run([sys.executable, "-m", "pip", "install", "-qq", "-c", pins.name, *to_install], check=True)
        Path(pins.name).unlink()
        importlib.invalidate_caches()  # the new packages import in this kernel without a restart
        new = {k: v for k, v in installed_versions().items() if k not in installed}
        if verbose:
            print(f"[colab] installed {', '.join(f'{k} {v}' for k, v in sorted(new.items()))}")
    elif verbose:
        print("[colab] every runtime package is already installed")
    return to_install


# --------------------------------------------------------------------------- for the owner: rewrite the cells

def load_config(root: Path | None = None) -> dict:
    """colab.json: {"repo": GitHub URL or "", "ref": the commit the bootstrap cells pin, "branch": for badges}."""
    path = (root or project_root()) / CONFIG
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing; run `make colab REPO=https://github.com/OWNER/NAME`")
    config = json.loads(path.read_text())
    if set(config) != {"repo", "ref", "branch"}:
        raise ValueError(f"{path} must have exactly the keys repo, ref, branch; it has {sorted(config)}")
    return config


def check_repo_url(repo: str) -> str:
    """`repo` if it is an https://github.com/OWNER/NAME URL (what Colab's badges can open), else a ValueError."""
    if not re.fullmatch(r"https://github\.com/[A-Za-z0-9][\w.-]*/[\w.-]+", repo or ""):
        raise ValueError(f"REPO must look like https://github.com/OWNER/NAME (no .git, no trailing slash), got {repo!r}")
    return repo


def badge(repo: str, branch: str, notebook: str) -> str:
    """The markdown "Open in Colab" badge opening `notebook` (a file name) from `repo` at `branch`."""
    path = check_repo_url(repo).removeprefix("https://github.com/")
    return f"[![Open In Colab]({BADGE_IMAGE})](https://colab.research.google.com/github/{path}/blob/{branch}/{notebook})"


def bootstrap_source(config: dict) -> str:
    return BOOTSTRAP.format(repo=config["repo"], ref=config["ref"])


def rewrite_notebook(nb: dict, name: str, config: dict) -> dict:
    """`nb` (nbformat JSON) with its first code cell the bootstrap (inserted if absent, without outputs), the
    "Running this notebook" cell just before it, and its title cell carrying this notebook's badge (or none
    while no repo is set)."""
    cells = nb["cells"]
    code = [i for i, c in enumerate(cells) if c["cell_type"] == "code"]
    source = bootstrap_source(config).splitlines(keepends=True)
    if code and "".join(cells[code[0]]["source"]).startswith(MARKER):
        cells[code[0]]["source"] = source
    else:
        at = code[0] if code else len(cells)
        cells.insert(at, {"cell_type": "code", "execution_count": None, "id": "colab-setup",
                          "metadata": {"tags": ["colab-setup"]}, "outputs": [], "source": source})
    _place_running_cell(cells)
    title = next(c for c in cells if c["cell_type"] == "markdown")
    text = BADGE_PATTERN.sub("", "".join(title["source"])).replace("\n\n\n", "\n\n")
    if config["repo"]:
        heading, _, rest = text.partition("\n")
        text = f"{heading}\n\n{badge(config['repo'], config['branch'], name)}\n\n{rest.lstrip(chr(10))}"
    title["source"] = text.rstrip("\n").splitlines(keepends=True)
    return nb


def _place_running_cell(cells: list[dict]) -> None:
    """Put exactly one "Running this notebook" cell (`RUNNING`) just before the bootstrap cell."""
    cells[:] = [c for c in cells if RUNNING_TAG not in c.get("metadata", {}).get("tags", [])]
    at = next(i for i, c in enumerate(cells) if c["cell_type"] == "code")
    cells.insert(at, {"cell_type": "markdown", "id": RUNNING_TAG, "metadata": {"tags": [RUNNING_TAG]},
                      "source": RUNNING.splitlines(keepends=True)})


def rewrite_readme(text: str, config: dict) -> str:
    """The README with each notebook link in its table followed by that notebook's badge (none without a repo)."""
    text = BADGE_PATTERN.sub("", text).replace(") ·  |", ") |").replace(")  |", ") |")
    if not config["repo"]:
        return text

    def add(match):
        name = match.group(1)
        return f"{match.group(0)} · {badge(config['repo'], config['branch'], name)}"

    return re.sub(r"\[`([\w-]+\.ipynb)`\]\(\1\)", add, text)


def write_all(root: Path, config: dict, out: Path | None = None) -> list[Path]:
    """Rewrite every notebook (into `out` if given, else in place) and, in place, the README; returns the notebooks."""
    written = []
    for path in sorted(root.glob("*.ipynb")):
        nb = rewrite_notebook(json.loads(path.read_text()), path.name, config)
        target = (out or root) / path.name
        target.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
        written.append(target)
    if out is None:
        readme = root / "README.md"
        readme.write_text(rewrite_readme(readme.read_text(), config))
    return written


def head_commit(root: Path) -> str:
    return subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m helpers.colab", description=(
        "Pin the Colab bootstrap to a commit (default: HEAD) and rewrite every notebook's bootstrap cell and badge "
        "and the README's badges. Commit the result: the pinned commit must be on GitHub for Colab to fetch it."))
    parser.add_argument("--repo", help="https://github.com/OWNER/NAME (default: the one in colab.json)")
    parser.add_argument("--ref", help="commit to pin (default: HEAD, which must hold the current helpers)")
    parser.add_argument("--branch", help="branch the badges open notebooks from (default: colab.json's, or main)")
    parser.add_argument("--out", type=Path, help="write rewritten notebooks here instead of in place (colab.json "
                                                 "and README untouched)")
    args = parser.parse_args(argv)
    root = project_root()
    try:
        old = load_config(root)
    except FileNotFoundError:
        old = {"repo": "", "ref": "", "branch": "main"}
    config = {"repo": check_repo_url(args.repo) if args.repo else old["repo"],
              "ref": args.ref or head_commit(root), "branch": args.branch or old["branch"]}
    if not re.fullmatch(r"[0-9a-f]{40}", config["ref"]):
        raise SystemExit(f"--ref must be a full 40-hex commit id (a tag or branch can move), got {config['ref']!r}")
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        write_all(root, config, args.out)
        print(f"rewrote {len(list(root.glob('*.ipynb')))} notebooks into {args.out} for {config['repo'] or '(no repo)'} "
              f"@ {config['ref'][:12]}")
        return
    (root / CONFIG).write_text(json.dumps(config, indent=2) + "\n")
    write_all(root, config)
    print(f"colab.json: repo {config['repo'] or '(not set)'}, ref {config['ref']}, badges open branch "
          f"{config['branch']}; notebooks and README rewritten — review and commit them")


if __name__ == "__main__":
    main()
