"""Dataset registry: name -> files (official URLs, sha256, size) -> loader.

Lookup order for every file: the cache `data/<name>/`, then `$DATA_MIRROR/<name>/`, then a
download from the official URL(s) into the cache (progress bar, resumable `.part` file that is
renamed only once its sha256 matches). A dataset may have more than one *copy*: the official
files first, then copies that only offline mirrors hold (e.g. a JPEG re-encoding of CIFAR-10).
Whatever copy is used, `fetch()` says which, once (`Data: <dataset>: <copy>`), and loaders pass that label
on (`.copy`) for the results JSON. Where a file was found (cache, mirror, download) is kept in
`Fetched.sources`, not printed.
"""
from __future__ import annotations

import gzip
import hashlib
import http.client
import io
import os
import shutil
import tarfile
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .paths import ShownPath, data_dir, mirror_dir, shown_path

TIMEOUT_S = 30  # per socket operation: connect and each read


class DataUnavailable(RuntimeError):
    """No copy of a dataset could be found locally or downloaded."""


class ChecksumError(RuntimeError):
    """A downloaded file does not have the registered sha256 (the partial file is deleted)."""


@dataclass(frozen=True)
class RemoteFile:
    """One file of a dataset copy: its name on disk, sha256, size in bytes and download URLs.

    Where upstream pins a file only by md5 or sha1 (e.g. torchtext's AG_NEWS train.csv, GluonNLP's
    text8.zip) and no copy was at hand to compute a sha256 from, pass `sha256=None, md5=...` (or
    `sha1=...`): the file is then checked by that digest.
    """

    name: str
    sha256: str | None
    size: int | None = None
    urls: tuple[str, ...] = ()  # empty: exists only in offline mirrors
    md5: str | None = None
    sha1: str | None = None

    @property
    def checksum(self) -> tuple[str, str]:
        """("sha256", hex) when a sha256 is registered, else ("sha1", hex), else ("md5", hex)."""
        if self.sha256:
            return "sha256", self.sha256
        return ("sha1", self.sha1) if self.sha1 else ("md5", self.md5 or "")


@dataclass(frozen=True)
class Copy:
    """A complete set of files for a dataset; `label` is printed wherever its numbers appear."""

    label: str
    files: tuple[RemoteFile, ...]
    note: str = ""
    official: bool = False


@dataclass(frozen=True)
class DatasetSpec:
    """A registry entry: the copies in order of preference (official first) and a loader name."""

    name: str
    homepage: str
    copies: tuple[Copy, ...]
    citation: str = ""

    def official_copy(self) -> Copy | None:
        return next((c for c in self.copies if c.official), None)


@dataclass
class Fetched:
    """Where each file of the chosen copy lies, and where it came from."""

    spec: DatasetSpec
    copy: Copy
    paths: dict[str, Path]
    sources: dict[str, str] = field(default_factory=dict)  # file -> "cache" | "mirror" | "download"

    def __getitem__(self, file_name: str) -> Path:
        return self.paths[file_name]

    @property
    def label(self) -> str:
        return f"{self.spec.name}: {self.copy.label}"

    def describe(self) -> str:
        """The copy and what it lacks, as a notebook prints it once ("text8: an exact prefix: … — first … only")."""
        return f"{self.label} — {self.copy.note}" if self.copy.note else self.label


REGISTRY: dict[str, DatasetSpec] = {}


def register(spec: DatasetSpec, replace: bool = False) -> DatasetSpec:
    """Add `spec` to the registry; registering a taken name needs `replace=True`."""
    if spec.name in REGISTRY and not replace:
        raise ValueError(f"dataset {spec.name!r} is already registered; pass replace=True to redefine it")
    if not spec.copies:
        raise ValueError(f"dataset {spec.name!r} needs at least one copy")
    for copy in spec.copies:
        for f in copy.files:
            algo, digest = f.checksum
            want = {"sha256": 64, "sha1": 40, "md5": 32}[algo]
            if len(digest) != want or any(ch not in "0123456789abcdef" for ch in digest):
                raise ValueError(f"{spec.name}/{f.name}: {algo} must be {want} lowercase hex digits, got {digest!r}"
                                 + (" (give sha256, or sha1/md5 where upstream pins only that)" if not digest else ""))
    REGISTRY[spec.name] = spec
    return spec


