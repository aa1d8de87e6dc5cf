"""The attacker's audit of the publish schema: ``partnership publish-audit``.

It reads what an outside reader has (the published tables, and the declarations of how their figures relate,
from the dbt manifest) and nothing else, then tries to work suppressed counts back:

- structural checks: a count from 1 to the threshold shown; a rate or label shown where a count it is built on
  is suppressed;
- every relation at once, over all tables: totals, links between tables, complements, published rates times
  published denominators (within their rounding), non-negativity (a suppressed count is at least 1, as zeros are
  always shown); the minimum and maximum of each suppressed cell by linear programming (HiGHS), rounded to whole
  numbers. A cell whose interval is narrower than its table's protection width fails, with the interval.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from partnership import disclosure, warehouse


@dataclass
class AuditResult:
    tables: list[str]
    suppressed_cells: int
    findings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.findings


def structural_findings(table: disclosure.Table) -> list[str]:
    d = table.declaration
    out = []
    for key, row in table.by_key.items():
        for column in d.counts:
            value = row.get(column)
            if value is not None and 1 <= value <= d.threshold:
                out.append(f"{d.table}.{column} at {key}: shows {value}, a count from 1 to {d.threshold}")
        for rate in d.rates:
            if row.get(rate.column) is None:
                continue
            for ref in rate.inputs:
                ref_key = table.ref_key(key, ref)
                ref_row = table.by_key.get(ref_key)
                if ref_row is not None and ref_row.get(ref.column) is None and ref_row.get(f"{ref.column}_suppressed"):
                    out.append(f"{d.table}.{rate.column} at {key}: shown, but {ref.column} at {ref_key} is suppressed")
        for label, value_column in d.labels.items():
            if row.get(label) is not None and row.get(value_column) is None:
                out.append(f"{d.table}.{label} at {key}: shown, but {value_column} is withheld")
    return out


def audit_tables(tables: dict[str, disclosure.Table], link_pairs: dict) -> AuditResult:
    """Audit published tables (``Table(published=True)``); link_pairs as in :func:`disclosure.build_system`."""
    started = time.monotonic()
    findings = [f for t in tables.values() for f in structural_findings(t)]
    system = disclosure.build_system(tables, link_pairs, include_rates=True)
    # A published figure that contradicts its declaration (a rate on another count than declared, say) tells
    # the reader something the audit cannot model: the declaration or the model is wrong.
    findings += [
        f"the published figures contradict their declaration: {b}" for b in disclosure.broken_relations(system)
    ]
    unknown = {c for c, v in system.values.items() if v is None}
    try:
        exposures = disclosure.exposed_cells(system, unknown)
    except disclosure.InconsistentTables as exc:
        findings.append(f"the published figures contradict their declarations: {exc}")
        exposures = []
    for e in sorted(exposures, key=lambda e: e.cell):
        findings.append(f"{e.describe()}, narrower than the protection width {system.width(e.cell)}")
    suppressed = sum(1 for c in unknown if system.cells[c] == "count")
    return AuditResult(sorted(tables), suppressed, findings, time.monotonic() - started)


def audit_publish_schema(url: str | None = None, schema: str = "publish") -> AuditResult:
    """Audit every publish model's table in ``schema`` as an outside reader would."""
    from partnership import publish  # which protects with this module's audit

    decls = publish.declarations()
    with warehouse.connect(url) as conn:
        missing = [
            name
            for name in decls
            if conn.execute("select to_regclass(%s)", (f"{schema}.{name}",)).fetchone()[0] is None
        ]
        if missing:
            return AuditResult(sorted(decls), 0, [f"{schema}.{name} is missing: nothing to audit" for name in missing])
        tables, pairs = publish.read_tables(conn, schema, decls, published=True)
    return audit_tables(tables, pairs)
