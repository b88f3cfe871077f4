"""What a committed notebook prints belongs to the student: no absolute path of the machine it ran on, no
limit of ours (a time budget, an "aim") presented as if the assignment set it.

Outputs only (text, streams, HTML, plain-text reprs, error tracebacks); markdown and code cells are what the
student reads and types, and may name paths on purpose.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(ROOT.glob("*.ipynb"))

# An absolute path of a machine: home folders, Colab's /content, scratch and mount points, macOS temp folders,
# Windows drives. Not after a word character, '.', ':' or '/', so URLs (https://host/tmp/...) do not match.
MACHINE_PATH = re.compile(r"(?<![\w.:/~-])(?:/(?:home|root|work|tmp|Users|content|mnt|scratch|private/var|var/folders)"
                          r"(?=/|\b)[^\s'\"<>)]*|[A-Za-z]:\\\\?[^\s'\"<>)]+)")
# Our own limits printed as if they were the assignment's.
INTERNAL_LIMIT = re.compile(r"\bbudget:|must finish in|\b\d+(?:\.\d+)?\s?% aim\b|\bour aim\b", re.IGNORECASE)

# Notebooks whose committed outputs come from a run before `save_results` printed project-relative paths.
# Each is cleared by its next full run (the issue that re-runs it is named); strict, so an entry must go as soon
# as the notebook is clean.
PENDING_RERUN: dict[str, str] = {}


def output_texts(cell: dict):
    """Every text a code cell's outputs show: streams, text/* and JSON-free reprs, error tracebacks."""
    for output in cell.get("outputs", []):
        if "text" in output:
            yield "".join(output["text"])
        for mime, value in output.get("data", {}).items():
            if mime.startswith("text/"):
                yield "".join(value) if isinstance(value, list) else str(value)
        if output.get("output_type") == "error":
            yield "\n".join(output.get("traceback", []))


def findings(notebook: Path) -> list[str]:
    """'cell N: <what>' for every machine path or internal limit in the notebook's outputs."""
    found = []
    cells = json.loads(notebook.read_text())["cells"]
    for index, cell in enumerate(cells):
        for text in output_texts(cell):
            found += [f"cell {index}: machine path {m.group(0)!r}" for m in MACHINE_PATH.finditer(text)]
            found += [f"cell {index}: internal limit in {line.strip()[:90]!r}"
                      for line in text.splitlines() if INTERNAL_LIMIT.search(line)]
    return found


@pytest.mark.parametrize("text,expected", [
    ("wall time 2646 s -> /work/main/results/hw4_vit.json", ["/work/main/results/hw4_vit.json"]),
    ("cache in /home/ana/dl/data and C:\\Users\\ana\\dl", ["/home/ana/dl/data", "C:\\Users\\ana\\dl"]),
    ("(/root/.cache/x)", ["/root/.cache/x"]),
    ("/content/dl-notebooks/data", ["/content/dl-notebooks/data"]),
    ("wall time 2646 s -> results/hw4_vit.json; ~/data; …/shared/data (outside the project)", []),
    ("see https://example.org/tmp/file and data/tmp/x, 3/4 = 0.75", []),
])
def test_machine_path_pattern(text, expected):
    assert [m.group(0) for m in MACHINE_PATH.finditer(text)] == expected


def test_internal_limit_pattern():
    assert INTERNAL_LIMIT.search("budget: the full profile must finish in 3,600 s on a 2-core CPU")
    assert INTERNAL_LIMIT.search("cGAN class accuracy 88.22% is below the 90% aim")
    assert not INTERNAL_LIMIT.search("budget per model: 20,000 training images x 3 epochs")
    assert not INTERNAL_LIMIT.search("the handout's target: test perplexity < 7")


def test_pending_list_names_real_notebooks():
    assert set(PENDING_RERUN) <= {nb.stem for nb in NOTEBOOKS}


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.stem for nb in NOTEBOOKS])
def test_outputs_show_no_machine_path_or_internal_limit(request, notebook):
    if notebook.stem in PENDING_RERUN:
        request.applymarker(pytest.mark.xfail(strict=True, reason=f"outputs predate the fix; cleared by its "
                                                                  f"{PENDING_RERUN[notebook.stem]}"))
    found = findings(notebook)
    assert not found, f"{notebook.name} prints what the student should not see:\n  " + "\n  ".join(found)