def get_spec(name: str) -> DatasetSpec:
    """The registry entry for `name`; a ValueError listing the known names otherwise."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown dataset {name!r}; registered datasets: {', '.join(sorted(REGISTRY))}") from None


# --------------------------------------------------------------------------- checksums

_DIGEST_MEMO: dict[tuple[str, str, int, int], str] = {}


def file_digest(path: Path, algo: str = "sha256") -> str:
    """Hex digest ("sha256", "sha1" or "md5") of a file (memoised on path, size and mtime)."""
    st = path.stat()
    key = (algo, str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _DIGEST_MEMO:
        h = hashlib.new(algo)
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        _DIGEST_MEMO[key] = h.hexdigest()
    return _DIGEST_MEMO[key]


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file (memoised on path, size and mtime)."""
    return file_digest(path, "sha256")


def _matches(path: Path, f: RemoteFile) -> bool:
    if not path.is_file():
        return False
    if f.size is not None and path.stat().st_size != f.size:
        return False
    algo, digest = f.checksum
    return file_digest(path, algo) == digest


# --------------------------------------------------------------------------- lookup

def _search_dirs(name: str) -> list[tuple[str, Path]]:
    dirs = [("cache", data_dir() / name)]
    mirror = mirror_dir()
    if mirror is not None:
        dirs.append(("mirror", mirror / name))
    return dirs


def _find_local(name: str, f: RemoteFile) -> tuple[str, Path] | None:
    for source, folder in _search_dirs(name):
        if _matches(folder / f.name, f):
            return source, folder / f.name
    return None


def fetch(name: str, verbose: bool = True, copies: tuple[str, ...] | None = None) -> Fetched:
    """Find (or download) a complete copy of dataset `name`; print which copy is used.

    `copies`: the labels of the copies the caller can use, in the order it prefers to *download* them (e.g. a
    66 MB file before an 822 MB archive that holds it); local copies are still taken in the registry's order.
    """
    spec = get_spec(name)
    usable = spec.copies if copies is None else tuple(c for c in spec.copies if c.label in copies)
    if copies is not None and len(usable) != len(copies):
        raise ValueError(f"{name!r} has no copy labelled {sorted(set(copies) - {c.label for c in usable})}; its copies "
                         f"are {[c.label for c in spec.copies]}")
    found = None
    for copy in usable:
        hits = {f.name: _find_local(name, f) for f in copy.files}
        if all(hits.values()):
            found = Fetched(spec, copy, {k: v[1] for k, v in hits.items()}, {k: v[0] for k, v in hits.items()})
            break
    if found is None:
        order = usable if copies is None else tuple(next(c for c in usable if c.label == label) for label in copies)
        found = _download_official(spec, next((c for c in order if c.official), None), verbose)
    announce = (found.label, tuple(sorted(str(p) for p in found.paths.values())))
    if verbose and announce not in _ANNOUNCED:  # once per copy and process: train and test splits share the line
        _ANNOUNCED.add(announce)
        print(f"Data: {found.describe()}")
    return found


_ANNOUNCED: set[tuple] = set()


def _download_official(spec: DatasetSpec, copy: Copy | None, verbose: bool = True) -> Fetched:
    if copy is None or not all(f.urls for f in copy.files):
        raise DataUnavailable(_missing_message(spec, reason="no downloadable copy is registered"))
    paths, sources = {}, {}
    for f in copy.files:
        hit = _find_local(spec.name, f)
        if hit is None:
            if os.environ.get("DATA_OFFLINE", "").strip() not in ("", "0"):
                raise DataUnavailable(_missing_message(spec, reason="DATA_OFFLINE is set")) from None
            if verbose:
                size = f"{f.size / 1e6:,.1f} MB" if f.size else "size not published"
                print(f"[data] downloading {spec.name}/{f.name} ({size}) into {shown_path(data_dir() / spec.name)}/")
            try:
                hit = ("download", download(f, data_dir() / spec.name))
            except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
                reason = getattr(exc, "reason", None) or exc
                raise DataUnavailable(_missing_message(spec, reason=f"download failed: {reason}")) from None
        sources[f.name], paths[f.name] = hit
    return Fetched(spec, copy, paths, sources)


