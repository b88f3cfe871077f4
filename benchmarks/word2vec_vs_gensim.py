"""Our skip-gram trainer (the cells of A3_word2vec.ipynb tagged `benchmark-export`) vs gensim's Word2Vec, same corpus and cores.

    .venv/bin/pip install -r requirements-bench.txt
    DATA_MIRROR=../shared/data .venv/bin/python benchmarks/word2vec_vs_gensim.py [--seeds 5] [--epochs 5]

Both trainers get the same token sequence (text8 after the notebook's preprocessing, words seen >= 5
times), the same dimension, window, negatives, subsampling threshold, learning rate, epochs and number
of worker threads, and both are scored by the notebook's evaluation functions. Words/s = corpus words x
epochs / training wall time, for both. The two trainers run in pairs, one seed each, back to back (which one goes
first alternates from seed to seed), and the throughput ratio is taken pair by pair, so that a drift of the
machine's speed over the session affects both sides of a ratio alike; the median and the range of the pair
ratios are reported. Writes results/word2vec_vs_gensim.json and prints a table.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from helpers.paths import shown_path  # noqa: E402 - the output file, printed relative to the project root
from helpers.profile import cpu_model  # noqa: E402 - the CPU model name recorded with the timings
from notebook_export import notebook_namespace  # noqa: E402 - benchmarks/ is sys.path[0] when run as a script
NOTEBOOK = ROOT / "A3_word2vec.ipynb"
KEYS = ("words_per_second", "seconds", "analogy_accuracy", "analogy_semantic", "analogy_syntactic",
        "wordsim353_spearman")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=5, help="runs per trainer, one pair per seed (default 5)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--lr", type=float, nargs="+", default=[0.025, 0.04],
                        help="initial learning rates to compare at, for both trainers (default: 0.025 0.04)")
    parser.add_argument("--threads", type=int, default=None, help="worker threads for both (default: CPU cores)")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "word2vec_vs_gensim.json")
    parser.add_argument("--notebook", type=Path, default=NOTEBOOK,
                        help="the notebook whose benchmark-export cells are measured (default: A3_word2vec.ipynb)")
    args = parser.parse_args()
    try:
        import gensim
        from gensim.models import Word2Vec
    except ImportError:
        raise SystemExit("gensim is not installed: pip install -r requirements-bench.txt") from None
    import torch

    if not args.notebook.is_file():
        raise SystemExit(f"--notebook: no such notebook file: {args.notebook}")
    ns = notebook_namespace(args.notebook, "a3_word2vec")
    from helpers.text import analogy_questions, similarity_pairs, text8

    threads = args.threads or ns["run"].threads
    corpus = text8()
    data = corpus.copy
    vocab, ids, n_tokens = ns["preprocess"](corpus.text, 5)
    cfg = ns["SGNSConfig"](epochs=args.epochs)
    questions = analogy_questions(verbose=False)
    pairs, human = similarity_pairs("wordsim353", verbose=False)

    def score(W) -> dict:
        E = ns["unit_rows"](torch.as_tensor(W))
        a = ns["analogy_accuracy"](E, vocab, questions.questions, questions.sections)
        rho, _ = ns["similarity_spearman"](E, vocab, pairs, human)
        return dict(analogy_accuracy=a["accuracy"], analogy_semantic=a["semantic"],
                    analogy_syntactic=a["syntactic"], wordsim353_spearman=rho, covered=a["covered"])

    words = np.array(vocab.itos, dtype=object)[ids].tolist()
    sentences = [words[i:i + cfg.chunk] for i in range(0, len(words), cfg.chunk)]  # the same pieces as ours
    def record(seed, seconds, W) -> dict:
        """One trainer's run: its seed, training time, words/s (corpus words x epochs / time) and scores."""
        return dict(seed=seed, seconds=seconds, words_per_second=n_tokens * cfg.epochs / seconds, **score(W))

    settings = []
    for lr in args.lr:
        runs = {"ours": [], "gensim": []}

        def run_gensim(seed):
            model = Word2Vec(vector_size=cfg.dim, window=cfg.window, negative=cfg.negatives, sample=cfg.sample,
                             min_count=cfg.min_count, sg=1, hs=0, alpha=lr, min_alpha=lr * 1e-4,
                             workers=threads, seed=seed)
            model.build_vocab(sentences)
            start = time.perf_counter()
            model.train(sentences, total_examples=len(sentences), epochs=cfg.epochs)
            seconds = time.perf_counter() - start
            W = np.stack([model.wv[w] for w in vocab.itos])  # rows in our vocabulary's order
            return record(seed, seconds, W)

        def run_ours(seed):
            ours_cfg = ns["SGNSConfig"](**{**vars(cfg), "lr": lr})
            W_in, _, _, seconds = ns["train_sgns"](ids, vocab.counts, ours_cfg, workers=threads, seed=seed,
                                                   progress=False)
            return record(seed, seconds, W_in)

        for seed in range(args.seeds):
            order = ("gensim", "ours") if seed % 2 == 0 else ("ours", "gensim")   # who goes first alternates
            for name in order:
                r = run_gensim(seed) if name == "gensim" else run_ours(seed)
                runs[name].append({**r, "position": order.index(name)})
                print(f"lr {lr:g} seed {seed} {name:>6}: {r['seconds']:6.1f} s, {r['words_per_second']:9,.0f} words/s, "
                      f"analogy {r['analogy_accuracy']:.2%}, WS353 {r['wordsim353_spearman']:.3f}", flush=True)
        summary = {name: {"mean": {k: float(np.mean([r[k] for r in rs])) for k in KEYS},
                          "std": {k: float(np.std([r[k] for r in rs], ddof=1)) if len(rs) > 1 else 0.0 for k in KEYS},
                          "runs": rs} for name, rs in runs.items()}
        pair_ratios = [o["words_per_second"] / g["words_per_second"] for o, g in zip(runs["ours"], runs["gensim"])]
        settings.append({"lr": lr, **summary, "pair_ratios": pair_ratios,
                         "ratio_words_per_second": float(np.median(pair_ratios)),
                         "ratio_of_means": summary["ours"]["mean"]["words_per_second"]
                         / summary["gensim"]["mean"]["words_per_second"]})

    result = {
        "command": "python benchmarks/word2vec_vs_gensim.py " + " ".join(sys.argv[1:]),
        "corpus": data,
        "corpus_words": n_tokens,
        "analogy_questions_covered": settings[0]["ours"]["runs"][0]["covered"],
        "config": {k: getattr(cfg, k) for k in ("dim", "window", "negatives", "sample", "epochs", "min_count", "batch", "pool")},
        "seeds": args.seeds,
        "threads": threads,
        "machine": f"{cpu_model()}, {threads} threads",
        "pairing": "one seed per pair, back to back; even seeds gensim first, odd seeds ours first; ratio = median of pair ratios",
        "versions": {"gensim": gensim.__version__, "torch": torch.__version__, "numpy": np.__version__},
        "settings": settings,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\n{data}; d={cfg.dim} w={cfg.window} K={cfg.negatives} t={cfg.sample:g} epochs={cfg.epochs} "
          f"(ours: B={cfg.batch} pairs per step, pool N={cfg.pool}), "
          f"{threads} threads, mean ± std over {args.seeds} seeds")
    print(f"{'':>16}" + "".join(f"{k:>24}" for k in KEYS))
    for setting in settings:
        for name in ("ours", "gensim"):
            m, sd = setting[name]["mean"], setting[name]["std"]
            print(f"{name:>6} lr {setting['lr']:<6g}" + "".join(f"{m[k]:>15,.4g} ± {sd[k]:<6.2g}" for k in KEYS))
        r = setting["pair_ratios"]
        print(f"throughput ours / gensim at lr {setting['lr']:g}, pair by pair: median {setting['ratio_words_per_second']:.2f}x "
              f"(range {min(r):.2f}-{max(r):.2f}x over {len(r)} pairs)")
    print(f"-> {shown_path(args.out)}")


if __name__ == "__main__":
    main()
