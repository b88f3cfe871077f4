"""The attention browser in a real browser: JupyterLab on loopback, headless Chromium driven by Playwright.

Runs a two-cell notebook that builds the browser, moves the layer slider with the keyboard and asserts
that the rendered image changed (screenshot diff). Skipped, with the reason, when Chromium or Playwright
is missing (`.ci/run` installs both); `CHROMIUM` overrides the browser path.
"""
from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from helpers.tensorboard import CHROMIUM_ARGS, find_chromium, stop_process

CHROMIUM = find_chromium()
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on PATH (Debian: apt-get install chromium); "
                                                "set CHROMIUM=/path/to/chrome to use another"),
]
ROOT = Path(__file__).resolve().parents[1]
CELLS = [
    "import numpy as np\n"
    "from helpers.widgets import attention_browser\n"
    "rng = np.random.default_rng(0)\n"
    "scores = rng.normal(size=(2, 2, 4, 17, 17)) * 3  # 2 images, 2 layers, 4 heads, CLS + 4x4 patches\n"
    "attn = np.exp(scores) / np.exp(scores).sum(-1, keepdims=True)\n"
    "images = rng.integers(0, 256, size=(2, 3, 32, 32), dtype=np.uint8)",
    "browser = attention_browser(attn, images=images, title='browser test')\nbrowser",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    """JupyterLab serving tmp_path on 127.0.0.1 with a random token; yields (base_url, token)."""
    nb = {"cells": [{"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {}, "outputs": [],
                     "source": src} for i, src in enumerate(CELLS)],
          "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}},
          "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "browser.ipynb").write_text(json.dumps(nb))
    settings = tmp_path / ".settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')  # no news pop-up
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "JUPYTER_CONFIG_DIR": str(tmp_path / ".jupyter"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / ".runtime")}
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp_path}",
           "--LabApp.news_url=", "--LabServerApp.workspaces_dir=" + str(tmp_path / ".ws"),
           "--LabServerApp.user_settings_dir=" + str(tmp_path / ".settings")]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(tmp_path / "lab.log", "w")
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail("jupyter lab exited: " + (tmp_path / "lab.log").read_text()[-2000:])
                time.sleep(0.5)
        else:
            pytest.fail("jupyter lab did not answer within 60 s: " + (tmp_path / "lab.log").read_text()[-2000:])
        yield base, token
    finally:
        stop_process(proc)
        log.close()


def test_slider_changes_the_rendered_attention_map(lab, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    base, token = lab
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            page.goto(f"{base}/lab/tree/browser.ipynb?token={token}", timeout=60_000)
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
            page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=60_000)  # kernel connected
            page.locator(".jp-Cell").first.click()
            page.get_by_role("menuitem", name="Run", exact=True).click()
            page.get_by_text("Run All Cells", exact=True).click()
            image = page.locator(".jp-OutputArea img.widget-image").first
            try:
                image.wait_for(state="visible", timeout=30_000)
            except sync_api.TimeoutError:
                page.screenshot(path=str(tmp_path / "page.png"), full_page=True)
                pytest.fail(f"the browser's image never appeared; page screenshot: {tmp_path / 'page.png'}")
            page.wait_for_timeout(500)
            before = image.screenshot(path=str(tmp_path / "before.png"))
            layer_readout = page.locator(".widget-slider").first.locator(".widget-readout")
            assert layer_readout.inner_text().strip() == "1"  # the last layer is shown first
            handle = page.locator(".widget-slider").first.locator(".noUi-handle")
            handle.focus()
            page.keyboard.press("ArrowLeft")  # layer 1 -> 0
            deadline, after = time.time() + 20, before
            while after == before and time.time() < deadline:
                page.wait_for_timeout(250)
                after = image.screenshot(path=str(tmp_path / "after.png"))
            assert layer_readout.inner_text().strip() == "0"
            assert after != before, "moving the layer slider did not change the rendered attention map"
            static = page.locator(".jp-OutputArea img:not(.widget-image)")
            assert static.count() >= 1, "the static overview figure is missing"
            page.screenshot(path=str(tmp_path / "page.png"), full_page=True)  # for a person to look at
        finally:
            browser.close()
