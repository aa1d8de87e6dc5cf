"""Disclosure control (partnership.disclosure) on hand-worked tables: counts from 1 to 9 are suppressed, and
enough other cells that the attacker's audit cannot narrow any suppressed count below the protection width.
The leaks the old suppression let through are in test_disclosure_leaks.py; random tables in
test_disclosure_properties.py."""

import json

import pytest

from partnership import disclosure, publish
from partnership.disclosure_audit import audit_tables

# Area x offence with totals. Primary: A/X (5) and C/Y (3).
CELLS = {
    ("A", "X"): 5, ("A", "Y"): 20, ("A", "All"): 25,
    ("B", "X"): 30, ("B", "Y"): 40, ("B", "All"): 70,
    ("C", "X"): 12, ("C", "Y"): 3, ("C", "All"): 15,
    ("All", "X"): 47, ("All", "Y"): 63, ("All", "All"): 110,
}  # fmt: skip
DECLARATION = {
    "dims": ["area", "offence"],
    "totals": {"area": "sum", "offence": "sum"},
    "counts": ["crimes"],
    "rates": {"crimes_per_1000": {"numerator": "crimes", "denominator": "population", "scale": 1000}},
}


def publish_cells(cells, declaration=DECLARATION):
    d = disclosure.parse_declaration("cells", declaration)
    rows = [
        {"area": a, "offence": o, "crimes": n, "population": 2000, "crimes_per_1000": n / 2}
        for (a, o), n in cells.items()
    ]
    truth = disclosure.Table(d, rows)
    protection = disclosure.protect(disclosure.build_system({"cells": truth}, include_rates=False))
    published = disclosure.Table(d, disclosure.apply(truth, protection), published=True)
    return {d.key(r): r for r in published.rows}, published


def test_small_counts_and_enough_others_are_suppressed():
    published, table = publish_cells(CELLS)
    suppressed = {key for key, row in published.items() if row["crimes_suppressed"]}
    # A rectangle A/X, A/Y, C/X, C/Y: each row and column has two hidden cells, and moving 1 between them
    # keeps every total, so A/X could be anything from 1 to 13 and C/Y from 1 to 15.
    assert suppressed == {("A", "X"), ("C", "Y"), ("C", "X"), ("A", "Y")}
    for key, row in published.items():
        if row["crimes_suppressed"]:
            assert row["crimes"] is None and row["crimes_per_1000"] is None  # the rate would give it back
        else:
            assert row["crimes"] == CELLS[key] and row["crimes_per_1000"] == pytest.approx(CELLS[key] / 2)
    assert audit_tables({"cells": table}, {}).ok


def test_a_partner_too_small_to_protect_is_not_enough():
    # Row C: 12 and 3. Pairing 3 with a 1 would let a reader narrow it to [1, 3]: the partner must be big enough.
    cells = {("A", "X"): 1, ("A", "Y"): 2, ("A", "All"): 3, ("B", "X"): 50, ("B", "Y"): 60, ("B", "All"): 110,
             ("All", "X"): 51, ("All", "Y"): 62, ("All", "All"): 113}  # fmt: skip
    published, table = publish_cells(cells)
    assert audit_tables({"cells": table}, {}).ok
    assert published[("A", "All")]["crimes"] is None  # 3 is small itself
    assert sum(row["crimes_suppressed"] for row in published.values()) > 3


def test_a_count_of_zero_is_published():
    published, _ = publish_cells({("A", "X"): 0, ("A", "All"): 0, ("All", "X"): 0, ("All", "All"): 0})
    assert all(row["crimes"] == 0 and not row["crimes_suppressed"] for row in published.values())


def test_every_real_publish_model_declares_relations_the_engine_accepts(dbt_manifest):
    decls = publish.declarations(json.loads(dbt_manifest.read_text()))
    assert len(decls) >= 15
    for d in decls.values():
        assert d.threshold == 9 and d.protection_width == 5  # IG's defaults unless a model says otherwise
        assert d.totals or d.links or len(d.dims) == 1, f"{d.table} declares no relation between its cells"


def test_a_declaration_without_counts_is_refused():
    with pytest.raises(disclosure.DeclarationError, match="pub_x needs config.meta.disclosure"):
        disclosure.parse_declaration("pub_x", {"dims": ["ward_code"]})
    with pytest.raises(disclosure.DeclarationError, match="not a count"):
        disclosure.parse_declaration(
            "pub_x", {"dims": ["w"], "counts": ["n"], "rates": {"r": {"numerator": "m", "denominator": "n"}}}
        )
