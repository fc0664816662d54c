"""The data set readers, on tiny files in their canonical formats, and the embedded MNIST."""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from gdl.backends import host_data
from gdl.data import DataLoader
from gdl.data.datasets import IMDB, MNIST, BAbI, EnronSpam, Shakespeare, TextCorpus, parse_babi, read_idx


def idx(array) -> bytes:
    return host_data.write_idx(np.asarray(array))


def write_mnist(folder: Path, n=5, train=True, gz=True, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    prefix = "train" if train else "t10k"
    folder.mkdir(parents=True, exist_ok=True)
    for name, arr in ((f"{prefix}-images-idx3-ubyte", images), (f"{prefix}-labels-idx1-ubyte", labels)):
        data = idx(arr)
        (folder / (name + (".gz" if gz else ""))).write_bytes(gzip.compress(data) if gz else data)
    return images, labels


def make_tar(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


# -- IDX and MNIST -----------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "float32", "float64"])
def test_idx_round_trip(dtype):
    arr = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    data = idx(arr)
    assert data[:4] == bytes(
        [0, 0, {"uint8": 8, "int8": 9, "int16": 11, "int32": 12, "float32": 13, "float64": 14}[dtype], 3]
    )
    back = host_data.parse_idx(data)
    assert back.dtype == arr.dtype and back.shape == (2, 3, 4) and (back == arr).all()


def test_idx_errors_name_the_problem():
    good = idx(np.zeros((2, 2), np.uint8))
    with pytest.raises(
        ValueError, match="f.idx: IDX body truncated.*shape \\(2, 2\\) \\(4 bytes\\), found 3"
    ):
        host_data.parse_idx(good[:-1], "f.idx")
    with pytest.raises(ValueError, match="trailing bytes"):
        host_data.parse_idx(good + b"x")
    with pytest.raises(ValueError, match="not an IDX file"):
        host_data.parse_idx(b"PK\x03\x04rest")


def test_mnist_reads_gz_and_plain_idx(tmp_path):
    images, labels = write_mnist(tmp_path / "mnist", n=7, train=True, gz=True)
    t_images, t_labels = write_mnist(tmp_path, n=3, train=False, gz=False)  # plain files, directly in root
    train = MNIST(root=tmp_path, train=True)
    test = MNIST(root=tmp_path, train=False)
    assert len(train) == 7 and len(test) == 3
    assert train.images.dtype == np.uint8 and (train.images == images).all()
    assert train.labels.dtype == np.int64 and (train.labels == labels).all()
    assert (test.images == t_images).all()
    image, label = train[2]
    assert image.dtype == np.float32 and image.shape == (1, 28, 28)
    assert np.allclose(image[0], images[2] / 255.0) and label == int(labels[2]) and isinstance(label, int)
    x, y = train.get_batch([6, 0])
    assert (
        x.shape == (2, 1, 28, 28)
        and np.allclose(x[0, 0], images[6] / 255.0)
        and y.tolist() == [labels[6], labels[0]]
    )
    flat = MNIST(root=tmp_path, flatten=True)
    assert flat[0][0].shape == (784,) and flat.get_batch([0])[0].shape == (1, 784)


def test_mnist_root_from_environment(tmp_path, monkeypatch):
    write_mnist(tmp_path / "mnist", n=4, train=False)
    monkeypatch.setenv("GDL_DATA_DIR", str(tmp_path))
    assert len(MNIST(train=False)) == 4


def test_mnist_missing_files_message(tmp_path):
    write_mnist(tmp_path / "mnist", n=2)
    (tmp_path / "mnist" / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError) as info:
        MNIST(root=tmp_path)
    msg = str(info.value)
    assert "train-labels-idx1-ubyte[.gz]" in msg and "train-images" not in msg
    assert str(tmp_path / "mnist") in msg and "download=True" in msg and "source='embedded'" in msg


def test_mnist_rejects_inconsistent_files(tmp_path):
    write_mnist(tmp_path, n=4)
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx(np.zeros(3, np.uint8))))
    with pytest.raises(ValueError, match=r"shape \(3,\), expected \(4,\)"):
        MNIST(root=tmp_path)
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx(np.full(4, 10, np.uint8))))
    with pytest.raises(ValueError, match="outside 0-9"):
        MNIST(root=tmp_path)
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx(np.zeros((4, 28, 27), np.uint8))))
    with pytest.raises(ValueError, match=r"expected uint8 \(N, 28, 28\)"):
        MNIST(root=tmp_path)
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b" + b"garbage")
    with pytest.raises(ValueError, match="corrupt gzip"):
        MNIST(root=tmp_path)
    with pytest.raises(ValueError, match="source"):
        MNIST(root=tmp_path, source="web")


