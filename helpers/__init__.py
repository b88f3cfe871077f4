"""Infrastructure for the notebooks: profiles, data, training loop, plots, checks, results.

Graded work (models, attention, gradients, losses) lives in the notebooks, never here.
"""
from .profile import PROFILES, Run, current_run, fast_bf16, profile_name, seed_everything, setup

__all__ = ["PROFILES", "Run", "current_run", "fast_bf16", "profile_name", "seed_everything", "setup"]
