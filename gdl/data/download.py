"""Where data sets live, and how they are fetched and checked.

Every data set reads its canonical files from a folder under the data root:
``root`` if given, else ``$GDL_DATA_DIR``, else ``~/.cache/gdl``. Each data set
looks in ``root/<name>/`` first (``mnist``, ``imdb``, ``enron``, ``shakespeare``,
``babi``), then in ``root`` itself, so both a gdl cache and a folder holding the
files directly work.

``download=True`` fetches missing files over HTTPS from the URLs in
:data:`RESOURCES` (tried in order), checks each against its SHA-256, and writes it
atomically: the bytes go to a hidden temporary file in the same folder, are
flushed to disk, checked, and only then renamed into place. A failed, truncated
or corrupted download leaves nothing behind and raises :class:`DownloadError`
naming the file, the URLs tried, and where to put the file by hand.

A file passes when the SHA-256 of its bytes equals ``sha256`` (the canonical
download) or the SHA-256 of its *content* equals ``content_sha256``, where the
content of a gzip file is its decompressed bytes, and the content of a tar
archive is the ``sha256sum``-style listing ``"<sha256>  <name>\\n"`` of the
members matching ``members``, sorted by name. So re-compressed or re-packed
copies of the same data pass too.

>>> from gdl.data.download import RESOURCES
>>> [r.filename for r in RESOURCES["mnist"]][:2]
['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz']
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import ipaddress
import os
import re
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "DownloadError",
    "RESOURCES",
    "Resource",
    "content_digest",
    "data_root",
    "download_file",
    "fetch",
    "extract_archive",
    "sha256_file",
    "verify_file",
]

_CHUNK = 1 << 20


class DownloadError(OSError):
    """A download failed or did not match its checksum (nothing was written)."""


@dataclass(frozen=True)
class Resource:
    """One file of a data set: its name in the data folder, where to get it, its digests.

    Attributes:
        filename: the file's name inside ``root/<dataset>/``.
        urls: HTTPS URLs, tried in order (the canonical one first, then mirrors).
        sha256: SHA-256 of the file as served by the canonical URL (or None).
        content_sha256: SHA-256 of the file's content (see module docstring) or None.
        members: for tar archives, a regular expression selecting the members that
            ``content_sha256`` covers (matched against the whole member name).
    """

    filename: str
    urls: tuple[str, ...]
    sha256: str | None = None
    content_sha256: str | None = None
    members: str | None = None

    def __post_init__(self):
        if isinstance(self.urls, str):
            object.__setattr__(self, "urls", (self.urls,))
        if self.sha256 is None and self.content_sha256 is None:
            raise ValueError(f"Resource {self.filename!r}: give sha256 or content_sha256")


_MNIST_MIRRORS = (
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
)
_ENRON = "https://www2.aueb.gr/users/ion/data/enron-spam/preprocessed/"
_ENRON_MEMBERS = r"enron{n}/(ham|spam)/[^/]+\.txt"

#: The download table: data set name -> its files. ``fetch`` takes a table of the same
#: shape (``fetch(..., table=...)``), so tests or a local mirror can point it elsewhere.
#: Where the digests come from:
#: - ``sha256``: the published digests of the canonical downloads (MNIST's four .gz
#:   files, aclImdb_v1.tar.gz, char-rnn's input.txt), or the digest of a reference copy
#:   that is the canonical file (enron2/4/5/6 keep the original tar metadata;
#:   shakespear.txt is the book repository's file). enron1 and enron3 are pinned to
#:   digests published by a single outside source that could not be checked here. bAbI
#:   v1.1 pins no file digest (the only copy at hand is a re-pack), only its content.
#: - ``content_sha256``: computed from the reference copies in the project's shared
#:   data folder, whose decompressed bytes / member files are the canonical ones.
RESOURCES: dict[str, tuple[Resource, ...]] = {
    "mnist": tuple(
        Resource(name, tuple(m + name for m in _MNIST_MIRRORS), sha, content)
        for name, sha, content in [
            (
                "train-images-idx3-ubyte.gz",
                "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            ),
            (
                "train-labels-idx1-ubyte.gz",
                "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            ),
            (
                "t10k-images-idx3-ubyte.gz",
                "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            ),
            (
                "t10k-labels-idx1-ubyte.gz",
                "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
                "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
            ),
        ]
    ),
    "imdb": (
        Resource(
            "aclImdb_v1.tar.gz",
            ("https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",),
            "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe",
            "b155ae18c4016500d64b7ea091f3f04c4ea9e702ab3bdb2b4aa0effbd4da11c6",
            r"aclImdb/(train|test)/(pos|neg)/\d+_\d+\.txt",
        ),
    ),
    "enron": tuple(
        Resource(
            f"enron{n}.tar.gz",
            (f"{_ENRON}enron{n}.tar.gz",),
            sha,
            content,
            _ENRON_MEMBERS.format(n=n),
        )
        for n, sha, content in [
            (
                1,
                "3d6a1fcced6c30b1701a3fd04c6b912d7046208f6ef6f4fdcf022f64bdc6c32f",
                "10bf1aef1cd85e2fa21fa3567b6abb920d88493417e41d3538acac84d8e03898",
            ),
            (
                2,
                "9b5bf5c4844eb4ecead52de8c676ff8761c2d7037fdc175851c88ef52c827315",
                "e0036d562185c552a9ec532c970eb07156016b2579fd182d71de3b13d83556c0",
            ),
            (
                3,
                "9321ca1c195b45b6f0fb795963a8020ff317e7ebac2c102205272f0b91a1ac0b",
                None,
            ),
            (
                4,
                "61be71c59d7e9fdf99df63b814ddbeb18e0c9e8a69ce691d8e4e8127ed3588aa",
                "0c3e71e06ff853789ec94dd71b111db6f0d2003fe924386d6aab6189a53b7d0d",
            ),
            (
                5,
                "d7b839c2a7071b6d52f1d76be8d05e66733d872614475fad7522740d7c60540d",
                "09e2de874a218994e9f3db3b5dbff199eb107c18f036ae7bdf60bf9ba022ad6d",
            ),
            (
                6,
                "283f70c45a7d819e0b988536fbb8e21cc17c17a22998403c2255d2c38cbfc5a0",
                "b19a5bc1d7b1debc6576e775286cd11d8a739ba681e5f786fc001deb3bc199bd",
            ),
        ]
    ),
    "shakespeare": (
        Resource(
            "tinyshakespeare.txt",
            ("https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",),
            "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
        ),
        Resource(
            "shakespear.txt",
            ("https://raw.githubusercontent.com/iamtrask/Grokking-Deep-Learning/master/shakespear.txt",),
            "c879e55c5e318b9d978064e246306e01d60be15a50f64d9438daeaeacbc119e8",
        ),
    ),
    "babi": (
        Resource(
            "tasks_1-20_v1-1.tar.gz",
            ("https://www.thespermwhale.com/jaseweston/babi/tasks_1-20_v1-1.tar.gz",),
            None,
            "6fd5adabc2e6462dfb5f973732b6c0cbb4e495d2074c2a695ab055fdc54b3b91",
            r"tasksv11/en/qa\d+_[a-z-]+_(train|test)\.txt",
        ),
    ),
}


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The data folder: ``root``, else ``$GDL_DATA_DIR``, else ``~/.cache/gdl``."""
    if root is None:
        root = os.environ.get("GDL_DATA_DIR") or Path.home() / ".cache" / "gdl"
    return Path(root).expanduser()