def test_mnist_loader_uses_batches(tmp_path):
    images, labels = write_mnist(tmp_path, n=10)
    loader = DataLoader(MNIST(root=tmp_path, flatten=True), batch_size=4, shuffle=True, seed=3)
    seen = []
    for x, y in loader:
        assert x.shape[1:] == (784,) and str(x.dtype) == "gdl.float32"
        for row, lab in zip(x.numpy(), y.numpy().tolist()):
            assert (row == (images.reshape(10, -1).astype(np.float32) / np.float32(255))).all(
                axis=1
            ).sum() == 1
            i = int(np.flatnonzero((images.reshape(10, -1) == np.rint(row * 255)).all(axis=1))[0])
            assert labels[i] == lab
            seen.append(i)
    assert sorted(seen) == list(range(10))


# -- embedded MNIST ----------------------------------------------------------------------


def test_embedded_mnist_subset():
    train = MNIST(train=True, source="embedded")
    test = MNIST(train=False, source="embedded", flatten=True)
    assert (len(train), len(test)) == (10_000, 2_000)
    assert train.images.shape == (10_000, 28, 28) and train.images.dtype == np.uint8
    assert train.labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]  # MNIST's first training labels
    assert test.labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]  # and first test labels
    counts = np.bincount(train.labels, minlength=10)
    assert counts.min() > 800  # every digit well represented
    assert test[0][0].shape == (784,)
    with pytest.raises(ValueError, match="do not pass root or download"):
        MNIST(root="/x", source="embedded")


def test_embedded_files_licence_and_size():
    folder = resources.files("gdl.data").joinpath("embedded", "mnist")
    names = [
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ]
    total = sum(len(folder.joinpath(n).read_bytes()) for n in names)
    assert total <= 3_000_000
    notice = folder.joinpath("NOTICE.txt").read_text(encoding="utf-8")
    assert "CC BY-SA 3.0" in notice and "LeCun" in notice and "Cortes" in notice
    sums = dict(line.split()[::-1] for line in folder.joinpath("SHA256SUMS").read_text().splitlines())
    for n in names:
        assert hashlib.sha256(folder.joinpath(n).read_bytes()).hexdigest() == sums[n]


# -- IMDB --------------------------------------------------------------------------------

IMDB_FILES = {
    "aclImdb/README": b"readme",
    "aclImdb/train/pos/10_9.txt": "A great film, caf\u00e9 scenes!".encode(),
    "aclImdb/train/pos/2_7.txt": b"Good.",
    "aclImdb/train/neg/3_1.txt": b"Awful.<br /><br />Really.",
    "aclImdb/train/neg/notes.md": b"not a review",
    "aclImdb/test/pos/0_10.txt": b"Loved it",
    "aclImdb/test/neg/1_2.txt": b"Meh",
    "aclImdb/train/unsup/5_0.txt": b"unlabelled",
}


def write_tree(root: Path, files: dict[str, bytes]):
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def test_imdb_from_folder(tmp_path):
    write_tree(tmp_path / "imdb", IMDB_FILES)
    train = IMDB(root=tmp_path, split="train")
    assert len(train) == 3
    assert train.texts == ["Awful.<br /><br />Really.", "Good.", "A great film, caf\u00e9 scenes!"]
    assert train.labels == [0, 1, 1] and train.ratings == [1, 7, 9] and train.ids == [3, 2, 10]
    assert train.names == ["3_1.txt", "2_7.txt", "10_9.txt"]
    assert train[1] == ("Good.", 1) and train[-1][1] == 1
    test = IMDB(root=tmp_path, split="test")
    assert [test[i] for i in range(len(test))] == [("Meh", 0), ("Loved it", 1)]
    with pytest.raises(ValueError, match="split must be"):
        IMDB(root=tmp_path, split="unsup")


def test_imdb_from_archive_extracts_atomically(tmp_path):
    (tmp_path / "aclImdb_v1.tar.gz").write_bytes(make_tar(IMDB_FILES))
    train = IMDB(root=tmp_path)
    assert train.labels == [0, 1, 1] and train.folder == tmp_path / "aclImdb"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["aclImdb", "aclImdb_v1.tar.gz"]
    assert IMDB(root=tmp_path, split="test").texts == ["Meh", "Loved it"]