def _missing_message(spec: DatasetSpec, reason: str) -> str:
    cache = data_dir() / spec.name
    mirror = mirror_dir()
    lines = [f"Dataset {spec.name!r} is not available ({reason})."]
    copy = spec.official_copy() or spec.copies[0]
    for f in copy.files:
        if _find_local(spec.name, f):
            continue
        url = f.urls[0] if f.urls else "(no public URL)"
        algo, digest = f.checksum
        lines.append(f"  missing {f.name}  from {url}  ({algo} {digest})")
        for _, folder in _search_dirs(spec.name):
            if (folder / f.name).is_file():
                lines.append(f"    {folder / f.name} exists but its size or {algo} differs: replace it")
    lines.append(f"Download the file(s) above and put them in {cache}/")
    if mirror is not None:
        lines.append(f"  or in the offline mirror {mirror / spec.name}/ (DATA_MIRROR={os.environ['DATA_MIRROR']}).")
    else:
        lines.append("  or set DATA_MIRROR to a folder holding <dataset>/<file> copies.")
    if spec.homepage:
        lines.append(f"About the data: {spec.homepage}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- download

def download(f: RemoteFile, folder: Path) -> Path:
    """Download `f` into `folder` (resuming `<name>.part`), verify its checksum, rename, return the path."""
    from .progress import tqdm

    if not f.urls:
        raise ValueError(f"{f.name} has no download URL")
    folder.mkdir(parents=True, exist_ok=True)
    target, part = folder / f.name, folder / (f.name + ".part")
    failures: list[str] = []
    last_error: Exception | None = None
    for url in f.urls:
        try:
            _download_to_part(url, part, f.size, tqdm)
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            last_error = exc
            failures.append(f"{url}: {getattr(exc, 'reason', None) or exc}")
            continue
        algo, expected = f.checksum
        digest = file_digest(part, algo)
        if digest != expected:  # e.g. an error page served with status 200: try the file's next URL
            part.unlink()
            failures.append(f"{url}: {algo} {digest}, expected {expected}")
            last_error = None
            print(f"[data] {f.name} from {url} has {algo} {digest}, expected {expected}"
                  + ("; trying the next URL" if url != f.urls[-1] else ""))
            continue
        part.replace(target)
        return target
    if last_error is not None and not any("expected" in line for line in failures):
        raise last_error
    raise ChecksumError(f"no URL gave {f.name} with the registered checksum; the partial file {part} was deleted. "
                        f"Try again, or download it by hand into {folder}/.\n  " + "\n  ".join(failures))


def _download_to_part(url: str, part: Path, size: int | None, tqdm) -> None:
    have = part.stat().st_size if part.exists() else 0
    if size is not None and have > size:
        part.unlink()
        have = 0
    request = urllib.request.Request(url, headers={"User-Agent": "dl-notebooks-helpers"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
        if have and response.status != 206:  # server ignored the range: start again
            have = 0
        length = response.headers.get("Content-Length")
        total = have + int(length) if length is not None else size
        with open(part, "ab" if have else "wb") as out, tqdm(
            total=total, initial=have, unit="B", unit_scale=True, desc=part.name[:-5], leave=False
        ) as bar:
            for block in iter(lambda: response.read(1 << 16), b""):
                out.write(block)
                bar.update(len(block))
    got = part.stat().st_size
    if total is not None and got < total:
        raise ConnectionError(f"download of {url} stopped at {got} of {total} bytes; "
                              f"{part.name} is kept, run again to resume")


# --------------------------------------------------------------------------- image loaders

class ImageTensors(NamedTuple):
    """A whole split in memory: images uint8 (N, C, H, W), labels int64 (N,), class names, copy label."""

    images: "torch.Tensor"  # noqa: F821
    labels: "torch.Tensor"  # noqa: F821
    classes: list[str]
    copy: str


_TORCHVISION_MNIST = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}


def image_dataset(name: str, train: bool = True, transform=None, target_transform=None):
    """A torchvision-style dataset (`.data`, `.targets`, `.classes`) for mnist, fashion-mnist or cifar10."""
    fetched = fetch(name)
    if name in _TORCHVISION_MNIST:
        return _mnist_like(fetched, train, transform, target_transform)
    if name == "cifar10":
        return _cifar10(fetched, train, transform, target_transform)
    raise ValueError(f"{name!r} is not an image dataset; image datasets: {', '.join(IMAGE_DATASETS)}")


def image_tensors(name: str, train: bool = True) -> ImageTensors:
    """The whole split as uint8 tensors (N, C, H, W) plus int64 labels, class names and the copy label."""
    import torch

    ds = image_dataset(name, train)
    images = torch.as_tensor(np.asarray(ds.data))
    images = images.unsqueeze(1) if images.ndim == 3 else images.permute(0, 3, 1, 2)
    labels = torch.as_tensor(np.asarray(ds.targets), dtype=torch.int64)
    return ImageTensors(images.contiguous(), labels, list(ds.classes), ds.copy_label)


def _mnist_like(fetched: Fetched, train: bool, transform, target_transform):
    from torchvision import datasets

    cls_name = _TORCHVISION_MNIST[fetched.spec.name]
    raw = data_dir() / "torchvision" / cls_name / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for file_name, path in fetched.paths.items():
        out = raw / file_name.removesuffix(".gz")
        if not out.exists():  # torchvision reads the uncompressed IDX files with download=False
            tmp = out.with_suffix(".tmp")
            with gzip.open(path, "rb") as src, open(tmp, "wb") as dst:
                shutil.copyfileobj(src, dst)
            tmp.replace(out)
    ds = getattr(datasets, cls_name)(str(data_dir() / "torchvision"), train=train, download=False,
                                     transform=transform, target_transform=target_transform)
    ds.copy_label = fetched.label
    return ds


def _cifar10(fetched: Fetched, train: bool, transform, target_transform):
    if fetched.copy.official:
        from torchvision import datasets

        root = data_dir() / "torchvision"
        if not (root / "cifar-10-batches-py" / "batches.meta").exists():
            root.mkdir(parents=True, exist_ok=True)
            with tarfile.open(fetched["cifar-10-python.tar.gz"], "r:gz") as tar:
                extra = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
                tar.extractall(root, **extra)
        ds = datasets.CIFAR10(str(root), train=train, download=False,
                              transform=transform, target_transform=target_transform)
    else:
        arrays = _decoded_jpeg_cifar10(fetched)
        split = "train" if train else "test"
        ds = ArrayImageDataset(arrays[f"{split}_x"], arrays[f"{split}_y"], CIFAR10_CLASSES,
                               transform, target_transform)
    ds.copy_label = fetched.label
    return ds


CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def _decoded_jpeg_cifar10(fetched: Fetched) -> dict[str, np.ndarray]:
    """Decode the mirror's JPEG tarball once into a uint8 .npz cache keyed by the archive's sha256."""
    from PIL import Image
    from .progress import tqdm

    archive = fetched["cifar10-jpeg.tar.gz"]
    cache = data_dir() / "cifar10" / f"cifar10-jpeg-{sha256_of(archive)[:12]}.npz"
    if not cache.exists():
        split_x: dict[str, list] = {"train": [], "test": []}
        split_y: dict[str, list] = {"train": [], "test": []}
        with tarfile.open(archive, "r:gz") as tar:
            for member in tqdm(tar, total=60022, desc="decoding CIFAR-10 JPEGs", leave=False):
                if not member.isfile():
                    continue
                split, cls, _ = member.name.split("/")
                data = tar.extractfile(member).read()
                split_x[split].append(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))
                split_y[split].append(CIFAR10_CLASSES.index(cls))
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".tmp.npz")
        np.savez(tmp, **{f"{s}_x": np.stack(split_x[s]) for s in split_x},
                 **{f"{s}_y": np.asarray(split_y[s], dtype=np.int64) for s in split_y})
        tmp.replace(cache)
    with np.load(cache) as npz:
        return {k: npz[k] for k in npz.files}


