"""The README and the docs by reader (docs/*.md) stay true: every repository path they name exists, every link
and anchor resolves, and every `partnership` command and `make` target they show is one the project has."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from partnership import cli

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
TOP_LEVEL = ("dags", "plugins", "dbt", "tests", "benchmarks", "docs", "expectations", ".ci")
PATH = re.compile(rf"^(?:{'|'.join(re.escape(t) for t in TOP_LEVEL)})/[\w./-]*$")
COMMAND = re.compile(r"(?:^|`|\$ |uv run )partnership ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?", re.M)
MAKE = re.compile(r"`make ([a-z][a-z-]*)`|^make ([a-z][a-z-]*)\s*$", re.M)
LINK = re.compile(r"\]\(([^)\s]+)\)")
WRITTEN = ("tests/artifacts/", "dbt/target/")  # folders the project writes into, ignored by git


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(doc: Path) -> set[str]:
    return {slug(h) for h in re.findall(r"^#{1,6} (.+)$", doc.read_text(), re.M)}


def named_paths(text: str) -> set[str]:
    return {t.rstrip(".,:") for t in re.findall(r"`([^`\s]+)`", text) if PATH.match(t.rstrip(".,:"))}


def subcommands() -> dict[str, set[str]]:
    """partnership's commands, each with the actions its first positional argument takes (warehouse: start...)."""
    found: dict[str, set[str]] = {}
    for action in cli.parser()._subparsers._group_actions:
        for name, sub in action.choices.items():
            positional = [a for a in sub._actions if not a.option_strings and a.choices]
            found[name] = set(positional[0].choices) if positional else set()
    return found


def make_targets() -> set[str]:
    return set(re.findall(r"^([a-z][a-z-]*):", (ROOT / "Makefile").read_text(), re.M))


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.relative_to(ROOT).as_posix())
def test_every_path_the_doc_names_exists(doc):
    # What the project writes when it runs (the tests' screenshots, dbt's manifest) is named, not committed:
    # whether it is there depends on what ran before, not on the doc.
    named = [p for p in named_paths(doc.read_text()) if not p.startswith(WRITTEN)]
    missing = sorted(p for p in named if not (ROOT / p).exists())
    assert missing == []


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.relative_to(ROOT).as_posix())
def test_every_link_and_anchor_resolves(doc):
    broken = []
    for target in LINK.findall(doc.read_text()):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path, _, anchor = target.partition("#")
        file = (doc.parent / path).resolve() if path else doc
        if not file.exists():
            broken.append(target)
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(target)
    assert broken == []


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.relative_to(ROOT).as_posix())
def test_every_command_the_doc_shows_exists(doc):
    text, commands, targets = doc.read_text(), subcommands(), make_targets()
    unknown = []
    for command, sub in COMMAND.findall(text):
        if command not in commands:
            unknown.append(f"partnership {command}")
        elif sub and commands[command] and sub not in commands[command]:
            unknown.append(f"partnership {command} {sub}")
    unknown += [f"make {t}" for pair in MAKE.findall(text) for t in pair if t and t not in targets]
    assert unknown == []


def test_the_checks_find_what_is_wrong():
    assert named_paths("see `plugins/partnership/nowhere.py` and `plugins/partnership/cli.py`.") == {
        "plugins/partnership/nowhere.py",
        "plugins/partnership/cli.py",
    }
    assert slug("The Board's quarterly report") == "the-boards-quarterly-report"
    assert ("warehouse", "start") in COMMAND.findall("`uv run partnership warehouse start`")
    assert "quarantine" in subcommands() and "start" in subcommands()["warehouse"]
