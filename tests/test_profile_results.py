"""Profiles, seeding and the results JSON."""
from __future__ import annotations

import json
import random

import numpy as np
import pytest
import torch

import helpers
from helpers import profile, results


@pytest.mark.parametrize("value,expected", [("quick", "quick"), ("FULL", "full"), (" full ", "full")])
def test_profile_from_env(monkeypatch, value, expected):
    monkeypatch.setenv("PROFILE", value)
    assert helpers.profile_name() == expected


def test_unknown_profile_lists_valid_ones(monkeypatch):
    monkeypatch.setenv("PROFILE", "fast")
    with pytest.raises(ValueError, match="PROFILE='fast' is not a profile; valid profiles are quick, full"):
        helpers.setup()


def test_default_profile_follows_gpu_and_says_so(monkeypatch):
    monkeypatch.delenv("PROFILE", raising=False)
    monkeypatch.setattr(profile, "_cuda_available", lambda: True)
    assert helpers.profile_name() == "full" and profile.profile_reason() == " (the default with a GPU)"
    monkeypatch.setattr(profile, "_cuda_available", lambda: False)
    assert helpers.profile_name() == "quick" and "PROFILE=full for the real run" in profile.profile_reason()
    monkeypatch.setenv("PROFILE", "quick")
    assert profile.profile_reason() == ""


def test_setup_seeds_everything_and_prints_once(monkeypatch, capsys):
    monkeypatch.setenv("PROFILE", "quick")
    run = helpers.setup(seed=3)
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    helpers.setup(seed=3, verbose=False)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == first
    out = capsys.readouterr().out
    assert out.count("profile=quick") == 1 and "device=cpu" in out and f"torch {torch.__version__}" in out
    assert run.pick(quick=1, full=2) == 1 and not run.full
    assert torch.get_num_threads() == run.threads == profile.cpu_threads()
    assert helpers.current_run().seed == 3


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True])
def test_bad_seed_is_rejected(seed):
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        helpers.seed_everything(seed)


def test_cuda_device_without_gpu_is_a_clear_error(monkeypatch):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    monkeypatch.setenv("PROFILE", "quick")
    with pytest.raises(ValueError, match="no CUDA GPU is available"):
        helpers.setup(device="cuda")


def test_save_results_writes_the_record(isolated, monkeypatch):
    monkeypatch.setenv("PROFILE", "quick")
    helpers.setup(verbose=False)
    path = results.save_results("demo", {"test_accuracy": np.float32(0.5), "runs": {"10": {"loss": 1.25}},
                                         "sweeps": [{"patch_size": 4, "test_accuracy": 0.25}]})
    record = json.loads(path.read_text())
    assert path == isolated / "results" / "demo.json"
    assert set(record) == {"notebook", "profile", "device", "torch", "machine", "seconds", "metrics"}
    assert record["profile"] == "quick" and record["device"] == "cpu" and record["seconds"] >= 0
    assert record["metrics"]["test_accuracy"] == 0.5 and record["metrics"]["runs"]["10"]["loss"] == 1.25
    machine = record["machine"]
    assert set(machine) == {"cpu", "cpu_native_bf16", "threads", "gpu", "gpu_compute_capability", "precision"}
    assert machine["cpu"] and machine["threads"] >= 1 and machine["gpu"] is None
    assert isinstance(machine["cpu_native_bf16"], bool) and machine["precision"]
    table = results.summary_table(isolated / "results")
    assert "demo" in table and machine["cpu"] in table


def test_machine_records_the_precisions_autocast_ran(monkeypatch):
    import torch
    from helpers import profile
    monkeypatch.setattr(profile, "AUTOCAST_USED", set())
    assert profile.machine("cpu")["precision"] == ["fp32"]
    with profile.autocast("cpu", "bf16"):
        torch.ones(2) @ torch.ones(2)
    assert profile.machine("cpu")["precision"] == ["bf16"]
    monkeypatch.setattr(profile, "_cpu_flags", lambda: {"avx512_bf16"})
    assert profile.machine("cpu")["cpu_native_bf16"] is True