class ArrayImageDataset:
    """A torchvision-like dataset over uint8 HWC arrays: `.data`, `.targets`, `.classes`, PIL + transform."""

    def __init__(self, data: np.ndarray, targets: np.ndarray, classes: list[str], transform=None,
                 target_transform=None):
        if data.ndim != 4 or data.dtype != np.uint8 or len(data) != len(targets):
            raise ValueError(f"expected uint8 images (N, H, W, C) and N targets, got {data.shape} {data.dtype} "
                             f"and {len(targets)} targets")
        self.data, self.targets, self.classes = data, [int(t) for t in targets], list(classes)
        self.transform, self.target_transform = transform, target_transform

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int):
        from PIL import Image

        img, target = Image.fromarray(self.data[index]), self.targets[index]
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target


# --------------------------------------------------------------------------- the registry

def _files(urls: tuple[str, ...], entries: list[tuple[str, str, int]]) -> tuple[RemoteFile, ...]:
    return tuple(RemoteFile(n, sha, size, tuple(u + n for u in urls)) for n, sha, size in entries)


_MNIST_URLS = ("https://ossci-datasets.s3.amazonaws.com/mnist/",
               "https://storage.googleapis.com/cvdf-datasets/mnist/")
_MNIST_TEST = [
    ("t10k-images-idx3-ubyte.gz", "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", 1648877),
    ("t10k-labels-idx1-ubyte.gz", "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", 4542),
]
register(DatasetSpec(
    name="mnist",
    homepage="http://yann.lecun.com/exdb/mnist/",
    citation="LeCun, Bottou, Bengio, Haffner (1998). Gradient-based learning applied to document recognition.",
    copies=(
        Copy("official files", official=True, files=_files(_MNIST_URLS, [
            ("train-images-idx3-ubyte.gz", "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", 9912422),
            ("train-labels-idx1-ubyte.gz", "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", 28881),
        ] + _MNIST_TEST)),
        Copy("a copy with the training .gz files recompressed (contents bit-identical to the official files)",
             files=_files((), [
                 ("train-images-idx3-ubyte.gz", "0b367032e93c5d0cea0925647cfdb18614af8ee15f83e6f2fc2ad904a6835971", 9719438),
                 ("train-labels-idx1-ubyte.gz", "1787548bbe0bff1ec2ecdc0ef292b02df999e2d1a6002d27500982c652b17203", 28857),
             ]) + _files(_MNIST_URLS, _MNIST_TEST)),
    ),
))

