"""The attention-head browser: ipywidgets controls over precomputed attention weights.

`attention_browser(attn, images=... | tokens=...)` shows a static overview figure (so a saved or
nbconvert-ed notebook still shows something) and, where a widget frontend runs (JupyterLab,
Notebook 7, Colab, VS Code), sliders for layer / head (or the mean over heads) / image / query token
and a toggle for attention rollout. One matplotlib `Figure` is built once; a control change only
updates its artists' data and re-renders it into an `ipywidgets.Image` (no new figure per move, no
ipympl needed). Nothing here computes attention: the notebooks pass in what their models produced.
"""
from __future__ import annotations

import io
import math
import sys
from typing import Sequence

import numpy as np

from .checks import to_numpy


def enable_colab_widgets() -> bool:
    """In Google Colab with ipywidgets 8, turn on the custom widget manager it needs there (Colab renders
    ipywidgets 7, which it ships, itself); elsewhere do nothing. Returns whether it was turned on."""
    if "google.colab" not in sys.modules or _ipywidgets_major() < 8:
        return False
    from google.colab import output  # type: ignore[import-not-found]

    output.enable_custom_widget_manager()
    return True


def _ipywidgets_major() -> int:
    import ipywidgets

    return int(ipywidgets.__version__.split(".")[0])


def widget_bundle(widget, text: str) -> dict:
    """The display data of an ipywidgets `widget` with `text` as its plain-text fallback, the same on ipywidgets
    7 (which has no `_repr_mimebundle_`) and 8: {"text/plain", "application/vnd.jupyter.widget-view+json"}."""
    if hasattr(widget, "_handle_displayed"):
        widget._handle_displayed()  # the widget's on_displayed callbacks, as display(widget) would run them
    view = {"version_major": 2, "version_minor": 0, "model_id": widget.model_id}  # widget-view mimetype, v2
    return {"text/plain": text, "application/vnd.jupyter.widget-view+json": view}


def attention_rollout(attn: np.ndarray, residual: float = 0.5) -> np.ndarray:
    """Rollout (Abnar & Zuidema, 2020) of attention (..., L, H, N, N): for every layer l the product
    R_l = Â_l ... Â_0 (layers counted from 0, as in the notebooks) with Â = residual·I + (1 - residual)·mean_h A, rows renormalised. Same shape minus H."""
    attn = np.asarray(attn, dtype=np.float64)
    if attn.ndim < 4 or attn.shape[-1] != attn.shape[-2]:
        raise ValueError(f"attention_rollout expects (..., layers, heads, N, N), got shape {attn.shape}")
    if not 0.0 <= residual <= 1.0:
        raise ValueError(f"residual must be in [0, 1], got {residual}")
    n = attn.shape[-1]
    mixed = residual * np.eye(n) + (1 - residual) * attn.mean(axis=-3)     # (..., L, N, N)
    mixed = mixed / mixed.sum(axis=-1, keepdims=True)
    out = np.empty_like(mixed)
    current = np.broadcast_to(np.eye(n), mixed.shape[:-3] + (n, n))
    for layer in range(mixed.shape[-3]):
        current = mixed[..., layer, :, :] @ current
        out[..., layer, :, :] = current
    return out


# How far an attention row may be from a probability distribution: bf16 autocast rounds each weight to 8 bits,
# so a row of a few hundred weights sums to 1 within a few 1e-3; scores or unnormalised maps are off by far more.
ATTN_ROW_TOL = 1e-2


def _check_rows_are_distributions(a: np.ndarray) -> None:
    """ValueError unless every row of `a` (..., N, N) is non-negative and sums to 1 within ATTN_ROW_TOL."""
    if a.min() < -ATTN_ROW_TOL * 1e-2:
        index = np.unravel_index(int(a.argmin()), a.shape)
        raise ValueError(f"attn has a negative weight {a.min():.3g} at index {tuple(int(i) for i in index)}: attention "
                         "weights are probabilities; pass softmax weights, not scores")
    sums = a.sum(axis=-1, dtype=np.float64)
    worst = np.unravel_index(int(np.abs(sums - 1).argmax()), sums.shape)
    if abs(sums[worst] - 1) > ATTN_ROW_TOL:
        raise ValueError(f"attn's rows must each sum to 1 (within {ATTN_ROW_TOL:g}); row {tuple(int(i) for i in worst)} "
                         f"(index of attn without its last dimension) sums to {sums[worst]:.4g}: pass softmax "
                         "weights, not scores")


def _validate(attn, images, tokens, grid, num_prefix_tokens):
    """Normalise inputs: attn -> (I, L, H, N, N) float32; returns (attn, images, tokens, grid, prefix, mode).
    Shapes are checked first, then that every attention row is a probability distribution."""
    checked = _validate_shapes(attn, images, tokens, grid, num_prefix_tokens)
    _check_rows_are_distributions(checked[0])
    return checked


