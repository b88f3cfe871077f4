"""helpers.text: tokenizer, vocabulary, stratified split, AG_NEWS / GloVe loaders; md5-pinned downloads."""
from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

from conftest import sentiment140_row
from helpers import data, text

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
MIRROR = Path(os.environ.get("DATA_MIRROR") or SHARED)
needs_mirror = pytest.mark.skipif(not (MIRROR / "ag_news").is_dir(), reason=f"no offline mirror at {MIRROR}")


@contextlib.contextmanager
def official_copy_replaced(name, files):
    """Register `files` as dataset `name`'s official copy (its other copies kept) for the with-block."""
    spec = data.get_spec(name)
    official = data.Copy(spec.copies[0].label, tuple(files), official=True)
    data.register(data.DatasetSpec(spec.name, spec.homepage, (official,) + spec.copies[1:]), replace=True)
    try:
        yield
    finally:
        data.register(spec, replace=True)


def test_tokenize_lowercases_and_splits_punctuation():
    assert text.tokenize("Wall St. Bears (Reuters) don't 10-year $5!") == [
        "wall", "st", ".", "bears", "(", "reuters", ")", "don't", "10-year", "$", "5", "!"]
    assert text.tokenize("") == []
    with pytest.raises(ValueError, match="expects a str"):
        text.tokenize(["a", "list"])


def test_vocab_orders_by_count_then_alphabet_and_maps_unknowns():
    vocab = text.Vocab.build([["b", "a", "c"], ["a", "b"], ["a", "d"]], min_count=2)
    assert vocab.itos == ["<pad>", "<unk>", "a", "b"] and vocab.pad_index == 0 and vocab.unk_index == 1
    assert vocab.encode(["b", "zzz", "a"]) == [3, 1, 2] and vocab.decode([2, 3]) == ["a", "b"]
    assert vocab.counts == {"a": 3, "b": 2} and "a" in vocab and "c" not in vocab
    assert text.Vocab.build([["x", "y"]], max_size=1).itos == ["<pad>", "<unk>", "x"]


def test_vocab_rejects_bad_input():
    with pytest.raises(ValueError, match="min_count"):
        text.Vocab.build([["a"]], min_count=0)
    with pytest.raises(ValueError, match="tokenize it first"):
        text.Vocab.build(["a sentence"])
    with pytest.raises(ValueError, match="unique"):
        text.Vocab(["<pad>", "<unk>", "a", "a"])
    no_unk = text.Vocab.build([["a"]], specials=("<pad>",))
    with pytest.raises(KeyError):
        no_unk.encode(["b"])


def test_stratified_split_keeps_class_mix_is_seeded_and_disjoint():
    labels = np.repeat([0, 1, 2, 3], [400, 400, 100, 100])
    parts = text.stratified_split(labels, [0.7, 0.1, 0.2], seed=3)
    assert [len(p) for p in parts] == [700, 100, 200]
    assert len(np.unique(np.concatenate(parts))) == len(labels)
    for p, frac in zip(parts, [0.7, 0.1, 0.2]):
        np.testing.assert_array_equal(np.bincount(labels[p]), np.round(np.array([400, 400, 100, 100]) * frac))
    again = text.stratified_split(labels, [0.7, 0.1, 0.2], seed=3)
    assert all((a == b).all() for a, b in zip(parts, again))
    other = text.stratified_split(labels, [0.7, 0.1, 0.2], seed=4)
    assert not (parts[0] == other[0]).all()


@pytest.mark.parametrize("fractions", [[1.0], [0.5, 0.6], [0.5, 0.0, 0.5]])
def test_stratified_split_rejects_bad_fractions(fractions):
    with pytest.raises(ValueError, match="fractions"):
        text.stratified_split([0, 1, 0, 1], fractions)


def test_clean_ag_news_undoes_its_escapes():
    raw = r"Oil #36;10 \barrel &lt;b&gt;up&lt;/b&gt; it #39;s quot;big quot; AT amp;T"
    assert text.clean_ag_news(raw) == 'Oil $10 barrel up it \'s "big " AT &T'


@needs_mirror
def test_ag_news_mirror_copy_is_the_labelled_test_split(isolated, monkeypatch):
    monkeypatch.setenv("DATA_MIRROR", str(MIRROR))
    got = text.ag_news(verbose=False)
    assert not got.complete and list(got.splits) == ["test"]
    assert got.copy == "ag_news: a copy of the official test split only (7,600 rows)"
    texts, labels = got.splits["test"]
    assert len(texts) == 7600 and np.bincount(labels).tolist() == [1900] * 4
    assert texts[0] == ("Fears for T N pension after talks. Unions representing workers at Turner Newall say they "
                        "are 'disappointed' after talks with stricken parent firm Federal Mogul.")
    assert got.classes == ["World", "Sports", "Business", "Sci/Tech"]


