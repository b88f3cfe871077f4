"""The data registry: lookup order, download + checksum + .part resume, offline errors, real mirror copies."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from helpers import data

PAYLOAD = bytes(range(256)) * 400  # 102,400 bytes
SHA = hashlib.sha256(PAYLOAD).hexdigest()
MIRROR_ONLY = b"a lossy re-encoding that only the mirror holds"


def toy_spec(urls=("http://127.0.0.1:9/toy.bin",), name="toy"):
    return data.DatasetSpec(
        name=name,
        homepage="https://example.org/toy",
        copies=(
            data.Copy("official file", official=True,
                      files=(data.RemoteFile("toy.bin", SHA, len(PAYLOAD), tuple(urls)),)),
            data.Copy("mirror-only copy", note="lossy",
                      files=(data.RemoteFile("toy-lossy.bin", hashlib.sha256(MIRROR_ONLY).hexdigest()),)),
        ),
    )


@pytest.fixture
def toy(isolated):
    """Registers 'toy' with an unreachable URL; yields a function to re-register with other URLs."""
    def make(urls=("http://127.0.0.1:9/toy.bin",)):
        return data.register(toy_spec(urls), replace=True)
    make()
    yield make
    data.REGISTRY.pop("toy", None)


def cache(name="toy") -> Path:
    return Path(os.environ["DATA_DIR"]) / name


def test_unknown_dataset_lists_registered_names():
    with pytest.raises(ValueError, match="unknown dataset 'nope'.*cifar10.*fashion-mnist.*mnist"):
        data.fetch("nope")


def test_register_rejects_duplicates_and_bad_checksums(toy):
    with pytest.raises(ValueError, match="already registered"):
        data.register(toy_spec())
    bad = data.DatasetSpec("bad", "", (data.Copy("x", (data.RemoteFile("f", "XYZ"),)),))
    with pytest.raises(ValueError, match="64 lowercase hex"):
        data.register(bad)


def test_offline_error_names_dataset_url_file_and_folder(toy):
    with pytest.raises(data.DataUnavailable) as err:
        data.fetch("toy")
    msg = str(err.value)
    assert "'toy'" in msg and "toy.bin" in msg and "http://127.0.0.1:9/toy.bin" in msg
    assert str(cache()) in msg and "download failed" in msg
    assert err.value.__cause__ is None and err.value.__suppress_context__  # one clear error, no chain


def test_offline_error_points_at_a_corrupt_local_file(toy):
    cache().mkdir(parents=True)
    (cache() / "toy.bin").write_bytes(b"truncated")
    with pytest.raises(data.DataUnavailable, match=r"toy.bin exists but its size or sha256 differs: replace it"):
        data.fetch("toy")


def test_data_offline_env_refuses_to_download(toy, file_server, monkeypatch):
    file_server.files["/toy.bin"] = PAYLOAD
    toy([file_server.url + "/toy.bin"])
    monkeypatch.setenv("DATA_OFFLINE", "1")
    with pytest.raises(data.DataUnavailable, match="DATA_OFFLINE is set"):
        data.fetch("toy")
    assert file_server.requests == []


def test_mirror_is_used_and_reported(toy, tmp_path, monkeypatch, capsys):
    mirror = tmp_path / "mirror"
    (mirror / "toy").mkdir(parents=True)
    (mirror / "toy" / "toy.bin").write_bytes(PAYLOAD)
    monkeypatch.setenv("DATA_MIRROR", str(mirror))
    got = data.fetch("toy")
    assert got["toy.bin"] == mirror / "toy" / "toy.bin"
    assert got.sources == {"toy.bin": "mirror"} and got.copy.official
    assert "Data: toy: official file" in capsys.readouterr().out
    data.fetch("toy")                      # a second split of the same copy: the line is not printed again
    assert "Data:" not in capsys.readouterr().out


def test_cache_wins_over_mirror(toy, tmp_path, monkeypatch):
    (tmp_path / "mirror" / "toy").mkdir(parents=True)
    (tmp_path / "mirror" / "toy" / "toy.bin").write_bytes(PAYLOAD)
    cache().mkdir(parents=True)
    (cache() / "toy.bin").write_bytes(PAYLOAD)
    monkeypatch.setenv("DATA_MIRROR", str(tmp_path / "mirror"))
    assert data.fetch("toy", verbose=False).sources == {"toy.bin": "cache"}


def test_mirror_only_copy_is_labelled(toy, tmp_path, monkeypatch, capsys):
    (tmp_path / "mirror" / "toy").mkdir(parents=True)
    (tmp_path / "mirror" / "toy" / "toy-lossy.bin").write_bytes(MIRROR_ONLY)
    monkeypatch.setenv("DATA_MIRROR", str(tmp_path / "mirror"))
    got = data.fetch("toy")
    assert not got.copy.official and got.label == "toy: mirror-only copy"
    assert "Data: toy: mirror-only copy — lossy" in capsys.readouterr().out


def test_corrupt_local_file_is_ignored_and_replaced_by_download(toy, file_server):
    cache().mkdir(parents=True)
    (cache() / "toy.bin").write_bytes(b"truncated")
    file_server.files["/toy.bin"] = PAYLOAD
    toy([file_server.url + "/toy.bin"])
    got = data.fetch("toy", verbose=False)
    assert got.sources == {"toy.bin": "download"}
    assert got["toy.bin"].read_bytes() == PAYLOAD


def test_download_verifies_and_renames_part_file(toy, file_server):
    file_server.files["/toy.bin"] = PAYLOAD
    toy([file_server.url + "/toy.bin"])
    got = data.fetch("toy", verbose=False)
    assert got["toy.bin"] == cache() / "toy.bin" and got["toy.bin"].read_bytes() == PAYLOAD
    assert not (cache() / "toy.bin.part").exists()
    data.fetch("toy", verbose=False)  # second call: served from the cache, no new request
    assert len(file_server.requests) == 1


def test_second_url_is_tried_when_first_fails(toy, file_server):
    file_server.files["/b/toy.bin"] = PAYLOAD
    toy([file_server.url + "/missing/toy.bin", file_server.url + "/b/toy.bin"])
    assert data.fetch("toy", verbose=False).sources == {"toy.bin": "download"}
    assert [p for p, _ in file_server.requests] == ["/missing/toy.bin", "/b/toy.bin"]


def test_checksum_mismatch_deletes_part_file_and_says_so(toy, file_server):
    file_server.files["/toy.bin"] = b"x" * len(PAYLOAD)
    toy([file_server.url + "/toy.bin"])
    with pytest.raises(data.ChecksumError, match=r"(?s)partial file .*toy.bin.part was deleted.*/toy.bin: sha256 "
                                                 r"[0-9a-f]{64}, expected " + SHA):
        data.fetch("toy", verbose=False)
    assert not (cache() / "toy.bin.part").exists() and not (cache() / "toy.bin").exists()


def test_interrupted_download_keeps_part_and_resumes_with_range(toy, file_server):
    file_server.files["/toy.bin"] = PAYLOAD
    file_server.cut_after["/toy.bin"] = 30_000
    toy([file_server.url + "/toy.bin"])
    with pytest.raises(data.DataUnavailable, match="stopped at 30000 of 102400 bytes"):
        data.fetch("toy", verbose=False)
    assert (cache() / "toy.bin.part").stat().st_size == 30_000
    got = data.fetch("toy", verbose=False)
    assert got["toy.bin"].read_bytes() == PAYLOAD
    assert file_server.requests[-1] == ("/toy.bin", "bytes=30000-")


def test_resume_restarts_when_server_ignores_range(toy, file_server):
    cache().mkdir(parents=True)
    (cache() / "toy.bin.part").write_bytes(b"garbage" * 10)
    file_server.files["/toy.bin"] = PAYLOAD
    file_server.ignore_range = True
    toy([file_server.url + "/toy.bin"])
    assert data.fetch("toy", verbose=False)["toy.bin"].read_bytes() == PAYLOAD


def test_oversized_part_file_is_discarded(toy, file_server):
    cache().mkdir(parents=True)
    (cache() / "toy.bin.part").write_bytes(b"z" * (len(PAYLOAD) + 5))
    file_server.files["/toy.bin"] = PAYLOAD
    toy([file_server.url + "/toy.bin"])
    assert data.fetch("toy", verbose=False)["toy.bin"].read_bytes() == PAYLOAD
    assert file_server.requests == [("/toy.bin", None)]


def test_image_dataset_rejects_non_image_names(toy, tmp_path, monkeypatch):
    (tmp_path / "mirror" / "toy").mkdir(parents=True)
    (tmp_path / "mirror" / "toy" / "toy.bin").write_bytes(PAYLOAD)
    monkeypatch.setenv("DATA_MIRROR", str(tmp_path / "mirror"))
    with pytest.raises(ValueError, match="not an image dataset"):
        data.image_dataset("toy")


# ---------------------------------------------------------------- the real registry against the offline mirror

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
MIRROR = Path(os.environ.get("DATA_MIRROR") or SHARED)
needs_mirror = pytest.mark.skipif(not (MIRROR / "mnist").is_dir(), reason=f"no offline mirror at {MIRROR}")


@needs_mirror
def test_mnist_from_mirror_through_torchvision(isolated, monkeypatch):
    monkeypatch.setenv("DATA_MIRROR", str(MIRROR))
    test = data.image_tensors("mnist", train=False)
    assert test.images.shape == (10000, 1, 28, 28) and str(test.images.dtype) == "torch.uint8"
    assert test.labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert test.labels.bincount().tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert test.copy.startswith("mnist: a copy with the training .gz files recompressed")  # train .gz are recompressed in the mirror


@needs_mirror
def test_fashion_mnist_mirror_files_are_the_official_ones(isolated, monkeypatch):
    monkeypatch.setenv("DATA_MIRROR", str(MIRROR))
    got = data.fetch("fashion-mnist", verbose=False)
    assert got.copy.official and set(got.sources.values()) == {"mirror"}
    ds = data.image_dataset("fashion-mnist", train=True)
    assert len(ds) == 60000 and ds.targets[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]


@needs_mirror
def test_cifar10_falls_back_to_the_labelled_jpeg_copy(isolated, monkeypatch):
    monkeypatch.setenv("DATA_MIRROR", str(MIRROR))
    got = data.fetch("cifar10", verbose=False)
    assert not got.copy.official and "JPEG" in got.label and "sorted by class" in got.copy.note


def test_array_image_dataset_validates_and_applies_transforms():
    import numpy as np

    with pytest.raises(ValueError, match="uint8 images"):
        data.ArrayImageDataset(np.zeros((2, 4, 4), np.uint8), np.zeros(2), ["a"])
    ds = data.ArrayImageDataset(np.full((2, 4, 4, 3), 7, np.uint8), np.array([1, 0]), ["a", "b"],
                                transform=lambda img: np.asarray(img).sum(), target_transform=lambda t: -t)
    assert len(ds) == 2 and ds[0] == (7 * 48, -1) and ds.classes == ["a", "b"]


def test_official_cifar10_archive_is_extracted_for_torchvision(isolated, tmp_path, monkeypatch):
    """With the official archive present, cifar10 goes through torchvision's CIFAR10 (stubbed here:
    the real class checks the md5 of the real batches, which a unit test cannot ship)."""
    import io
    import tarfile

    import torchvision

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("cifar-10-batches-py/batches.meta")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"meta"))
    archive = buf.getvalue()
    (tmp_path / "mirror" / "cifar10").mkdir(parents=True)
    (tmp_path / "mirror" / "cifar10" / "cifar-10-python.tar.gz").write_bytes(archive)
    monkeypatch.setenv("DATA_MIRROR", str(tmp_path / "mirror"))
    real = data.REGISTRY["cifar10"]
    official = data.Copy("official python archive", official=True, files=(
        data.RemoteFile("cifar-10-python.tar.gz", hashlib.sha256(archive).hexdigest(), len(archive)),))
    monkeypatch.setitem(data.REGISTRY, "cifar10", data.DatasetSpec("cifar10", real.homepage, (official,) + real.copies[1:]))
    calls = []

    class StubCIFAR10:
        def __init__(self, root, train, download, transform, target_transform):
            calls.append((root, train, download))

    monkeypatch.setattr(torchvision.datasets, "CIFAR10", StubCIFAR10)
    ds = data.image_dataset("cifar10", train=False)
    root = Path(os.environ["DATA_DIR"]) / "torchvision"
    assert calls == [(str(root), False, False)]
    assert (root / "cifar-10-batches-py" / "batches.meta").read_bytes() == b"meta"
    assert ds.copy_label == "cifar10: official python archive"


def test_checksum_mismatch_falls_through_to_the_next_url(toy, file_server, capsys):
    """A soft-404 (an error page served with status 200) from one URL must not stop the file's next URL."""
    file_server.files["/a/toy.bin"] = b"<html>Not found</html>"
    file_server.files["/b/toy.bin"] = PAYLOAD
    toy([file_server.url + "/a/toy.bin", file_server.url + "/b/toy.bin"])
    got = data.fetch("toy")
    assert got["toy.bin"].read_bytes() == PAYLOAD and [p for p, _ in file_server.requests] == ["/a/toy.bin", "/b/toy.bin"]
    out = capsys.readouterr().out
    assert f"/a/toy.bin has sha256 " in out and "trying the next URL" in out
    assert "[data] downloading toy/toy.bin (0.1 MB) into" in out    # the size is said before the download starts


