"""Headline metrics of a notebook run as small JSON files, and a summary table over them.

Full-profile runs write `results/<notebook>.json` (committed); any other run writes under
`build/results/` so tests and quick runs never clobber the committed metrics. `$RESULTS_DIR`
overrides the folder (the Makefile's `notebooks` target points it at `build/results`).
"""
from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path

from .paths import ShownPath, project_root
from .profile import current_run, machine


def results_dir(profile: str) -> Path:
    """Where a run of `profile` writes its JSON: `$RESULTS_DIR`, else results/ (full) or build/results/."""
    if os.environ.get("RESULTS_DIR"):
        folder = Path(os.environ["RESULTS_DIR"]).resolve()
        if profile != "full" and folder == (project_root() / "results").resolve():
            raise ValueError(f"RESULTS_DIR={folder} is the committed results folder; only PROFILE=full runs "
                             "may write there. Unset RESULTS_DIR or point it elsewhere.")
        return folder
    return project_root() / ("results" if profile == "full" else "build/results")


def _clean(value, key: str):
    """JSON-ready copy of `value`: numpy/torch scalars to Python, accuracies checked to lie in [0, 1]."""
    if hasattr(value, "item") and getattr(value, "ndim", 0) == 0:
        value = value.item()
    if isinstance(value, dict):
        return {str(k): _clean(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v, key) for v in value]
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"metric {key!r} is {value}; refusing to record a non-finite number")
        if "accuracy" in key and not 0.0 <= value <= 1.0:
            raise ValueError(f"metric {key!r} = {value} must be a fraction in [0, 1] (e.g. 0.912, not 91.2)")
    elif value is not None and not isinstance(value, (int, str, bool)):
        raise ValueError(f"metric {key!r} has type {type(value).__name__}; use numbers, strings, lists or dicts")
    return value


def save_results(notebook: str, metrics: dict) -> ShownPath:
    """Write {"notebook", "profile", "device", "torch", "machine", "seconds", "metrics"} for the current run; return the path
    (a `ShownPath`: `f"{path}"` prints it relative to the project, e.g. `results/hw4_vit.json`)."""
    if not notebook or "/" in notebook or notebook.endswith(".ipynb"):
        raise ValueError(f"notebook must be the bare notebook name like 'selfattn_numpy', got {notebook!r}")
    if not isinstance(metrics, dict) or not metrics:
        raise ValueError("metrics must be a non-empty dict of headline numbers")
    run = current_run()
    record = {
        "notebook": notebook,
        "profile": run.profile,
        "device": str(run.device),
        "torch": run.torch_version,
        "machine": machine(run.device),
        "seconds": round(run.elapsed(), 1),
        "metrics": _clean(metrics, "metrics"),
    }
    folder = results_dir(run.profile)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{notebook}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(record, indent=2) + "\n")
    tmp.replace(path)
    return ShownPath(path)


def _headline(metrics: dict) -> dict:
    """The top-level numbers and short strings of a metrics dict (nested details stay in the JSON)."""
    return {k: v for k, v in metrics.items()
            if (isinstance(v, (int, float)) and not isinstance(v, bool)) or (isinstance(v, str) and len(v) <= 60)}


def describe_machine(record: dict) -> str:
    """One phrase for a record's machine: "AMD EPYC (native bf16), 2 threads, bf16" or "Tesla T4 (7.5), fp16";
    "(not recorded)" for records written before the machine was."""
    m = record.get("machine")
    if not m:
        return "(not recorded)"
    where = (f"{m['gpu']} ({m['gpu_compute_capability']})" if m.get("gpu") else
             f"{m['cpu']} ({'native bf16' if m['cpu_native_bf16'] else 'no native bf16'})")
    return f"{where}, {m['threads']} threads, {'+'.join(m['precision'])}"


def summary_table(folder: str | Path) -> str:
    """A text table of every notebook results JSON in `folder`: notebook, profile, device, seconds, machine,
    headline metrics. Other JSON files there (e.g. a benchmark's output) are skipped."""
    folder = Path(folder)
    rows = []
    for path in sorted(folder.glob("*.json")):
        record = json.loads(path.read_text())
        if not {"notebook", "profile", "device", "seconds"} <= record.keys():
            continue
        metrics = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                            for k, v in _headline(record.get("metrics", {})).items())
        rows.append((record["notebook"], record["profile"], record["device"], f"{record['seconds']:.0f}",
                     describe_machine(record), metrics))
    if not rows:
        return f"(no results in {folder})"
    header = ("notebook", "profile", "device", "seconds", "machine", "metrics")
    fixed = len(header) - 1
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(fixed)]
    lines = [" | ".join(h.ljust(w) for h, w in zip(header[:fixed], widths)) + " | metrics"]
    lines.append("-+-".join("-" * w for w in widths) + "-+--------")
    lines += [" | ".join(c.ljust(w) for c, w in zip(r[:fixed], widths)) + " | " + r[fixed] for r in rows]
    return "\n".join(lines)


if __name__ == "__main__":  # python -m helpers.results DIR [DIR ...]
    for arg in sys.argv[1:] or ["results"]:
        print(f"Results in {arg}:")
        print(summary_table(arg))
