"""Shared helpers of the data set readers: folders, archives, text decoding."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from gdl.data.download import RESOURCES, data_root, extract_archive, fetch


def folders(root, name: str) -> list[Path]:
    """Where data set ``name`` is looked for: ``root/name`` first, then ``root``."""
    base = data_root(root)
    return [base / name, base]


def extraction_cache(name: str, archive: Path) -> Path:
    """Where an archive from a read-only folder is extracted:
    ``$GDL_CACHE_DIR/extracted/<name>/<hash of the archive's path>`` (default
    ``~/.cache/gdl/...``), one folder per archive."""
    base = os.environ.get("GDL_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "gdl")
    key = hashlib.sha1(str(Path(archive).resolve()).encode()).hexdigest()[:12]
    return Path(base) / "extracted" / name / key


def _writable(folder: Path) -> bool:
    """Writable, and meant to be: a folder without write bits is read-only even for root."""
    try:
        return os.access(folder, os.W_OK) and bool(folder.stat().st_mode & 0o222)
    except OSError:
        return False


def where(places: list[Path]) -> str:
    return " or ".join(str(p) for p in places)


def read_text(path: Path) -> str:
    """A text file as str: UTF-8, or Latin-1 for the few files that are not UTF-8."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def find_folder(root, name: str, top: str, archive: str, download_now: bool, check) -> Path:
    """The folder ``top`` (e.g. ``aclImdb``) of data set ``name``, extracting or fetching it.

    Looks in ``root/name`` then ``root`` for: an existing ``top/`` folder that passes
    ``check``; else ``archive``, extracted atomically beside itself; else, with
    ``download_now``, fetches the archive into ``root/name`` and extracts it.
    ``check(folder)`` returns None when the folder is usable, else what it lacks.
    """
    places = folders(root, name)
    problems = []
    for place in places:
        folder = place / top
        if folder.is_dir():
            missing = check(folder)
            if missing is None:
                return folder
            problems.append(f"{folder} lacks {missing}")
    for place in places:
        if (place / archive).is_file():
            dest = place if _writable(place) else extraction_cache(name, place / archive)
            cached = dest / top
            if dest != place and cached.is_dir() and check(cached) is None:
                return cached
            dest.mkdir(parents=True, exist_ok=True)
            folder = extract_archive(place / archive, top, dest)
            missing = check(folder)
            if missing is not None:
                raise FileNotFoundError(f"{name}: {place / archive} holds no {missing}")
            return folder
    if download_now:
        (path,) = fetch(name, data_root(root), files=[archive])
        return extract_archive(path, top)
    raise FileNotFoundError(
        f"{name}: found neither a complete {top}/ folder nor {archive} in {where(places)}"
        + (f" ({'; '.join(problems)})" if problems else "")
        + f". Pass download=True to fetch {url_of(name, archive)}, or put {archive} "
        f"(or its extracted {top}/ folder) in {places[0]} by hand"
    )


def url_of(name: str, filename: str) -> str:
    for res in RESOURCES.get(name, ()):
        if res.filename == filename:
            return res.urls[0]
    return "(no known URL)"
