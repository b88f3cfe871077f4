"""Plots the notebooks share: learning curves, labelled image grids, attention heatmaps."""
from __future__ import annotations

import math
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np

from .checks import to_numpy


def plot_history(history: dict, metrics: Sequence[str] = ("loss", "accuracy"), title: str = "", axes=None):
    """One panel per metric with its train_/val_ curves against epoch; returns the axes."""
    if "epoch" not in history:
        raise ValueError("history needs an 'epoch' list (as returned by helpers.train.fit)")
    if axes is None:
        _, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.5), squeeze=False)
        axes = axes[0]
    for ax, metric in zip(axes, metrics):
        keys = [k for k in (f"train_{metric}", f"val_{metric}", metric) if k in history]
        if not keys:
            raise ValueError(f"history has no '{metric}' curve; keys: {sorted(history)}")
        for key in keys:
            ax.plot(history["epoch"], history[key], marker="o", ms=3, label=key.replace("_", " "))
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        ax.legend()
        ax.set_title(f"{title} {metric}".strip())
    return axes


def images_hwc(images) -> np.ndarray:
    """A batch (N, C, H, W), (N, H, W, C) or (N, H, W) in [0, 255] or [0, 1] -> floats in [0, 1],
    (N, H, W, 3) or (N, H, W) for one channel, ready for imshow."""
    img = to_numpy(images)
    if img.ndim == 4 and img.shape[1] in (1, 3) and img.shape[-1] not in (1, 3):
        img = img.transpose(0, 2, 3, 1)  # (N, C, H, W) -> (N, H, W, C)
    if img.ndim == 4 and img.shape[-1] == 1:
        img = img[..., 0]
    if img.max() > 1.0:
        img = img / 255.0
    return np.clip(img, 0.0, 1.0)


def _as_hwc(image) -> np.ndarray:
    """One image (C, H, W), (H, W, C) or (H, W) -> what `images_hwc` gives for a batch of one."""
    return images_hwc(to_numpy(image)[None])[0]


def show_images(images, labels=None, classes: Sequence[str] | None = None, ncols: int = 8,
                title: str = "", predictions=None):
    """A grid of images (N, C, H, W) or (N, H, W[, C]) with class names; wrong predictions in red."""
    n = len(images)
    if n == 0:
        raise ValueError("show_images needs at least one image")
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, min(ncols, n), figsize=(1.4 * min(ncols, n), 1.6 * nrows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        img = _as_hwc(images[i])
        ax.imshow(img, cmap="gray" if img.ndim == 2 else None)
        if labels is not None:
            name = classes[int(labels[i])] if classes is not None else str(int(labels[i]))
            color = "black"
            if predictions is not None:
                pred = classes[int(predictions[i])] if classes is not None else str(int(predictions[i]))
                color = "black" if int(predictions[i]) == int(labels[i]) else "red"
                name = f"{name}\n→ {pred}"
            ax.set_title(name, fontsize=8, color=color)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_matrix(matrix, row_labels: Sequence[str] | None = None, col_labels: Sequence[str] | None = None,
                title: str = "", ax=None, fmt: str = ".2f", cmap: str = "viridis", xlabel: str = "key",
                ylabel: str = "query", vmin=None, vmax=None, colorbar: bool = True):
    """A heatmap of a 2-D matrix (e.g. attention weights (N_q, N_k)) with the values written in; `vmin`/`vmax`
    fix the colour scale (pass the same to every panel that is compared); returns the axes (`ax.images[0]` is the
    image, for one shared colourbar)."""
    m = to_numpy(matrix)
    if m.ndim != 2:
        raise ValueError(f"plot_matrix needs a 2-D matrix, got shape {m.shape}")
    if ax is None:
        _, ax = plt.subplots(figsize=(0.6 * m.shape[1] + 1.5, 0.6 * m.shape[0] + 1))
    im = ax.imshow(m, cmap=cmap, vmin=vmin, vmax=vmax)
    if colorbar:
        ax.figure.colorbar(im, ax=ax, fraction=0.046)
    ax.set_xticks(range(m.shape[1]), col_labels if col_labels is not None else range(m.shape[1]))
    ax.set_yticks(range(m.shape[0]), row_labels if row_labels is not None else range(m.shape[0]))
    if m.size <= 400:
        lo, hi = (m.min() if vmin is None else vmin), (m.max() if vmax is None else vmax)
        mid = (lo + hi) / 2
        for (r, c), v in np.ndenumerate(m):
            ax.text(c, r, format(v, fmt), ha="center", va="center", fontsize=8,
                    color="black" if v > mid else "white")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return ax


def attention_over_image(image, attention, ax=None, title: str = "", alpha: float = 0.6, vmin=None, vmax=None):
    """Overlay a patch-grid attention map (h, w), or a flat (h*w,) vector, upsampled onto an image. `vmin`/`vmax`
    fix the colour scale (e.g. one scale for every panel of a figure); by default each map is scaled to its range."""
    img = _as_hwc(image)
    att = to_numpy(attention)
    if att.ndim == 1:
        side = math.isqrt(att.size)
        if side * side != att.size:
            raise ValueError(f"a flat attention vector needs a square number of patches, got {att.size}")
        att = att.reshape(side, side)
    if ax is None:
        _, ax = plt.subplots(figsize=(2.5, 2.5))
    ax.imshow(img, cmap="gray" if img.ndim == 2 else None)
    ax.imshow(att, cmap="inferno", alpha=alpha, extent=(-0.5, img.shape[1] - 0.5, img.shape[0] - 0.5, -0.5),
              interpolation="nearest", vmin=vmin, vmax=vmax)
    ax.set_title(title, fontsize=8)
    ax.axis("off")
    return ax
