"""Verified, atomic downloads against a real HTTP server on 127.0.0.1; archive extraction."""

from __future__ import annotations

import gzip
import hashlib
import io
import socket
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from gdl.backends import host_data
from gdl.data import download as dl
from gdl.data.datasets import IMDB, MNIST, EnronSpam, Shakespeare
from gdl.data.download import DownloadError, Resource, content_digest, download_file, extract_archive, fetch


class Server:
    """A local HTTP server: ``routes[path] = (status, body, mode)``; mode 'truncate' lies about length."""

    def __init__(self):
        self.routes: dict[str, tuple[int, bytes, str]] = {}
        self.hits: list[str] = []
        routes, hits = self.routes, self.hits

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                hits.append(self.path)
                status, body, mode = routes.get(self.path, (404, b"not found", "ok"))
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if mode == "truncate":
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                else:
                    self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return self.base + path

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def _server():
    s = Server()
    yield s
    s.close()


@pytest.fixture
def server(_server):
    _server.routes.clear()
    _server.hits.clear()
    return _server


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


PAYLOAD = b"gdl test payload " * 1000


def test_good_file_is_downloaded_and_verified(server, tmp_path):
    server.routes["/f.bin"] = (200, PAYLOAD, "ok")
    progress = []
    res = Resource("f.bin", (server.url("/f.bin"),), sha(PAYLOAD))
    path = download_file(res, tmp_path / "sub", progress=lambda done, total: progress.append((done, total)))
    assert path == tmp_path / "sub" / "f.bin" and path.read_bytes() == PAYLOAD
    assert progress[-1] == (len(PAYLOAD), len(PAYLOAD))
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["f.bin"]  # no temporary left


def assert_nothing_written(folder, name):
    assert not (folder / name).exists()
    assert list(folder.iterdir()) == [], f"left behind: {list(folder.iterdir())}"


def test_wrong_checksum_leaves_nothing_and_explains(server, tmp_path):
    server.routes["/f.bin"] = (200, PAYLOAD, "ok")
    res = Resource("f.bin", (server.url("/f.bin"),), "0" * 64)
    with pytest.raises(DownloadError) as info:
        download_file(res, tmp_path)
    msg = str(info.value)
    assert "f.bin" in msg and server.url("/f.bin") in msg and "SHA-256 mismatch" in msg
    assert sha(PAYLOAD) in msg and "0" * 64 in msg
    assert f"put it at {tmp_path / 'f.bin'}" in msg and "offline" in msg
    assert_nothing_written(tmp_path, "f.bin")


def test_truncated_body_leaves_nothing(server, tmp_path):
    server.routes["/f.bin"] = (200, PAYLOAD, "truncate")
    res = Resource("f.bin", (server.url("/f.bin"),), sha(PAYLOAD))
    with pytest.raises(DownloadError, match=r"f\.bin") as info:
        download_file(res, tmp_path)
    assert server.url("/f.bin") in str(info.value)
    assert f"connection closed after {len(PAYLOAD) // 2} of {len(PAYLOAD)} bytes" in str(info.value)
    assert_nothing_written(tmp_path, "f.bin")


def test_server_error_leaves_nothing(server, tmp_path):
    server.routes["/f.bin"] = (500, b"boom", "ok")
    res = Resource("f.bin", (server.url("/f.bin"),), sha(PAYLOAD))
    with pytest.raises(DownloadError, match="HTTP 500") as info:
        download_file(res, tmp_path)
    assert "f.bin" in str(info.value) and server.url("/f.bin") in str(info.value)
    assert_nothing_written(tmp_path, "f.bin")