def test_summary_names_the_machine_or_says_it_was_not_recorded():
    gpu = {"machine": {"cpu": "x", "cpu_native_bf16": False, "threads": 2, "gpu": "Tesla T4",
                       "gpu_compute_capability": "7.5", "precision": ["fp16"]}}
    cpu = {"machine": {"cpu": "AMD EPYC", "cpu_native_bf16": True, "threads": 2, "gpu": None,
                       "gpu_compute_capability": None, "precision": ["bf16"]}}
    assert results.describe_machine(gpu) == "Tesla T4 (7.5), 2 threads, fp16"
    assert results.describe_machine(cpu) == "AMD EPYC (native bf16), 2 threads, bf16"
    assert results.describe_machine({}) == "(not recorded)"


def test_quick_runs_never_write_committed_results(isolated, monkeypatch):
    monkeypatch.setenv("PROFILE", "quick")
    helpers.setup(verbose=False)
    monkeypatch.delenv("RESULTS_DIR")
    assert results.results_dir("quick").parts[-2:] == ("build", "results")
    assert results.results_dir("full").name == "results"
    monkeypatch.setenv("RESULTS_DIR", str(results.project_root() / "results"))
    with pytest.raises(ValueError, match="only PROFILE=full runs may write there"):
        results.save_results("demo", {"x": 1})


@pytest.mark.parametrize("metrics,match", [
    ({"test_accuracy": 91.2}, r"fraction in \[0, 1\]"),
    ({"loss": float("nan")}, "non-finite"),
    ({"model": object()}, "has type object"),
    ({}, "non-empty dict"),
])
def test_bad_metrics_are_rejected(isolated, monkeypatch, metrics, match):
    monkeypatch.setenv("PROFILE", "quick")
    helpers.setup(verbose=False)
    with pytest.raises(ValueError, match=match):
        results.save_results("demo", metrics)


def test_bad_notebook_name_is_rejected(isolated):
    with pytest.raises(ValueError, match="bare notebook name"):
        results.save_results("demo.ipynb", {"x": 1})


def test_summary_of_empty_folder(tmp_path):
    assert results.summary_table(tmp_path) == f"(no results in {tmp_path})"


def test_summary_skips_json_that_is_not_a_notebook_record(tmp_path):
    (tmp_path / "word2vec_vs_gensim.json").write_text('{"command": "python benchmarks/x.py", "settings": []}')
    assert results.summary_table(tmp_path) == f"(no results in {tmp_path})"
    (tmp_path / "demo.json").write_text('{"notebook": "demo", "profile": "full", "device": "cpu", "seconds": 3.0, '
                                        '"metrics": {"test_accuracy": 0.5}}')
    assert "demo" in results.summary_table(tmp_path) and "word2vec" not in results.summary_table(tmp_path)


def test_setup_makes_multithreaded_training_reproducible(monkeypatch):
    """Two identical runs of an indexed-embedding model (scatter-add backward) give identical weights."""
    monkeypatch.setenv("PROFILE", "quick")
    torch.set_num_threads(2)

    def train():
        helpers.setup(seed=0, verbose=False)
        torch.set_num_threads(2)
        emb = torch.nn.Parameter(torch.randn(50, 64))
        opt = torch.optim.Adam([emb], lr=1e-2)
        for _ in range(20):
            ids = torch.randint(0, 50, (512, 40))
            loss = emb[ids].tanh().pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        return emb.detach().clone()

    try:
        assert torch.are_deterministic_algorithms_enabled()
        assert torch.equal(train(), train())
        run = helpers.setup(verbose=False, deterministic=False)
        assert not torch.are_deterministic_algorithms_enabled() and "non-deterministic" in run.describe()
    finally:
        torch.use_deterministic_algorithms(False)


