"""The publish schema: the only tables that leave the partnership.

dbt builds each publish model (dbt/models/publish) into ``publish_staging``, which only the transformer can
read. :func:`protect_publish` then reads all of them with their disclosure declarations (the dbt manifest's
``config.meta.disclosure``), protects them together (``partnership.disclosure``: linked tables in one pass), and
replaces the tables in ``publish`` in one transaction, so a reader sees all the new tables or all the old ones,
and never an unprotected one.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from partnership import disclosure, disclosure_audit, security, settings, warehouse

log = logging.getLogger(__name__)

STAGING_SCHEMA = "publish_staging"
PUBLISH_SCHEMA = "publish"


def publish_nodes(manifest: dict) -> list[dict]:
    """The dbt models in the publish folder."""
    return sorted(
        (n for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["fqn"][1:2] == ["publish"]),
        key=lambda n: n["name"],
    )


def declarations(manifest: dict | None = None) -> dict[str, disclosure.Disclosure]:
    """Every publish model's disclosure declaration, from the dbt manifest."""
    if manifest is None:
        path = settings.dbt_manifest()
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: run `partnership dbt-parse` first")
        manifest = json.loads(path.read_text())
    out = {}
    for node in publish_nodes(manifest):
        meta = node["config"].get("meta") or {}
        out[node["name"]] = disclosure.parse_declaration(node["name"], meta.get("disclosure"))
    for d in out.values():
        for link in d.links:
            if link.table not in out:
                raise disclosure.DeclarationError(f"{d.table}: links to {link.table}, which is no publish model")
    return out


def read_tables(
    conn: psycopg.Connection, schema: str, decls: dict[str, disclosure.Disclosure], published: bool
) -> tuple[dict[str, disclosure.Table], dict]:
    """The tables' rows, and for each declared link the (this key, other key) pairs its condition joins."""
    tables = {}
    with conn.cursor(row_factory=dict_row) as cur:
        for name, d in decls.items():
            rows = cur.execute(sql.SQL("select * from {}").format(sql.Identifier(schema, name))).fetchall()
            tables[name] = disclosure.Table(d, rows, published=published)
    pairs = {}
    for name, d in decls.items():
        for i, link in enumerate(d.links):
            query = sql.SQL("select {}, {} from {} as this inner join {} as other on {}").format(
                sql.SQL(", ").join(sql.Identifier("this", c) for c in d.dims),
                sql.SQL(", ").join(sql.Identifier("other", c) for c in decls[link.table].dims),
                sql.Identifier(schema, name),
                sql.Identifier(schema, link.table),
                sql.SQL(link.where),  # written by the model's author in its yml, like the model's own SQL
            )
            n = len(d.dims)
            pairs[(name, i)] = [
                (tuple(disclosure.key_text(v) for v in row[:n]), tuple(disclosure.key_text(v) for v in row[n:]))
                for row in conn.execute(query)
            ]
    return tables, pairs


@dataclass
class Published:
    """What protection cost one table: its count cells, the small ones and all those suppressed."""

    table: str
    rows: int
    count_cells: int
    suppressed: int
    primary: int
    withheld: int = 0  # of the suppressed, those withheld with their whole slice (zeros included)

    @property
    def suppressed_pct(self) -> float:
        return 100.0 * self.suppressed / self.count_cells if self.count_cells else 0.0


@dataclass
class ProtectedTables:
    tables: dict[str, disclosure.Table]  # as they would be published
    system: disclosure.System
    protection: disclosure.Protection
    audit: disclosure_audit.AuditResult

    def summary(self) -> list[Published]:
        out = []
        for name, table in sorted(self.tables.items()):
            cells = [c for c, kind in self.system.cells.items() if kind == "count" and c[0] == name]
            suppressed = sum(c in self.protection.suppressed for c in cells)
            primary = sum(c in self.protection.primary for c in cells)
            withheld = sum(c in self.protection.withheld for c in cells)
            out.append(Published(name, len(table.rows), len(cells), suppressed, primary, withheld))
        return out


