"""The landing zone's files: whether a landed file is complete, its checksum, and filing it away.

Nothing here reads the database or parses a file: names, times and checksums only. The landing watcher
(:mod:`partnership.scheduling`) calls :func:`awaiting_files` every few minutes; :mod:`partnership.loader` files
what it loads or skips in ``processed/`` and :mod:`partnership.quarantine` what it refuses in ``quarantine/``.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import shutil
import time
from pathlib import Path

from partnership import screening, settings
from partnership.registry import Dataset


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def upload_complete(ds: Dataset, path: Path) -> bool:
    """Whether the sender has finished the file: its marker is there, or it has been quiet long enough.

    A marker counts only if it is not older than the file: one left from an earlier upload of the same name
    does not vouch for a re-upload still being written.
    """
    modified = path.stat().st_mtime
    if modified > time.time() + 60:
        return False  # dated in the future: neither its quiet period nor a marker can be judged against it
    try:
        if settings.upload_marker(path).stat().st_mtime >= modified:
            return True
    except FileNotFoundError:
        pass
    rule = ds.upload_complete
    return not rule.marker and time.time() - modified >= rule.quiet_seconds


def awaiting_files(ds: Dataset) -> list[Path]:
    """The landed files the dataset's next ingest run would take (complete, or named with an identifier, which
    it quarantines). Reads only file names and times: the landing watcher calls it every few minutes."""
    found = []
    for p in sorted((settings.landing_dir() / ds.landing_subdir).glob(ds.landing_pattern)):
        if p.name.endswith(".done"):
            continue
        try:  # an ingest run may file it away meanwhile
            if p.is_file() and (upload_complete(ds, p) or screening.screen_file_name(p.name)):
                found.append(p)
        except FileNotFoundError:
            pass
    return found


def ingest_idle(ds: Dataset) -> str | None:
    """Why an ingest run of the dataset would do nothing now, or None if it would do something.

    An ingest run takes what :func:`awaiting_files` lists (complete files, duplicates by checksum among them,
    which it records as ``skipped_duplicate`` and files away, and files named with an identifier, which it
    quarantines), and first sweeps the dataset's work/ folder of copies an interrupted run left. With none of
    these there is nothing for it to do: a file still being uploaded waits for a later run either way.
    """
    if awaiting_files(ds):
        return None
    try:
        if any(p.is_file() for p in (settings.work_dir() / ds.landing_subdir).rglob("*")):
            return None
    except OSError:
        return None  # cannot tell: let the run look
    folder = Path(settings.landing_dir().name) / ds.landing_subdir
    uploading = sum(
        1 for p in (settings.landing_dir() / ds.landing_subdir).glob(ds.landing_pattern) if not p.name.endswith(".done")
    )
    return f"no file waits in {folder}" + (f" ({uploading} still being uploaded)" if uploading else "")


def file_away(path: Path, folder: Path, tag: str, name: str | None = None) -> Path:
    """Move a landed file into folder (as ``name``, if given; 0600 in 0700 folders), never overwriting a file of
    the same name: a name taken gets ``.<tag>`` added (a checksum or batch), then a counter. Its upload marker is
    removed."""
    settings.private_folder(folder)
    name = name or path.name
    stem, suffix = Path(name).stem, Path(name).suffix
    names = itertools.chain(
        (name, f"{stem}.{tag}{suffix}"),
        (f"{stem}.{tag}-{n}{suffix}" for n in itertools.count(2)),
    )
    target = next(folder / n for n in names if not (folder / n).exists())
    shutil.move(str(path), target)
    target.chmod(settings.PRIVATE_FILE)
    # Retention ages filed files from now: the sender sets the landed file's time (one in 2100 would never expire).
    os.utime(target)
    settings.upload_marker(path).unlink(missing_ok=True)
    return target