def test_imdb_missing_says_where(tmp_path):
    (tmp_path / "imdb" / "aclImdb" / "train" / "pos").mkdir(parents=True)
    with pytest.raises(FileNotFoundError) as info:
        IMDB(root=tmp_path)
    msg = str(info.value)
    assert "aclImdb_v1.tar.gz" in msg and str(tmp_path / "imdb") in msg and "train/neg/" in msg
    assert "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz" in msg


# -- Enron-Spam --------------------------------------------------------------------------


def test_enron_subsets_folders_and_archives(tmp_path):
    write_tree(
        tmp_path / "enron",
        {
            "enron1/Summary.txt": b"summary",
            "enron1/ham/0002.1999.farmer.ham.txt": b"Subject: meeting\nsee you",
            "enron1/ham/0001.1999.farmer.ham.txt": b"Subject: hi\nhello",
            "enron1/spam/0003.2003.GP.spam.txt": b"Subject: cheap \xe9 pills",  # Latin-1, not UTF-8
        },
    )
    (tmp_path / "enron" / "enron4.tar.gz").write_bytes(
        make_tar(
            {
                "enron4/ham/0001.x.ham.txt": b"Subject: four",
                "enron4/spam/0002.x.spam.txt": b"Subject: win",
            }
        )
    )
    mails = EnronSpam(root=tmp_path)
    assert mails.subsets == ("enron1", "enron4")
    assert mails.labels == [0, 0, 1, 0, 1]
    assert mails.texts[0] == "Subject: hi\nhello" and mails.texts[2] == "Subject: cheap \u00e9 pills"
    assert mails.subset_of == ["enron1"] * 3 + ["enron4"] * 2
    assert (tmp_path / "enron" / "enron4" / "spam").is_dir()
    only4 = EnronSpam(root=tmp_path, subsets=[4])
    assert [only4[i] for i in range(2)] == [("Subject: four", 0), ("Subject: win", 1)]
    with pytest.raises(FileNotFoundError, match="enron2.tar.gz"):
        EnronSpam(root=tmp_path, subsets=["enron2"])
    with pytest.raises(ValueError, match="unknown subset 'enron7'"):
        EnronSpam(root=tmp_path, subsets=["enron7"])


def test_enron_none_present(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"none of enron1-enron6 found.*download=True"):
        EnronSpam(root=tmp_path)


# -- text corpora ------------------------------------------------------------------------