def test_ag_news_official_csvs_are_read_with_both_splits(isolated):
    folder = Path(os.environ["DATA_DIR"]) / "ag_news"
    folder.mkdir(parents=True)
    rows = b'"3","Title","Body one."\n"1","Other title?","Two"\n'
    for name in ("train.csv", "test.csv"):
        (folder / name).write_bytes(rows)
    fake = [data.RemoteFile(name, hashlib.sha256(rows).hexdigest(), len(rows)) for name in ("train.csv", "test.csv")]
    with official_copy_replaced("ag_news", fake):
        got = text.ag_news(verbose=False)
    assert got.complete and got.splits["train"][0] == ["Title. Body one.", "Other title? Two"]
    assert got.splits["train"][1].tolist() == [2, 0]


@pytest.mark.skipif(not (MIRROR / "glove").is_dir(), reason=f"no offline mirror at {MIRROR}")
def test_glove_mirror_copy_and_vocab_lookup(isolated, monkeypatch):
    monkeypatch.setenv("DATA_MIRROR", str(MIRROR))
    vectors = text.glove(max_words=1000, verbose=False)
    assert vectors.vectors.shape == (1000, 50) and vectors.words[:3] == ["the", ",", "."]
    vocab = text.Vocab.build([["the", "qqqzzz"]])
    rows, found = vectors.lookup(vocab)
    assert found.tolist() == [False, False, False, True] and rows.shape == (4, 50)  # qqqzzz sorts first
    np.testing.assert_array_equal(rows[3], vectors.vectors[0])
    monkeypatch.setenv("DATA_OFFLINE", "1")
    with pytest.raises(data.DataUnavailable, match="missing glove.6B.zip"):   # 100-d needs the official zip
        text.glove(dim=100, verbose=False)
    with pytest.raises(data.DataUnavailable, match="DATA_OFFLINE is set"):   # so do all 400,000 words
        text.glove(max_words=None, verbose=False)
    with pytest.raises(ValueError, match="dim 50, 100, 200 or 300"):
        text.glove(dim=64, verbose=False)


def test_md5_pinned_file_downloads_and_is_verified(isolated, file_server):
    payload = b"pinned upstream by md5 only" * 100
    md5 = hashlib.md5(payload).hexdigest()
    file_server.files["/f.csv"] = payload
    data.register(data.DatasetSpec("md5toy", "", (data.Copy("official", official=True, files=(
        data.RemoteFile("f.csv", None, None, (file_server.url + "/f.csv",), md5=md5),)),)), replace=True)
    try:
        got = data.fetch("md5toy", verbose=False)
        assert got["f.csv"].read_bytes() == payload and got.sources == {"f.csv": "download"}
        file_server.files["/f.csv"] = b"tampered"
        got["f.csv"].unlink()
        with pytest.raises(data.ChecksumError, match=f"f.csv: md5 [0-9a-f]{{32}}, expected {md5}"):
            data.fetch("md5toy", verbose=False)
    finally:
        data.REGISTRY.pop("md5toy", None)


def test_register_needs_a_valid_sha256_or_md5():
    with pytest.raises(ValueError, match="give sha256, or sha1/md5"):
        data.register(data.DatasetSpec("nochk", "", (data.Copy("x", (data.RemoteFile("f", None),)),)))
    with pytest.raises(ValueError, match="md5 must be 32 lowercase hex"):
        data.register(data.DatasetSpec("badmd5", "", (data.Copy("x", (data.RemoteFile("f", None, md5="ab"),)),)))


@pytest.mark.skipif(not (MIRROR / "sentiment140").is_dir(), reason=f"no offline mirror at {MIRROR}")
def test_sentiment140_mirror_excerpt_is_labelled_and_keeps_only_polar_manual_rows(isolated, monkeypatch):
    monkeypatch.setenv("DATA_MIRROR", str(MIRROR))
    got = text.sentiment140(verbose=False)
    assert not got.complete and got.copy.startswith("sentiment140: an excerpt of 100,000 training tweets")
    texts, labels = got.splits["train"]
    assert len(texts) == 100_000 and labels.tolist()[:1] == [0] and np.bincount(labels).tolist() == [50_000] * 2
    manual_texts, manual_labels = got.splits["manual_test"]
    assert np.bincount(manual_labels).tolist() == [177, 182]  # the 139 neutral rows are dropped
    assert manual_texts[0].startswith("@stellargirl I loooooooovvvvvveee my Kindle2")
    assert got.classes == ["negative", "positive"]


