"""helpers.colab: the bootstrap cell (identical everywhere, pinned to current helpers, a no-op outside Colab), what it
installs, the badges, and the packaging it relies on. The notebooks themselves run as in Colab in .ci/colab_like.py."""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import tomllib
import types
from pathlib import Path

import pytest

from helpers import colab

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(ROOT.glob("*.ipynb"))
REPO = "https://github.com/someone/dl-notebooks"
REAL_FIND_SPEC = importlib.util.find_spec


def first_code_cell(path: Path) -> dict:
    return next(c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code")


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.stem for nb in NOTEBOOKS])
def test_every_notebook_starts_with_the_same_bootstrap_cell(notebook):
    cell = first_code_cell(notebook)
    assert "".join(cell["source"]) == colab.bootstrap_source(colab.load_config(ROOT)), (
        f"{notebook.name}: its first code cell is not the bootstrap of colab.json; run `make colab`")
    assert cell["outputs"] == [], f"{notebook.name}: the bootstrap prints nothing outside Colab"


def _git(*args) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)


def test_pinned_ref_holds_the_latest_helpers():
    """The commit the bootstrap cells fetch must include the last commit that changed what they fetch."""
    if _git("rev-parse", "--git-dir").returncode:
        pytest.skip("not a git checkout: cannot compare the pinned ref with the history")
    if _git("rev-parse", "--is-shallow-repository").stdout.strip() == "true":
        pytest.skip("shallow clone: the history that dates the pinned ref is missing (git fetch --unshallow)")
    ref = colab.load_config(ROOT)["ref"]
    if _git("cat-file", "-e", f"{ref}^{{commit}}").returncode:
        pytest.fail(f"colab.json pins {ref}, which is not a commit of this repository; run `make colab`")
    last = _git("log", "-1", "--format=%H", "--", "helpers", "pyproject.toml", "requirements.txt").stdout.strip()
    assert _git("merge-base", "--is-ancestor", last, ref).returncode == 0, (
        f"colab.json pins {ref[:12]}, older than {last[:12]}, the last change to helpers/, pyproject.toml or "
        f"requirements.txt: Colab users would get stale helpers. Run `make colab` and commit")


def test_notebook_badges_name_their_own_notebook():
    config = colab.load_config(ROOT)
    for path in NOTEBOOKS:
        urls = [m.group("url") for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "markdown"
                for m in colab.BADGE_PATTERN.finditer("".join(c["source"]))]
        if config["repo"]:
            assert urls == [colab.badge(config["repo"], config["branch"], path.name).rsplit("(", 1)[1][:-1]], path.name
        else:
            assert urls == [], f"{path.name} has a badge but colab.json names no repository"
    readme = (ROOT / "README.md").read_text()
    for m in colab.BADGE_PATTERN.finditer(readme):
        line = readme[readme.rfind("\n", 0, m.start()) + 1:m.start()]
        assert line.rstrip(" ·").endswith(f"({m.group('url').rsplit('/', 1)[1]})"), f"README badge {m.group('url')}"


def test_rewrite_puts_one_badge_per_notebook_and_is_idempotent():
    nb = json.loads(NOTEBOOKS[0].read_text())
    config = {"repo": REPO, "ref": "0" * 40, "branch": "main"}
    once = colab.rewrite_notebook(json.loads(json.dumps(nb)), "x.ipynb", config)
    twice = colab.rewrite_notebook(json.loads(json.dumps(once)), "x.ipynb", config)
    assert once == twice
    title = "".join(once["cells"][0]["source"])
    assert [m.group("url") for m in colab.BADGE_PATTERN.finditer(title)] == [
        "https://colab.research.google.com/github/someone/dl-notebooks/blob/main/x.ipynb"]
    assert title.startswith(nb["cells"][0]["source"][0])                     # the heading stays first
    code = [c for c in once["cells"] if c["cell_type"] == "code"]
    assert "".join(code[0]["source"]) == colab.bootstrap_source(config) and len(code) == len(
        [c for c in nb["cells"] if c["cell_type"] == "code"])                  # replaced, not inserted again
    bare = colab.rewrite_notebook(json.loads(json.dumps(once)), "x.ipynb", {**config, "repo": ""})
    assert not colab.BADGE_PATTERN.search("".join(bare["cells"][0]["source"]))
    readme = colab.rewrite_readme("| a | [`x.ipynb`](x.ipynb) | done |\n", config)
    assert readme == f"| a | [`x.ipynb`](x.ipynb) · {colab.badge(REPO, 'main', 'x.ipynb')} | done |\n"
    assert colab.rewrite_readme(colab.rewrite_readme(readme, config), config) == readme
    assert colab.rewrite_readme(readme, {**config, "repo": ""}) == "| a | [`x.ipynb`](x.ipynb) | done |\n"


