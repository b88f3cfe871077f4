"""The two sweeps of A3_vit.ipynb §6 that take longer than the rest of the notebook: depth at the main model's
budget, and 2x2 patches on a subset. The notebook reads what this script writes.

    DATA_MIRROR=../shared/data .venv/bin/python benchmarks/a3_vit_sweeps.py [--parts depth patch] [--seeds 0 1]
    DATA_MIRROR=../shared/data .venv/bin/python benchmarks/a3_vit_sweeps.py --smoke   # tiny subsets, 1 epoch

It executes the cells of A3_vit.ipynb tagged `benchmark-export` (the data split, the model, the training loop, the
attention statistics and `sweep_run`), so it trains the notebook's own code, not a copy, and writes
results/a3_vit_sweeps.json (with --smoke: a3_vit_sweeps.json under $RESULTS_DIR, else build/results/).

Parts (training times measured on a 2-core AMD EPYC with native bf16, bf16 autocast; the runs' own "seconds"):
  depth  depth 2, 4, 6 (4x4 patches, 4 heads) on all 45,000 training images x 15 epochs with the notebook's main
         recipe (`Recipe()`: warm-up 2 epochs, cosine to 0), the validation accuracy after every epoch.
         About 21 / 14 / 7 min per run for depth 6 / 4 / 2: about 43 min per seed, 85 min for two seeds.
  patch  patch 2, 4, 8, 16 (depth 4, 4 heads) on the first 10,000 training images x 5 epochs, warm-up half an
         epoch. About 9.5 min per 2x2 run and 1.5 min for the three others together: about 11 min per seed.
Resumable: the JSON is rewritten after every run, and a run already in it (same part, configuration and seed, same
budget) is skipped, so an interrupted part continues where it stopped; --fresh starts the file over.
A file made by other exported code (a sha256 of the tagged cells' sources) or another data copy or split (the data
cell's `DATA` line) is refused, not extended, so one file never mixes two versions. Each run records its machine.

    .venv/bin/python benchmarks/a3_vit_sweeps.py --check [--notebook N]   # no torch: is the file complete for N?
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from notebook_export import TAG, exported_sources, notebook_namespace  # noqa: E402 - benchmarks/ is sys.path[0] when run as a script

PARTS = ("depth", "patch")
DEPTHS, PATCH_SIZES = (2, 4, 6), (16, 8, 4, 2)
FULL_SPLIT = "train 45,000 / validation 5,000 / test 10,000 images"   # the tail of the data cell's DATA in PROFILE=full


def config_name(part: str, value: int) -> str:
    """A run's name in the JSON, e.g. "depth 4", "patch 2": how plans() names a configuration and check() finds it."""
    return f"{part} {value}"


VALUES = {"depth": DEPTHS, "patch": PATCH_SIZES}


def code_hash(notebook: Path) -> str:
    """sha256 (first 16 hex digits) of the sources of the notebook's code cells tagged `benchmark-export`, in order:
    the code this script executes."""
    return hashlib.sha256("\n\0".join(exported_sources(notebook)).encode()).hexdigest()[:16]


def plans(ns: dict, smoke: bool) -> dict:
    """Each part's budget and configurations, built from the notebook's Recipe and data."""
    main = ns["Recipe"]()                                               # the notebook's main recipe (depth 6, 15 epochs)
    n_train = len(ns["x_train"])
    if smoke:
        depth_recipe, patch_images, patch_epochs = replace(main, epochs=1, warmup_epochs=0.5), min(500, n_train), 1
    else:
        depth_recipe, patch_images, patch_epochs = main, 10_000, 5
    patch_recipe = replace(main, depth=4, epochs=patch_epochs, warmup_epochs=0.5)
    return {
        "depth": {"train_images": n_train, "epochs": depth_recipe.epochs, "epoch_eval": True,
                  "report_epochs": [e for e in (1, 3, 5, 10, 15) if e <= depth_recipe.epochs],
                  "configs": {config_name("depth", d): replace(depth_recipe, depth=d) for d in DEPTHS}},
        "patch": {"train_images": patch_images, "epochs": patch_epochs, "epoch_eval": False, "report_epochs": [],
                  "configs": {config_name("patch", p): replace(patch_recipe, patch_size=p) for p in PATCH_SIZES}},
    }


def save(path: Path, record: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(record, indent=1) + "\n")
    tmp.replace(path)


