"""Where things live. Every path can be moved with an environment variable; defaults suit a checkout."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = Path(os.environ.get("PARTNERSHIP_DBT_DIR", PROJECT_ROOT / "dbt"))
EXPECTATIONS_DIR = Path(os.environ.get("PARTNERSHIP_EXPECTATIONS_DIR", PROJECT_ROOT / "expectations"))
DAGS_DIR = PROJECT_ROOT / "dags"


def data_dir() -> Path:
    """The project's working data: landing zone, processed and quarantined files, embedded database."""
    return Path(os.environ.get("PARTNERSHIP_DATA_DIR", PROJECT_ROOT / ".partnership")).resolve()


def landing_dir() -> Path:
    return data_dir() / "landing"


def processed_dir() -> Path:
    return data_dir() / "processed"


def quarantine_dir() -> Path:
    return data_dir() / "quarantine"


def work_dir() -> Path:
    """Pseudonymised copies of landed files, between the gate and the load."""
    return data_dir() / "work"


# Warehouse schemas: raw loads, dbt layers, candidates for publication (dbt) and their protected copies
# (partnership.publish), audit records, reference data.
SCHEMAS = ("raw", "staging", "intermediate", "marts", "publish_staging", "publish", "audit", "reference")
