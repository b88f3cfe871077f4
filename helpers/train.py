"""A small reusable fit loop for notebooks whose training loop is not itself graded.

The model, loss and optimizer come from the notebook; `fit` only runs epochs, evaluates, shows
progress and records a history dict. `TensorLoader` batches tensors that are already in memory
(or on the GPU), which is far faster than a per-example `DataLoader` for small images.
"""
from __future__ import annotations

import math
import time
from typing import Callable, Iterable

import torch

from .profile import PRECISIONS, autocast


class TensorLoader:
    """Mini-batches `(x[i], y[i], ...)` of equal-length tensors; reshuffled every epoch when `shuffle`.

    A `transform(x_batch) -> x_batch` (e.g. GPU augmentation) is applied to the first tensor only.
    """

    def __init__(self, *tensors: torch.Tensor, batch_size: int, shuffle: bool = False, drop_last: bool = False,
                 transform: Callable | None = None, seed: int = 0):
        if not tensors:
            raise ValueError("TensorLoader needs at least one tensor")
        n = len(tensors[0])
        if any(len(t) != n for t in tensors):
            raise ValueError(f"all tensors need the same length, got {[len(t) for t in tensors]}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.tensors, self.batch_size, self.shuffle, self.drop_last = tensors, batch_size, shuffle, drop_last
        self.transform = transform
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        n = len(self.tensors[0])
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self):
        n = len(self.tensors[0])
        order = torch.randperm(n, generator=self.generator) if self.shuffle else torch.arange(n)
        order = order.to(self.tensors[0].device)
        for b in range(len(self)):
            idx = order[b * self.batch_size:(b + 1) * self.batch_size]
            batch = [t[idx] for t in self.tensors]
            if self.transform is not None:
                batch[0] = self.transform(batch[0])
            yield tuple(batch)


def accuracy(logits: torch.Tensor, targets: torch.Tensor) -> float:
    """Fraction of rows whose argmax equals the target: logits (B, C), targets (B,)."""
    return (logits.argmax(dim=-1) == targets).float().mean().item()


def _to(batch, device):
    return [t.to(device, non_blocking=True) if torch.is_tensor(t) else t for t in batch]


def _precision(precision: str | None, bf16: bool) -> str:
    """`precision` if given, else "bf16" / "fp32" from the older `bf16` flag."""
    if precision is None:
        return "bf16" if bf16 else "fp32"
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)} (e.g. run.precision), got {precision!r}")
    return precision


@torch.no_grad()
def evaluate(model: torch.nn.Module, loader: Iterable, loss_fn: Callable, device="cpu",
             bf16: bool = False, precision: str | None = None) -> dict:
    """Mean loss and accuracy of `model` over `loader` of (x, y) batches: {"loss", "accuracy"}.
    `precision` ("bf16", "fp16", "fp32"; pass `run.precision`) picks the autocast; `bf16=True` means "bf16"."""
    device = torch.device(device)
    precision = _precision(precision, bf16)
    was_training = model.training
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    for x, y in (_to(b, device) for b in loader):
        with autocast(device, precision):
            logits = model(x)
        total_loss += loss_fn(logits.float(), y).item() * len(y)
        correct += (logits.argmax(dim=-1) == y).sum().item()
        count += len(y)
    model.train(was_training)
    if count == 0:
        raise ValueError("evaluate() got an empty loader")
    return {"loss": total_loss / count, "accuracy": correct / count}


