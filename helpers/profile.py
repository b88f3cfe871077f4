"""Run profiles (quick / full), seeding, device and CPU threads: one `setup()` per notebook.

`PROFILE=quick` runs tiny subsets in seconds (CI), `PROFILE=full` is the real assignment run.
Unset, the profile is `full` when a CUDA GPU is present and `quick` otherwise.
"""
from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass, field

import numpy as np

PROFILES = ("quick", "full")


def profile_name() -> str:
    """The active profile name from the `PROFILE` env var (or the default for this machine)."""
    name = os.environ.get("PROFILE", "").strip().lower()
    if not name:
        return "full" if _cuda_available() else "quick"
    if name not in PROFILES:
        raise ValueError(
            f"PROFILE={os.environ['PROFILE']!r} is not a profile; valid profiles are "
            f"{', '.join(PROFILES)} (e.g. `PROFILE=quick jupyter lab`)."
        )
    return name


def profile_reason() -> str:
    """Why the profile is what it is, for the setup line: set by PROFILE, or the default for this machine."""
    if os.environ.get("PROFILE", "").strip():
        return ""
    if _cuda_available():
        return " (the default with a GPU)"
    return " (the default without a GPU; PROFILE=full for the real run)"


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def cpu_threads() -> int:
    """CPU cores this process may use (respects affinity masks / container limits)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


PRECISIONS = ("bf16", "fp16", "fp32")
# how the setup line names what `run.precision` offers; a notebook that autocasts prints what it ran itself
PRECISION_NAMES = {"bf16": "bf16 autocast", "fp16": "fp16 autocast + GradScaler", "fp32": "float32"}


def precision_for(device) -> str:
    """The autocast precision that pays on `device`: "bf16", "fp16" (with a GradScaler) or "fp32".

    - CUDA: "bf16" from compute capability 8.0 (Ampere, Hopper: A100, L4, H100); "fp16" on 7.x (V100, Colab's T4),
      whose tensor cores compute float16 but not bfloat16; "fp32" below. `torch.cuda.is_bf16_supported()` is not
      asked: it also reports emulated bf16, which on a T4 is slower than float32.
    - CPU: "bf16" with AVX512-BF16 or AMX-BF16 (measured: 2.7x a float32 ViT, benchmarks/vit_cpu_bf16.py), else "fp32".
    - anything else (MPS, meta): "fp32".
    """
    import torch

    device = torch.device(device)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            return "fp32"
        major, _minor = torch.cuda.get_device_capability(device)
        return "bf16" if major >= 8 else "fp16" if major == 7 else "fp32"
    if device.type != "cpu":
        return "fp32"
    return "bf16" if {"avx512_bf16", "amx_bf16"} & _cpu_flags() else "fp32"


def _cpu_flags() -> set[str]:
    """The CPU's feature flags from /proc/cpuinfo; empty where there is none (macOS, Windows: keep float32)."""
    try:
        with open("/proc/cpuinfo") as f:
            return set(next((line for line in f if line.startswith("flags")), "").split())
    except OSError:
        return set()


def fast_bf16(device) -> bool:
    """Whether `device` computes bfloat16 natively (`precision_for(device) == "bf16"`)."""
    return precision_for(device) == "bf16"


# The autocast precisions this process has entered ("bf16", "fp16"); results record what actually ran.
AUTOCAST_USED: set[str] = set()


def autocast(device, precision: str):
    """`torch.autocast` for `precision` ("bf16" or "fp16") on `device`; a no-op context for "fp32"."""
    import torch
    from contextlib import nullcontext

    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    device = torch.device(device)
    if precision == "fp32":
        return nullcontext()
    if precision == "fp16" and device.type != "cuda":
        raise ValueError(f"precision='fp16' needs a CUDA device (got {device}); use 'bf16' or 'fp32' there")
    AUTOCAST_USED.add(precision)
    return torch.autocast(device.type, dtype=torch.bfloat16 if precision == "bf16" else torch.float16)


def cpu_model() -> str:
    """The CPU's model name ("AMD EPYC 9B14", "Intel(R) Xeon(R) Platinum 8481C"), or platform's guess."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine() or "unknown"


def machine(device) -> dict:
    """What a run's times depend on: CPU model, native bf16, threads, the GPU (name, compute capability) if
    `device` is one, and the precisions that autocast actually ran in (["fp32"] when it never ran)."""
    import torch

    device = torch.device(device)
    info = {"cpu": cpu_model(), "cpu_native_bf16": bool({"avx512_bf16", "amx_bf16"} & _cpu_flags()),
            "threads": torch.get_num_threads(), "gpu": None, "gpu_compute_capability": None,
            "precision": sorted(AUTOCAST_USED) or ["fp32"]}
    if device.type == "cuda" and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(device)
        info["gpu_compute_capability"] = "%d.%d" % torch.cuda.get_device_capability(device)
    return info


def seed_everything(seed: int) -> None:
    """Seed python's `random`, NumPy's global RNG and torch (CPU and CUDA) with `seed`."""
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device


@dataclass
class Run:
    """What `setup()` chose for this notebook run; `elapsed()` is the wall time since then."""

    profile: str
    device: "torch.device"  # noqa: F821 - torch is imported lazily
    seed: int
    threads: int
    torch_version: str
    deterministic: bool = True
    started: float = field(default_factory=time.perf_counter)

    @property
    def precision(self) -> str:
        """"bf16", "fp16" or "fp32": the autocast precision that pays on `device` (see `precision_for`)."""
        return precision_for(self.device)

    @property
    def bf16(self) -> bool:
        """True where bfloat16 autocast pays on `device`: a GPU of compute capability >= 8.0, or a CPU with native bf16."""
        return self.precision == "bf16"

    def autocast(self):
        """The autocast context for `precision` on `device` (a no-op in float32): `with run.autocast(): ...`."""
        return autocast(self.device, self.precision)

    @property
    def full(self) -> bool:
        return self.profile == "full"

    def pick(self, *, quick, full):
        """The value for the active profile: `run.pick(quick=2, full=30)`."""
        return full if self.full else quick

    def elapsed(self) -> float:
        """Seconds since `setup()`."""
        return time.perf_counter() - self.started

    def describe(self) -> str:
        """The setup line. On a GPU it names the GPU and the autocast precision its work runs in; on a CPU it says
        nothing about bf16, which only some notebooks use (their results record what ran: `machine()`)."""
        gpu = ""
        if self.device.type == "cuda":
            import torch

            gpu = f" ({torch.cuda.get_device_name(self.device)}) · {PRECISION_NAMES[self.precision]}"
        return (
            f"profile={self.profile}{profile_reason()} · device={self.device}{gpu} · torch {self.torch_version} · "
            f"{self.threads} CPU threads · seed {self.seed}"
            + ("" if self.deterministic else " · non-deterministic")
        )


_CURRENT: Run | None = None


def setup(seed: int = 0, device: str | None = None, verbose: bool = True, deterministic: bool = True) -> Run:
    """Seed everything, pick profile/device/threads, print them once, and return the `Run`.

    `deterministic` turns on `torch.use_deterministic_algorithms` (warn-only): with several CPU threads
    some kernels (e.g. the scatter-add behind an indexed embedding's backward) otherwise sum in a
    varying order, and a long training run drifts to different numbers from the same seed.
    """
    import torch

    global _CURRENT
    profile = profile_name()
    seed_everything(seed)
    threads = cpu_threads()
    torch.set_num_threads(threads)
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # cuBLAS needs it for reproducible GEMMs
    torch.use_deterministic_algorithms(deterministic, warn_only=True)
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was asked for but no CUDA GPU is available; use 'cpu'.")
    _CURRENT = Run(profile=profile, device=dev, seed=seed, threads=threads,
                   torch_version=torch.__version__, deterministic=deterministic)
    inline_figures_in_notebooks()
    if verbose:
        print(_CURRENT.describe())
    return _CURRENT


def inline_figures_in_notebooks() -> bool:
    """In a Jupyter kernel started with `MPLBACKEND=Agg` (CI exports it), switch to the inline backend.

    Under plain Agg, `plt.show()` draws nothing into the notebook, so a notebook executed from such a shell
    (e.g. `make regenerate` after `export MPLBACKEND=Agg`) would be saved without its figures. Returns True
    when it switched; elsewhere (scripts, pytest, other backends) it does nothing.
    """
    if os.environ.get("MPLBACKEND", "").strip().lower() != "agg":
        return False
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None or type(shell).__name__ != "ZMQInteractiveShell":
        return False
    shell.run_line_magic("matplotlib", "inline")
    return True


def current_run() -> Run:
    """The `Run` of the last `setup()` call; a RuntimeError if `setup()` was not called."""
    if _CURRENT is None:
        raise RuntimeError("helpers.setup() has not been called in this kernel; call it in the setup cell.")
    return _CURRENT
