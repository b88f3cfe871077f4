"""Training throughput of a small ViT (nn layers, CIFAR-sized input) in float32 vs bfloat16 autocast.

    .venv/bin/python benchmarks/vit_cpu_bf16.py            # CPU, all its cores
    .venv/bin/python benchmarks/vit_cpu_bf16.py --device cuda

Times AdamW training steps on random 32x32 images (batch 128, after 2 warm-up steps) for the configs
the ViT notebooks use, with and without `torch.autocast(dtype=torch.bfloat16)`, and prints images/s.
This is the measurement behind `run.bf16`: on a CPU with native bf16 (AVX512-BF16/AMX) autocast pays.
"""
from __future__ import annotations

import argparse
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads, self.qkv, self.out = heads, nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)

    def forward(self, z):
        B, N, D = z.shape
        q, k, v = self.qkv(z).reshape(B, N, 3, self.heads, D // self.heads).permute(2, 0, 3, 1, 4)
        attn = (q @ k.transpose(-2, -1) / math.sqrt(D // self.heads)).softmax(-1)
        return self.out((attn @ v).transpose(1, 2).reshape(B, N, D))


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_dim):
        super().__init__()
        self.n1, self.attn, self.n2 = nn.LayerNorm(dim), Attention(dim, heads), nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp_dim), nn.GELU(), nn.Linear(mlp_dim, dim))

    def forward(self, z):
        z = z + self.attn(self.n1(z))
        return z + self.mlp(self.n2(z))


class ViT(nn.Module):
    def __init__(self, patch, dim, depth, heads, mlp_dim):
        super().__init__()
        self.embed = nn.Conv2d(3, dim, patch, patch)
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.randn(1, (32 // patch) ** 2 + 1, dim) * 0.02)
        self.blocks = nn.Sequential(*[Block(dim, heads, mlp_dim) for _ in range(depth)])
        self.norm, self.head = nn.LayerNorm(dim), nn.Linear(dim, 10)

    def forward(self, x):
        t = self.embed(x).flatten(2).transpose(1, 2)
        t = torch.cat([self.cls.expand(len(x), -1, -1), t], 1) + self.pos
        return self.head(self.norm(self.blocks(t))[:, 0])


def images_per_second(config, device, bf16, batch=128, steps=8):
    torch.manual_seed(0)
    model = ViT(**config).to(device)
    opt = torch.optim.AdamW(model.parameters(), 1e-3)
    x, y = torch.randn(batch, 3, 32, 32, device=device), torch.randint(0, 10, (batch,), device=device)

    def step():
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            out = model(x)
        loss = F.cross_entropy(out.float(), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    for _ in range(2):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps * batch / (time.perf_counter() - start)


CONFIGS = {
    "A3_vit main (0.8M)": dict(patch=4, dim=128, depth=6, heads=4, mlp_dim=256),
    "hw4_vit (1.8M)": dict(patch=4, dim=192, depth=6, heads=4, mlp_dim=384),
}

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    device = torch.device(parser.parse_args().device)
    print(f"torch {torch.__version__}, device {device}, {torch.get_num_threads()} threads")
    for name, config in CONFIGS.items():
        fp32, bf16 = images_per_second(config, device, False), images_per_second(config, device, True)
        print(f"{name:20s} float32 {fp32:6.0f} img/s   bf16 autocast {bf16:6.0f} img/s   ({bf16 / fp32:.1f}x)")
