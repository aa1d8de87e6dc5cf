"""The analysts' definitions table (docs/querying.md), kept equal to the dbt seed `definitions` (the one place
definitions live).

`partnership definitions` prints the table; `partnership definitions --write-doc` rewrites it in
docs/querying.md between its markers, and a test fails when the two differ.
"""

from __future__ import annotations

import csv
from pathlib import Path

from partnership import settings

SEED = settings.DBT_PROJECT_DIR / "seeds" / "definitions.csv"
DOC = settings.PROJECT_ROOT / "docs" / "querying.md"
START = "<!-- definitions table: generated from dbt/seeds/definitions.csv by `partnership definitions --write-doc` -->"
END = "<!-- end of definitions table -->"


def _cell(text: str) -> str:
    return " ".join((text or "").split()).replace("|", "\\|")


def markdown_table(seed: Path = SEED) -> str:
    """One row per definition version: code, version, in force from/to, what it counts, source."""
    with seed.open(newline="", encoding="utf-8") as f:
        rows = sorted(csv.DictReader(f), key=lambda r: (r["definition_code"], r["valid_from"], r["definition_version"]))
    lines = [
        "| code | version | in force | what it counts | source |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        in_force = f"{r['valid_from']} to {r['valid_to']}" if r["valid_to"] else f"from {r['valid_from']}"
        lines.append(
            f"| `{r['definition_code']}` | {_cell(r['definition_version'])} | {in_force} "
            f"| {_cell(r['description'])} | {_cell(r['source_document'])} |"
        )
    return "\n".join(lines) + "\n"


def doc_table(doc: Path = DOC) -> str | None:
    """The table as the doc has it now, or None when the markers are missing."""
    text = doc.read_text(encoding="utf-8")
    if START not in text or END not in text:
        return None
    return text.split(START, 1)[1].split(END, 1)[0].strip("\n") + "\n"


def write_doc(doc: Path = DOC, seed: Path = SEED) -> bool:
    """Rewrite the doc's table from the seed; True when it changed."""
    text = doc.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise SystemExit(f"{doc}: the definitions table markers are missing")
    before, rest = text.split(START, 1)
    after = rest.split(END, 1)[1]
    new = f"{before}{START}\n{markdown_table(seed)}{END}{after}"
    if new == text:
        return False
    doc.write_text(new, encoding="utf-8")
    return True
