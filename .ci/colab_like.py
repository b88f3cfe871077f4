"""The Colab-like integration test: every notebook opened alone, as Colab opens one from GitHub, and run top to bottom.

- a Python 3.13 venv with Colab's versions of the Jupyter/widget stack (.ci/colab-runtime.txt) is the kernel;
- an IPython startup file injects a stub `google.colab` that records `enable_custom_widget_manager` calls;
- git's `url.<bare clone of this checkout>.insteadOf=<a GitHub URL>` lets the bootstrap cell "clone from GitHub";
- each notebook, its bootstrap cell and badge rewritten for that URL by `python -m helpers.colab --out`, is copied
  alone into an empty folder and executed there with PROFILE=quick (and DATA_MIRROR, as CI has it).

Asserts: every cell runs; every cell tagged `nbval-check-output` prints what is committed (after the nbval
sanitizer) although this run takes another float path (PORTABLE_FLOAT_ENV: PyTorch's portable CPU kernels, NumPy
without AVX-512, Colab's NumPy); `pip freeze` gained exactly the packages that were missing (and what they depend on) and
changed nothing else; the widget manager is not enabled under ipywidgets 7; the helpers came from the clone.
Then runs tests/test_widgets.py in that venv (ipywidgets 7.7.1). Prints each notebook's time.

usage: python .ci/colab_like.py --python PYTHON3.13 [--venv DIR] [NOTEBOOK ...]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from helpers.colab import _normalise, _requirement_parser, load_config, plan_installs, runtime_requirements  # noqa: E402

FAKE_URL = "https://github.com/colab-like/dl-notebooks"
STUB = '''\
# A stand-in for the google.colab module Colab's kernels import at start-up; records widget-manager calls.
import json, os, sys, types
try:
    import google                      # the real namespace package (google.protobuf lives there)
except ImportError:
    google = types.ModuleType("google"); google.__path__ = []; sys.modules["google"] = google
colab = types.ModuleType("google.colab"); colab.__path__ = []
output = types.ModuleType("google.colab.output")
def enable_custom_widget_manager():
    with open(os.environ["COLAB_STUB_LOG"], "a") as log:
        log.write(json.dumps({"call": "enable_custom_widget_manager", "cwd": os.getcwd()}) + "\\n")
output.enable_custom_widget_manager = enable_custom_widget_manager
colab.output, google.colab = output, colab
sys.modules["google.colab"], sys.modules["google.colab.output"] = colab, output
'''


CHECK_TAG = "nbval-check-output"
# The float path this run takes differs from the one that made the committed outputs: PyTorch's portable CPU
# kernels (no AVX2/AVX-512 ATen kernels) and NumPy without its AVX-512 dispatch, on Colab's NumPy 2.1 and Python
# 3.13. The cells whose output nbval compares must still print the same (after the nbval sanitizer), which is
# what a grader's laptop, another CPU vendor or Colab's runtime will print.
PORTABLE_FLOAT_ENV = {"ATEN_CPU_CAPABILITY": "default",
                      "NPY_DISABLE_CPU_FEATURES": "AVX512F AVX512CD AVX512_SKX AVX512_CLX AVX512_CNL AVX512_ICL "
                                                  "AVX512_SPR"}


def sanitizers(path: Path = ROOT / ".ci/nbval-sanitize.cfg") -> list[tuple[re.Pattern, str]]:
    """The (regex, replacement) pairs of the nbval sanitizer file, in order."""
    pairs, regex = [], None
    for line in path.read_text().splitlines():
        if line.startswith("regex:"):
            regex = re.compile(line.split(":", 1)[1].strip())
        elif line.startswith("replace:") and regex is not None:
            pairs.append((regex, line.split(":", 1)[1].strip()))
            regex = None
    return pairs


def checked_texts(cell: dict, rules) -> list[str]:
    """The sanitized text a checked cell shows: streams and text/plain, as nbval compares them. Consecutive chunks of
    one stream are joined first, as nbval does: where a kernel splits a cell's stdout depends on timing, not on
    what the cell printed."""
    texts, last_stream = [], None
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            text = "".join(output.get("text", ""))
            if last_stream == output.get("name"):
                texts[-1] += text
                continue
            last_stream = output.get("name")
        else:
            text, last_stream = "".join(output.get("data", {}).get("text/plain", "")), None
        texts.append(text)
    for regex, replace in rules:
        texts = [regex.sub(replace, text) for text in texts]
    return texts


def compare_checked_cells(committed: dict, executed: dict, name: str, rules) -> list[str]:
    """A failure line for every checked cell whose sanitized output differs from the committed one."""
    failures = []
    pairs = zip(committed["cells"], executed["cells"])
    for index, (old, new) in enumerate(pairs):
        if CHECK_TAG not in old.get("metadata", {}).get("tags", []):
            continue
        want, got = checked_texts(old, rules), checked_texts(new, rules)
        if want != got:
            failures.append(f"{name} cell {index}: a checked cell printed something else on the portable float path"
                            f"\n    committed: {want!r:.400}\n    here:      {got!r:.400}")
    return failures


def sh(*cmd, **kw) -> str:
    return subprocess.run([str(c) for c in cmd], check=True, capture_output=True, text=True, **kw).stdout


def freeze(venv: Path) -> dict[str, str]:
    lines = sh(venv / "bin/python", "-m", "pip", "list", "--format=freeze", "--disable-pip-version-check").split()
    return {_normalise(line.split("==", 1)[0]): line.split("==", 1)[1] for line in lines if "==" in line}


FRESH = ".fresh"  # a venv built by --venv-only and not yet used: the run may take it as it is


def _fresh_stamp(python: str) -> str:
    return f"{Path(python).resolve()}\n{(ROOT / '.ci/colab-runtime.txt').read_text()}"


def take_fresh_venv(python: str, venv: Path) -> bool:
    """True if `venv` is an unused venv that --venv-only built from this Python and colab-runtime.txt; the stamp
    is removed, so a venv in which a bootstrap has installed packages is never taken twice."""
    stamp = venv / FRESH
    if stamp.is_file() and stamp.read_text() == _fresh_stamp(python):
        stamp.unlink()
        return True
    return False


def make_venv(python: str, venv: Path) -> float:
    start = time.perf_counter()
    if venv.exists():
        shutil.rmtree(venv)
    sh(python, "-m", "venv", venv)
    version = sh(venv / "bin/python", "-c", "import sys; print('%d.%d' % sys.version_info[:2])").strip()
    if version != "3.13":
        raise SystemExit(f"--python must be Python 3.13 (Colab's), got {version}")
    subprocess.run([venv / "bin/python", "-m", "pip", "install", "-q", "--disable-pip-version-check", "-r",
                    ROOT / ".ci/colab-runtime.txt"], check=True)
    return time.perf_counter() - start


def dependency_closure(venv: Path, names: set[str]) -> set[str]:
    """`names` and every distribution they require (transitively), as installed in `venv`."""
    script = ("import importlib.metadata as m, json, re, sys\n"
              "todo, seen = list(json.loads(sys.argv[1])), set()\n"
              "norm = lambda n: re.sub(r'[-_.]+', '-', n).lower()\n"
              "while todo:\n"
              "    n = norm(todo.pop())\n"
              "    if n in seen: continue\n"
              "    seen.add(n)\n"
              "    try: reqs = m.requires(n) or []\n"
              "    except m.PackageNotFoundError: continue\n"
              "    todo += [re.split(r'[ ;<>=!~\\[(]', r, maxsplit=1)[0] for r in reqs if 'extra ==' not in r]\n"
              "print(json.dumps(sorted(seen)))\n")
    return set(json.loads(sh(venv / "bin/python", "-c", script, json.dumps(sorted(names)))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", required=True, help="a Python 3.13 interpreter for the venv")
    parser.add_argument("--venv", type=Path, default=ROOT / "build/colab-like/venv")
    parser.add_argument("--work", type=Path, default=ROOT / "build/colab-like/work")
    parser.add_argument("--venv-only", action="store_true",
                        help="only build the venv (marked unused, so the next run takes it instead of rebuilding); "
                             "`make test` does this in the background while the other tests run")
    parser.add_argument("notebooks", nargs="*", help="notebooks to run (default: all)")
    args = parser.parse_args()
    notebooks = args.notebooks or sorted(p.name for p in ROOT.glob("*.ipynb"))

    if args.venv_only:
        seconds = make_venv(args.python, args.venv)
        (args.venv / FRESH).write_text(_fresh_stamp(args.python))
        print(f"colab-like: venv with Colab's stack ({args.venv.name}, Python 3.13) built in {seconds:.0f} s")
        return
    if take_fresh_venv(args.python, args.venv):
        print(f"colab-like: using the unused venv with Colab's stack built ahead ({args.venv.name}, Python 3.13)")
    else:
        seconds = make_venv(args.python, args.venv)
        print(f"colab-like: venv with Colab's stack ({args.venv.name}, Python 3.13) built in {seconds:.0f} s")
    work = args.work
    if work.exists():
        shutil.rmtree(work)
    (work / "ipython/profile_default/startup").mkdir(parents=True)
    (work / "ipython/profile_default/startup/00-google-colab-stub.py").write_text(STUB)
    origin = work / "origin.git"
    sh("git", "clone", "--bare", "--quiet", ROOT, origin)
    for key in ("uploadpack.allowFilter", "uploadpack.allowAnySHA1InWant"):  # as GitHub serves partial clones
        sh("git", "-C", origin, "config", key, "true")
    (work / "gitconfig").write_text(f'[url "file://{origin}"]\n\tinsteadOf = {FAKE_URL}\n'
                                    '[protocol "file"]\n\tallow = always\n')
    kernel = work / "jupyter/kernels/colab-like"
    kernel.mkdir(parents=True)
    (kernel / "kernel.json").write_text(json.dumps({
        "argv": [str(args.venv / "bin/python"), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Colab-like (Python 3.13)", "language": "python"}))
    config = load_config(ROOT)
    sh(sys.executable, "-m", "helpers.colab", "--repo", FAKE_URL, "--ref", config["ref"], "--out", work / "notebooks",
       cwd=ROOT)
    stub_log = work / "google-colab-calls.jsonl"
    os.environ.update({"JUPYTER_PATH": str(work / "jupyter"), "IPYTHONDIR": str(work / "ipython"),
                       "GIT_CONFIG_GLOBAL": str(work / "gitconfig"), "PROFILE": "quick",
                       "COLAB_STUB_LOG": str(stub_log), "PYDEVD_DISABLE_FILE_VALIDATION": "1",
                       **PORTABLE_FLOAT_ENV})
    for var in ("PYTHONPATH", "RESULTS_DIR", "DATA_DIR", "VIRTUAL_ENV"):
        os.environ.pop(var, None)

    import nbformat
    from nbclient import NotebookClient

    before = freeze(args.venv)
    missing, _ = plan_installs(runtime_requirements(ROOT / "requirements.txt"), before)
    missing_names = {_normalise(_requirement_parser()(r).name) for r in missing}
    print(f"colab-like: the runtime lacks {', '.join(sorted(missing_names)) or 'nothing'}; the first bootstrap "
          "must install exactly that")
    failures, times = [], {}
    rules = sanitizers()
    print(f"colab-like: portable float path {PORTABLE_FLOAT_ENV}; checked cells must print what is committed")
    for name in notebooks:
        folder = work / "run" / Path(name).stem
        folder.mkdir(parents=True)
        shutil.copy(work / "notebooks" / name, folder / name)
        nb = nbformat.read(folder / name, as_version=4)
        start = time.perf_counter()
        try:
            NotebookClient(nb, kernel_name="colab-like", timeout=900, resources={"metadata": {"path": str(folder)}}
                           ).execute()
        except Exception as error:  # noqa: BLE001 - report every notebook, then fail
            failures.append(f"{name}: {type(error).__name__}: {str(error)[-1500:]}")
        times[name] = time.perf_counter() - start
        nbformat.write(nb, folder / name)
        failures += compare_checked_cells(json.loads((ROOT / name).read_text()), json.loads((folder / name).read_text()),
                                          name, rules)
        clone = folder / FAKE_URL.rsplit("/", 1)[1]
        if not (clone / "helpers/profile.py").is_file():
            failures.append(f"{name}: the bootstrap did not clone the repository into {clone}")
        elif not (clone / "build/results" / f"{Path(name).stem}.json").is_file():
            failures.append(f"{name}: its results were not written into the clone's build/results/")
        print(f"colab-like: {name:24s} {times[name]:6.1f} s" + ("  FAILED" if failures and
                                                                  failures[-1].startswith(name) else ""))
    after = freeze(args.venv)
    changed = {k: (v, after.get(k)) for k, v in before.items() if after.get(k) != v}
    added = set(after) - set(before)
    allowed = dependency_closure(args.venv, missing_names)
    print(f"colab-like: pip freeze gained {', '.join(f'{k}=={after[k]}' for k in sorted(added)) or 'nothing'}")
    if changed:
        failures.append(f"pip freeze changed packages Colab already had: {changed}")
    if not missing_names <= added:
        failures.append(f"missing packages not installed: {sorted(missing_names - added)}")
    if added - allowed:
        failures.append(f"installed beyond the missing packages and their dependencies: {sorted(added - allowed)}")
    calls = stub_log.read_text().splitlines() if stub_log.exists() else []
    if calls:
        failures.append(f"enable_custom_widget_manager was called under ipywidgets 7 (Colab renders 7 itself): {calls}")
    print(f"colab-like: {len(notebooks)} notebooks in {sum(times.values()):.0f} s; widget-manager calls: {len(calls)}")
    widget_tests = subprocess.run([args.venv / "bin/python", "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                   "-W", "ignore::DeprecationWarning", "tests/test_widgets.py"], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    if widget_tests.returncode:
        failures.append("tests/test_widgets.py failed under ipywidgets 7.7.1")
    if failures:
        print("colab-like FAILED:\n  " + "\n  ".join(failures))
        raise SystemExit(1)
    print("colab-like: passed")


if __name__ == "__main__":
    main()
