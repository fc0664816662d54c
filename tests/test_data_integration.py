"""The readers on the real data sets in ../shared/data (skipped where that folder is missing).

Archives are symlinked into a temporary folder and extracted there once per module,
so the shared copy stays untouched. IMDB's 50,000 files are read from a sample of the
real archive by default; the whole-archive test is marked slow (``-m slow``).
"""

from __future__ import annotations

import re
import tarfile
import tempfile
from pathlib import Path

import numpy as np
import pytest

from gdl.data import RESOURCES, DataLoader, Vocab, tokenize, verify_file
from gdl.data.datasets import IMDB, MNIST, BAbI, EnronSpam, Shakespeare

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
ENRON_LINKED = ("enron1.tar.gz", "enron5.tar.gz")

pytestmark = pytest.mark.skipif(
    not SHARED.is_dir(), reason=f"the shared data folder {SHARED} is not present (integration tests need it)"
)


@pytest.fixture(scope="module")
def linked():
    """A data root whose imdb/enron/babi folders hold symlinks to the shared archives.

    Removed at the end of the module (not left to pytest's tmp-dir rotation): the
    extracted archives can be some 60,000 files. Only two Enron archives are linked,
    to keep the test fast; the checksum test covers the others.
    """
    with tempfile.TemporaryDirectory(prefix="gdl-data-") as tmp:
        root = Path(tmp)
        for sub in ("imdb", "enron", "babi"):
            (root / sub).mkdir()
            for archive in (SHARED / sub).glob("*.tar.gz"):
                if sub != "enron" or archive.name in ENRON_LINKED:
                    (root / sub / archive.name).symlink_to(archive)
        yield root


def resource(name, filename):
    return next(r for r in RESOURCES[name] if r.filename == filename)


# -- the download table matches the reference copies -------------------------------------


@pytest.mark.parametrize(
    "name, filename",
    [
        ("mnist", "train-images-idx3-ubyte.gz"),  # by decompressed content: re-compressed copies
        ("mnist", "train-labels-idx1-ubyte.gz"),
        ("mnist", "t10k-images-idx3-ubyte.gz"),
        ("mnist", "t10k-labels-idx1-ubyte.gz"),
        ("shakespeare", "tinyshakespeare.txt"),  # by file: the canonical bytes
        ("shakespeare", "shakespear.txt"),
        ("enron", "enron1.tar.gz"),  # a re-packed archive: by member content
        ("enron", "enron2.tar.gz"),  # the canonical archive: by file
        ("enron", "enron4.tar.gz"),
        ("enron", "enron5.tar.gz"),
        ("enron", "enron6.tar.gz"),
        ("babi", "tasks_1-20_v1-1.tar.gz"),
    ],
)
def test_shared_copies_pass_the_table_checksums(name, filename):
    path = SHARED / name / filename
    if not path.exists():
        pytest.skip(f"{path} not present")
    assert verify_file(path, resource(name, filename)) is None


def test_mnist_gz_differs_from_canonical_bytes_but_passes_by_content():
    path = SHARED / "mnist" / "t10k-labels-idx1-ubyte.gz"
    res = resource("mnist", path.name)
    from gdl.data.download import sha256_file

    assert sha256_file(path) != res.sha256  # the README says these are re-compressed
    assert verify_file(path, res) is None
    broken = type(res)(res.filename, res.urls, res.sha256, "0" * 64)
    assert "content" in verify_file(path, broken)


# -- MNIST -------------------------------------------------------------------------------