def fit(model: torch.nn.Module, train_loader: Iterable, loss_fn: Callable, optimizer: torch.optim.Optimizer,
        epochs: int, val_loader: Iterable | None = None, scheduler=None, scheduler_step: str = "batch",
        device="cpu", clip_grad_norm: float | None = None, bf16: bool = False, writer=None,
        progress: bool = True, precision: str | None = None) -> dict:
    """Train for `epochs`; returns history {"epoch", "train_loss", "train_accuracy", "val_loss",
    "val_accuracy", "lr", "seconds"} with one entry per epoch (val_* only with a val_loader).

    `scheduler_step` is "batch" (OneCycle, warmup-cosine per step) or "epoch". `writer` is an
    optional TensorBoard `SummaryWriter`. `precision` is the autocast precision: pass `run.precision`, which is
    "bf16" where the hardware computes bfloat16 natively, "fp16" on older GPUs such as a T4 (the loss is then
    scaled by a `GradScaler`, so small float16 gradients do not flush to zero), else "fp32". The older
    `bf16=True` means precision "bf16".
    """
    from .progress import tqdm

    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    if scheduler_step not in ("batch", "epoch"):
        raise ValueError(f"scheduler_step must be 'batch' or 'epoch', got {scheduler_step!r}")
    device = torch.device(device)
    precision = _precision(precision, bf16)
    scaler = torch.amp.GradScaler(device.type, enabled=precision == "fp16")
    keys = ["epoch", "train_loss", "train_accuracy", "lr", "seconds"]
    if val_loader is not None:
        keys[3:3] = ["val_loss", "val_accuracy"]
    history = {k: [] for k in keys}
    start = time.perf_counter()
    bar = tqdm(range(1, epochs + 1), desc="epochs", disable=not progress)
    for epoch in bar:
        model.train()
        total_loss, correct, count = 0.0, 0, 0
        for x, y in (_to(b, device) for b in train_loader):
            with autocast(device, precision):
                logits = model(x)
            loss = loss_fn(logits.float(), y)
            if not torch.isfinite(loss):
                raise FloatingPointError(f"loss became {loss.item()} in epoch {epoch}; lower the learning rate")
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()                 # fp16: the loss scaled up; a no-op in bf16 / fp32
            if clip_grad_norm is not None:
                scaler.unscale_(optimizer)                # clip the true gradients, not scaled ones
                torch.nn.utils.clip_grad_norm_(model.parameters(), clip_grad_norm)
            scaler.step(optimizer)                        # skipped when fp16 gradients overflowed
            scaler.update()
            if scheduler is not None and scheduler_step == "batch":
                scheduler.step()
            total_loss += loss.item() * len(y)
            correct += (logits.argmax(dim=-1) == y).sum().item()
            count += len(y)
        if scheduler is not None and scheduler_step == "epoch":
            scheduler.step()
        row = {"epoch": epoch, "train_loss": total_loss / count, "train_accuracy": correct / count,
               "lr": optimizer.param_groups[0]["lr"], "seconds": time.perf_counter() - start}
        if val_loader is not None:
            val = evaluate(model, val_loader, loss_fn, device, precision=precision)
            row["val_loss"], row["val_accuracy"] = val["loss"], val["accuracy"]
        for k in keys:
            history[k].append(row[k])
        if writer is not None:
            for k, v in row.items():
                if k != "epoch":
                    writer.add_scalar(k, v, epoch)
        bar.set_postfix({k: f"{row[k]:.4f}" for k in ("train_loss", "val_accuracy") if k in row})
    return history


def warmup_cosine(optimizer: torch.optim.Optimizer, warmup_steps: int,
                  total_steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """Per-step schedule: the lr factor rises linearly to 1 over `warmup_steps` (0: no warm-up), then falls
    along a cosine to 0 at `total_steps` and stays there. Step it once per batch
    (`fit(..., scheduler_step="batch")`)."""
    if not 0 <= warmup_steps <= total_steps or total_steps < 1:
        raise ValueError(f"need 0 <= warmup_steps <= total_steps and total_steps >= 1, got "
                         f"warmup_steps={warmup_steps}, total_steps={total_steps}")

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def decay_param_groups(model: torch.nn.Module, weight_decay: float,
                       no_decay: tuple[str, ...] = ()) -> list[dict]:
    """AdamW parameter groups: weight decay on matrices and conv kernels (ndim >= 2) except the parameters
    named in `no_decay` (e.g. positional embeddings, a class token); none on biases and norm gains."""
    params = dict(model.named_parameters())
    unknown = set(no_decay) - params.keys()
    if unknown:
        raise ValueError(f"no_decay names {sorted(unknown)} are not parameters of the model")
    groups = {True: [], False: []}                                   # decayed? -> parameters, in model order
    for name, p in params.items():
        groups[p.ndim >= 2 and name not in no_decay].append(p)
    return [{"params": groups[True], "weight_decay": weight_decay}, {"params": groups[False], "weight_decay": 0.0}]


def random_crop_flip(x: torch.Tensor, pad: int = 4, mode: str = "reflect") -> torch.Tensor:
    """Batched augmentation of images x (B, C, H, W), all on x's device: a random horizontal flip per image
    (p = 0.5), then pad by `pad` (mode "reflect", or "constant" for zeros as torchvision's RandomCrop pads) and a
    random H x W crop per image. Uses the global torch RNG."""
    if x.ndim != 4 or not x.is_floating_point():
        raise ValueError(f"random_crop_flip needs float images (B, C, H, W), got {tuple(x.shape)} {x.dtype}")
    if mode not in ("reflect", "constant"):
        raise ValueError(f"random_crop_flip: mode must be 'reflect' or 'constant' (zeros), got {mode!r}")
    B, C, H, W = x.shape
    flip = torch.rand(B, device=x.device) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    padded = torch.nn.functional.pad(x, (pad,) * 4, mode=mode)                # (B, C, H + 2 pad, W + 2 pad)
    dy, dx = torch.randint(0, 2 * pad + 1, (2, B), device=x.device)
    rows = (dy[:, None] + torch.arange(H, device=x.device))[:, None, :, None]   # (B, 1, H, 1)
    cols = (dx[:, None] + torch.arange(W, device=x.device))[:, None, None, :]   # (B, 1, 1, W)
    batch = torch.arange(B, device=x.device)[:, None, None, None]
    return padded[batch, torch.arange(C, device=x.device)[None, :, None, None], rows, cols]
