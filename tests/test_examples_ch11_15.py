"""The book's chapters 11, 12 and 15 as scripts (``examples/``): each runs, and its figures move the right way.

Every script runs in a subprocess with ``--quick`` and reads a small data folder
built here once per session from the real archives in ``../shared/data`` (600
IMDB reviews of each class, 400 Enron-spam e-mails of each class from enron1,
and the bAbI task-1 file), so no test extracts a whole archive. The scripts print
machine-readable ``RESULT {json}`` lines (format: ``examples/_common.py``), which
are checked here.

The ``slow`` tests run the book's full settings on the whole data sets and
assert the figures (minutes each on a CPU): ``pytest -m slow
tests/test_examples_ch11_15.py``. ``GDL_EXAMPLES_BACKEND=cupy`` runs the scripts
on CuPy.
"""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import pytest
from examples_support import ROOT, SHARED_DATA, _common, assert_all_good, by_metric, run_script, script_env

try:
    import phe  # noqa: F401

    HAVE_PHE = True
except ImportError:
    HAVE_PHE = False


# -- a small data folder, in the data sets' own layouts ---------------------------------------------


def _copy_members(archive: Path, dest: Path, wanted) -> None:
    """Stream ``archive`` once and write the regular files for which ``wanted(parts)`` is true."""
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            parts = member.name.removeprefix("./").split("/")
            if not member.isfile() or ".." in parts or not wanted(parts):
                continue
            path = dest.joinpath(*parts)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(tar.extractfile(member).read())


def _first(n: int, depth: int):
    """A ``wanted`` that keeps the first ``n`` files of each folder at ``depth``."""
    counts: dict[tuple, int] = {}

    def wanted(parts):
        key = tuple(parts[:depth])
        counts[key] = counts.get(key, 0) + 1
        return counts[key] <= n

    return wanted


@pytest.fixture(scope="session")
def mini_data(tmp_path_factory) -> Path:
    """600 IMDB train reviews per class, 400 enron1 e-mails per class, bAbI task 1 (a few seconds)."""
    imdb = SHARED_DATA / "imdb" / "aclImdb_v1.tar.gz"
    enron1 = SHARED_DATA / "enron" / "enron1.tar.gz"
    babi = SHARED_DATA / "babi" / "tasks_1-20_v1-1.tar.gz"
    missing = [p for p in (imdb, enron1, babi) if not p.is_file()]
    if missing:
        pytest.skip(f"real data sets not present: {', '.join(map(str, missing))}")
    root = tmp_path_factory.mktemp("gdl-data")
    imdb_first = _first(600, 3)
    _copy_members(imdb, root / "imdb",
                  lambda p: len(p) == 4 and p[1] == "train" and p[2] in ("pos", "neg") and imdb_first(p))
    enron_first = _first(400, 2)
    _copy_members(enron1, root / "enron", lambda p: len(p) == 3 and p[1] in ("ham", "spam") and enron_first(p))
    _copy_members(babi, root / "babi", lambda p: p[-1] == "qa1_single-supporting-fact_train.txt")
    return root


def test_book_reviews_follow_reviews_txt(tmp_path):
    """reviews.txt: positive/negative alternating, each class by file name as text (0_9, 10000_8, 10001_10, ...)."""
    from gdl.data.datasets import IMDB

    for name in ("0_9", "10001_10", "10000_8", "2_7"):
        _write(tmp_path / "aclImdb" / "train" / "pos" / f"{name}.txt", f"pos {name}")
    for name in ("9_1", "0_3", "10000_4", "10001_4"):
        _write(tmp_path / "aclImdb" / "train" / "neg" / f"{name}.txt", f"neg {name}")
    texts, labels = _common.book_reviews(IMDB(tmp_path, split="train"))
    assert texts == ["pos 0_9", "neg 0_3", "pos 10000_8", "neg 10000_4", "pos 10001_10", "neg 10001_4",
                     "pos 2_7", "neg 9_1"]
    assert labels == [1, 0] * 4


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


# -- quick runs (the default test suite) ---------------------------------------------------------------


def test_ch11_quick(mini_data):
    out, records = run_script("ch11_word_embeddings.py", "--quick", "--data-dir", str(mini_data))
    res = by_metric(records)
    assert_all_good(records)
    sentiment = res["sentiment_test_acc"]
    assert sentiment["value"] > sentiment["start"] + 0.05        # better than chance after 2 small epochs
    assert sentiment["settings"]["reviews"] == 1200 and sentiment["settings"]["test"] == 200
    assert sentiment["similar_beautiful"][0] == "beautiful" and sentiment["similar_terrible"][0] == "terrible"
    w2v = res["word2vec_loss"]
    assert w2v["value"] < w2v["start"] - 0.5                      # from 6·log 2 = 4.16 per position
    assert "similar('terrible') after word2vec" in out
    assert "terrible + good - bad" in out