def test_sha1_pinned_file_downloads_and_is_verified(isolated, file_server):
    payload = b"pinned upstream by sha1 only (GluonNLP pins text8.zip that way)" * 50
    sha1 = hashlib.sha1(payload).hexdigest()
    file_server.files["/t.zip"] = payload
    data.register(data.DatasetSpec("sha1toy", "", (data.Copy("official", official=True, files=(
        data.RemoteFile("t.zip", None, len(payload), (file_server.url + "/t.zip",), sha1=sha1),)),)), replace=True)
    try:
        assert data.get_spec("sha1toy").copies[0].files[0].checksum == ("sha1", sha1)
        got = data.fetch("sha1toy", verbose=False)
        assert got["t.zip"].read_bytes() == payload
        file_server.files["/t.zip"] = b"x" * len(payload)
        got["t.zip"].unlink()
        with pytest.raises(data.ChecksumError, match=f"sha1 [0-9a-f]{{40}}, expected {sha1}"):
            data.fetch("sha1toy", verbose=False)
    finally:
        data.REGISTRY.pop("sha1toy", None)
    with pytest.raises(ValueError, match="sha1 must be 40 lowercase hex"):
        data.register(data.DatasetSpec("badsha1", "", (data.Copy("x", (data.RemoteFile("f", None, sha1="ab"),)),)))


def test_text8_official_zip_is_read_whole(isolated):
    import zipfile

    folder = Path(os.environ["DATA_DIR"]) / "text8"
    folder.mkdir(parents=True)
    with zipfile.ZipFile(folder / "text8.zip", "w") as zf:
        zf.writestr("text8", " anarchism originated as a term")
    raw = (folder / "text8.zip").read_bytes()
    fake = data.RemoteFile("text8.zip", None, len(raw), (), sha1=hashlib.sha1(raw).hexdigest())
    with official_copy_replaced("text8", [fake]):
        got = text.text8(verbose=False)
    assert got.complete and got.text == " anarchism originated as a term"
    assert got.describe().endswith("31 characters, 5 words")


@pytest.mark.skipif(not (MIRROR / "text8").is_dir(), reason=f"no offline mirror at {MIRROR}")
def test_text8_mirror_prefix_is_labelled_partial(isolated, monkeypatch):
    monkeypatch.setenv("DATA_MIRROR", str(MIRROR))
    got = text.text8(verbose=False)
    assert not got.complete and "first 2,139,748 of 17,005,207 words" in got.copy
    assert len(got.text) == 12_549_837 and got.text.startswith(" anarchism originated as a term of abuse")
    assert got.describe().endswith("(partial)")


@pytest.mark.skipif(not (MIRROR / "analogy").is_dir(), reason=f"no offline mirror at {MIRROR}")
def test_analogy_and_similarity_sets_from_the_mirror(isolated, monkeypatch):
    monkeypatch.setenv("DATA_MIRROR", str(MIRROR))
    questions = text.analogy_questions(verbose=False)
    assert len(questions.questions) == 19_544 and len(set(questions.sections)) == 14
    assert questions.questions[0] == ("athens", "greece", "baghdad", "iraq")
    assert int(questions.semantic.sum()) == 8_869  # the 5 semantic sections; 10,675 syntactic
    pairs, scores = text.similarity_pairs("wordsim353", verbose=False)
    assert len(pairs) == 353 and pairs[0] == ("love", "sex") and scores[0] == pytest.approx(6.77)
    assert len(text.similarity_pairs("simlex999", verbose=False)[0]) == 999
    with pytest.raises(ValueError, match="must be one of"):
        text.similarity_pairs("men3000", verbose=False)


def test_analogy_file_with_a_bad_line_names_it(isolated):
    folder = Path(os.environ["DATA_DIR"]) / "analogy"
    folder.mkdir(parents=True)
    contents = {"questions-words.txt": b": family\nboy girl brother sister\nking queen prince\n",
                "wordsim353.tsv": b"# c\na\tb\t1.0\n", "simlex999.txt": b"# c\na\tb\t2.0\n"}
    for name, raw in contents.items():
        (folder / name).write_bytes(raw)
    fake = [data.RemoteFile(n, hashlib.sha256(raw).hexdigest(), len(raw)) for n, raw in contents.items()]
    with official_copy_replaced("analogy", fake):
        with pytest.raises(ValueError, match="line 3: expected 4 words"):
            text.analogy_questions(verbose=False)
        assert text.similarity_pairs("wordsim353", verbose=False)[0] == [("a", "b")]


