"""tokenize, Vocab and CharVocab."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gdl.data import CharVocab, Vocab, tokenize
from gdl.tensor import tensor


def test_tokenize_lowercases_and_splits_punctuation():
    assert tokenize("Mary moved to the bathroom.") == ["mary", "moved", "to", "the", "bathroom", "."]
    assert tokenize("Where is Mary? \tbathroom") == ["where", "is", "mary", "?", "bathroom"]
    assert tokenize("I don't like it,  really!!") == ["i", "don't", "like", "it", ",", "really", "!", "!"]
    assert tokenize('A "quoted" (word) -- ok') == ["a", '"', "quoted", '"', "(", "word", ")", "-", "-", "ok"]
    assert tokenize("10 films, 2nd best<br />") == ["10", "films", ",", "2nd", "best", "<", "br", "/", ">"]
    assert tokenize("Ünïcode CAFÉ") == ["ünïcode", "café"]
    assert tokenize("") == []
    with pytest.raises(TypeError, match="expected a str"):
        tokenize(["a"])


@given(st.text(max_size=60))
@settings(max_examples=100, deadline=None)
def test_tokenize_keeps_every_non_space_character(text):
    tokens = tokenize(text)
    assert "".join(tokens) == "".join(text.lower().split())
    assert all(t and not any(c.isspace() for c in t) for t in tokens)


def test_vocab_build_orders_by_frequency_then_first_appearance():
    seqs = [["b", "a", "c"], ["c", "a", "d", "b"], ["e"]]
    v = Vocab.build(seqs)
    # counts: b2 a2 c2 d1 e1 -> ties keep the order of first appearance
    assert v.itos == ["<unk>", "b", "a", "c", "d", "e"]
    assert v.stoi["c"] == 3 and v.unk_index == 0 and len(v) == 6
    assert Vocab.build(seqs, min_freq=2).itos == ["<unk>", "b", "a", "c"]
    assert Vocab.build(seqs, max_size=2).itos == ["<unk>", "b", "a"]
    with_specials = Vocab.build(seqs, specials=["<pad>", "<eos>"])
    assert with_specials.itos[:3] == ["<unk>", "<pad>", "<eos>"] and with_specials["b"] == 3
    assert Vocab.build(seqs) == Vocab.build(seqs)  # deterministic


def test_vocab_encode_decode_unknown_and_errors():
    v = Vocab.from_texts(["The cat sat.", "the dog ran!"])
    assert v.itos[:2] == ["<unk>", "the"]
    ids = v.encode(tokenize("The bird sat."))
    assert ids == [v["the"], 0, v["sat"], v["."]]
    assert v.decode(ids) == ["the", "<unk>", "sat", "."]
    assert v.decode(np.array(ids)) == v.decode(tensor(ids)) == v.decode(ids)
    assert "cat" in v and "bird" not in v and v["bird"] == 0
    with pytest.raises(TypeError, match="tokenize"):
        v.encode("the cat")
    with pytest.raises(IndexError, match="out of range"):
        v.decode([len(v)])
    with pytest.raises(TypeError, match="list of tokens"):
        Vocab.build(["a sentence", "another"])
    with pytest.raises(ValueError, match="min_freq"):
        Vocab.build([["a"]], min_freq=0)
    with pytest.raises(ValueError, match="duplicate"):
        Vocab(["a", "a"])


def test_vocab_constructor_puts_unk_first_only_when_missing():
    assert Vocab(["x", "y"]).itos == ["<unk>", "x", "y"]
    v = Vocab(["x", "<unk>", "y"])
    assert v.unk_index == 1 and v["zzz"] == 1


def test_vocab_save_load_round_trip_as_plain_utf8(tmp_path):
    v = Vocab.build([["héllo", "wörld", "日本", " ", "", "a\u2028b", "héllo"]])
    path = tmp_path / "vocab.txt"
    v.save(path)
    raw = path.read_bytes()
    assert raw.decode("utf-8").split("\n")[:3] == ["<unk>", "héllo", "wörld"]
    assert raw.endswith(b"\n") and raw.count(b"\n") == len(v)
    loaded = Vocab.load(path)
    assert loaded == v and loaded.encode(["日本", "?"]) == v.encode(["日本", "?"])
    assert [p.name for p in tmp_path.iterdir()] == ["vocab.txt"]  # no temporary files left
    with pytest.raises(ValueError, match="line breaks"):
        Vocab(["a\nb"]).save(tmp_path / "bad.txt")
    with pytest.raises(ValueError, match="cannot be written as UTF-8"):
        Vocab(["\ud800"]).save(tmp_path / "bad.txt")
    assert not (tmp_path / "bad.txt").exists()
    (tmp_path / "other.txt").write_text("just\nwords\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no '<unk>' line"):
        Vocab.load(tmp_path / "other.txt")


@given(
    st.lists(
        st.lists(st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=5), max_size=6),
        max_size=6,
    )
)
@settings(max_examples=50, deadline=None)
def test_vocab_round_trips_any_tokens(tmp_path_factory, seqs):
    v = Vocab.build(seqs)
    path = tmp_path_factory.mktemp("v") / "v.txt"
    v.save(path)
    assert Vocab.load(path) == v
    for seq in seqs:
        assert v.decode(v.encode(seq)) == [t if t in v else "<unk>" for t in seq]


def test_char_vocab_sorted_characters(tmp_path):
    v = CharVocab("to be, or not\nto be")
    assert v.chars == "\n ,benort"
    assert len(v) == 9 and v.itos[0] == "\n"
    ids = v.encode("bone\n")
    assert ids == [3, 6, 5, 4, 0] and v.decode(ids) == "bone\n"
    assert CharVocab(["ab", "ca"]).chars == "abc"
    with pytest.raises(KeyError, match="'z' is not in the vocabulary"):
        v.encode("z")
    v.save(tmp_path / "chars.json")
    assert CharVocab.load(tmp_path / "chars.json") == v