register(DatasetSpec(
    name="fashion-mnist",
    homepage="https://github.com/zalandoresearch/fashion-mnist",
    citation="Xiao, Rasul, Vollgraf (2017). Fashion-MNIST: a Novel Image Dataset for Benchmarking ML Algorithms.",
    copies=(Copy("official files", official=True, files=_files(
        ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",), [
            ("train-images-idx3-ubyte.gz", "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", 26421880),
            ("train-labels-idx1-ubyte.gz", "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", 29515),
            ("t10k-images-idx3-ubyte.gz", "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", 4422102),
            ("t10k-labels-idx1-ubyte.gz", "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", 5148),
        ])),),
))

register(DatasetSpec(
    name="cifar10",
    homepage="https://www.cs.toronto.edu/~kriz/cifar.html",
    citation="Krizhevsky (2009). Learning Multiple Layers of Features from Tiny Images.",
    copies=(
        Copy("official python archive", official=True, files=(RemoteFile(
            "cifar-10-python.tar.gz", "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce", 170498071,
            ("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",)),)),
        Copy("JPEG copy (quality 75, 4:2:0; lossy)", files=(RemoteFile(
            "cifar10-jpeg.tar.gz", "b2506899a28e9065c0610b505557f0309c3d2a6a1725bb0f34bdecf66bd626dc", 19433553),),
             note="the official images JPEG-compressed, so accuracies are not directly comparable with "
                  "published CIFAR-10 results; the training images are stored sorted by class"),
    ),
))

IMAGE_DATASETS = ("mnist", "fashion-mnist", "cifar10")

# AG_NEWS: the CSVs torchtext downloads. torchtext pins them by md5; train.csv's sha256 and size are the ones
# Hugging Face's ag_news dataset_infos.json publishes beside that md5, test.csv's sha256 was computed from the
# mirror copy, whose decompressed bytes have exactly torchtext's test md5. The offline mirror holds only the
# test split, gzipped.
_AG_URL = "https://raw.githubusercontent.com/mhjabreel/CharCnn_Keras/master/data/ag_news_csv/"
register(DatasetSpec(
    name="ag_news",
    homepage="http://groups.di.unipi.it/~gulli/AG_corpus_of_news_articles.html",
    citation="Zhang, Zhao, LeCun (2015). Character-level Convolutional Networks for Text Classification.",
    copies=(
        Copy("official CSVs (train 120,000 + test 7,600 rows)", official=True, files=(
            RemoteFile("train.csv", "76a0a2d2f92b286371fe4d4044640910a04a803fdd2538e0f3f29a5c6f6b672e", 29470338,
                       (_AG_URL + "train.csv",), md5="b1a00f826fdfbd249f79597b59e1dc12"),
            RemoteFile("test.csv", "521465c2428ed7f02f8d6db6ffdd4b5447c1c701962353eb2c40d548c3c85699", 1857427,
                       (_AG_URL + "test.csv",)),
        )),
        Copy("a copy of the official test split only (7,600 rows)", files=(RemoteFile(
            "test.csv.gz", "3c277beb6ce3dd635407635cb90a7c5ceaf87168fabb3be218e39aa2b097f706", 748824),),
             note="no training split: the notebook splits these 7,600 official test rows itself"),
    ),
))

