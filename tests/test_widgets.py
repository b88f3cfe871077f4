"""helpers.widgets: validation, every control driven programmatically, rollout, static overview."""
from __future__ import annotations

import numpy as np
import pytest

from helpers import widgets


def softmax_rows(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


@pytest.fixture
def vision():
    rng = np.random.default_rng(0)
    attn = softmax_rows(rng.normal(size=(3, 2, 4, 17, 17)) * 3)  # 3 images, 2 layers, 4 heads, CLS + 4x4 patches
    images = rng.integers(0, 256, size=(3, 3, 32, 32), dtype=np.uint8)
    return attn, images


def test_vision_controls_change_what_is_drawn(vision):
    attn, images = vision
    b = widgets.attention_browser(attn, images=images, static=False)
    assert b.mode == "vision" and b.grid == (4, 4) and b.prefix == 1
    assert b.layer.value == 1 and b.head.value == "mean" and b.query.value == 0
    np.testing.assert_allclose(b.current(), attn[0, 1].mean(0), rtol=1e-6)
    np.testing.assert_allclose(b.heat.get_array(), attn[0, 1].mean(0)[0, 1:].reshape(4, 4), rtol=1e-6)
    assert not b.box.get_visible()  # the CLS query has no patch to outline
    before, renders = b.png(), b.renders

    b.head.value = "2"
    np.testing.assert_allclose(b.current(), attn[0, 1, 2])
    b.layer.value = 0
    np.testing.assert_allclose(b.current(), attn[0, 0, 2])
    b.item.value = 2
    np.testing.assert_allclose(b.current(), attn[2, 0, 2])
    np.testing.assert_allclose(b.base.get_array(), images[2].transpose(1, 2, 0) / 255.0)
    b.query.value = 1 + 6  # patch 6 = row 1, column 2 of the 4x4 grid
    np.testing.assert_allclose(b.heat.get_array(), attn[2, 0, 2][7, 1:].reshape(4, 4), rtol=1e-6)
    assert b.box.get_visible() and b.box.get_xy() == (2 / 4, 1 / 4)
    b.rollout.value = True
    np.testing.assert_allclose(b.current(), widgets.attention_rollout(attn)[2, 0], rtol=1e-5)
    assert b.head.disabled
    assert b.renders == renders + 5 and b.image.value == b.png() != before
    assert "layer 0" in b.axes[0].get_title() and "rollout" in b.axes[0].get_title()


def test_figure_is_built_once_and_only_artist_data_changes(vision):
    attn, images = vision
    b = widgets.attention_browser(attn, images=images, static=False)
    fig, heat, n_images = b.fig, b.heat, len(b.axes[0].images)
    for h in ["0", "1", "mean"]:
        b.head.value = h
    b.query.value = 5
    assert b.fig is fig and b.heat is heat and len(b.axes[0].images) == n_images


def test_text_mode_draws_the_query_row_and_the_matrix():
    rng = np.random.default_rng(1)
    tokens = ["the", "cat", "sat", "on", "a", "mat"]
    attn = softmax_rows(rng.normal(size=(3, 2, 6, 6)))  # (layers, heads, N, N)
    b = widgets.attention_browser(attn, tokens=tokens, static=False)
    assert b.mode == "text" and b.item.layout.display == "none" and b.query.value == 5  # last token first
    b.head.value, b.query.value = "1", 4
    np.testing.assert_allclose([bar.get_height() for bar in b.bars], attn[2, 1, 4], rtol=1e-6)
    np.testing.assert_allclose(b.matrix.get_array(), attn[2, 1], rtol=1e-6)
    assert b.box.get_xy() == (-0.5, 3.5)
    assert [t.get_text() for t in b.axes[1].get_xticklabels()] == tokens
    assert "'a'" in b.axes[0].get_title()


def test_heads_only_input_and_per_item_tokens():
    attn = softmax_rows(np.random.default_rng(2).normal(size=(2, 1, 2, 3, 3)))
    b = widgets.attention_browser(attn, tokens=[["a", "b", "c"], ["x", "y", "z"]], static=False)
    b.item.value = 1
    assert [t.get_text() for t in b.axes[1].get_xticklabels()] == ["x", "y", "z"]
    single = widgets.attention_browser(attn[0, 0], static=False)  # (heads, N, N), tokens default to indices
    assert single.attn.shape == (1, 1, 2, 3, 3) and single.tokens[0] == ["0", "1", "2"]


def test_rollout_is_a_product_of_residual_mixed_means():
    attn = softmax_rows(np.random.default_rng(3).normal(size=(3, 2, 5, 5)))
    rolled = widgets.attention_rollout(attn)
    mixed = [0.5 * np.eye(5) + 0.5 * attn[layer].mean(0) for layer in range(3)]
    np.testing.assert_allclose(rolled[0], mixed[0])
    np.testing.assert_allclose(rolled[2], mixed[2] @ mixed[1] @ mixed[0])
    np.testing.assert_allclose(rolled.sum(-1), 1.0)
    with pytest.raises(ValueError, match="residual"):
        widgets.attention_rollout(attn, residual=2)


@pytest.mark.parametrize("kwargs, message", [
    (dict(attn=np.ones((2, 5, 5)).reshape(2, 5, 5)[..., :4]), "dimension -2 is 5, dimension -1 is 4"),
    (dict(attn=np.ones((5, 5))), "got 2 dimensions"),
    (dict(attn=np.ones((2, 3, 3)), tokens=["a", "b"]), r"tokens\[0\] has 2 tokens but attn dimension -1 \(keys\) has 3"),
    (dict(attn=np.ones((2, 1, 2, 3, 3)), tokens=[["a", "b", "c"]]), r"tokens has 1 lists but attn dimension 0"),
    (dict(attn=np.ones((1, 1, 17, 17)), images=np.zeros((2, 3, 8, 8))), r"images has 2 items but attn dimension 0"),
    (dict(attn=np.ones((1, 1, 18, 18)), images=np.zeros((1, 3, 8, 8))), r"18 tokens but the patch grid 4x4 plus 0 prefix"),
    (dict(attn=np.full((1, 3, 3), np.nan)), "NaN"),
    (dict(attn=np.ones((1, 3, 3)), tokens=["a", "b", "c"], images=np.zeros((1, 3, 8, 8))), "not both"),
])
def test_bad_shapes_are_value_errors_naming_the_dimension(kwargs, message):
    with pytest.raises(ValueError, match=message):
        widgets.attention_browser(static=False, **kwargs)


@pytest.mark.parametrize("make, message", [
    (lambda rng: rng.random((1, 2, 3, 5, 5)), r"rows must each sum to 1 \(within 0.01\); row \(0, \d, \d, \d\) .* sums to "
                                              r"\d\.\d+: pass softmax weights, not scores"),
    (lambda rng: rng.normal(size=(2, 4, 5, 5)), "negative weight .* pass softmax weights, not scores"),
    (lambda rng: softmax_rows(rng.normal(size=(2, 4, 5, 5))) * 1.02, "sums to 1.02"),
])
def test_attention_that_is_not_softmax_weights_is_refused(make, message):
    attn = make(np.random.default_rng(0))
    with pytest.raises(ValueError, match=message):
        widgets.attention_browser(attn, tokens=list("abcde"), static=False)


def test_bf16_rounded_weights_are_accepted():
    import torch
    attn = softmax_rows(np.random.default_rng(1).normal(size=(2, 4, 65, 65)) * 3)
    rounded = torch.tensor(attn).to(torch.bfloat16).float().numpy()   # what bf16 autocast hands back
    widgets.attention_browser(rounded, tokens=[str(i) for i in range(65)], static=False)


def test_explicit_grid_without_cls(vision):
    attn = softmax_rows(np.random.default_rng(4).normal(size=(1, 2, 8, 8)))  # 2x4 patches, no CLS
    b = widgets.attention_browser(attn, images=np.zeros((1, 16, 32)), grid=(2, 4), num_prefix_tokens=0,
                                  static=False)
    b.query.value = 5
    assert b.box.get_xy() == (1 / 4, 1 / 2) and b.heat.get_array().shape == (2, 4)


def test_static_overview_is_displayed(vision, monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    attn, images = vision
    b = widgets.attention_browser(attn, images=images, title="toy")
    assert len(shown) == 1 and shown[0].data[:8] == b"\x89PNG\r\n\x1a\n"  # an image, not a Figure repr
    fig = b.overview()
    assert len(fig.axes) == 2 * (4 + 2)  # layers x (heads + mean + rollout)
    assert "toy" in fig._suptitle.get_text() and "widget" not in fig._suptitle.get_text()
    assert len(b.overview(rollout=False).axes) == 2 * (4 + 1)


def test_one_bare_layer_has_no_rollout_column_and_one_weight_scale():
    attn = softmax_rows(np.random.default_rng(2).normal(size=(3, 5, 5)))  # (heads, N, N): one layer
    b = widgets.attention_browser(attn, tokens=list("abcde"), static=False)
    fig = b.overview()
    assert [ax.get_title() for ax in fig.axes] == ["head 0", "head 1", "head 2", "mean"]
    assert all(ax.get_ylim() == (0.0, 1.0) for ax in fig.axes)
    with pytest.raises(ValueError, match="item must be"):
        b.overview(item=3)


def test_enable_colab_widgets_is_a_no_op_outside_colab():
    assert widgets.enable_colab_widgets() is False


@pytest.fixture
def colab(monkeypatch):
    """A stub `google.colab` (as Colab's kernel has it imported) recording enable_custom_widget_manager calls."""
    import sys
    import types

    calls = []
    google, colab, output = (types.ModuleType(n) for n in ("google", "google.colab", "google.colab.output"))
    output.enable_custom_widget_manager = lambda: calls.append("enable_custom_widget_manager")
    colab.output, google.colab = output, colab
    for name, module in (("google", google), ("google.colab", colab), ("google.colab.output", output)):
        monkeypatch.setitem(sys.modules, name, module)
    return calls


@pytest.mark.parametrize("version,enabled", [("7.7.1", False), ("8.1.5", True)])
def test_colab_widget_manager_is_enabled_only_for_ipywidgets_8_when_shown(colab, monkeypatch, version, enabled):
    import ipywidgets

    b = widgets.attention_browser(np.full((2, 3, 3), 1 / 3), static=False)
    assert colab == []                                   # building the browser enables nothing
    monkeypatch.setattr(ipywidgets, "__version__", version)
    b._repr_mimebundle_()
    assert colab == (["enable_custom_widget_manager"] if enabled else [])


def test_text_fallback_is_short_and_says_what_it_is():
    b = widgets.attention_browser(np.full((2, 3, 3), 1 / 3), static=False)
    bundle = b._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"].startswith("Attention browser over 1x1x2x3x3 weights") and "VBox" not in bundle["text/plain"]
    assert bundle["application/vnd.jupyter.widget-view+json"] == {"version_major": 2, "version_minor": 0,
                                                                  "model_id": b.widget.model_id}


def test_displaying_the_browser_shows_the_widget_view(monkeypatch):
    """What IPython's display() does with the browser, on ipywidgets 7 (no _repr_mimebundle_ on widgets) and 8."""
    from IPython.core.formatters import DisplayFormatter

    b = widgets.attention_browser(np.full((2, 3, 3), 1 / 3), static=False)
    data, _ = DisplayFormatter().format(b)
    assert data["application/vnd.jupyter.widget-view+json"]["model_id"] == b.widget.model_id
    assert data["text/plain"].startswith("Attention browser")