def _validate_shapes(attn, images, tokens, grid, num_prefix_tokens):
    a = to_numpy(attn).astype(np.float32)
    if a.ndim not in (3, 4, 5):
        raise ValueError(f"attn must be (heads, N, N), (layers, heads, N, N) or (items, layers, heads, N, N); "
                         f"got {a.ndim} dimensions, shape {a.shape}")
    if a.shape[-1] != a.shape[-2]:
        raise ValueError(f"attn's last two dimensions (queries, keys) must be equal: dimension -2 is {a.shape[-2]}, "
                         f"dimension -1 is {a.shape[-1]}")
    if not np.isfinite(a).all():
        raise ValueError("attn contains NaN or infinite values")
    a = a.reshape((1,) * (5 - a.ndim) + a.shape)
    n_items, n = a.shape[0], a.shape[-1]
    if images is not None and tokens is not None:
        raise ValueError("give images (vision) or tokens (text), not both")
    if images is not None:
        imgs = to_numpy(images)
        if imgs.ndim == 3 and n_items == 1:
            imgs = imgs[None]
        if imgs.ndim != 4:
            raise ValueError(f"images must be (items, C, H, W) or (items, H, W, C); got shape {imgs.shape}")
        if len(imgs) != n_items:
            raise ValueError(f"images has {len(imgs)} items but attn dimension 0 (items) has {n_items}")
        from .plots import images_hwc  # lazily: setup() imports this module and need not load pyplot

        imgs = images_hwc(imgs)
        if num_prefix_tokens is None:
            num_prefix_tokens = 1 if math.isqrt(n - 1) ** 2 == n - 1 else 0
        if grid is None:
            side = math.isqrt(n - num_prefix_tokens)
            grid = (side, side)
        if grid[0] * grid[1] + num_prefix_tokens != n:
            raise ValueError(f"attn dimension -1 has {n} tokens but the patch grid {grid[0]}x{grid[1]} plus "
                             f"{num_prefix_tokens} prefix (CLS) token(s) gives {grid[0] * grid[1] + num_prefix_tokens}; "
                             f"pass grid=(rows, cols) and num_prefix_tokens")
        return a, imgs, None, tuple(grid), num_prefix_tokens, "vision"
    toks = tokens
    if toks is None:
        toks = [[str(i) for i in range(n)]] * n_items
    elif len(toks) and isinstance(toks[0], str):
        toks = [list(toks)] * n_items
    if len(toks) != n_items:
        raise ValueError(f"tokens has {len(toks)} lists but attn dimension 0 (items) has {n_items}")
    for i, t in enumerate(toks):
        if len(t) != n:
            raise ValueError(f"tokens[{i}] has {len(t)} tokens but attn dimension -1 (keys) has {n}")
    return a, None, [list(t) for t in toks], None, 0, "text"