# GloVe 6B (Wikipedia 2014 + Gigaword 5, 400k words, 50/100/200/300 d): the official zip (822 MB) is pinned by
# the md5 that many loaders agree on. For the 50-d vectors alone, gensim-data's 66 MB release asset
# glove-wiki-gigaword-50.gz is downloaded instead, pinned by the md5 and size of gensim-data's list.json. The
# offline mirror holds the 100,000 most frequent words of the 50-d file, byte-identical to those lines of
# Stanford's glove.6B.50d.txt.
GLOVE_ZIP = "official glove.6B.zip (400,000 words; 50/100/200/300 d)"
GLOVE_50D = "gensim-data glove-wiki-gigaword-50 (glove.6B.50d, 400,000 words)"
GLOVE_TOP100K = "glove.6B.50d, the 100,000 most frequent words only"
register(DatasetSpec(
    name="glove",
    homepage="https://nlp.stanford.edu/projects/glove/",
    citation="Pennington, Socher, Manning (2014). GloVe: Global Vectors for Word Representation.",
    copies=(
        Copy(GLOVE_ZIP, official=True, files=(RemoteFile(
            "glove.6B.zip", None, 862182613, ("https://nlp.stanford.edu/data/glove.6B.zip",
                                              "https://downloads.cs.stanford.edu/nlp/data/glove.6B.zip"),
            md5="056ea991adb4740ac6bf1b6d9b50408b"),)),
        Copy(GLOVE_50D, official=True, files=(RemoteFile(
            "glove-wiki-gigaword-50.gz", None, 69182535,
            ("https://github.com/RaRe-Technologies/gensim-data/releases/download/glove-wiki-gigaword-50/"
             "glove-wiki-gigaword-50.gz",), md5="c289bc5d7f2f02c6dc9f2f9b67641813"),),
             note="glove.6B.50d.txt converted to word2vec text format by gensim-data (a header line, then the same "
                  "400,000 words and vectors)"),
        Copy(GLOVE_TOP100K, files=(RemoteFile(
            "glove.6B.50d.top100k.txt.gz", "598d6fd1faa45733deecce34d52ab3b3c1455e7aac855f58865eebfc55b7c7a3",
            16934705),),
             note="50-d only, first 100,000 of 400,000 words (exact lines of the official file)"),
    ),
))

# Sentiment140 (Go, Bhayani & Huang 2009). The official zip holds the 1.6M-tweet training CSV and the
# 498-tweet manual test CSV (latin-1); its md5 is the one LEAF's loader pins, its sha256 and size the ones
# Hugging Face's sentiment140 dataset_infos.json publishes. The offline mirror has a
# 100,000-tweet text-only excerpt of the training CSV (first 50,000 negatives, last 50,000 positives,
# so the two classes come from different weeks) and the manual test CSV, byte-exact.
register(DatasetSpec(
    name="sentiment140",
    homepage="http://help.sentiment140.com/for-students/",
    citation="Go, Bhayani, Huang (2009). Twitter Sentiment Classification using Distant Supervision.",
    copies=(
        Copy("official trainingandtestdata.zip (1,600,000 training + 498 manual test tweets)", official=True,
             files=(RemoteFile("trainingandtestdata.zip",
                               "004a3772c8a7ff9bbfeb875880f47f0679d93fc63e5cf9cff72d54a8a6162e57", 81363704,
                               ("https://cs.stanford.edu/people/alecmgo/trainingandtestdata.zip",),
                               md5="1647eb110dd2492512e27b9a70d5d1bc"),)),
        Copy("an excerpt of 100,000 training tweets (first 50k negative, last 50k positive) + manual test",
             files=(
                 RemoteFile("excerpt100k_negative_rows1-50000.txt.gz",
                            "73d1c788520ee10f70ef70d3ba4228d5fd2f99a37978a17279905658beabcd97", 1660921),
                 RemoteFile("excerpt100k_positive_last50000.txt.gz",
                            "0386ffaaac3f040691de7a314d9d0c5febd16ea6dffd6a26ae7e4a30a6ecdcf2", 1736174),
                 RemoteFile("testdata.manual.2009.06.14.csv.gz",
                            "53e7153a5398536c6c589e3f0e979d8341b584afd4c950c2ac1f3b2943736b84", 30118),
             ),
             note="not a random sample: negatives are training rows 1-50,000 and positives the last 50,000 of a "
                  "file sorted by label, so cues of when and about what they were written can leak into the labels; "
                  "text only"),
    ),
))