def test_a_notebook_without_the_bootstrap_gets_it_inserted_first():
    nb = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# T\n", "text"]},
                    {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": ["x = 1"]}]}
    out = colab.rewrite_notebook(nb, "t.ipynb", {"repo": "", "ref": "1" * 40, "branch": "main"})
    assert [c["cell_type"] for c in out["cells"]] == ["markdown", "markdown", "code", "code"]
    assert "".join(out["cells"][1]["source"]) == colab.RUNNING
    assert "".join(out["cells"][2]["source"]).startswith(colab.MARKER) and out["cells"][3]["source"] == ["x = 1"]
    again = colab.rewrite_notebook(out, "t.ipynb", {"repo": "", "ref": "1" * 40, "branch": "main"})
    assert [c["cell_type"] for c in again["cells"]] == ["markdown", "markdown", "code", "code"]  # idempotent


@pytest.mark.parametrize("url", ["github.com/a/b", "https://github.com/a/b.git/", "https://gitlab.com/a/b", "",
                                 "https://github.com/a"])
def test_bad_repo_urls_are_refused(url):
    with pytest.raises(ValueError, match="REPO must look like https://github.com/OWNER/NAME"):
        colab.check_repo_url(url)


def test_make_colab_refuses_a_moving_ref(tmp_path):
    with pytest.raises(SystemExit, match="full 40-hex commit id"):
        colab.main(["--ref", "main", "--out", str(tmp_path)])


def run_bootstrap(monkeypatch, *, in_colab: bool, helpers_importable: bool, repo: str = ""):
    """Execute the bootstrap cell's code with subprocess.run recorded (nothing is cloned)."""
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append(a[0]))
    monkeypatch.delenv("COLAB_RELEASE_TAG", raising=False)
    if in_colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: (REAL_FIND_SPEC(name, *a) if helpers_importable
                                                                       or name != "helpers" else None))
    exec(colab.bootstrap_source({"repo": repo, "ref": "2" * 40, "branch": "main"}), {})
    return calls


def test_bootstrap_is_a_no_op_outside_colab_and_where_helpers_import(monkeypatch):
    assert run_bootstrap(monkeypatch, in_colab=False, helpers_importable=False) == []
    assert run_bootstrap(monkeypatch, in_colab=True, helpers_importable=True) == []


def test_bootstrap_without_a_repository_says_what_to_set(monkeypatch):
    with pytest.raises(RuntimeError, match="set REPO above to the GitHub URL"):
        run_bootstrap(monkeypatch, in_colab=True, helpers_importable=False)


def test_bootstrap_also_recognises_colab_by_its_environment(monkeypatch):
    """Colab's runtimes set COLAB_RELEASE_TAG; the bootstrap acts on it even before google.colab is imported."""
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append(a[0]))
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.setenv("COLAB_RELEASE_TAG", "release-colab-20260801")
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "helpers" else REAL_FIND_SPEC(name, *a))
    with pytest.raises(RuntimeError, match="set REPO above"):
        exec(colab.bootstrap_source({"repo": "", "ref": "3" * 40, "branch": "main"}), {})


def test_plan_installs_only_what_is_missing_and_never_colabs_own_packages():
    reqs = colab.runtime_requirements(ROOT / "requirements.txt")
    names = {colab._normalise(r.name) for r in reqs}
    assert {"torch", "numpy", "ipywidgets", "sacrebleu"} <= names
    colab_runtime = {"torch": "2.11.0+cu126", "torchvision": "0.26.0", "numpy": "2.1.3", "matplotlib": "3.10.0",
                     "pillow": "11.3.0", "tqdm": "4.67.1", "tensorboard": "2.19.0", "ipywidgets": "7.7.1",
                     "sentencepiece": "0.2.1", "transformers": "4.57.1"}
    install, warnings = colab.plan_installs(reqs, colab_runtime)
    assert [colab._requirement_parser()(r).name for r in install] == ["sacrebleu"] and warnings == []
    install, warnings = colab.plan_installs(reqs, {**colab_runtime, "numpy": "1.24.0", "tqdm": "4.0"})
    assert [colab._requirement_parser()(r).name for r in install] == ["sacrebleu"]     # out of range: warned only
    assert len(warnings) == 2 and "numpy 1.24.0 is outside the tested range" in warnings[0]
    install, warnings = colab.plan_installs(reqs, {k: v for k, v in colab_runtime.items() if k != "torch"})
    assert "torch" not in " ".join(install) and "torch is not installed; Colab normally ships it" in warnings[0]


def test_install_missing_pins_what_is_installed(monkeypatch, tmp_path, capsys):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# runtime\nnumpy>=1.26\nsacrebleu>=2.4,<3  # BLEU\n")
    state = {"numpy": "2.1.3", "weird": "not a version"}
    pins = []

    def fake_run(cmd, check):
        pins.append(Path(cmd[cmd.index("-c") + 1]).read_text())
        state["sacrebleu"] = "2.5.1"
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr(colab, "installed_versions", lambda: dict(state))
    monkeypatch.setattr(subprocess, "run", fake_run)
    assert colab.install_missing(requirements) == ["sacrebleu<3,>=2.4"]
    assert pins == ["numpy==2.1.3\n"]                     # unparseable versions are not pinned
    assert "[colab] installed sacrebleu 2.5.1" in capsys.readouterr().out
    assert colab.install_missing(requirements) == []
    assert "already installed" in capsys.readouterr().out


def test_pyproject_dependencies_equal_the_runtime_requirements():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert [str(r) for r in colab.runtime_requirements(ROOT / "requirements.txt")] == [
        str(colab._requirement_parser()(d)) for d in declared]
    dev = (ROOT / "requirements-dev.txt").read_text()
    runtime = (ROOT / "requirements.txt").read_text()
    for tool in ("jupyter", "nbval", "pytest", "playwright"):
        assert tool in dev and tool not in runtime, tool