@pytest.mark.skipif(not (MIRROR / "multi30k").is_dir(), reason=f"no offline mirror at {MIRROR}")
def test_multi30k_from_the_mirror_has_the_official_split_sizes(isolated, monkeypatch):
    monkeypatch.setenv("DATA_MIRROR", str(MIRROR))
    got = text.multi30k(verbose=False)
    assert {k: len(v[0]) for k, v in got.splits.items()} == {"train": 29_000, "val": 1_014, "test": 1_000}
    assert all(len(src) == len(tgt) for src, tgt in got.splits.values())
    assert got.splits["train"][1][0] == "Two young, White males are outside near many bushes."
    assert got.describe().startswith("multi30k: official task 1 files") and "de→en" in got.describe()
    reverse = text.multi30k("en", "de", verbose=False)
    assert reverse.splits["val"][0] == got.splits["val"][1]
    with pytest.raises(ValueError, match="source/target must be 'de'/'en'"):
        text.multi30k("de", "fr", verbose=False)


@pytest.mark.skipif(not (MIRROR / "eng-fra").is_dir(), reason=f"no offline mirror at {MIRROR}")
def test_eng_fra_mirror_copy_has_every_tutorial_pair(isolated, monkeypatch):
    monkeypatch.setenv("DATA_MIRROR", str(MIRROR))
    pairs = text.eng_fra(verbose=False)
    assert len(pairs) == 135_842 and pairs[0] == ("Go.", "Va !")


def test_eng_fra_official_file_is_read_and_a_bad_line_is_named(isolated):
    folder = Path(os.environ["DATA_DIR"]) / "eng-fra"
    folder.mkdir(parents=True)
    good, bad = "Go.\tVa !\nRun!\tCours\u202f!\n".encode(), b"Go.\tVa !\nno tab here\n"
    for raw, check in ((good, None), (bad, "line 2: expected 'English<TAB>French'")):
        (folder / "eng-fra.txt").write_bytes(raw)
        fake = [data.RemoteFile("eng-fra.txt", hashlib.sha256(raw).hexdigest(), len(raw))]
        with official_copy_replaced("eng-fra", fake):
            if check is None:
                assert text.eng_fra(verbose=False) == [("Go.", "Va !"), ("Run!", "Cours\u202f!")]
            else:
                with pytest.raises(ValueError, match=check):
                    text.eng_fra(verbose=False)


def test_sentiment140_official_archive_is_read_as_latin1_with_polarity_mapped(fake_sentiment140):
    row = sentiment140_row
    fake_sentiment140(row(0, "sad caf\xe9") + row(4, 'a ""quoted"" word') + row(4, "yay"),
                      row(4, "good") + row(2, "neutral") + row(0, "bad"))
    got = text.sentiment140(verbose=False)
    assert got.complete and got.classes == ["negative", "positive"]
    texts, labels = got.splits["train"]
    assert texts == ["sad caf\xe9", 'a "quoted" word', "yay"] and labels.tolist() == [0, 1, 1]
    manual_texts, manual_labels = got.splits["manual_test"]
    assert manual_texts == ["good", "bad"] and manual_labels.tolist() == [1, 0]   # the neutral row is dropped


def test_sentiment140_rejects_rows_without_six_fields():
    with pytest.raises(ValueError, match="6 fields"):
        text._read_sentiment140_csv(b'"0","1","text only"\n')


def test_glove_reads_gensim_datas_50d_file(isolated):
    """The 66 MB glove-wiki-gigaword-50.gz (word2vec text format: a "count dim" header line) is read like the zip."""
    import gzip

    lines = ["the " + " ".join(["0.5"] * 50), ", " + " ".join(["-1.25"] * 50), "queen " + " ".join(["2"] * 50)]
    raw = gzip.compress(("3 50\n" + "\n".join(lines) + "\n").encode())
    folder = Path(os.environ["DATA_DIR"]) / "glove"
    folder.mkdir(parents=True)
    (folder / "glove-wiki-gigaword-50.gz").write_bytes(raw)
    spec = data.get_spec("glove")
    copies = tuple(data.Copy(c.label, (data.RemoteFile("glove-wiki-gigaword-50.gz", hashlib.sha256(raw).hexdigest(),
                                                       len(raw)),), official=True) if c.label == data.GLOVE_50D else c
                   for c in spec.copies)
    data.register(data.DatasetSpec(spec.name, spec.homepage, copies), replace=True)
    try:
        vectors = text.glove(max_words=None, verbose=False)
        assert vectors.words == ["the", ",", "queen"] and vectors.copy == f"glove: {data.GLOVE_50D}"
        np.testing.assert_array_equal(vectors.vectors[1], np.full(50, -1.25, dtype=np.float32))
        assert text.glove(max_words=2, verbose=False).vectors.shape == (2, 50)
    finally:
        data.register(spec, replace=True)