def test_copies_argument_picks_which_copy_to_download(isolated, file_server):
    small, big = b"small" * 10, b"big" * 1000
    spec = data.DatasetSpec(name="toy2", homepage="", copies=(
        data.Copy("big archive", official=True, files=(data.RemoteFile(
            "big.zip", hashlib.sha256(big).hexdigest(), len(big), (file_server.url + "/big.zip",)),)),
        data.Copy("small file", official=True, files=(data.RemoteFile(
            "small.gz", hashlib.sha256(small).hexdigest(), len(small), (file_server.url + "/small.gz",)),)),
    ))
    file_server.files.update({"/big.zip": big, "/small.gz": small})
    data.register(spec, replace=True)
    try:
        assert data.fetch("toy2", verbose=False, copies=("small file", "big archive")).copy.label == "small file"
        assert [p for p, _ in file_server.requests] == ["/small.gz"]
        assert data.fetch("toy2", verbose=False).copy.label == "small file"    # local now, no new download
        assert data.fetch("toy2", verbose=False, copies=("big archive",)).copy.label == "big archive"
        with pytest.raises(ValueError, match="has no copy labelled"):
            data.fetch("toy2", copies=("nope",))
    finally:
        data.REGISTRY.pop("toy2", None)


def test_published_sizes_and_sha256s_are_registered():
    files = {f.name: f for spec in data.REGISTRY.values() for c in spec.copies for f in c.files}
    assert files["train.csv"].size == 29_470_338 and files["train.csv"].checksum == (
        "sha256", "76a0a2d2f92b286371fe4d4044640910a04a803fdd2538e0f3f29a5c6f6b672e")
    assert files["trainingandtestdata.zip"].size == 81_363_704 and files["trainingandtestdata.zip"].checksum == (
        "sha256", "004a3772c8a7ff9bbfeb875880f47f0679d93fc63e5cf9cff72d54a8a6162e57")
    assert files["glove.6B.zip"].size == 862_182_613
    assert files["glove-wiki-gigaword-50.gz"].checksum == ("md5", "c289bc5d7f2f02c6dc9f2f9b67641813")