def test_no_server_listening(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/f.bin"
    res = Resource("f.bin", (url,), sha(PAYLOAD))
    with pytest.raises(DownloadError, match="cannot connect") as info:
        download_file(res, tmp_path, timeout=5)
    assert url in str(info.value) and str(tmp_path / "f.bin") in str(info.value)
    assert_nothing_written(tmp_path, "f.bin")


def test_mirrors_are_tried_in_order(server, tmp_path):
    server.routes["/a/f.bin"] = (500, b"", "ok")
    server.routes["/b/f.bin"] = (200, PAYLOAD, "ok")
    res = Resource("f.bin", (server.url("/a/f.bin"), server.url("/b/f.bin")), sha(PAYLOAD))
    assert download_file(res, tmp_path).read_bytes() == PAYLOAD
    assert server.hits == ["/a/f.bin", "/b/f.bin"]


def test_existing_file_is_not_replaced(server, tmp_path):
    (tmp_path / "f.bin").write_bytes(b"old")
    server.routes["/f.bin"] = (200, PAYLOAD, "truncate")
    res = Resource("f.bin", (server.url("/f.bin"),), sha(PAYLOAD))
    with pytest.raises(DownloadError):
        download_file(res, tmp_path)
    assert (tmp_path / "f.bin").read_bytes() == b"old"


def test_only_https_or_loopback_urls():
    res = Resource("f.bin", ("http://example.com/f.bin",), "0" * 64)
    with pytest.raises(ValueError, match="only https://"):
        download_file(res, "/nonexistent-never-created")
    with pytest.raises(ValueError, match="sha256 or content_sha256"):
        Resource("f.bin", ("https://x/f",))
    assert all(u.startswith("https://") for entries in dl.RESOURCES.values() for r in entries for u in r.urls)


def test_gzip_verified_by_decompressed_content(server, tmp_path):
    idx = b"\x00\x00\x08\x01\x00\x00\x00\x03abc"
    canonical = gzip.compress(idx, mtime=0)
    recompressed = gzip.compress(idx, compresslevel=1, mtime=12345)
    assert canonical != recompressed
    res = Resource("x.gz", (server.url("/x.gz"),), sha(canonical), sha(idx))
    server.routes["/x.gz"] = (200, recompressed, "ok")
    assert gzip.decompress(download_file(res, tmp_path).read_bytes()) == idx
    (tmp_path / "x.gz").unlink()
    server.routes["/x.gz"] = (200, gzip.compress(idx + b"!"), "ok")
    with pytest.raises(DownloadError, match="content"):
        download_file(res, tmp_path)
    assert_nothing_written(tmp_path, "x.gz")


def make_tar(members: dict[str, bytes], mode="w:gz") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_tar_content_digest_ignores_packing_and_other_members(tmp_path):
    members = {"top/a/1.txt": b"one", "top/b/2.txt": b"two"}
    (tmp_path / "x.tar.gz").write_bytes(make_tar(members))
    (tmp_path / "y.tar").write_bytes(make_tar({"top/b/2.txt": b"two", "top/extra.bin": b"z", **members}, "w"))
    pattern = r"top/[ab]/\d\.txt"
    expected = sha("".join(f"{sha(d)}  {n}\n" for n, d in sorted(members.items())).encode())
    assert content_digest(tmp_path / "x.tar.gz", pattern) == expected
    assert content_digest(tmp_path / "y.tar", pattern) == expected
    (tmp_path / "z.tar.gz").write_bytes(make_tar({"top/a/1.txt": b"ONE", "top/b/2.txt": b"two"}))
    assert content_digest(tmp_path / "z.tar.gz", pattern) != expected


def test_fetch_uses_the_given_table_and_skips_present_files(server, tmp_path):
    server.routes["/one"] = (200, b"1", "ok")
    server.routes["/two"] = (200, b"2", "ok")
    table = {
        "toy": (
            Resource("one.txt", (server.url("/one"),), sha(b"1")),
            Resource("two.txt", (server.url("/two"),), sha(b"2")),
        )
    }
    (tmp_path / "toy").mkdir()
    (tmp_path / "toy" / "two.txt").write_bytes(b"mine")
    paths = fetch("toy", tmp_path, table=table)
    assert paths == [tmp_path / "toy" / "one.txt", tmp_path / "toy" / "two.txt"]
    assert (tmp_path / "toy" / "two.txt").read_bytes() == b"mine" and server.hits == ["/one"]
    with pytest.raises(KeyError, match="unknown data set 'nope'"):
        fetch("nope", tmp_path, table=table)
    with pytest.raises(KeyError, match="no file"):
        fetch("toy", tmp_path, files=["three.txt"], table=table)


def test_data_root_default(monkeypatch, tmp_path):
    monkeypatch.setenv("GDL_DATA_DIR", str(tmp_path))
    assert dl.data_root() == tmp_path
    monkeypatch.delenv("GDL_DATA_DIR")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert dl.data_root() == tmp_path / "home" / ".cache" / "gdl"
    assert dl.data_root("~/d") == tmp_path / "home" / "d"


# -- archives ----------------------------------------------------------------------------


def test_extract_archive_is_atomic_and_complete(tmp_path):
    (tmp_path / "a.tar.gz").write_bytes(
        make_tar({"top/x/1.txt": b"1", "top/2.txt": b"2", "other/3.txt": b"3"})
    )
    out = extract_archive(tmp_path / "a.tar.gz", "top")
    assert out == tmp_path / "top"
    assert (out / "x" / "1.txt").read_bytes() == b"1" and (out / "2.txt").read_bytes() == b"2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.tar.gz", "top"]  # no 'other', no temp dir
    assert extract_archive(tmp_path / "a.tar.gz", "top") == out  # already there: unchanged