def test_inline_figures_only_in_a_jupyter_kernel_under_agg(monkeypatch):
    import IPython

    from helpers.profile import inline_figures_in_notebooks

    calls = []

    class ZMQInteractiveShell:  # the class name Jupyter kernels use
        def run_line_magic(self, name, arg):
            calls.append((name, arg))

    monkeypatch.setattr(IPython, "get_ipython", lambda: ZMQInteractiveShell())
    monkeypatch.setenv("MPLBACKEND", "Agg")
    assert inline_figures_in_notebooks() is True and calls == [("matplotlib", "inline")]
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    assert inline_figures_in_notebooks() is False
    monkeypatch.setenv("MPLBACKEND", "agg")
    monkeypatch.setattr(IPython, "get_ipython", lambda: None)  # a script or pytest: nothing to switch
    assert inline_figures_in_notebooks() is False and len(calls) == 1


def test_fast_bf16_follows_the_cpu_flags(monkeypatch):  # the real /proc/cpuinfo of this machine
    flags = open("/proc/cpuinfo").read() if __import__("os").path.exists("/proc/cpuinfo") else ""
    expected = "avx512_bf16" in flags.split() or "amx_bf16" in flags.split()
    assert profile.fast_bf16("cpu") is expected
    assert profile.fast_bf16(torch.device("meta")) is False
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert profile.fast_bf16("cuda") is False
    run = helpers.setup(seed=0, verbose=False)
    assert run.bf16 is profile.fast_bf16(run.device)


@pytest.mark.parametrize("capability,expected", [((7, 5), "fp16"),   # T4 (Colab's free GPU): tensor cores, no bf16
                                                  ((7, 0), "fp16"),   # V100
                                                  ((8, 0), "bf16"),   # A100
                                                  ((8, 9), "bf16"),   # L4
                                                  ((9, 0), "bf16"),   # H100
                                                  ((6, 1), "fp32")])  # P4 / P40: slow float16
def test_gpu_precision_follows_compute_capability(monkeypatch, capability, expected):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)  # emulated bf16 must not count
    assert profile.precision_for("cuda") == expected
    assert profile.fast_bf16("cuda") is (expected == "bf16")
    run = profile.Run(profile="quick", device=torch.device("cuda"), seed=0, threads=2, torch_version="x")
    assert run.precision == expected and run.bf16 is (expected == "bf16")
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "mock GPU")
    assert profile.PRECISION_NAMES[expected] in run.describe()


def test_cpu_precision_follows_the_cpu_flags(monkeypatch):
    monkeypatch.setattr(profile, "_cpu_flags", lambda: {"avx2", "avx512f", "avx512_bf16"})
    assert profile.precision_for("cpu") == "bf16"
    monkeypatch.setattr(profile, "_cpu_flags", lambda: {"avx2", "amx_bf16"})
    assert profile.precision_for("cpu") == "bf16"
    monkeypatch.setattr(profile, "_cpu_flags", lambda: {"avx2", "avx512f"})  # emulated bf16 would be slower
    assert profile.precision_for("cpu") == "fp32"
    monkeypatch.setattr(profile, "_cpu_flags", set)
    assert profile.precision_for("cpu") == "fp32"
    cpu_run = profile.Run(profile="quick", device=torch.device("cpu"), seed=0, threads=2, torch_version="x")
    assert "bf16" not in cpu_run.describe() and "float32" not in cpu_run.describe()  # a CPU line names no precision
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert profile.precision_for("cuda") == "fp32" and profile.precision_for("meta") == "fp32"


def test_autocast_contexts_and_bad_precision():
    with profile.autocast("cpu", "bf16"):
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.bfloat16
    with profile.autocast("cpu", "fp32"):
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.float32
    with pytest.raises(ValueError, match="precision='fp16' needs a CUDA device"):
        profile.autocast("cpu", "fp16")
    with pytest.raises(ValueError, match="precision must be one of bf16, fp16, fp32"):
        profile.autocast("cpu", "float16")