def resource(name: str, filename: str, table: Mapping | None = None) -> Resource:
    """The :class:`Resource` for ``filename`` of data set ``name`` in ``table``."""
    table = RESOURCES if table is None else table
    for res in _entries(table, name):
        if res.filename == filename:
            return res
    raise KeyError(f"no download entry for {filename!r} of data set {name!r}")


def _entries(table: Mapping, name: str) -> tuple[Resource, ...]:
    if name not in table:
        raise KeyError(f"unknown data set {name!r}; the download table has {', '.join(table)}")
    return tuple(table[name])


# -- digests -----------------------------------------------------------------------------


def sha256_file(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def content_digest(path: str | os.PathLike, members: str | None = None) -> str:
    """Hex SHA-256 of a file's content: decompressed gzip bytes, or a tar member listing.

    With ``members`` (a regular expression), ``path`` is read as a tar archive
    (any compression) and the digest is that of the sorted lines
    ``"<sha256 of member>  <member name>\\n"`` for the regular-file members whose
    whole name matches, the same text ``sha256sum`` prints for the extracted files.
    Otherwise a gzip file (by its magic bytes) is decompressed, and any other file is
    hashed as it is.
    """
    path = Path(path)
    if members is not None:
        pattern = re.compile(members)
        lines = []
        with tarfile.open(path, "r:*") as tar:
            for member in tar:
                name = member.name.removeprefix("./")
                if member.isfile() and pattern.fullmatch(name):
                    fh = tar.extractfile(member)
                    lines.append(f"{hashlib.sha256(fh.read()).hexdigest()}  {name}\n")
        lines.sort(key=lambda line: line[66:])
        return hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()
    with open(path, "rb") as fh:
        magic = fh.read(2)
    digest = hashlib.sha256()
    opener = gzip.open if magic == b"\x1f\x8b" else open
    with opener(path, "rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_file(path: str | os.PathLike, res: Resource) -> str | None:
    """None if ``path`` matches ``res`` (by file or by content digest), else why not."""
    got = sha256_file(path)
    if res.sha256 is not None and got == res.sha256:
        return None
    if res.content_sha256 is not None:
        try:
            content = content_digest(path, res.members)
        except (OSError, EOFError, tarfile.TarError, gzip.BadGzipFile) as exc:
            return f"its content could not be read ({type(exc).__name__}: {exc})"
        if content == res.content_sha256:
            return None
        return (
            f"SHA-256 mismatch: file {got}, content {content}; expected "
            + (f"file {res.sha256} or " if res.sha256 else "")
            + f"content {res.content_sha256}"
        )
    return f"SHA-256 mismatch: got {got}, expected {res.sha256}"


# -- fetching ----------------------------------------------------------------------------


def _check_url(url: str) -> None:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https":
        return
    host = parts.hostname or ""
    loopback = host == "localhost"
    try:
        loopback = loopback or ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    if parts.scheme == "http" and loopback:
        return  # a local mirror (and the tests' server)
    raise ValueError(f"refusing to download {url!r}: only https:// URLs (or http:// on loopback) are allowed")


def _fetch_to(url: str, fh, timeout: float, progress: Callable[[int, int | None], None] | None) -> None:
    """Stream ``url`` into the open binary file ``fh``; raises on any shortfall."""
    request = urllib.request.Request(url, headers={"User-Agent": "gdl-data/1"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        done = 0
        while True:
            block = response.read(_CHUNK)
            if not block:
                break
            fh.write(block)
            done += len(block)
            if progress is not None:
                progress(done, total)
        if total is not None and done != total:
            raise DownloadError(f"connection closed after {done} of {total} bytes")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return f"cannot connect ({exc.reason})"
    if isinstance(exc, DownloadError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def download_file(
    res: Resource,
    folder: str | os.PathLike,
    *,
    timeout: float = 60.0,
    progress: Callable[[int, int | None], None] | None = None,
) -> Path:
    """Fetch ``res`` into ``folder/res.filename``, verified and written atomically.

    Tries each URL in ``res.urls`` in turn. Returns the final path. Raises
    :class:`DownloadError` if every URL fails or no download matches the checksum;
    then no file (and no temporary file) is left in ``folder``.
    """
    folder = Path(folder)
    dest = folder / res.filename
    for url in res.urls:
        _check_url(url)
    folder.mkdir(parents=True, exist_ok=True)
    failures = []
    for url in res.urls:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{res.filename}.", suffix=".part", dir=folder)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as fh:
                _fetch_to(url, fh, timeout, progress)
                fh.flush()
                os.fsync(fh.fileno())
            problem = verify_file(tmp, res)
            if problem is not None:
                raise DownloadError(problem)
            os.replace(tmp, dest)
            _fsync_dir(folder)
            return dest
        except (OSError, ValueError, EOFError, tarfile.TarError, http.client.HTTPException) as exc:
            failures.append(f"{url}: {_reason(exc)}")
        finally:  # also on KeyboardInterrupt: never leave a partial file behind
            tmp.unlink(missing_ok=True)
    digests = ", ".join(
        f"{kind} {value}"
        for kind, value in (("SHA-256", res.sha256), ("content SHA-256", res.content_sha256))
        if value
    )
    raise DownloadError(
        f"could not download {res.filename} ({'; '.join(failures)}). Nothing was written to "
        f"{folder}. To work offline, fetch {res.urls[0]} yourself (on another machine if need be) "
        f"and put it at {dest} ({digests})."
    )


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def fetch(
    name: str,
    root: str | os.PathLike | None = None,
    files: Iterable[str] | None = None,
    *,
    table: Mapping[str, Sequence[Resource]] | None = None,
    timeout: float = 60.0,
    progress: Callable[[int, int | None], None] | None = None,
) -> list[Path]:
    """Fetch the files of data set ``name`` that ``root/<name>/`` lacks.

    ``files`` limits it to those file names; ``table`` replaces :data:`RESOURCES` (same shape).
    Files already present are kept as they are (they are not re-checked; see
    :func:`verify_file`). Returns the paths of all requested files.

    >>> fetch("mnist", files=["t10k-labels-idx1-ubyte.gz"])  # doctest: +SKIP
    [PosixPath('/home/me/.cache/gdl/mnist/t10k-labels-idx1-ubyte.gz')]
    """
    table = RESOURCES if table is None else table
    folder = data_root(root) / name
    entries = _entries(table, name)
    if files is not None:
        wanted = list(files)
        known = {r.filename for r in entries}
        unknown = [f for f in wanted if f not in known]
        if unknown:
            raise KeyError(f"data set {name!r} has no file(s) {unknown}; known: {sorted(known)}")
        entries = tuple(r for r in entries if r.filename in wanted)
    out = []
    for res in entries:
        dest = folder / res.filename
        if not dest.exists():
            download_file(res, folder, timeout=timeout, progress=progress)
        out.append(dest)
    return out


# -- archives ----------------------------------------------------------------------------


def extract_archive(archive: str | os.PathLike, top: str, dest: str | os.PathLike | None = None) -> Path:
    """Extract the folder ``top`` of a tar archive into ``dest`` atomically; return it.

    The members under ``top/`` are extracted into a hidden temporary folder beside
    the target, which is then renamed to ``dest/top``, so the folder either appears
    complete or not at all. ``dest`` defaults to the archive's folder. Unsafe
    members (absolute paths, ``..``, links out of the folder, devices) are refused.
    If ``dest/top`` already exists it is returned unchanged.
    """
    archive = Path(archive)
    dest = archive.parent if dest is None else Path(dest)
    target = dest / top
    if target.exists():
        return target
    if not os.access(dest, os.W_OK):
        raise PermissionError(
            f"cannot extract {archive.name} into {dest}: the folder is not writable. Extract "
            f"it yourself (tar xzf {archive} -C <folder>) or copy the archive into a writable "
            f"data folder and pass that folder as root"
        )
    tmp = Path(tempfile.mkdtemp(prefix=f".{top}.", suffix=".extracting", dir=dest))
    try:
        _extract_into(archive, top, tmp)
        try:
            os.rename(tmp / top, target)
        except OSError:
            if not target.exists():  # not a concurrent extraction that won the race
                raise
        _fsync_dir(dest)
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise ValueError(f"{archive}: not a readable tar archive ({type(exc).__name__}: {exc})") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _extract_into(archive: Path, top: str, out: Path) -> None:
    """Write the regular files and folders under ``top/`` into ``out``, in one streaming pass.

    Files are written by gdl itself (not ``TarFile.extractall``): only names that
    stay inside the folder, only plain files and folders, default permissions.
    """
    made: set[Path] = set()
    found = False
    with tarfile.open(archive, "r:*") as tar:
        for member in tar:
            name = member.name.removeprefix("./")
            if name.split("/")[0] != top:
                continue
            found = True
            _check_member(archive, member)
            path = out / name
            if member.isdir():
                if path not in made:
                    path.mkdir(parents=True, exist_ok=True)
                    made.add(path)
                continue
            if path.parent not in made:
                path.parent.mkdir(parents=True, exist_ok=True)
                made.add(path.parent)
            data = tar.extractfile(member).read()
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
            finally:
                os.close(fd)
    if not found:
        raise ValueError(f"{archive}: no {top}/ folder inside; is this the right archive?")


def _check_member(archive: Path, member: tarfile.TarInfo) -> None:
    name = member.name
    parts = Path(name).parts
    if not (member.isfile() or member.isdir()) or name.startswith("/") or ".." in parts:
        raise ValueError(
            f"{archive}: refusing to extract unsafe member {name!r} "
            "(only plain files and folders inside the archive's folder are allowed)"
        )
