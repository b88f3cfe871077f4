"""helpers.tensorboard.screenshot_scalars: a PNG of TensorBoard's scalars page, as hw4_rnn shows it.

The screenshot test runs TensorBoard and headless Chromium on loopback and is skipped, with the reason,
when TensorBoard, Playwright or Chromium is missing; the argument checks run everywhere.
"""
from __future__ import annotations

import importlib.util

import pytest

from helpers.tensorboard import find_chromium, screenshot_scalars


def write_log(logdir, runs=("sgd", "adam"), steps=6):
    """A tiny TensorBoard log as hw4_rnn writes it: one folder per run, `loss/train`, `accuracy/val` per epoch,
    and the hparams summary that `add_hparams` puts in a sub-folder of each run."""
    from torch.utils.tensorboard import SummaryWriter

    for k, run in enumerate(runs):
        with SummaryWriter(logdir / run) as writer:
            for step in range(1, steps + 1):
                writer.add_scalar("loss/train", 1.4 / (step + k), step)
                writer.add_scalar("accuracy/val", 0.25 + 0.1 * step - 0.05 * k, step)
            writer.add_hparams({"lr": 0.1 * (k + 1)}, {"hparam/best_val_accuracy": 0.8})
    return logdir


@pytest.mark.browser
def test_screenshot_of_the_scalars_page(tmp_path):
    for module in ("tensorboard", "playwright"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed (pip install {module})")
    if find_chromium() is None:
        pytest.skip("no Chromium on PATH (Debian: apt-get install chromium); set CHROMIUM=/path/to/chrome")
    from PIL import Image

    logdir = write_log(tmp_path / "runs")
    png = screenshot_scalars(logdir, tmp_path / "shots" / "scalars.png", width=1000, height=700, timeout_s=90,
                             tag_filter="^(accuracy|loss)/", run_filter="^[^/]+$")
    assert png == tmp_path / "shots" / "scalars.png" and png.is_file()
    with Image.open(png) as image:
        assert image.format == "PNG"
        assert image.width == 1000 and image.height >= 700
        colors = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colors is not None and len(colors) > 50, f"the screenshot looks blank: {len(colors or [])} colours"


def test_missing_logdir_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="logdir must be an existing folder"):
        screenshot_scalars(tmp_path / "nowhere", tmp_path / "shot.png")
    (tmp_path / "file.txt").write_text("not a folder")
    with pytest.raises(ValueError, match="a file"):
        screenshot_scalars(tmp_path / "file.txt", tmp_path / "shot.png")


def test_logdir_without_event_files_is_a_value_error(tmp_path):
    (tmp_path / "runs" / "empty_run").mkdir(parents=True)
    with pytest.raises(ValueError, match="no TensorBoard event files"):
        screenshot_scalars(tmp_path / "runs", tmp_path / "shot.png")


@pytest.mark.parametrize("kwargs,match", [
    ({"png_path": "shot.jpg"}, "png_path must end in .png"),
    ({"width": 50}, "width must be an int"),
    ({"timeout_s": 0}, "timeout_s must be a positive"),
    ({"port": 70000}, "port must be None"),
    ({"columns": 0}, "columns must be an int"),
])
def test_bad_arguments_are_value_errors(tmp_path, kwargs, match):
    pytest.importorskip("torch.utils.tensorboard", reason="needs torch and tensorboard to write a log")
    logdir = write_log(tmp_path / "runs", runs=("one",), steps=2)
    kwargs = {"png_path": tmp_path / "shot.png", **kwargs}
    with pytest.raises(ValueError, match=match):
        screenshot_scalars(logdir, **kwargs)
