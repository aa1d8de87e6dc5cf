"""Where things live. Every path can be moved with an environment variable; defaults suit a checkout."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = Path(os.environ.get("PARTNERSHIP_DBT_DIR", PROJECT_ROOT / "dbt"))
# dbt/profiles.yml's profile and target. Every dbt command names both, as cosmos does in the transform: dbt
# counts a change of --profile/--target as a change of configuration and parses the project again (about 10 s).
DBT_PROFILE = "partnership"
DBT_TARGET = "warehouse"
EXPECTATIONS_DIR = Path(os.environ.get("PARTNERSHIP_EXPECTATIONS_DIR", PROJECT_ROOT / "expectations"))
DAGS_DIR = PROJECT_ROOT / "dags"
# The source registry: one YAML file per dataset (partnership.registry). Moved only to try a registry out (the
# temporary-dataset test does), with PARTNERSHIP_DBT_DIR and PARTNERSHIP_EXPECTATIONS_DIR beside it.
REGISTRY_DIR = Path(os.environ.get("PARTNERSHIP_REGISTRY_DIR", PROJECT_ROOT / "plugins" / "partnership" / "registry"))


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


def dbt_manifest() -> Path:
    """dbt's manifest (``dbt parse``): what the transform DAG, disclosure control and retention read of the project."""
    return DBT_PROJECT_DIR / "target" / "manifest.json"


# What the project writes under the data folder besides files in transit.


def pgdata_dir() -> Path:
    """The embedded PostgreSQL's cluster, when WAREHOUSE_URL is not set."""
    return data_dir() / "pgdata"


def airflow_home() -> Path:
    """AIRFLOW_HOME for `partnership run`: Airflow's config and metadata database."""
    return data_dir() / "airflow"


def linkage_truth_dir() -> Path:
    """Who each linked record really is, for the linkage-quality assessment: written by the generator for its
    own people; on real data, a clerically reviewed sample put here (partnership.linkage.quality)."""
    return data_dir() / "linkage_truth"


def data_docs_dir() -> Path:
    """GX Data Docs: each file's validation results, for reviewers."""
    return data_dir() / "data_docs"


def gx_stores_dir() -> Path:
    """GX's expectation and validation stores, which Data Docs are built from."""
    return data_dir() / "gx"


def cosmos_cache_dir() -> Path:
    """Cosmos's cache (dbt's partial-parse file between the transform's builds), one per data folder. Cosmos's
    default, /tmp/cosmos/<DAG id>, is shared by every checkout and warehouse on the machine, and a partial-parse
    file made against another database is refused by dbt (its connection is part of the file's check): the
    build then parses the whole project again, about 4 s."""
    return data_dir() / "cosmos"


def ig_report_dir() -> Path:
    return data_dir() / "reports" / "ig"


def board_reports_dir() -> Path:
    """The Board's quarterly reports, a folder per quarter."""
    return data_dir() / "reports" / "board"


def dbt_docs_dir() -> Path:
    return data_dir() / "docs" / "dbt"


def upload_marker(path: Path) -> Path:
    """``<name>.done`` beside a landed file: the sender's word that the file is complete (registry upload_complete)."""
    return path.with_name(path.name + ".done")


# Files the project writes under the data folder (copies, reason files, processed and quarantined files) may hold
# personal data: readable by the owner only, whatever the process's umask.
PRIVATE_FILE, PRIVATE_FOLDER = 0o600, 0o700


def private_folder(folder: Path) -> Path:
    """``mkdir -p``, each folder it creates 0700 (folders that already exist are left as they are)."""
    missing, parent = [], folder
    while not parent.exists():
        missing.append(parent)
        parent = parent.parent
    for f in reversed(missing):
        f.mkdir(mode=PRIVATE_FOLDER, exist_ok=True)
        f.chmod(PRIVATE_FOLDER)  # mkdir's mode is masked by the umask
    return folder


def private_opener(path: str, flags: int) -> int:
    """For ``open(..., opener=private_opener)``: the file is 0600 from its first byte."""
    fd = os.open(path, flags, PRIVATE_FILE)
    os.fchmod(fd, PRIVATE_FILE)  # an existing file keeps its mode through os.open
    return fd


def write_private_atomically(path: Path, text: str) -> None:
    """Write a whole file or nothing: a temporary file in the same folder, then os.replace (0600)."""
    private_folder(path.parent)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # mkstemp makes it 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


# Warehouse schemas: raw loads, dbt layers, candidates for publication (dbt) and their protected copies
# (partnership.publish), audit records, reference data.
SCHEMAS = ("raw", "staging", "intermediate", "marts", "publish_staging", "publish", "audit", "reference", "linkage")
