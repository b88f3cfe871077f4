"""Checking utilities, the fit loop and the plots."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from helpers import checks, plots, train


def test_rel_error_matches_definition_and_accepts_tensors():
    assert checks.rel_error(np.array([1.0, 2.0]), torch.tensor([1.0, 2.0])) == 0.0
    assert checks.rel_error(1.0, 3.0) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="equal shapes"):
        checks.rel_error(np.zeros(2), np.zeros(3))


def test_numerical_gradient_of_known_functions():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4))
    x0 = x.copy()
    grad = checks.numerical_gradient(lambda z: np.sum(z ** 3), x)
    assert checks.rel_error(grad, 3 * x ** 2) < 1e-7  # truncation error ~h^2
    assert np.array_equal(x, x0)  # x restored
    A = rng.standard_normal((4, 2))
    upstream = rng.standard_normal((3, 2))
    grad = checks.numerical_gradient(lambda z: z @ A, x, upstream=upstream)
    assert checks.rel_error(grad, upstream @ A.T) < 1e-8


def test_numerical_gradient_rejects_bad_input():
    with pytest.raises(ValueError, match="floating-point NumPy array"):
        checks.numerical_gradient(np.sum, np.arange(3))
    with pytest.raises(ValueError, match="step h must be positive"):
        checks.numerical_gradient(np.sum, np.zeros(3), h=0)


def test_assert_close_reports_worst_entry():
    assert checks.assert_close([1.0, 2.0], [1.0, 2.0 + 1e-9], tol=1e-8) < 1e-8
    with pytest.raises(AssertionError, match=r"grad: max_abs error 5.000e-01 exceeds tolerance 1.0e-06 \(worst entry \(1,\)"):
        checks.assert_close([1.0, 2.5], [1.0, 2.0], tol=1e-6, name="grad")
    with pytest.raises(AssertionError, match="exceeds"):
        checks.assert_close([np.nan], [0.0])
    with pytest.raises(AssertionError, match="shape"):
        checks.assert_close(np.zeros(2), np.zeros(3))


def test_mcnemar_exact_is_the_two_sided_binomial_test_on_the_disagreements():
    from math import comb
    assert checks.mcnemar_exact(0, 0) == 1.0                         # never disagree: no evidence
    assert checks.mcnemar_exact(3, 3) == 1.0                         # capped at 1
    assert checks.mcnemar_exact(0, 5) == pytest.approx(2 / 32)       # 2 P(X = 0), X ~ Bin(5, 1/2)
    assert checks.mcnemar_exact(7, 2) == checks.mcnemar_exact(2, 7)  # symmetric in the two models
    assert checks.mcnemar_exact(2, 7) == pytest.approx(2 * sum(comb(9, k) for k in range(3)) / 2**9)
    scipy_stats = pytest.importorskip("scipy.stats")
    for b, c in ((12, 30), (400, 455), (1, 9)):                      # the textbook exact test, computed by SciPy
        assert checks.mcnemar_exact(b, c) == pytest.approx(scipy_stats.binomtest(b, b + c, 0.5).pvalue, rel=1e-9)
    assert checks.mcnemar_exact(np.int64(4), 6.0) == checks.mcnemar_exact(4, 6)
    for bad in ((-1, 3), (2.5, 3), (True, 3)):
        with pytest.raises(ValueError, match="must be a count"):
            checks.mcnemar_exact(*bad)


def test_tensor_loader_batches_shuffles_and_validates():
    x, y = torch.arange(10).float().unsqueeze(1), torch.arange(10)
    loader = train.TensorLoader(x, y, batch_size=4, shuffle=True, seed=1)
    batches = list(loader)
    assert len(loader) == 3 and [len(b[1]) for b in batches] == [4, 4, 2]
    assert sorted(torch.cat([b[1] for b in batches]).tolist()) == list(range(10))
    assert torch.equal(torch.cat([b[0][:, 0] for b in batches]).long(), torch.cat([b[1] for b in batches]))
    assert len(train.TensorLoader(x, y, batch_size=4, drop_last=True)) == 2
    with pytest.raises(ValueError, match="same length"):
        train.TensorLoader(x, y[:5], batch_size=2)
    with pytest.raises(ValueError, match="batch_size"):
        train.TensorLoader(x, batch_size=0)


def test_fit_learns_a_separable_problem():
    torch.manual_seed(0)
    x = torch.randn(512, 2)
    y = (x[:, 0] + x[:, 1] > 0).long()
    model = torch.nn.Linear(2, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    loader = train.TensorLoader(x, y, batch_size=64, shuffle=True)
    hist = train.fit(model, loader, torch.nn.functional.cross_entropy, opt, epochs=4, val_loader=loader,
                     scheduler=sched, scheduler_step="epoch", progress=False)
    assert hist["epoch"] == [1, 2, 3, 4] and hist["lr"] == [0.25, 0.125, 0.0625, 0.03125]
    assert hist["train_loss"][-1] < hist["train_loss"][0] and hist["val_accuracy"][-1] > 0.9
    assert hist["seconds"] == sorted(hist["seconds"])
    assert train.evaluate(model, loader, torch.nn.functional.cross_entropy)["accuracy"] == hist["val_accuracy"][-1]


def test_fit_rejects_bad_arguments_and_divergence():
    model = torch.nn.Linear(2, 2)
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    loader = train.TensorLoader(torch.randn(8, 2), torch.zeros(8, dtype=torch.long), batch_size=4)
    with pytest.raises(ValueError, match="epochs"):
        train.fit(model, loader, torch.nn.functional.cross_entropy, opt, epochs=0)
    with pytest.raises(ValueError, match="scheduler_step"):
        train.fit(model, loader, torch.nn.functional.cross_entropy, opt, epochs=1, scheduler_step="step")
    with pytest.raises(FloatingPointError, match="lower the learning rate"):
        train.fit(model, loader, lambda out, y: out.sum() * float("inf"), opt, epochs=1, progress=False)
    with pytest.raises(ValueError, match="empty loader"):
        train.evaluate(model, [], torch.nn.functional.cross_entropy)


def test_plots_draw_without_error():
    hist = {"epoch": [1, 2], "train_loss": [1.0, 0.5], "val_loss": [1.1, 0.7], "train_accuracy": [0.5, 0.7],
            "val_accuracy": [0.4, 0.6]}
    axes = plots.plot_history(hist)
    assert [len(ax.lines) for ax in axes] == [2, 2]
    with pytest.raises(ValueError, match="no 'bleu' curve"):
        plots.plot_history(hist, metrics=("bleu",))
    fig = plots.show_images(torch.randint(0, 255, (5, 3, 8, 8), dtype=torch.uint8), [0, 1, 0, 1, 0],
                            ["cat", "dog"], ncols=3, predictions=[0, 0, 0, 1, 1])
    assert [t.get_text() for t in fig.axes[1].texts] == [] and fig.axes[1].get_title() == "dog\n→ cat"
    ax = plots.plot_matrix(np.eye(3), title="attn")
    assert len(ax.texts) == 9
    with pytest.raises(ValueError, match="2-D"):
        plots.plot_matrix(np.zeros(3))
    plots.attention_over_image(torch.rand(1, 28, 28), torch.rand(16))
    ax = plots.attention_over_image(torch.rand(1, 28, 28), torch.rand(16) * 0.5, vmin=0, vmax=1)
    assert ax.images[-1].get_clim() == (0, 1)                     # a fixed scale, not the map's own range
    with pytest.raises(ValueError, match="square number"):
        plots.attention_over_image(torch.rand(1, 28, 28), torch.rand(15))
    plt.close("all")


def test_fit_logs_to_tensorboard(tmp_path):
    from torch.utils.tensorboard import SummaryWriter

    model = torch.nn.Linear(2, 2)
    loader = train.TensorLoader(torch.randn(16, 2), torch.randint(0, 2, (16,)), batch_size=8)
    with SummaryWriter(tmp_path) as writer:
        train.fit(model, loader, torch.nn.functional.cross_entropy, torch.optim.SGD(model.parameters(), lr=0.1),
                  epochs=2, writer=writer, progress=False)
    assert list(tmp_path.glob("events.out.tfevents.*"))


class Probe(torch.nn.Linear):
    """A linear layer that records the dtype of every output it computes (in `.seen`)."""

    def __init__(self, *args):
        super().__init__(*args)
        self.seen = []

    def forward(self, x):
        out = super().forward(x)
        self.seen.append(out.dtype)
        return out


def test_fit_with_bf16_autocasts_on_cpu():
    torch.manual_seed(0)
    x = torch.randn(256, 2)
    y = (x[:, 0] > 0).long()
    model = Probe(2, 2)
    loader = train.TensorLoader(x, y, batch_size=64)
    hist = train.fit(model, loader, torch.nn.functional.cross_entropy, torch.optim.SGD(model.parameters(), lr=0.5),
                     epochs=3, val_loader=loader, bf16=True, progress=False)
    assert set(model.seen) == {torch.bfloat16} and model.weight.dtype == torch.float32   # matmuls in bf16, fp32 master weights
    assert hist["train_loss"][-1] < hist["train_loss"][0]
    model.seen.clear()
    train.evaluate(model, loader, torch.nn.functional.cross_entropy)
    assert set(model.seen) == {torch.float32}                                            # bf16 is opt-in


def test_warmup_cosine_rises_linearly_then_follows_a_cosine_to_zero():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=2.0)
    sched = train.warmup_cosine(opt, warmup_steps=4, total_steps=12)
    lrs = []
    for _ in range(14):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[:4] == pytest.approx([0.5, 1.0, 1.5, 2.0])                   # (step + 1) / warmup * lr
    assert lrs[4] == pytest.approx(2.0) and lrs[8] == pytest.approx(1.0)     # cosine: 1 at its start, 1/2 halfway
    assert lrs[12] == pytest.approx(0.0, abs=1e-12) and lrs[13] == pytest.approx(0.0, abs=1e-12)  # stays at 0
    assert all(a >= b for a, b in zip(lrs[4:], lrs[5:]))


def test_warmup_cosine_without_warmup_and_bad_arguments():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = train.warmup_cosine(opt, warmup_steps=0, total_steps=2)
    assert opt.param_groups[0]["lr"] == pytest.approx(1.0)
    opt.step()
    sched.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.5)
    for warmup, total in ((-1, 10), (11, 10), (0, 0)):
        with pytest.raises(ValueError, match="warmup_steps"):
            train.warmup_cosine(opt, warmup, total)


def test_decay_param_groups_split_matrices_from_biases_norms_and_named_exceptions():
    class Tiny(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.pos_embedding = torch.nn.Parameter(torch.zeros(1, 5, 4))
            self.fc = torch.nn.Linear(4, 3)
            self.norm = torch.nn.LayerNorm(4)

    model = Tiny()
    decayed, plain = train.decay_param_groups(model, 0.05, no_decay=("pos_embedding",))
    assert decayed["weight_decay"] == 0.05 and plain["weight_decay"] == 0.0
    assert [p is model.fc.weight for p in decayed["params"]] == [True]
    assert {id(p) for p in plain["params"]} == {id(model.pos_embedding), id(model.fc.bias), id(model.norm.weight),
                                                id(model.norm.bias)}
    with pytest.raises(ValueError, match="cls_token"):
        train.decay_param_groups(model, 0.05, no_decay=("cls_token",))


def test_random_crop_flip_is_a_flip_then_a_shifted_window_of_the_reflect_padded_image():
    torch.manual_seed(0)
    x = torch.randn(64, 3, 8, 8)
    torch.manual_seed(1)
    out = train.random_crop_flip(x, pad=2)
    torch.manual_seed(1)                                       # replay the same draws, one image at a time
    flip = torch.rand(64) < 0.5
    dy, dx = torch.randint(0, 5, (2, 64))
    for i in range(64):
        img = x[i].flip(2) if flip[i] else x[i]
        padded = torch.nn.functional.pad(img[None], (2,) * 4, mode="reflect")[0]
        assert torch.equal(out[i], padded[:, dy[i]:dy[i] + 8, dx[i]:dx[i] + 8])
    assert flip.any() and (~flip).any() and len(set(zip(dy.tolist(), dx.tolist()))) > 5
    with pytest.raises(ValueError, match="float images"):
        train.random_crop_flip(torch.zeros(2, 3, 8, 8, dtype=torch.uint8))


def test_random_crop_flip_constant_mode_pads_with_zeros():
    torch.manual_seed(0)
    x = torch.rand(64, 3, 8, 8) + 1                             # no zero pixel inside the images
    torch.manual_seed(1)
    out = train.random_crop_flip(x, pad=2, mode="constant")
    torch.manual_seed(1)                                       # replay the same draws, one image at a time
    flip = torch.rand(64) < 0.5
    dy, dx = torch.randint(0, 5, (2, 64))
    for i in range(64):
        img = x[i].flip(2) if flip[i] else x[i]
        padded = torch.nn.functional.pad(img[None], (2,) * 4)[0]      # zeros, as torchvision's RandomCrop pads
        assert torch.equal(out[i], padded[:, dy[i]:dy[i] + 8, dx[i]:dx[i] + 8])
    assert (out == 0).any()
    with pytest.raises(ValueError, match="mode must be"):
        train.random_crop_flip(x, mode="zeros")

def test_fit_in_fp16_scales_the_loss_and_clips_unscaled_gradients(monkeypatch):
    """The fp16 path (a T4's): float16 autocast, a GradScaler around backward/step, clipping on unscaled grads.
    Run on the CPU by letting float16 autocast through there (the real helper allows fp16 on CUDA only)."""
    import helpers.profile as profile

    monkeypatch.setattr(train, "autocast", lambda device, precision: torch.autocast(
        "cpu", dtype=torch.float16) if precision == "fp16" else profile.autocast(device, precision))
    scales, norms = [], []
    real_scaler, real_clip = torch.amp.GradScaler, torch.nn.utils.clip_grad_norm_

    def scaler(device, enabled=True):
        s = real_scaler(device, enabled=enabled)
        scales.append(s)
        return s

    def clip(params, max_norm):
        params = list(params)
        norms.append(float(torch.norm(torch.stack([p.grad.norm() for p in params]))))
        return real_clip(params, max_norm)

    monkeypatch.setattr(torch.amp, "GradScaler", scaler)
    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", clip)
    torch.manual_seed(0)
    x = torch.randn(256, 2)
    y = (x[:, 0] > 0).long()
    model = Probe(2, 2)
    loader = train.TensorLoader(x, y, batch_size=64)
    hist = train.fit(model, loader, torch.nn.functional.cross_entropy, torch.optim.SGD(model.parameters(), lr=0.5),
                     epochs=3, clip_grad_norm=10.0, precision="fp16", progress=False)
    assert set(model.seen) == {torch.float16} and model.weight.dtype == torch.float32
    assert len(scales) == 1 and scales[0].get_scale() > 1000       # the loss was scaled up (starts at 2**16)
    assert max(norms) < 100                                        # clipped gradients were unscaled first
    assert hist["train_loss"][-1] < hist["train_loss"][0]
    with pytest.raises(ValueError, match="precision must be one of"):
        train.fit(model, loader, torch.nn.functional.cross_entropy, torch.optim.SGD(model.parameters(), lr=0.5),
                  epochs=1, precision="half", progress=False)


def test_evaluate_and_fit_take_the_runs_precision():
    model = Probe(2, 2)
    loader = train.TensorLoader(torch.randn(8, 2), torch.zeros(8, dtype=torch.long), batch_size=4)
    train.evaluate(model, loader, torch.nn.functional.cross_entropy, precision="bf16")
    assert set(model.seen) == {torch.bfloat16}
    model.seen.clear()
    train.evaluate(model, loader, torch.nn.functional.cross_entropy, precision="fp32", bf16=True)
    assert set(model.seen) == {torch.float32}                             # an explicit precision wins over bf16=
