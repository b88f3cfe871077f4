"""helpers.progress.tqdm: a notebook executed and saved shows each bar finished (or gone with leave=False),
never the widget's first state "0%| | 0/N"."""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).parent))
from test_notebook_outputs import WIDGET, frozen_bar_findings  # noqa: E402

SOURCE = f"""\
import sys; sys.path.insert(0, {str(ROOT)!r})
from helpers.progress import tqdm, trange
for _ in tqdm(range(4), desc="epochs"): pass
for _ in tqdm(range(4), desc="inner", leave=False): pass
with tqdm(total=3, desc="manual") as bar: bar.update(3)
for _ in trange(2, desc="quiet", disable=True): pass
print("done")"""


def test_saved_notebook_shows_finished_bars():
    pytest.importorskip("ipywidgets")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(SOURCE)])
    NotebookClient(nb, timeout=120, kernel_name="python3", store_widget_state=True).execute()
    outputs = nb.cells[0].outputs
    plain = ["".join(o.get("data", {}).get("text/plain", "")) for o in outputs if o.output_type == "display_data"]
    assert [p.split("|")[0] for p in plain] == ["epochs: 100%", "", "manual: 100%"]
    assert "4/4" in plain[0] and "3/3" in plain[2]
    assert not any(WIDGET in o.get("data", {}) for o in outputs)
    assert not frozen_bar_findings(nb.cells)
    assert outputs[-1].text == "done\n"


def test_terminal_bar_is_tqdm_text_bar(capsys):
    from helpers.progress import tqdm
    for _ in tqdm(range(3), desc="terminal"):
        pass
    assert "terminal: 100%" in capsys.readouterr().err
