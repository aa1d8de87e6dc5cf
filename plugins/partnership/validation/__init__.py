"""Great Expectations suites derived from the registry, and validation of a landed file against them.

A file is checked in two steps, both of which must pass before any row of it is loaded:

1. the contract: readable UTF-8 text, not empty, and a header that is exactly the registry's columns;
2. the dataset's GX suite (``expectations/<agency>__<dataset>.json``), run chunk by chunk so a large file
   is never read into memory whole.

Results name the file, the column and the first failing row numbers (as in the file, header = row 1); they
never carry the failing values, which may be personal data.

Each file that reaches step 2 also leaves a GX validation result for the whole file (per-chunk counts summed,
no row values) in ``<data dir>/gx/``, from which GX's SiteBuilder renders static Data Docs into
``<data dir>/data_docs/`` for information-governance reviewers (each file's page as it is validated; the
index with the IG report).
"""

from partnership.validation.contract import ENCODING, check_contract, plain_lines, sha256_and_plain_lines
from partnership.validation.docs import build_data_docs, build_data_docs_index, data_docs_dir
from partnership.validation.results import CheckResult, ValidationReport
from partnership.validation.run import quiet_gx_logs, run_suite, validate_file
from partnership.validation.suites import build_suite, file_period, period_expectations, read_suite, suite_path

__all__ = [
    "ENCODING",
    "CheckResult",
    "ValidationReport",
    "build_data_docs",
    "build_data_docs_index",
    "build_suite",
    "check_contract",
    "data_docs_dir",
    "file_period",
    "period_expectations",
    "plain_lines",
    "sha256_and_plain_lines",
    "quiet_gx_logs",
    "read_suite",
    "run_suite",
    "suite_path",
    "validate_file",
]
