"""A PNG of TensorBoard's scalars page, so that a saved notebook can show what TensorBoard shows live.

TensorBoard is started on 127.0.0.1 for the event files under a folder, headless Chromium (driven by
Playwright, as in tests/test_widget_browser.py) opens its Time Series page, and the page is saved as a PNG.
Missing pieces raise `RuntimeError` with the command that installs them, so a notebook can print one line and
go on; wrong arguments raise `ValueError`.
"""
from __future__ import annotations

import concurrent.futures
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from .paths import shown_path

INSTALL_BROWSER = ("pip install playwright, then a Chromium: `apt-get install chromium` (Debian/Ubuntu) or "
                   "`python -m playwright install chromium`; CHROMIUM=/path/to/chrome picks another")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
# a line of a scalar chart, drawn as SVG (the page is opened with forceSVG=true, so no WebGL is needed)
CHART_SELECTOR = "scalar-card .series-view path"
# TensorBoard's saved settings, set before its page loads: raw curves, no settings pane and no per-step data
# table under each chart (so the charts fill the page), a run list wide enough for names and colours, no
# reloading while the screenshot is taken
PAGE_SETTINGS = {"scalarSmoothing": 0, "timeSeriesSettingsPaneOpened": False, "stepSelectorEnabled": False,
                 "autoReload": False, "sideBarWidthInPercent": 28}


def find_chromium() -> str | None:
    """The Chromium to drive: `$CHROMIUM`, else `chromium` / `chromium-browser` on PATH, else None (Playwright's own)."""
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def stop_process(proc: subprocess.Popen, timeout_s: float = 10) -> None:
    """Terminate a server process started with Popen; kill it if it has not exited after `timeout_s`."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def event_files(logdir: str | os.PathLike) -> list[Path]:
    """The TensorBoard event files (`events.out.tfevents.*`) anywhere under `logdir`, sorted."""
    return sorted(p for p in Path(logdir).rglob("events.out.tfevents.*") if p.is_file())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _check_arguments(logdir, png_path, port, timeout_s, width, height, columns) -> tuple[Path, Path]:
    logdir, png_path = Path(logdir), Path(png_path)
    if not logdir.is_dir():
        raise ValueError(f"logdir must be an existing folder of TensorBoard logs, got {shown_path(logdir)} "
                         f"({'a file' if logdir.exists() else 'it does not exist'}); run the cells that write the logs first")
    if not event_files(logdir):
        raise ValueError(f"logdir {shown_path(logdir)} holds no TensorBoard event files (events.out.tfevents.*); "
                         f"run the cells that write the logs (SummaryWriter) first")
    if png_path.suffix.lower() != ".png":
        raise ValueError(f"png_path must end in .png, got {png_path.name!r}")
    for name, value, low in (("width", width, 200), ("height", height, 200)):
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise ValueError(f"{name} must be an int >= {low} pixels, got {value!r}")
    if not isinstance(timeout_s, (int, float)) or timeout_s <= 0:
        raise ValueError(f"timeout_s must be a positive number of seconds, got {timeout_s!r}")
    if not isinstance(columns, int) or isinstance(columns, bool) or not 1 <= columns <= 6:
        raise ValueError(f"columns must be an int from 1 to 6 (charts per row), got {columns!r}")
    if port is not None and (not isinstance(port, int) or not 1 <= port <= 65535):
        raise ValueError(f"port must be None (a free port is picked) or an int in 1..65535, got {port!r}")
    return logdir, png_path


def _wait_for_scalars(base: str, proc: subprocess.Popen, log: Path, deadline: float) -> None:
    """Until TensorBoard answers and has read at least one scalar; RuntimeError if it exits or the deadline passes."""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"TensorBoard exited with status {proc.returncode}: "
                               + log.read_text(errors="replace")[-1500:])
        try:
            with urllib.request.urlopen(f"{base}/data/plugin/scalars/tags", timeout=2) as reply:
                if json.loads(reply.read() or b"{}"):
                    return
        except (OSError, ValueError):
            pass
        time.sleep(0.5)
    raise RuntimeError("TensorBoard did not serve the scalars in time (raise timeout_s): "
                       + log.read_text(errors="replace")[-1500:])


def _capture(url: str, png_path: Path, width: int, height: int, timeout_s: float, columns: int) -> None:
    """Open `url` in headless Chromium, wait for a drawn chart, save the page to `png_path`."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    chromium = find_chromium()
    with sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        except PlaywrightError as err:
            raise RuntimeError(f"headless Chromium did not start ({str(err).splitlines()[0]}); {INSTALL_BROWSER}") from err
        try:
            context = browser.new_context(viewport={"width": width, "height": height})
            card_width = int((width * (1 - PAGE_SETTINGS["sideBarWidthInPercent"] / 100) - 40) / columns) - 24
            settings = {**PAGE_SETTINGS, "timeSeriesCardMinWidth": card_width}
            context.add_init_script(f"window.localStorage.setItem('_tb_global_settings', "
                                    f"{json.dumps(json.dumps(settings))});")
            page = context.new_page()
            page.goto(url, timeout=timeout_s * 1000)
            try:
                page.wait_for_selector(CHART_SELECTOR, timeout=timeout_s * 1000)
                page.wait_for_load_state("networkidle", timeout=timeout_s * 1000)
            except PlaywrightTimeout as err:
                raise RuntimeError(f"TensorBoard's page showed no scalar chart within {timeout_s:g} s") from err
            page.wait_for_timeout(1000)  # let the last cards finish drawing
            page.screenshot(path=str(png_path), full_page=True)
        finally:
            browser.close()


def screenshot_scalars(logdir: str | os.PathLike, png_path: str | os.PathLike, port: int | None = None,
                       timeout_s: float = 60, width: int = 1400, height: int = 900,
                       tag_filter: str | None = None, run_filter: str | None = None, columns: int = 2) -> Path:
    """TensorBoard's Time Series page (scalars, unsmoothed, `columns` charts a row) for the logs under `logdir`,
    saved as a PNG `width` pixels wide -> `png_path`. `tag_filter` / `run_filter`: regexes of the tags / runs
    to show (None: all)."""
    logdir, png_path = _check_arguments(logdir, png_path, port, timeout_s, width, height, columns)
    if importlib.util.find_spec("tensorboard") is None:
        raise RuntimeError("TensorBoard is not installed: pip install tensorboard")
    if importlib.util.find_spec("playwright") is None:
        raise RuntimeError(f"Playwright is not installed: {INSTALL_BROWSER}")
    png_path.parent.mkdir(parents=True, exist_ok=True)
    port = port or _free_port()
    base = f"http://127.0.0.1:{port}"
    params = {"forceSVG": "true", "smoothing": "0", **({"tagFilter": tag_filter} if tag_filter else {}),
              **({"runFilter": run_filter} if run_filter else {})}
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "tensorboard.log"
        with open(log, "w") as log_file:
            proc = subprocess.Popen(
                [sys.executable, "-m", "tensorboard.main", "--logdir", str(logdir.resolve()), "--host", "127.0.0.1",
                 "--port", str(port), "--load_fast", "false"],
                stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            try:
                _wait_for_scalars(base, proc, log, time.monotonic() + timeout_s)
                # Playwright's sync API refuses to run in a thread with an asyncio loop (Jupyter's): use a worker
                with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
                    pool.submit(_capture, f"{base}/?{urllib.parse.urlencode(params)}#timeseries", png_path,
                                width, height, timeout_s, columns).result()
            finally:
                stop_process(proc)
    return png_path