# text8 (Mahoney): the first 10^8 bytes of cleaned English Wikipedia (enwik9, 2006), one line of
# lowercase words. The official zip is pinned by the sha1 GluonNLP's Text8 loader checks. The offline
# mirror holds an exact byte prefix: the first 2,139,748 of its 17,005,207 words (cut at a space).
register(DatasetSpec(
    name="text8",
    homepage="http://mattmahoney.net/dc/textdata.html",
    citation="Mahoney (2006). Large Text Compression Benchmark: text8.",
    copies=(
        Copy("official text8.zip (17,005,207 words)", official=True, files=(RemoteFile(
            "text8.zip", None, 31344016, ("http://mattmahoney.net/dc/text8.zip",),
            sha1="6c70299b93b7e1f927b42cd8f6ac1a31547c7a2e"),)),
        Copy("an exact prefix: the first 2,139,748 of 17,005,207 words (12.5% of text8)", files=(
            RemoteFile("text8_prefix.gz", "c429913c6c361a2f8475bb4d3398fa7b45d99b74f62ccf7fe3dfc308acbd692c",
                       4188519),),
             note="first 12,549,837 bytes only: expect lower analogy scores than published full-text8 runs"),
    ),
))

# Word-analogy and word-similarity test sets as gensim 4.3.3 ships them (byte-identical to the mirror):
# Mikolov et al.'s questions-words.txt (19,544 questions in 14 sections), WordSim-353 (Finkelstein et
# al. 2002; 353 pairs, mean human score 0-10) and SimLex-999 (Hill et al. 2015).
_GENSIM_TEST_DATA = "https://raw.githubusercontent.com/piskvorky/gensim/4.3.3/gensim/test/test_data/"
register(DatasetSpec(
    name="analogy",
    homepage="https://github.com/tmikolov/word2vec",
    citation="Mikolov et al. (2013). Efficient Estimation of Word Representations in Vector Space; "
             "Finkelstein et al. (2002). Placing Search in Context: The Concept Revisited.",
    copies=(
        Copy("questions-words.txt + wordsim353.tsv + simlex999.txt (as shipped with gensim 4.3.3)",
             official=True, files=(
                 RemoteFile("questions-words.txt",
                            "8c29b3332afc46f3fb8be04cb5297bf96f39aa7131272dff57869b4485b22a36", 603955,
                            (_GENSIM_TEST_DATA + "questions-words.txt",)),
                 RemoteFile("wordsim353.tsv",
                            "f92a022fc2537793a15bc3a8c162ebcd74990e033a228bb6388cb71e4c0b1e1d", 7186,
                            (_GENSIM_TEST_DATA + "wordsim353.tsv",)),
                 RemoteFile("simlex999.txt",
                            "d5e0501971478a511430ee880bd0121e94ac701ba86d90544d83e6d2ba3db05d", 18126,
                            (_GENSIM_TEST_DATA + "simlex999.txt",)),
             )),
    ),
))

# Multi30k task 1 (Elliott et al. 2016): 29,000 / 1,014 / 1,000 (test2016) German-English caption pairs,
# the gzipped raw files of the official repository, pinned at the commit the offline mirror was copied from
# (the mirror's files are byte-identical, so one copy serves both).
_MULTI30K_URLS = (
    "https://raw.githubusercontent.com/multi30k/dataset/a3d2e0d26b56f3846f66a952536ffed4e401d05a/data/task1/raw/",
    "https://raw.githubusercontent.com/multi30k/dataset/master/data/task1/raw/",
)
register(DatasetSpec(
    name="multi30k",
    homepage="https://github.com/multi30k/dataset",
    citation="Elliott, Frank, Sima'an, Specia (2016). Multi30K: Multilingual English-German Image Descriptions.",
    copies=(Copy("official task 1 files (train 29,000 / val 1,014 / test2016 1,000 pairs)", official=True,
                 files=_files(_MULTI30K_URLS, [
                     ("train.de.gz", "726e39b2fa9eb9ffb6dc763fb35a179f80fae06ffc5d28b6ace5faa883de28a6", 637044),
                     ("train.en.gz", "d79cfa999dd4c51d2cb42499b6796d5a882c3a8a961923c25a898c90f8bbd56f", 568929),
                     ("val.de.gz", "f0cba2f995189cf5770f29a8a9a537a3ad3f51657ad873405082ff6863a5e75a", 24681),
                     ("val.en.gz", "14f7d25ddd868909a9213e361768460edcacdd6ab9d1e77b92560dc10c10dc28", 21650),
                     ("test_2016_flickr.de.gz",
                      "9204244e408ccb38d2a55cfcd344df15005fc42a07a6e55ca6c52b6ababb8cc8", 22890),
                     ("test_2016_flickr.en.gz",
                      "611d361c6334bc7246101d48097c13cf5c4413c5befc793cc629934359d532d9", 21077),
                 ])),),
))