def test_extract_corrupt_archive_leaves_nothing(tmp_path):
    data = make_tar({f"top/{i}.txt": bytes(1000) + bytes([i]) for i in range(50)})
    (tmp_path / "a.tar.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises((ValueError, EOFError, OSError)):
        extract_archive(tmp_path / "a.tar.gz", "top")
    assert [p.name for p in tmp_path.iterdir()] == ["a.tar.gz"]


def test_extract_refuses_unsafe_members(tmp_path):
    (tmp_path / "a.tar.gz").write_bytes(make_tar({"top/ok.txt": b"", "top/../../evil.txt": b"x"}))
    with pytest.raises(ValueError, match="unsafe member"):
        extract_archive(tmp_path / "a.tar.gz", "top")
    assert [p.name for p in tmp_path.iterdir()] == ["a.tar.gz"]
    assert not (tmp_path.parent / "evil.txt").exists()


def test_extract_archive_without_the_folder(tmp_path):
    (tmp_path / "a.tar.gz").write_bytes(make_tar({"elsewhere/1.txt": b"1"}))
    with pytest.raises(ValueError, match="no top/ folder"):
        extract_archive(tmp_path / "a.tar.gz", "top")
    assert [p.name for p in tmp_path.iterdir()] == ["a.tar.gz"]


# -- data sets downloading through the table ---------------------------------------------


def idx(array) -> bytes:
    return host_data.write_idx(np.asarray(array))


def test_mnist_download_through_the_table(server, tmp_path, monkeypatch):
    """download=True fetches through the table; a re-compressed copy passes by content."""
    rng = np.random.default_rng(1)
    payloads = {
        "t10k-images-idx3-ubyte.gz": idx(rng.integers(0, 256, (3, 28, 28), dtype=np.uint8)),
        "t10k-labels-idx1-ubyte.gz": idx(np.array([1, 2, 3], np.uint8)),
    }
    table = []
    for name, raw in payloads.items():
        canonical = gzip.compress(raw, mtime=1)
        server.routes["/" + name] = (200, gzip.compress(raw, compresslevel=1, mtime=99), "ok")
        table.append(
            dl.Resource(
                name,
                (server.url("/" + name),),
                hashlib.sha256(canonical).hexdigest(),
                hashlib.sha256(raw).hexdigest(),
            )
        )
    monkeypatch.setitem(dl.RESOURCES, "mnist", tuple(table))
    with pytest.raises(FileNotFoundError):
        MNIST(root=tmp_path, train=False)
    test = MNIST(root=tmp_path, train=False, download=True)
    assert test.labels.tolist() == [1, 2, 3]
    assert sorted(p.name for p in (tmp_path / "mnist").iterdir()) == sorted(payloads)
    # a corrupted download: clear error, nothing written
    (tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz").unlink()
    server.routes["/t10k-labels-idx1-ubyte.gz"] = (
        200,
        gzip.compress(idx(np.array([1, 2, 4], np.uint8))),
        "ok",
    )
    with pytest.raises(dl.DownloadError, match="t10k-labels-idx1-ubyte.gz.*put it at"):
        MNIST(root=tmp_path, train=False, download=True)
    assert sorted(p.name for p in (tmp_path / "mnist").iterdir()) == ["t10k-images-idx3-ubyte.gz"]


def test_imdb_download_then_extract(server, tmp_path, monkeypatch):
    archive = make_tar(
        {
            "aclImdb/train/pos/1_8.txt": b"Good",
            "aclImdb/train/neg/0_2.txt": b"Bad",
            "aclImdb/test/pos/0_9.txt": b"Fine",
            "aclImdb/test/neg/1_1.txt": b"No",
        }
    )
    server.routes["/aclImdb_v1.tar.gz"] = (200, archive, "ok")
    monkeypatch.setitem(
        dl.RESOURCES,
        "imdb",
        (
            dl.Resource(
                "aclImdb_v1.tar.gz", (server.url("/aclImdb_v1.tar.gz"),), hashlib.sha256(archive).hexdigest()
            ),
        ),
    )
    train = IMDB(root=tmp_path, download=True)
    assert train.texts == ["Bad", "Good"] and train.labels == [0, 1]
    assert sorted(p.name for p in (tmp_path / "imdb").iterdir()) == ["aclImdb", "aclImdb_v1.tar.gz"]


def test_enron_and_shakespeare_download_through_the_table(server, tmp_path, monkeypatch):
    archive = make_tar({"enron2/ham/1.ham.txt": b"Subject: hi", "enron2/spam/2.spam.txt": b"Subject: win"})
    text = b"First Citizen:\nSpeak."
    server.routes["/enron2.tar.gz"] = (200, archive, "ok")
    server.routes["/input.txt"] = (200, text, "ok")
    monkeypatch.setitem(
        dl.RESOURCES, "enron", (Resource("enron2.tar.gz", (server.url("/enron2.tar.gz"),), sha(archive)),)
    )
    monkeypatch.setitem(
        dl.RESOURCES,
        "shakespeare",
        (Resource("tinyshakespeare.txt", (server.url("/input.txt"),), sha(text)),),
    )
    mails = EnronSpam(root=tmp_path, subsets=[2], download=True)
    assert [mails[i] for i in range(len(mails))] == [("Subject: hi", 0), ("Subject: win", 1)]
    assert (tmp_path / "enron" / "enron2" / "ham").is_dir()
    corpus = Shakespeare(root=tmp_path, seq_len=4, download=True)
    assert corpus.text == text.decode() and corpus.path == tmp_path / "shakespeare" / "tinyshakespeare.txt"
    assert server.hits == ["/enron2.tar.gz", "/input.txt"]