def test_text_corpus_windows_and_batches(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("abcabcabcab\u00e9", encoding="utf-8")
    corpus = TextCorpus(path, seq_len=3)
    assert corpus.vocab.chars == "abc\u00e9" and corpus.text.endswith("\u00e9")
    assert len(corpus) == 3  # (12 - 1) // 3
    x, y = corpus[2]
    assert corpus.vocab.decode(x) == "abc" and corpus.vocab.decode(y) == "bca"
    bx, by = corpus.get_batch([0, 2])
    assert bx.shape == (2, 3) and bx.dtype == np.int64 and corpus.vocab.decode(by[1]) == "bca"
    ((lx, ly),) = list(DataLoader(corpus, batch_size=3))
    assert lx.shape == (3, 3) and corpus.vocab.decode(ly.numpy().reshape(-1)) == "bcabcabca"
    with pytest.raises(ValueError, match="seq_len"):
        TextCorpus(path, seq_len=0)
    with pytest.raises(FileNotFoundError, match="no text file"):
        TextCorpus(tmp_path / "missing.txt")


def test_shakespeare_lookup_names_and_variant(tmp_path):
    (tmp_path / "shakespeare").mkdir()
    (tmp_path / "shakespeare" / "input.txt").write_text("First Citizen:\nBefore we proceed", encoding="utf-8")
    tiny = Shakespeare(root=tmp_path, seq_len=5)
    assert tiny.path.name == "input.txt" and tiny.text.startswith("First")
    (tmp_path / "shakespeare" / "tinyshakespeare.txt").write_text("preferred name", encoding="utf-8")
    assert Shakespeare(root=tmp_path).text == "preferred name"
    with pytest.raises(FileNotFoundError, match=r"shakespear\.txt.*download=True"):
        Shakespeare(root=tmp_path, variant="book")
    with pytest.raises(ValueError, match="variant"):
        Shakespeare(root=tmp_path, variant="full")


# -- bAbI --------------------------------------------------------------------------------

BABI_TEXT = """1 Mary moved to the bathroom.
2 John went to the hallway.
3 Where is Mary? \tbathroom\t1
4 Daniel went back to the hallway.
5 Where is Daniel? \thallway\t4
1 The office is north of the kitchen.
2 The garden is south of the office.
3 How do you go from the kitchen to the garden?\tn,s\t1 2
"""


def test_parse_babi_stories_questions_answers_supporting():
    ex = parse_babi(BABI_TEXT)
    assert len(ex) == 3
    assert ex[0].story == ("Mary moved to the bathroom.", "John went to the hallway.")
    assert (ex[0].question, ex[0].answer, ex[0].supporting, ex[0].story_index) == (
        "Where is Mary?",
        "bathroom",
        (0,),
        0,
    )
    assert ex[1].story[-1] == "Daniel went back to the hallway." and len(ex[1].story) == 3
    assert ex[1].supporting == (2,)  # line 4 is the story's third statement (questions are left out)
    assert ex[2].story_index == 1 and ex[2].answer == "n,s" and ex[2].supporting == (0, 1)
    assert ex[2].story == ("The office is north of the kitchen.", "The garden is south of the office.")


def test_parse_babi_errors_name_the_line():
    with pytest.raises(ValueError, match=r"f:2: supporting facts \['9'\]"):
        parse_babi("1 A b.\n2 Q?\ta\t9\n", "f")
    with pytest.raises(ValueError, match="f:1: expected a line number"):
        parse_babi("Mary moved.\n", "f")


def test_babi_reads_task_files_and_archive(tmp_path):
    files = {
        "tasksv11/README": b"r",
        "tasksv11/en/qa1_single-supporting-fact_train.txt": BABI_TEXT.encode(),
        "tasksv11/en/qa1_single-supporting-fact_test.txt": b"1 A is here.\n2 Where is A?\there\t1\n",
        "tasksv11/en/qa2_two-supporting-facts_train.txt": b"1 X.\n",
    }
    (tmp_path / "babi").mkdir()
    (tmp_path / "babi" / "tasks_1-20_v1-1.tar.gz").write_bytes(make_tar(files))
    train = BAbI(root=tmp_path, task=1)
    assert len(train) == 3 and train[0].answer == "bathroom"
    assert train.sentences[:3] == [
        "Mary moved to the bathroom.",
        "John went to the hallway.",
        "Where is Mary?",
    ]
    assert (tmp_path / "babi" / "tasksv11" / "en").is_dir()
    test = BAbI(root=tmp_path, task=1, split="test")
    assert [tuple(e)[:4] for e in test] == [(("A is here.",), "Where is A?", "here", (0,))]
    with pytest.raises(FileNotFoundError, match="qa3_\\*_train.txt"):
        BAbI(root=tmp_path, task=3)
    with pytest.raises(ValueError, match="task must be an integer 1-20"):
        BAbI(root=tmp_path, task=21)
    with pytest.raises(FileNotFoundError, match="tasks_1-20_v1-1.tar.gz"):
        BAbI(root=tmp_path / "empty")


def test_read_idx_helper(tmp_path):
    (tmp_path / "a.idx").write_bytes(idx(np.arange(6, dtype=np.int32).reshape(2, 3)))
    assert read_idx(tmp_path / "a.idx").tolist() == [[0, 1, 2], [3, 4, 5]]


def test_archive_in_read_only_folder_is_extracted_into_the_cache(tmp_path, monkeypatch):
    files = {"tasksv11/en/qa1_single-supporting-fact_train.txt": BABI_TEXT.encode()}
    shared = tmp_path / "shared" / "babi"
    shared.mkdir(parents=True)
    (shared / "tasks_1-20_v1-1.tar.gz").write_bytes(make_tar(files))
    shared.chmod(0o555)  # no write bits: read-only even for root
    monkeypatch.setenv("GDL_CACHE_DIR", str(tmp_path / "cache"))
    try:
        train = BAbI(root=tmp_path / "shared", task=1)
        assert len(train) == 3
        assert sorted(p.name for p in shared.iterdir()) == ["tasks_1-20_v1-1.tar.gz"]
        assert list((tmp_path / "cache" / "extracted" / "babi").glob("*/tasksv11/en"))
        assert len(BAbI(root=tmp_path / "shared", task=1)) == 3  # found in the cache again
    finally:
        shared.chmod(0o755)
