"""hw5_sentiment's official-data path, on a small synthetic archive in the official CSV format.

The notebook's cells tagged `benchmark-export` are executed up to its split (setup, data, cleaning, deduplication,
60/20/20 split) with PROFILE=full and `text.fetch` replaced, so the path a student with the official
trainingandtestdata.zip runs is exercised without the 81 MB archive or a GPU.
"""
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from conftest import sentiment140_row as _row

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "hw5_sentiment.ipynb"


def _synthetic_csvs(n: int = 2_000) -> tuple[bytes, bytes]:
    rng = np.random.default_rng(0)
    words = ["good", "bad", "day", "sun", "rain", "work", "fun", "sad", "love", "hate", "tea", "bus"]
    rows = []
    for i in range(n):
        polarity = 0 if i < n // 2 else 4                                   # sorted by label, as the real file is
        rows.append(_row(polarity, " ".join(rng.choice(words, 6)) + f" {i}"))
    # equal after cleaning (mentions -> xxuser, case), one label: one copy must survive, in one split only
    rows += [_row(4, "@alice get 100 followers a day"), _row(4, "@bob GET 100 followers a day")]
    # equal after cleaning under both labels: every copy must go
    rows += [_row(0, "@carol same words"), _row(4, "@dave same words")]
    return b"".join(rows), _row(4, "good") + _row(2, "neutral") + _row(0, "bad")


@pytest.mark.skipif(not NOTEBOOK.exists(), reason="no hw5_sentiment.ipynb")
def test_official_archive_is_deduplicated_on_cleaned_text_and_split_60_20_20(fake_sentiment140, monkeypatch):
    fake_sentiment140(*_synthetic_csvs())
    monkeypatch.setenv("PROFILE", "full")
    monkeypatch.syspath_prepend(str(ROOT))
    from benchmarks.notebook_export import exported_sources

    ns = types.ModuleType("hw5_sentiment_split")
    monkeypatch.setitem(sys.modules, ns.__name__, ns)
    for source in exported_sources(NOTEBOOK):    # up to the split: setup, data, cleaning, deduplication, split
        exec(compile(source, "hw5_sentiment[exported]", "exec"), ns.__dict__)
        if "SPLIT_ID" in ns.__dict__:
            break
    g = ns.__dict__
    assert g["OFFICIAL"] and g["run"].full
    # before any share is drawn: every cleaned text once, the spam pair as one, the both-label pair gone
    assert len(g["labels_of"]) == 2_000 + 2 and g["both_labels"] == 1
    assert g["labels_of"]["xxuser same words"] == {0, 1}
    n_distinct = 2_000 + 1                       # the two spam rows are one cleaned text; the both-label pair is gone
    share = g["CPU_SHARE"] if g["run"].device.type == "cpu" else 1.0
    parts = [g["train_idx"], g["val_idx"], g["test_idx"]]
    used = np.concatenate(parts)
    assert abs(len(used) - share * n_distinct) <= 2
    assert [len(p) for p in parts] == pytest.approx([0.6 * len(used), 0.2 * len(used), 0.2 * len(used)], abs=2)
    keys = [{g["key"][i] for i in p} for p in parts]
    assert not (keys[0] & keys[1] or keys[0] & keys[2] or keys[1] & keys[2]), "a cleaned text in two splits"
    assert "xxuser same words" not in {g["key"][i] for i in used}
    labels = g["labels"]
    assert abs(labels[g["train_idx"]].mean() - 0.5) < 0.02          # stratified