class AttentionBrowser:
    """Interactive view of attention weights; build it with `attention_browser(...)`.

    Controls: `.layer`, `.head` ("mean" or a head index), `.item`, `.query`, `.rollout`.
    `.current()` is the map now drawn, `.png()` the rendered image bytes, `.widget` the ipywidgets box.
    """

    def __init__(self, attn, images=None, tokens=None, grid=None, num_prefix_tokens=None, item_labels=None,
                 title: str = "", residual: float = 0.5):
        import ipywidgets as widgets

        self.attn, self.images, self.tokens, self.grid, self.prefix, self.mode = _validate(
            attn, images, tokens, grid, num_prefix_tokens)
        n_items, n_layers, n_heads, n, _ = self.attn.shape
        if item_labels is not None and len(item_labels) != n_items:
            raise ValueError(f"item_labels has {len(item_labels)} entries, attn dimension 0 has {n_items}")
        self.item_labels = list(item_labels) if item_labels is not None else None
        self.title = title
        self.mean_attn = self.attn.mean(axis=2)                             # (I, L, N, N)
        self.rolled = attention_rollout(self.attn, residual).astype(np.float32)  # (I, L, N, N)
        style = {"description_width": "70px"}
        layout = widgets.Layout(width="420px")
        self.layer = widgets.IntSlider(value=n_layers - 1, min=0, max=n_layers - 1, description="layer",
                                       style=style, layout=layout)
        self.head = widgets.SelectionSlider(options=["mean"] + [str(h) for h in range(n_heads)], value="mean",
                                            description="head", style=style, layout=layout)
        self.item = widgets.IntSlider(value=0, min=0, max=n_items - 1, description="image" if self.mode == "vision"
                                      else "sentence", style=style, layout=layout)
        self.query = widgets.IntSlider(value=0 if self.mode == "vision" else n - 1, min=0, max=n - 1,
                                       description="query", style=style, layout=layout)  # CLS / last token
        hint = "product of head-averaged attention (+ residual) over layers 0..layer"
        self.rollout = widgets.Checkbox(value=False, description="attention rollout", indent=False,
                                        **{"tooltip" if _ipywidgets_major() >= 8 else "description_tooltip": hint})
        self.image = widgets.Image(format="png")
        self.item.layout.display = None if n_items > 1 else "none"
        self._build_figure()
        for control in (self.layer, self.head, self.item, self.query, self.rollout):
            control.observe(self._on_change, names="value")
        self.widget = widgets.VBox([widgets.HBox([widgets.VBox([self.layer, self.head, self.query]),
                                                  widgets.VBox([self.item, self.rollout])]), self.image])
        self.renders = 0
        self.update()

    # ------------------------------------------------------------------ data
    def current(self) -> np.ndarray:
        """The (N, N) matrix for the current controls: one head, the head mean, or the rollout."""
        i, layer = self.item.value, self.layer.value
        if self.rollout.value:
            return self.rolled[i, layer]
        if self.head.value == "mean":
            return self.mean_attn[i, layer]
        return self.attn[i, layer, int(self.head.value)]

    def _query_name(self, item: int, q: int) -> str:
        if self.mode == "vision":
            return "CLS" if q < self.prefix else f"patch {q - self.prefix}"
        return repr(self.tokens[item][q])

    def _label(self) -> str:
        qname = self._query_name(self.item.value, self.query.value)
        what = "rollout" if self.rollout.value else ("mean over heads" if self.head.value == "mean"
                                                     else f"head {self.head.value}")
        item = (self.item_labels[self.item.value] if self.item_labels else f"#{self.item.value}")
        return f"{self.title + ' · ' if self.title else ''}{item} · layer {self.layer.value} · {what} · query {qname}"

    # ------------------------------------------------------------------ drawing
    def _build_figure(self):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.patches import Rectangle

        n = self.attn.shape[-1]
        if self.mode == "vision":
            self.fig = Figure(figsize=(4.2, 4.4), dpi=90)
            ax = self.fig.add_subplot()
            first = self.images[0]
            self.base = ax.imshow(first, cmap="gray" if first.ndim == 2 else None, extent=(0, 1, 1, 0))
            self.heat = ax.imshow(np.zeros(self.grid), cmap="inferno", alpha=0.6, extent=(0, 1, 1, 0),
                                  interpolation="nearest")
            self.box = Rectangle((0, 0), 1 / self.grid[1], 1 / self.grid[0], fill=False, ec="cyan", lw=2)
            ax.add_patch(self.box)
            ax.set_xticks([])
            ax.set_yticks([])
            self.axes = [ax]
        else:
            self.fig = Figure(figsize=(max(6.0, 0.32 * n + 2), 3.2 + 0.2 * n), dpi=90)
            ax_row, ax_mat = self.fig.subplots(2, 1, height_ratios=[1, 2])
            self.bars = ax_row.bar(range(n), np.zeros(n), color="tab:blue")
            ax_row.set_ylim(0, 1)
            ax_row.set_ylabel("weight")
            ax_row.set_xticks(range(n))
            self.matrix = ax_mat.imshow(np.zeros((n, n)), cmap="viridis", vmin=0, vmax=1)
            self.box = Rectangle((-0.5, -0.5), n, 1, fill=False, ec="red", lw=1.5)
            ax_mat.add_patch(self.box)
            ax_mat.set_xlabel("key")
            ax_mat.set_ylabel("query")
            self.axes = [ax_row, ax_mat]
        self.canvas = FigureCanvasAgg(self.fig)
        width_px = int(self.fig.get_figwidth() * self.fig.dpi)
        self.image.layout.width = f"{width_px}px"  # natural size: frontends would otherwise stretch it

    def update(self) -> None:
        """Redraw the figure's artists for the current controls and refresh the image widget."""
        a, q, i = self.current(), self.query.value, self.item.value
        row = a[q]
        if self.mode == "vision":
            self.base.set_data(self.images[i])
            patch = row[self.prefix:].reshape(self.grid)
            self.heat.set_data(patch)
            self.heat.set_clim(patch.min(), max(patch.max(), patch.min() + 1e-12))
            if q < self.prefix:
                self.box.set_visible(False)
            else:
                r, c = divmod(q - self.prefix, self.grid[1])
                self.box.set_xy((c / self.grid[1], r / self.grid[0]))
                self.box.set_visible(True)
        else:
            tokens = self.tokens[i]
            top = max(float(row.max()), 1e-12)
            for bar, h in zip(self.bars, row):
                bar.set_height(h)
            self.axes[0].set_ylim(0, top * 1.1)
            self.axes[0].set_xticks(range(len(tokens)), tokens, rotation=60, fontsize=8)
            self.matrix.set_data(a)
            self.matrix.set_clim(0, max(float(a.max()), 1e-12))
            self.axes[1].set_xticks(range(len(tokens)), tokens, rotation=60, fontsize=8)
            self.axes[1].set_yticks(range(len(tokens)), tokens, fontsize=8)
            self.box.set_xy((-0.5, q - 0.5))
        self.axes[0].set_title(self._label(), fontsize=8)
        self.head.disabled = self.rollout.value
        self.fig.tight_layout()
        self.image.value = self.png()
        self.renders += 1

    def png(self) -> bytes:
        """The figure as PNG bytes (what the image widget shows)."""
        buf = io.BytesIO()
        self.canvas.print_png(buf)
        return buf.getvalue()

    def _on_change(self, change) -> None:
        self.update()

    # ------------------------------------------------------------------ static overview
    def overview(self, item: int = 0, query: int | None = None, rollout: bool | None = None):
        """A matplotlib figure for frontends without widgets: every layer (rows) × every head + mean (+ rollout)
        (columns) for one item and query (default: CLS / the first token for vision, the last token for text).
        `rollout` (default: only with more than one layer) adds the rollout column, which counts a residual
        connection as ½·identity; a single bare attention layer has none, so there it would mislead."""
        import matplotlib.pyplot as plt

        n_items, n_layers, n_heads, n, _ = self.attn.shape
        if not 0 <= item < n_items:
            raise ValueError(f"item must be in [0, {n_items}), got {item}")
        q = (0 if self.mode == "vision" else n - 1) if query is None else query
        rollout = n_layers > 1 if rollout is None else rollout
        cols = n_heads + 1 + int(rollout)
        fig, axes = plt.subplots(n_layers, cols, figsize=(1.5 * cols, 1.5 * n_layers + 0.6), squeeze=False)
        for layer in range(n_layers):
            maps = [self.attn[item, layer, h] for h in range(n_heads)] + [self.mean_attn[item, layer]]
            maps += [self.rolled[item, layer]] if rollout else []
            for col, (ax, a) in enumerate(zip(axes[layer], maps)):
                row = a[q]
                if self.mode == "vision":
                    img = self.images[item]
                    ax.imshow(img, cmap="gray" if img.ndim == 2 else None, extent=(0, 1, 1, 0))
                    ax.imshow(row[self.prefix:].reshape(self.grid), cmap="inferno", alpha=0.6, extent=(0, 1, 1, 0))
                    ax.set_xticks([])
                else:
                    ax.bar(range(n), row, color="tab:blue")
                    ax.set_ylim(0, 1)  # one scale for every panel: a weight is a share of the query's attention
                    if n <= 16:
                        ax.set_xticks(range(n), self.tokens[item], rotation=90, fontsize=7)
                    else:
                        ax.set_xticks([])
                if self.mode == "vision" or col > 0:
                    ax.set_yticks([])
                else:
                    ax.set_yticks([0, 0.5, 1], ["0", "0.5", "1"], fontsize=7)
                if layer == 0:
                    ax.set_title(f"head {col}" if col < n_heads else ("mean" if col == n_heads else "rollout"),
                                 fontsize=8)
                if col == 0:
                    ax.set_ylabel(f"layer {layer}", fontsize=8)
        fig.suptitle(f"{self.title + ' · ' if self.title else ''}attention weights of query {self._query_name(item, q)}"
                     + (f" (item {item})" if n_items > 1 else ""), fontsize=9)
        fig.tight_layout()
        return fig

    def _repr_mimebundle_(self, **kwargs):
        """The widget view, with a short text fallback for frontends that cannot show widgets."""
        enable_colab_widgets()
        shape = "x".join(str(d) for d in self.attn.shape)
        return widget_bundle(self.widget, f"Attention browser over {shape} weights (items x layers x heads x N x N); "
                                          f"the figure above shows every head")


def attention_browser(attn, images=None, tokens=None, grid=None, num_prefix_tokens=None, item_labels=None,
                      title: str = "", static: bool = True) -> AttentionBrowser:
    """Show a static overview figure and return the interactive browser (display it as the cell's value).

    attn: (heads, N, N), (layers, heads, N, N) or (items, layers, heads, N, N) attention weights.
    images: (items, C, H, W) or (items, H, W, C) for vision (N = grid rows × cols + CLS prefix);
    tokens: N strings (or one list per item) for text. A shape mismatch is a ValueError naming the dimension.
    """
    browser = AttentionBrowser(attn, images=images, tokens=tokens, grid=grid, num_prefix_tokens=num_prefix_tokens,
                               item_labels=item_labels, title=title)
    if static:
        import matplotlib.pyplot as plt
        from IPython.display import Image, display

        fig = browser.overview()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
        plt.close(fig)
        display(Image(data=buf.getvalue(), format="png"))  # a PNG whatever the matplotlib backend (Agg in CI)
    return browser
