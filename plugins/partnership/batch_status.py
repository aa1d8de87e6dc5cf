"""What became of a file given to the gate: ``audit.load_batch.status``.

One list for Python, the database and dbt: the table's check constraint is made from it (warehouse_ddl.py), and
tests/test_batch_status.py checks that every status the SQL names, in Python and in dbt, is one of these.
"""

from __future__ import annotations

from enum import StrEnum


class BatchStatus(StrEnum):
    LOADING = "loading"  # a load in progress; it commits as loaded or rolls back, so no row outlives it
    LOADED = "loaded"  # its rows are in raw; at most one loaded batch per dataset and checksum
    QUARANTINED = "quarantined"  # refused whole: nothing in raw, the file kept in quarantine with the reason
    SKIPPED_DUPLICATE = "skipped_duplicate"  # content already loaded: nothing new in raw
    SUPERSEDED = "superseded"  # loaded, then re-run through the gate by `partnership reprocess`; rows deleted


def check_constraint() -> str:
    """The SQL check on the status column, as the database spells it back: ``status in ('loading', ...)``."""
    return "status in (" + ", ".join(f"'{status.value}'" for status in BatchStatus) + ")"