def test_mnist_test_split_and_embedded_subset_match_the_real_files():
    test = MNIST(root=SHARED, train=False)
    assert len(test) == 10_000 and test.images.shape == (10_000, 28, 28)
    assert np.bincount(test.labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    embedded = MNIST(train=False, source="embedded")
    assert (embedded.images == test.images[:2000]).all() and (embedded.labels == test.labels[:2000]).all()
    x, y = next(iter(DataLoader(test, batch_size=256, shuffle=True, seed=0)))
    assert x.shape == (256, 1, 28, 28) and float(x.numpy().max()) == 1.0 and float(x.numpy().min()) == 0.0


def test_mnist_train_split_head_is_the_embedded_training_set():
    train = MNIST(root=SHARED, train=True)
    assert len(train) == 60_000
    embedded = MNIST(train=True, source="embedded")
    assert (embedded.images == train.images[:10_000]).all() and (
        embedded.labels == train.labels[:10_000]
    ).all()


# -- IMDB --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def imdb_sample(tmp_path_factory):
    """The first 40 reviews of each aclImdb/{train,test}/{pos,neg} folder of the real archive."""
    root = tmp_path_factory.mktemp("imdb-sample")
    pattern = re.compile(r"aclImdb/(train|test)/(pos|neg)/\d+_\d+\.txt")
    taken: dict[str, int] = {}
    with tarfile.open(SHARED / "imdb" / "aclImdb_v1.tar.gz", "r:gz") as tar:
        for member in tar:
            if member.isfile() and pattern.fullmatch(member.name):
                folder = member.name.rsplit("/", 1)[0]
                if taken.get(folder, 0) < 40:
                    taken[folder] = taken.get(folder, 0) + 1
                    path = root / "imdb" / member.name
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(tar.extractfile(member).read())
    return root


def test_imdb_real_files(imdb_sample):
    train = IMDB(root=imdb_sample, split="train")
    assert len(train) == 80 and train.labels == [0] * 40 + [1] * 40
    assert all(r >= 7 for r, lab in zip(train.ratings, train.labels) if lab == 1)
    assert all(r <= 4 for r, lab in zip(train.ratings, train.labels) if lab == 0)
    assert train.ids[40] == 0 and train.ratings[40] == 9  # aclImdb/train/pos/0_9.txt
    assert train.texts[40].startswith("Bromwell High is a cartoon comedy.")
    assert train.ids[:40] == sorted(train.ids[:40])  # by review id
    assert len(IMDB(root=imdb_sample, split="test")) == 80
    vocab = Vocab.from_texts(train.texts, min_freq=2)
    assert vocab.itos[1:3] == [".", "the"] and len(vocab) > 500


@pytest.mark.slow
def test_imdb_whole_archive_extracted(linked):
    """The real archive end to end: 50,000 files extracted (slow on busy disks; -m slow)."""
    train = IMDB(root=linked, split="train")
    assert len(train) == 25_000 and sum(train.labels) == 12_500
    assert (linked / "imdb" / "aclImdb" / "train" / "pos").is_dir()  # extracted beside the archive
    assert all(r >= 7 for r, lab in zip(train.ratings, train.labels) if lab == 1)
    assert all(r <= 4 for r, lab in zip(train.ratings, train.labels) if lab == 0)
    test = IMDB(root=linked, split="test")
    assert len(test) == 25_000 and sum(test.labels) == 12_500


# -- Enron-Spam --------------------------------------------------------------------------


def test_enron_present_subsets_from_archives(linked):
    mails = EnronSpam(root=linked)
    assert mails.subsets == ("enron1", "enron5")  # every subset present, and only those
    spam = sum(mails.labels)
    assert (len(mails) - spam, spam) == (3672 + 1500, 1500 + 3675)  # the archives' Summary.txt counts
    assert mails.files[0] == "0001.1999-12-10.farmer.ham.txt" and mails.texts[0].startswith("Subject:")
    assert mails.subset_of.count("enron5") == 1500 + 3675
    assert any("\u00e9" in t or not t.isascii() for t in mails.texts)  # the Latin-1 files decode
    one = EnronSpam(root=linked, subsets=[5])
    assert (len(one) - sum(one.labels), sum(one.labels)) == (1500, 3675)


# -- Shakespeare -------------------------------------------------------------------------


def test_tiny_shakespeare_and_the_books_file():
    tiny = Shakespeare(root=SHARED, seq_len=100)
    assert len(tiny.text) == 1_115_394 and len(tiny.vocab) == 65
    assert tiny.text.startswith("First Citizen:") and len(tiny) == (1_115_394 - 1) // 100
    x, y = tiny[0]
    assert tiny.vocab.decode(x).startswith("First Citizen:") and tiny.vocab.decode(y)[:5] == "irst "
    book = Shakespeare(root=SHARED, variant="book")
    assert len(book.text) == 99_993 and book.path.name == "shakespear.txt"


# -- bAbI --------------------------------------------------------------------------------


def test_babi_all_tasks_parse(linked):
    qa1 = BAbI(root=linked, task=1)
    assert len(qa1) == 1000 and qa1.path.name == "qa1_single-supporting-fact_train.txt"
    first = qa1[0]
    assert first.story == ("Mary moved to the bathroom.", "John went to the hallway.")
    assert (first.question, first.answer, first.supporting) == ("Where is Mary?", "bathroom", (0,))
    assert qa1[1].supporting == (2,) and qa1[1].answer == "hallway"
    assert len(qa1.sentences) == 3000 and tokenize(qa1.sentences[2]) == ["where", "is", "mary", "?"]
    for task in range(1, 21):
        for split in ("train", "test"):
            examples = BAbI(root=linked, task=task, split=split)
            assert len(examples) > 0
            for ex in examples:
                assert all(0 <= s < len(ex.story) for s in ex.supporting) and ex.answer
    path_finding = BAbI(root=linked, task=19, split="test")
    assert all("," in ex.answer for ex in path_finding)