def check(path: Path, notebook: Path, parts, seeds) -> list[str]:
    """Why `path` is not a complete real measurement of `notebook`'s exported code (empty list: it is)."""
    if not path.exists():
        return [f"{path} does not exist"]
    record, problems = json.loads(path.read_text()), []
    if record.get("smoke"):
        problems.append("it is a smoke test (--smoke), not a measurement")
    if record.get("code") != code_hash(notebook):
        problems.append(f"its runs come from other exported code (code {record.get('code')}, {notebook.name} has "
                        f"{code_hash(notebook)})")
    if not str(record.get("data", "")).endswith(FULL_SPLIT):
        problems.append(f"its data line is not the full split: {record.get('data')!r}")
    for part in parts:
        runs = record.get("parts", {}).get(part, {}).get("runs", [])
        have = [(r["config"], r["seed"]) for r in runs]
        names = [config_name(part, v) for v in VALUES[part]]
        missing = [f"{n} seed {s}" for s in seeds for n in names if (n, s) not in have]
        if missing:
            problems.append(f"{part}: missing {', '.join(missing)}")
        if len(set(have)) != len(have):
            problems.append(f"{part}: a configuration and seed appear twice")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS), help="which sweeps (default: both)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1], help="seeds per configuration (default 0 1)")
    parser.add_argument("--smoke", action="store_true", help="the notebook's quick data sizes and 1 epoch: checks the "
                                                             "script end to end in about a minute; not a measurement")
    parser.add_argument("--fresh", action="store_true", help="discard the runs already in the output file")
    parser.add_argument("--notebook", type=Path, default=ROOT / "A3_vit.ipynb", help="the notebook whose cells to run")
    parser.add_argument("--out", type=Path, default=None, help="output JSON (default: see above)")
    parser.add_argument("--check", action="store_true", help="train nothing: exit 1 unless the output file holds every "
                                                             "run of --parts x --seeds, real (not smoke), on the full "
                                                             "split, made by --notebook's exported code")
    args = parser.parse_args()
    if len(set(args.seeds)) != len(args.seeds):
        parser.error(f"--seeds must be distinct, got {args.seeds}")
    if args.check:
        if args.smoke:
            parser.error("--check verifies real measurements; it cannot be combined with --smoke")
        from helpers.results import results_dir as _results_dir
        path = args.out or _results_dir("full") / "a3_vit_sweeps.json"
        problems = check(path, args.notebook, args.parts, args.seeds)
        for p in problems:
            print(f"check: {p}")
        print(f"check: {path.name} {'is NOT complete' if problems else 'is complete'} for {args.notebook.name} "
              f"(parts {', '.join(args.parts)}; seeds {', '.join(map(str, args.seeds))})")
        raise SystemExit(1 if problems else 0)

    os.environ["PROFILE"] = "quick" if args.smoke else "full"          # the data cell's sizes: tiny, or the real split
    os.environ.setdefault("MPLBACKEND", "Agg")
    ns = notebook_namespace(args.notebook, "a3_vit")
    from helpers.paths import shown_path
    from helpers.profile import cpu_model
    from helpers.results import results_dir

    run = ns["run"]
    out = args.out or results_dir(run.profile) / "a3_vit_sweeps.json"
    machine = f"{cpu_model()}, {run.threads} threads, autocast {run.precision}"
    code = code_hash(args.notebook)
    record = {"benchmark": "a3_vit_sweeps", "notebook": args.notebook.name, "smoke": args.smoke, "code": code,
              "data": ns["DATA"], "parts": {}}
    if out.exists() and not args.fresh:
        record = json.loads(out.read_text())
        if record.get("smoke") != args.smoke:
            raise SystemExit(f"{shown_path(out)} holds {'a smoke test' if record.get('smoke') else 'real runs'}; "
                             f"pass --fresh to start it over, or --out for another file")
        if record.get("code") != code:
            raise SystemExit(f"{shown_path(out)} holds runs of other exported code (code {record.get('code')}; the "
                             f"cells tagged {TAG!r} of {args.notebook.name} give {code}): its runs would not be "
                             f"comparable with new ones. Pass --fresh to start it over, or --out for another file")
        if record.get("data") != ns["DATA"]:
            raise SystemExit(f"{shown_path(out)} holds runs on other data ({record.get('data')!r}; now "
                             f"{ns['DATA']!r}). Pass --fresh to start it over, or --out for another file")
    x_train, y_train, x_val, y_val = ns["x_train"], ns["y_train"], ns["x_val"], ns["y_val"]
    n_analysis = min(100 if args.smoke else 1_000, len(x_val))
    all_plans = plans(ns, args.smoke)
    start = time.perf_counter()
    for part in args.parts:
        plan = all_plans[part]
        budget = {"train_images": plan["train_images"], "epochs": plan["epochs"], "code": code, "data": ns["DATA"],
                  "recipes": {name: asdict(cfg) for name, cfg in plan["configs"].items()}}
        saved = record["parts"].setdefault(part, {**budget, "runs": []})
        if {k: saved.get(k) for k in budget} != budget:
            raise SystemExit(f"{shown_path(out)} has {part} runs with another budget or recipe; pass --fresh, or --out "
                             f"for another file")
        saved["report_epochs"] = plan["report_epochs"]                # each run records its own machine (below)
        x, y = x_train[:plan["train_images"]], y_train[:plan["train_images"]]
        for seed in args.seeds:
            for name, cfg in plan["configs"].items():
                if any(r["config"] == name and r["seed"] == seed for r in saved["runs"]):
                    print(f"{part:5s} {name:8s} seed {seed}: already in {shown_path(out)}")
                    continue
                _, result = ns["sweep_run"](name, cfg, seed, x, y, x_val, y_val, n_analysis, epoch_eval=plan["epoch_eval"])
                saved["runs"].append({**result, "machine": machine})
                save(out, record)
                print(f"{part:5s} {name:8s} seed {seed}: validation accuracy {result['val_accuracy']:.2%}, "
                      f"{result['seconds']:.0f} s  (elapsed {time.perf_counter() - start:.0f} s)", flush=True)
    save(out, record)
    print(f"wrote {shown_path(out)}")


if __name__ == "__main__":
    main()