@needs_mirror
def test_pretrained_model_folder_from_the_mirror(isolated, monkeypatch, capsys):
    monkeypatch.setenv("DATA_MIRROR", str(MIRROR))
    folder = data.pretrained_dir("all-minilm-l6-v2")
    assert folder == MIRROR / "all-minilm-l6-v2"
    assert {p.name for p in folder.iterdir()} >= {"config.json", "model.safetensors", "tokenizer.json",
                                                  "tokenizer_config.json", "special_tokens_map.json", "vocab.txt"}
    assert "all-MiniLM-L6-v2 at revision 1110a243fd" in capsys.readouterr().out
    spec = data.get_spec("all-minilm-l6-v2")
    assert all(f.urls[0].startswith("https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2/resolve/"
                                    "1110a243fdf4706b3f48f1d95db1a4f5529b4d41/") for f in spec.copies[0].files)


@needs_mirror
def test_pretrained_model_corrupt_cached_file_is_skipped_and_folder_is_completed(isolated, monkeypatch):
    """A corrupt file in the cache is not used: the mirror's copy is, and the one folder returned has all six files
    (the good cached file and links to the mirror's)."""
    monkeypatch.setenv("DATA_MIRROR", str(MIRROR))
    cached = Path(os.environ["DATA_DIR"]) / "all-minilm-l6-v2"
    cached.mkdir(parents=True)
    (cached / "config.json").write_bytes((MIRROR / "all-minilm-l6-v2" / "config.json").read_bytes())
    (cached / "vocab.txt").write_text("[PAD]\n")                       # corrupt: wrong size and sha256
    folder = data.pretrained_dir("all-minilm-l6-v2", verbose=False)
    assert folder == cached
    assert data.sha256_of(folder / "vocab.txt") == "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"
    assert all(data.sha256_of(folder / f.name) == f.sha256 for f in data.get_spec("all-minilm-l6-v2").copies[0].files)


def test_pretrained_model_missing_everywhere_names_the_files(isolated, monkeypatch):
    monkeypatch.setenv("DATA_OFFLINE", "1")
    with pytest.raises(data.DataUnavailable, match=r"model.safetensors .*huggingface.co.*1110a243"):
        data.pretrained_dir("all-minilm-l6-v2")
    with pytest.raises(ValueError, match="not a registered pretrained model"):
        data.pretrained_dir("bert-base-uncased")