# eng-fra.txt of PyTorch's "NLP from scratch" seq2seq tutorial (Tatoeba pairs via manythings.org,
# CC-BY 2.0 FR): 135,842 "English<TAB>French" lines. The tutorial ships it inside
# download.pytorch.org/tutorial/data.zip, whose digest nobody pins; the same bytes (git blob dabe1a6e...)
# are committed in the tutorial-data folders below, so the official copy is that file, pinned by sha256.
# The offline mirror holds it gzipped.
register(DatasetSpec(
    name="eng-fra",
    homepage="https://pytorch.org/tutorials/intermediate/seq2seq_translation_tutorial.html",
    citation="Tatoeba Project sentence pairs (manythings.org/anki), as used by the PyTorch seq2seq tutorial.",
    copies=(
        Copy("eng-fra.txt of the PyTorch seq2seq tutorial (135,842 pairs)", official=True, files=(RemoteFile(
            "eng-fra.txt", "6b0f3decdb78600485b58efb541f5a2ab69ba888742ac04180e013084e40de7c", 9541158, (
                "https://raw.githubusercontent.com/rihan08/MachineTranslations/"
                "7f5473c90649891dda80f7c6b7c281538c31df73/data/eng-fra.txt",
                "https://raw.githubusercontent.com/jayeetaghosh/POC/"
                "3450d98b33a8b3a36a98787b21341d87c1de3483/Data/eng-fra.txt",
            )),)),
        Copy("eng-fra.txt gzipped (the same 135,842 pairs, bytes identical once gunzipped)", files=(
            RemoteFile("eng-fra.txt.gz", "288fd5b7fc1431692c9f91c404f6fd0e2ce9b341e6380ac7cb8919ee70ac2744",
                       2809605),)),
    ),
))


# --------------------------------------------------------------------------- pretrained models

# sentence-transformers/all-MiniLM-L6-v2 (BERT, 6 layers, hidden 384, 22.7M parameters, uncased WordPiece), the
# six files transformers needs to fine-tune it, pinned to one revision of the official Hugging Face repository.
# Sizes and sha256s: SOURCES-models.md of the offline mirror (the LFS object id of model.safetensors is its
# sha256). The mirror's files are byte-identical, so one copy serves both.
MINILM_REVISION = "1110a243fdf4706b3f48f1d95db1a4f5529b4d41"
_MINILM_URL = f"https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2/resolve/{MINILM_REVISION}/"
register(DatasetSpec(
    name="all-minilm-l6-v2",
    homepage="https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2",
    citation="Wang et al. (2020). MiniLM: Deep Self-Attention Distillation for Task-Agnostic Compression of "
             "Pre-Trained Transformers; Reimers & Gurevych (2019). Sentence-BERT.",
    copies=(Copy(f"sentence-transformers/all-MiniLM-L6-v2 at revision {MINILM_REVISION[:10]}", official=True,
                 files=_files((_MINILM_URL,), [
                     ("config.json", "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41", 612),
                     ("model.safetensors", "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
                      90868376),
                     ("special_tokens_map.json",
                      "303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3", 112),
                     ("tokenizer.json", "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037", 466247),
                     ("tokenizer_config.json",
                      "acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b", 350),
                     ("vocab.txt", "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3", 231508),
                 ])),),
))

PRETRAINED_MODELS = ("all-minilm-l6-v2",)


def pretrained_dir(name: str = "all-minilm-l6-v2", verbose: bool = True) -> Path:
    """The folder holding every file of pretrained model `name`, verified by size and sha256, for
    `transformers.AutoModel.from_pretrained(folder)` / `AutoTokenizer.from_pretrained(folder)`.

    Same lookup as the datasets (cache, then `$DATA_MIRROR`, then a download into the cache). When the files
    lie in more than one folder (some cached, some in the mirror), the missing ones are linked (or copied)
    into the cache folder, so that one folder always has them all; nothing is ever fetched from a model hub
    by transformers itself. The returned path formats (`f"{folder}"`) without the machine's file system.
    """
    if name not in PRETRAINED_MODELS:
        raise ValueError(f"{name!r} is not a registered pretrained model; known: {', '.join(PRETRAINED_MODELS)}")
    got = fetch(name, verbose=verbose)
    folders = {p.parent for p in got.paths.values()}
    if len(folders) == 1:
        return ShownPath(folders.pop())
    target = data_dir() / name
    target.mkdir(parents=True, exist_ok=True)
    for file_name, path in got.paths.items():
        dest = target / file_name
        if path.parent == target:
            continue
        if dest.exists() or dest.is_symlink():
            dest.unlink()
        try:
            dest.symlink_to(path.resolve())
        except OSError:          # e.g. Windows without symlink rights
            shutil.copy2(path, dest)
    return ShownPath(target)
