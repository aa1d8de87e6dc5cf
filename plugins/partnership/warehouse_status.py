"""What the warehouse holds now, for people to read (``partnership run`` prints it when it ends): the rows of
each table in a schema, what happened to the files loaded since a time, and whether the last transform read
what the warehouse holds now."""

from __future__ import annotations

from psycopg import sql

from partnership import warehouse


def table_row_counts(url: str, schema: str = "marts") -> list[tuple[str, int]]:
    """(table, rows) for each table of the schema, by name."""
    with warehouse.connect(url) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "select table_name from information_schema.tables where table_schema = %s order by 1", (schema,)
            )
        ]
        return [
            (t, conn.execute(sql.SQL("select count(*) from {}").format(sql.Identifier(schema, t))).fetchone()[0])
            for t in tables
        ]


def batches_since(url: str, since: float) -> list[tuple[str, str, int, int]]:
    """(dataset, status, files, rows) of the batches started since a Unix time (audit.load_batch)."""
    with warehouse.connect(url) as conn:
        return conn.execute(
            """select dataset, status, count(*), coalesce(sum(row_count), 0)
               from audit.load_batch where started_at >= to_timestamp(%s)
               group by dataset, status order by dataset, status""",
            (since,),
        ).fetchall()


def transform_is_current(url: str) -> bool:
    """The last transform read what the warehouse holds now and the dbt project as it is (transform_inputs.py)."""
    from partnership import transform_inputs
    from partnership.transform import manifest_path

    with warehouse.connect(url) as conn:
        return transform_inputs.unchanged_since_last_build(conn, manifest_path())
