"""What the benchmark scripts share: run a notebook's code cells tagged `benchmark-export` as a module."""
from __future__ import annotations

import json
import sys
import types
from pathlib import Path

TAG = "benchmark-export"  # the cell tag that marks the cells a benchmark executes


def exported_sources(notebook: Path) -> list[str]:
    """The sources of the code cells of `notebook` tagged `benchmark-export`, in order: the code a benchmark runs
    (and what a script fingerprints to refuse results made by other code)."""
    cells = json.loads(Path(notebook).read_text())["cells"]
    return ["".join(c["source"]) for c in cells
            if c["cell_type"] == "code" and TAG in c.get("metadata", {}).get("tags", [])]


def notebook_namespace(notebook: Path, module_name: str) -> dict:
    """Execute the code cells of `notebook` tagged `benchmark-export`, in order, in a fresh module `module_name`
    (a real module, so @dataclass can resolve its annotations); return the module's namespace."""
    exported = exported_sources(notebook)
    if not exported:
        raise SystemExit(f"no code cell of {Path(notebook).name} carries the cell tag {TAG!r}")
    module = types.ModuleType(module_name)
    sys.modules[module.__name__] = module
    for source in exported:
        exec(compile(source, f"{Path(notebook).name}[exported]", "exec"), module.__dict__)
    return module.__dict__