def test_ch12_quick(mini_data):
    out, records = run_script("ch12_recurrence.py", "--quick", "--data-dir", str(mini_data))
    rec = by_metric(records)["perplexity"]
    assert_all_good(records)
    assert rec["vocab"] == 82                                     # the book's vocabulary
    assert 75 < rec["start"] < 90                                 # ~ the vocabulary size before training
    assert rec["value"] < 15 and rec["every_word"] < 15           # 3,000 sentences at lr 0.01
    assert rec["toy_max_deviation_from_1_9"] < 1e-6               # "red socks defeat": nine 0.111s
    assert "Part A skipped" in out


def test_ch15_quick(mini_data):
    out, records = run_script("ch15_federated.py", "--quick", "--data-dir", str(mini_data))
    res = by_metric(records)
    assert_all_good(records)
    fed = res["federated_test_pct"]
    assert fed["value"] >= 85 and fed["start"] == 50.0
    assert "the rows that changed: is, my, computer, password, pizza" in out
    if HAVE_PHE:
        secure = res["secure_aggregation_max_diff"]
        assert secure["value"] <= 1e-6
        # the true encrypted sum gives the plain federated model, so the same accuracy
        assert secure["secure_test_pct"].keys() == secure["plain_test_pct"].keys()
        assert all(abs(secure["secure_test_pct"][r] - secure["plain_test_pct"][r]) <= 0.1
                   for r in secure["plain_test_pct"])
        assert "The Answer: 8" in out
    else:
        assert res["secure_aggregation"]["value"] == "skipped"
        assert "optional package 'phe' is not installed" in out


def test_ch15_quick_without_phe(mini_data, tmp_path):
    """With phe not importable, the encrypted part is skipped with a clear message, and the rest runs."""
    blocker = tmp_path / "no_phe"
    blocker.mkdir()
    # a 'phe' that fails to import, shadowing an installed one
    (blocker / "phe.py").write_text("raise ImportError('phe hidden by the test')\n")
    env = script_env(PYTHONPATH=str(blocker) + os.pathsep + str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out, records = run_script("ch15_federated.py", "--quick", "--data-dir", str(mini_data), "--rounds", "1",
                              env=env)
    res = by_metric(records)
    assert res["secure_aggregation"]["value"] == "skipped"
    assert "Paillier secure aggregation skipped: the optional package 'phe' is not installed" in out
    assert res["federated_test_pct"]["value"] > res["federated_test_pct"]["start"]


# -- the book's full settings (pytest -m slow) -------------------------------------------------------------


@pytest.mark.slow
def test_ch11_full():
    """~2 min on 2 CPU cores (sparse embedding gradients).

    The book printed no sentiment figure (its code sat in a markdown cell); the
    issue asks for 0.85. With the book's review order the recipe reaches 0.863
    with seed 1 (0.856-0.864 over seeds 1-5).
    """
    out, records = run_script("ch11_word_embeddings.py", timeout=4 * 3600)
    res = by_metric(records)
    sentiment = res["sentiment_test_acc"]
    assert sentiment["value"] >= 0.85
    negative = {"boring", "poor", "dull", "awful", "worst", "waste", "bad", "lame", "worse", "avoid", "horrible",
                "disappointing", "disappointment", "annoying", "fails", "ridiculous", "pathetic", "unfortunately"}
    assert len(negative & set(sentiment["similar_terrible"])) >= 4       # what training added to the rows
    w2v = res["word2vec_loss"]
    assert w2v["value"] < w2v["start"] - 1
    assert len({"horrible", "awful", "bad", "abysmal", "lame", "dreadful", "pathetic", "atrocious", "horrendous",
                "laughable", "poor", "worst"} & set(w2v["similar_terrible"])) >= 3


@pytest.mark.slow
def test_ch12_full():
    """30,000 sentences at the book's lr 0.001 (~30 s): perplexity from ~82 to about 4-5."""
    _, records = run_script("ch12_recurrence.py", timeout=1800)
    rec = by_metric(records)["perplexity"]
    assert_all_good(records)
    assert rec["start"] > 80 and rec["value"] <= 5.0


@pytest.mark.slow
def test_ch15_full():
    """Federated averaging on enron1,2,4,5,6, then (with phe) Paillier secure aggregation (~10 min).

    The book's 98.8 % came from its own spam.txt/ham.txt mix (not published); on the
    five Enron-spam subsets present here the same recipe reaches about 96 %, so the
    check is >= 95.5 % (the script still prints the book's 98.8 % as NOT REACHED).
    """
    _, records = run_script("ch15_federated.py", timeout=4 * 3600)
    res = by_metric(records)
    fed = res["federated_test_pct"]
    assert fed["value"] >= 95.5 and fed["book"] == 98.8
    if HAVE_PHE:
        secure = res["secure_aggregation_max_diff"]
        assert secure["value"] <= 1e-6
        assert all(abs(secure["secure_test_pct"][r] - fed["rounds"][r]) <= 0.1 for r in fed["rounds"])