class DisclosureAuditFailed(RuntimeError):
    def __init__(self, findings: list[str]):
        self.findings = findings
        shown = "\n  ".join(findings[:20])
        more = f"\n  ... and {len(findings) - 20} more" if len(findings) > 20 else ""
        super().__init__(f"the protected tables failed the attacker's audit; publish is unchanged:\n  {shown}{more}")


def protect_tables(tables: dict[str, disclosure.Table], pairs: dict) -> ProtectedTables:
    """Protect unprotected tables together (in memory) and audit the result as an attacker would."""
    # Every declared relation, rates included, must hold on the unprotected tables before anything else.
    disclosure.check_relations(disclosure.build_system(tables, pairs, include_rates=True))
    system = disclosure.build_system(tables, pairs, include_rates=False)
    protection = disclosure.protect(system)
    for table, key in sorted({(t, key) for t, _, key in protection.withheld}):
        log.warning("%s at %s: withheld whole (suppression alone could not protect its slice)", table, key)
    published = {
        name: disclosure.Table(t.declaration, disclosure.apply(t, protection), published=True)
        for name, t in tables.items()
    }
    return ProtectedTables(published, system, protection, disclosure_audit.audit_tables(published, pairs))


def protect_publish(url: str | None = None, manifest: dict | None = None) -> list[Published]:
    """Protect every publish_staging table together, audit the result as an attacker would, and only then
    replace the publish schema's tables, in one transaction. Raises :class:`DisclosureAuditFailed` otherwise."""
    started = time.monotonic()
    decls = declarations(manifest)
    with warehouse.connect(url) as conn:
        tables, pairs = read_tables(conn, STAGING_SCHEMA, decls, published=False)
        result = protect_tables(tables, pairs)
        if not result.audit.ok:  # the audit ran on exactly what would be published: nothing is written
            raise DisclosureAuditFailed(result.audit.findings)
        with conn.transaction():
            # A publish model renamed or removed leaves no table behind: publish holds exactly what is declared.
            for (stale,) in conn.execute(
                "select table_name from information_schema.tables where table_schema = %s and not table_name = any(%s)",
                (PUBLISH_SCHEMA, list(result.tables)),
            ).fetchall():
                conn.execute(sql.SQL("drop table {}").format(sql.Identifier(PUBLISH_SCHEMA, stale)))
            for name, table in result.tables.items():
                _replace_table(conn, name, table.declaration, table.rows)
    log.info(
        "protected %d publish tables in %.1f s (%d rounds; audit %.1f s)",
        len(result.tables),
        time.monotonic() - started,
        result.protection.rounds,
        result.audit.seconds,
    )
    return result.summary()


def _replace_table(conn: psycopg.Connection, name: str, d: disclosure.Disclosure, rows: list[dict]) -> None:
    target, source = sql.Identifier(PUBLISH_SCHEMA, name), sql.Identifier(STAGING_SCHEMA, name)
    conn.execute(sql.SQL("drop table if exists {}").format(target))
    conn.execute(sql.SQL("create table {} (like {})").format(target, source))
    for column in [*(f"{c}_suppressed" for c in d.counts), disclosure.WITHHELD_COLUMN]:
        conn.execute(
            sql.SQL("alter table {} add column {} boolean not null default false").format(
                target, sql.Identifier(column)
            )
        )
    columns = [c for c in rows[0]] if rows else []
    if not columns:
        return
    copy = sql.SQL("copy {} ({}) from stdin").format(target, sql.SQL(", ").join(map(sql.Identifier, columns)))
    with conn.cursor().copy(copy) as cp:
        for row in rows:
            cp.write_row([row[c] for c in columns])
    # Explicitly, as dbt's +grants do: default privileges only cover tables made by the roles init knew of.
    readers = security.DBT_READERS[PUBLISH_SCHEMA]
    if readers:
        conn.execute(
            sql.SQL("grant select on {} to {}").format(target, sql.SQL(", ").join(map(sql.Identifier, readers)))
        )
