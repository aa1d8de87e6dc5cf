"""The analysts' definitions table (docs/querying.md) is the seed's, so a reader never sees a definition the warehouse
does not use."""

import csv

from partnership import definitions


def test_the_doc_lists_every_definition_version_in_the_seed():
    assert definitions.doc_table() == definitions.markdown_table(), (
        "docs/querying.md's definitions table differs from dbt/seeds/definitions.csv: run "
        "`partnership definitions --write-doc`"
    )


def test_every_definition_version_is_listed_once_with_its_source():
    with definitions.SEED.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    versions = [r["definition_version"] for r in rows]
    assert len(versions) == len(set(versions))
    assert all(r["source_document"].strip() and r["description"].strip() for r in rows)
    table = definitions.markdown_table()
    assert all(f"| {v} |" in table for v in versions)


def test_a_new_version_rewrites_the_doc_table(tmp_path):
    seed = tmp_path / "definitions.csv"
    seed.write_text(definitions.SEED.read_text(encoding="utf-8"), encoding="utf-8")
    doc = tmp_path / "querying.md"
    doc.write_text(f"intro\n{definitions.START}\nold\n{definitions.END}\nrest\n", encoding="utf-8")
    with seed.open("a", encoding="utf-8") as f:
        f.write('knife_crime,KC-TEST,2026-04-01,,"Knife | sharp instrument offences",Home Office\n')
    assert definitions.write_doc(doc, seed)
    text = doc.read_text(encoding="utf-8")
    assert text.startswith("intro\n") and text.endswith("rest\n") and "\nold\n" not in text
    assert "| `knife_crime` | KC-TEST | from 2026-04-01 | Knife \\| sharp instrument offences | Home Office |" in text
    assert not definitions.write_doc(doc, seed)
