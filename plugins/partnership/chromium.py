"""Headless Chromium: prints the Board's report to PDF, and renders reports for the tests' screenshots.

Debian's ``chromium`` package (`make chromium` installs it; the Dockerfile too). ``CHROMIUM`` in the environment
names another binary. Each call gets a throwaway profile, so runs never share state or leave it behind.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless",
    "--no-sandbox",  # the worker and the tests may run as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


class ChromiumMissing(RuntimeError):
    pass


def binary() -> str:
    named = os.environ.get("CHROMIUM")
    if named:
        if not Path(named).exists():
            raise ChromiumMissing(f"CHROMIUM={named}: no such file")
        return named
    for name in NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise ChromiumMissing(
        "headless Chromium is needed to print the report to PDF and was not found: "
        "`make chromium` (Debian's chromium package), or set CHROMIUM to the browser's path"
    )


def run(*args: str, timeout: int = 180) -> subprocess.CompletedProcess:
    """Chromium with the headless flags and a throwaway profile; raises on a non-zero exit or a timeout."""
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        return subprocess.run(
            [binary(), *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )


def print_to_pdf(page: Path, pdf: Path) -> Path:
    """The page as Chromium prints it (its print stylesheet, A4 from the page's @page rule), no header or footer."""
    pdf.unlink(missing_ok=True)
    run("--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.resolve().as_uri())
    if not pdf.exists() or pdf.stat().st_size == 0:
        raise RuntimeError(f"Chromium printed no PDF for {page}")
    return pdf
