"""Great Expectations suites derived from the registry, and validation of a landed file against them.

A file is checked in two steps, both of which must pass before any row of it is loaded:

1. the contract: readable UTF-8 text, not empty, and a header that is exactly the registry's columns;
2. the dataset's GX suite (``expectations/<agency>__<dataset>.json``), run chunk by chunk so a large file
   is never read into memory whole.

Results name the file, the column and the first failing row numbers (as in the file, header = row 1); they
never carry the failing values, which may be personal data.

Each file that reaches step 2 also leaves a GX validation result for the whole file (per-chunk counts summed,
no row values) in ``<data dir>/gx/``, from which GX's SiteBuilder renders static Data Docs into
``<data dir>/data_docs/`` for information-governance reviewers.
"""

from __future__ import annotations

import csv
import itertools
import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from partnership import settings
from partnership.registry import Dataset

CHUNK_ROWS = 50_000  # rows GX is shown at a time: a chunk and its distinct values stay a few tens of MB
ENCODING = "utf-8-sig"  # UTF-8, with or without a byte-order mark (Excel writes one)
PARSED_SUFFIX = "__parsed"  # a column's values parsed as numbers or datetimes, for range expectations
PERIOD_SUFFIX = "__period"  # the record date column as YYYYMMDD, checked against the file's month
SHOWN_ROWS = 5
DOCS_SITE = "partnership"  # the ephemeral context already has a site called local_site
DOCS_VALIDATIONS_SHOWN = 1000  # the index lists the most recent validation results (it reads each one)


@dataclass
class CheckResult:
    expectation: str
    column: str | None
    success: bool
    unexpected_count: int = 0
    rows: list[int] = field(default_factory=list)  # file row numbers of the first failures
    severity: str = "critical"
    observed: str | None = None  # what GX measured (e.g. "92.1% not null"); never a data value
    threshold: str | None = None  # what the expectation asks (e.g. "mostly 0.95")
    message: str | None = None  # a complete description, for checks that are not GX expectations
    rows_checked: int = 0

    def describe(self, file_name: str) -> str:
        if self.message:
            return f"{file_name}: {self.message}"
        where = f"column {self.column!r}" if self.column else "file"
        rows = f" at rows {', '.join(map(str, self.rows))}" if self.rows else ""
        return f"{file_name}: {where}: {self.expectation} failed for {self.unexpected_count} row(s){rows}"


@dataclass
class ValidationReport:
    file_name: str
    row_count: int
    checks: list[CheckResult]

    @property
    def failures(self) -> list[CheckResult]:
        return [c for c in self.checks if not c.success and c.severity == "critical"]

    @property
    def success(self) -> bool:
        return not self.failures

    def reason(self) -> str:
        return "; ".join(c.describe(self.file_name) for c in self.failures)


# -- suites ----------------------------------------------------------------------------------------------


def build_suite(ds: Dataset) -> dict:
    """The dataset's expectation suite as GX JSON, derived from its registry contract."""
    expectations = []

    def expect(kind: str, severity: str = "critical", **kwargs) -> None:
        expectations.append({"type": kind, "kwargs": kwargs, "meta": {"severity": severity}})

    for col in ds.columns:
        level = col.severity
        if col.required:
            expect("expect_column_values_to_not_be_null", column=col.name)
        elif col.completeness:
            expect("expect_column_values_to_not_be_null", "warning", column=col.name, mostly=col.completeness)
        if col.value_pattern:
            expect("expect_column_values_to_match_regex", level, column=col.name, regex=col.value_pattern)
        if col.date_format:
            expect(
                "expect_column_values_to_match_strftime_format", level, column=col.name, strftime_format=col.date_format
            )
        if col.allowed:
            expect("expect_column_values_to_be_in_set", level, column=col.name, value_set=list(col.allowed))
        if col.min is not None or col.max is not None:
            expect(
                "expect_column_values_to_be_between",
                level,
                column=col.name + PARSED_SUFFIX,
                min_value=_bound(col.type, col.min),
                max_value=_bound(col.type, col.max),
            )
    if len(ds.key_columns) == 1:
        expect("expect_column_values_to_be_unique", column=ds.key_columns[0])
    elif ds.key_columns:
        expect("expect_compound_columns_to_be_unique", column_list=list(ds.key_columns))
    return {"name": ds.name, "expectations": expectations}


def file_period(path: Path) -> tuple[int, int] | None:
    """First and last day (as YYYYMMDD) of the month the file name carries (``..._2024-04.csv``), if any."""
    import calendar

    m = re.search(r"(?<!\d)(\d{4})-(\d{2})(?!\d)", Path(path).name)
    if not m or not 1 <= int(m.group(2)) <= 12:
        return None
    year, month = int(m.group(1)), int(m.group(2))
    return year * 10000 + month * 100 + 1, year * 10000 + month * 100 + calendar.monthrange(year, month)[1]


def period_expectations(ds: Dataset, path: Path) -> list[dict]:
    """Records dated inside the file's month: depends on the file, so added at validation time, not in the suite.

    The record date (for recorded crime, the date recorded) must fall in the file's month, or the file is
    quarantined. A dataset whose events can happen long before they are recorded (an offence reported years
    later) names that date as its event_date_column: events dated a year or more before the file's month are
    historic and load with a warning that counts them (days or weeks earlier is ordinary and loads silently); an
    event dated after the month (after it was recorded) is an error.
    """
    period = file_period(path)
    if not period or ds.cadence != "monthly":  # termly and annual files carry their sending month, not a period
        return []
    checks = [
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {
                "column": ds.record_date_column + PERIOD_SUFFIX,
                "min_value": period[0],
                "max_value": period[1],
            },
            "meta": {"severity": "critical", "check": "record date inside the file's period"},
        }
    ]
    if ds.event_date_column:
        column = ds.event_date_column + PERIOD_SUFFIX
        checks += [
            {
                "type": "expect_column_values_to_be_between",
                "kwargs": {"column": column, "max_value": period[1]},
                "meta": {
                    "severity": "critical",
                    "check": "event date not after the file's period",
                    "label": "event after the file's period",
                },
            },
            {  # a year or more before the month: YYYYMMDD less 10000 is the same day a year earlier
                "type": "expect_column_values_to_be_between",
                "kwargs": {"column": column, "min_value": period[0] - 10000},
                "meta": {
                    "severity": "warning",
                    "check": "historic events: dated a year or more before the file's period",
                    "label": "historic: a year or more before the file's period",
                },
            },
        ]
    return checks


def _bound(col_type: str, value):
    """Range bounds; dates compare as YYYYMMDD numbers (GX compares numbers, not datetimes, reliably)."""
    if value is None or col_type in ("integer", "decimal"):
        return value
    text = str(value)
    return int(text[:7].replace("-", "") + "01") if col_type == "month" else int(text[:10].replace("-", ""))


def suite_path(ds: Dataset) -> Path:
    return settings.EXPECTATIONS_DIR / f"{ds.name}.json"


def read_suite(ds: Dataset) -> dict:
    path = suite_path(ds)
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `partnership registry sync`")
    return json.loads(path.read_text())


# -- validation ------------------------------------------------------------------------------------------


def check_contract(ds: Dataset, path: Path, *, plain: bool | None = None) -> CheckResult | None:
    """The file-level contract; returns the first failure, or None when the file may go on to GX.

    Reads the file once as CSV records, exactly as the loader will copy them: every record must have as
    many fields as the header (a short, long or blank line would otherwise fail only at COPY time).
    ``plain``: whether its lines are its records (:func:`plain_lines`; looked at when not given): then they are
    split at the delimiter, as the csv module would, at a fraction of its cost.
    """
    from partnership.screening import without_cyclic_gc

    if plain is None:
        plain = plain_lines(path)
    with without_cyclic_gc():
        return _check_contract(ds, path, plain)


def _check_contract(ds: Dataset, path: Path, plain: bool) -> CheckResult | None:
    from partnership.screening import NotPlain, plain_line_blocks

    expected = ds.file_headers
    try:
        with open(path, newline="", encoding=ENCODING) as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if header is None:
                return CheckResult("file is empty", None, False)
            missing = [c for c in expected if c not in header]
            extra = [c for c in header if c not in expected]
            if missing:
                return CheckResult("required column is missing", missing[0], False, len(missing))
            if extra:
                # Named by position, never quoted: a header the contract does not know may be an identifier.
                more = f" (and {len(extra) - 1} more)" if len(extra) > 1 else ""
                cell = header.index(extra[0]) + 1
                return CheckResult(
                    "column is not in the contract",
                    None,
                    False,
                    len(extra),
                    message=f"header cell {cell} is not in the contract{more}",
                )
            if header != expected:
                return CheckResult(f"columns are out of order; expected {', '.join(expected)}", None, False)
            records = 0
            if plain:
                try:
                    for lines in plain_line_blocks(f):
                        # A line's fields are its commas and one, but an empty line is a record of no field.
                        if "" in lines or set(map(str.count, lines, itertools.repeat(","))) != {len(header) - 1}:
                            offset = next(i for i, line in enumerate(lines) if len(_split(line)) != len(header))
                            return _wrong_width(_split(lines[offset]), header, records + offset + 2)
                        records += len(lines)
                except (UnicodeDecodeError, NotPlain):
                    return _check_contract(ds, path, plain=False)  # the csv module names the damage
            for row_number, record in enumerate(reader, start=2):
                records += 1
                if len(record) != len(header):
                    return _wrong_width(record, header, row_number)
    except UnicodeDecodeError as exc:
        return CheckResult(
            f"file is not UTF-8 text (undecodable byte at offset {exc.start} of a read block)", None, False
        )
    except csv.Error as exc:
        return CheckResult(f"malformed CSV near row {reader.line_num}: {exc}", None, False)
    if not records:
        return CheckResult("file has a header but no rows", None, False)
    return None


PLAIN_BLOCK = 1 << 22  # bytes read at a time


def plain_lines(path: Path) -> bool:
    """Whether each line of the file is one record, read alike by Python's csv module (the screen, the contract)
    and by PostgreSQL's CSV format (COPY): no quote character anywhere (so no quoted field, no field holding a
    delimiter or a line break, and no quoted empty field, which PostgreSQL would load as '' rather than NULL), no
    NUL byte (PostgreSQL text cannot hold it: such a file takes the row-by-row path, where the server refuses it),
    and one line ending throughout ("\\n", or "\\r\\n" for every line: PostgreSQL refuses mixed endings, and a lone
    "\\r" ends a record for Python only). Such a file can be split
    at its line breaks and delimiters, and its bytes sent to COPY, instead of being parsed record by record."""
    crlf = lf = cr = 0
    with open(path, "rb") as f:
        while block := f.read(PLAIN_BLOCK):
            if b'"' in block or b"\0" in block:
                return False
            crlf, lf, cr = crlf + block.count(b"\r\n"), lf + block.count(b"\n"), cr + block.count(b"\r")
            if block.endswith(b"\r"):  # a "\r\n" cut in two by the block: count it whole
                crlf += f.peek(1)[:1] == b"\n"
    return cr == crlf and (crlf == 0 or crlf == lf)


def _split(line: str) -> list[str]:
    """A plain file's line as the csv module reads it (an empty line is a record of no field)."""
    return line.split(",") if line else []


def _wrong_width(record: list[str], header: list[str], row_number: int) -> CheckResult:
    return CheckResult(f"row has {len(record)} fields, the header has {len(header)}", None, False, 1, [row_number])


GX_LOGGER = "great_expectations"


@contextmanager
def quiet_gx_logs(level: int = logging.WARNING) -> Iterator[None]:
    """Great Expectations' loggers (``great_expectations`` and its children) at ``level`` inside the block, as
    they were after it. Importing GX logs some 214 INFO lines (its docs decorators), and a few of its modules set
    their own logger to INFO, which the parent's level would not hold back: without this a validate task's log
    is those lines, with the result at the end."""
    saved: dict[str, int] = {}

    def quieten() -> None:
        for name, logger in list(logging.Logger.manager.loggerDict.items()):
            if not isinstance(logger, logging.Logger) or not (name == GX_LOGGER or name.startswith(GX_LOGGER + ".")):
                continue
            saved.setdefault(name, logger.level)
            if logger.level < level and (name == GX_LOGGER or logger.level != logging.NOTSET):
                logger.setLevel(level)  # a child left NOTSET follows the parent

    logging.getLogger(GX_LOGGER)
    quieten()
    try:
        import great_expectations  # noqa: F401  (its import is what logs; a module or two then set INFO)

        quieten()
        yield
    finally:
        for name, was in saved.items():
            logging.getLogger(name).setLevel(was)


def _gx_context():
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return gx, context


def validate_file(ds: Dataset, path: Path, *, plain: bool | None = None) -> ValidationReport:
    """Check the contract, then run the GX suite over the file chunk by chunk."""
    path = Path(path)
    failed = check_contract(ds, path, plain=plain)
    if failed:
        return ValidationReport(path.name, 0, [failed])
    with quiet_gx_logs():
        return _run_suite(ds, path)


def _run_suite(ds: Dataset, path: Path) -> ValidationReport:
    import pandas as pd
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    gx, context = _gx_context()
    spec = read_suite(ds)
    expectations = [
        ExpectationConfiguration(**e).to_domain_obj() for e in spec["expectations"] + period_expectations(ds, path)
    ]
    rank = _result_rank([e.configuration for e in expectations])
    # Two suites: the expectations GX is shown each distinct value for, and those it is shown every row for.
    value_suite, row_suite = (
        context.suites.add(
            gx.ExpectationSuite(
                name=name, expectations=[e for e in expectations if (e.expectation_type in PER_VALUE) == per_value]
            )
        )
        for name, per_value in ((spec["name"], True), (f"{spec['name']}__rows", False))
    )
    batches = context.data_sources.add_pandas("landing").add_dataframe_asset(ds.name)
    batch_definition = batches.add_batch_definition_whole_dataframe("chunk")

    merged: dict[tuple[str, str | None], CheckResult] = {}
    totals: dict[int, dict] = {}  # per expectation, summed over chunks: what goes into Data Docs
    rows = 0
    started = datetime.now(UTC)
    # Only the columns an expectation (or a helper column) reads: the others cannot change a result.
    kwargs = [e.configuration.kwargs for e in expectations]
    named = {_base_column(c) for k in kwargs for c in [k.get("column"), *k.get("column_list", [])] if c}
    named |= {ds.record_date_column, ds.event_date_column}
    named |= {c.name for c in ds.columns if c.min is not None or c.max is not None}
    names = {c.file_header: c.name for c in ds.columns if c.name in named}
    reader = pd.read_csv(
        path,
        dtype=str,
        keep_default_na=False,
        na_values=[""],
        chunksize=CHUNK_ROWS,
        encoding="utf-8",
        usecols=list(names),
    )
    try:
        for chunk in reader:
            rows += len(chunk)
            chunk = chunk.rename(columns=names)  # the file's headers (checked above) -> the registry's names
            results = _validate_chunk(ds, chunk, batch_definition, value_suite, row_suite)
            results.sort(key=lambda r: rank[_config_key(r.expectation_config)])  # as one suite's run orders them
            _merge(merged, results)
            _sum_counts(totals, results)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        # pandas names the line ("Expected 9 fields in line 5, saw 10"), never the values.
        detail = str(exc).splitlines()[-1].removeprefix("Error tokenizing data. C error: ")
        return ValidationReport(path.name, rows, [CheckResult(f"malformed CSV: {detail}", None, False)])
    try:
        build_data_docs(context, ds, spec, _file_result(ds, path, rows, totals, merged, started))
    except Exception:  # the docs are for reviewers; they never decide whether a file is loaded
        logging.getLogger(__name__).warning("%s: Data Docs were not built", path.name, exc_info=True)
    return ValidationReport(path.name, rows, list(merged.values()))


# GX's column map expectations: its verdict on each value depends on that value alone (and on the helper columns
# parsed from it), and the expectation's counts are sums over the rows. So each distinct value of a column is
# shown to GX once, and the rows are counted from its verdicts: the same counts and first rows as GX gives when
# shown every row, at the cost of the distinct values (a month's file holds one month, a few hundred areas...).
# Other expectations (uniqueness) look across rows: GX sees every row for them.
PER_VALUE = frozenset(
    {
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_match_regex",
        "expect_column_values_to_match_strftime_format",
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_be_between",
    }
)


@dataclass
class _ChunkResult:
    """One expectation's result on a chunk, as GX's ExpectationValidationResult gives the parts the gate reads."""

    expectation_config: object
    result: dict
    exception_info: dict | None
    success: bool


def _validate_chunk(ds: Dataset, chunk, batch_definition, value_suite, row_suite) -> list[_ChunkResult]:
    """The chunk's results: its per-value expectations', then its per-row ones'."""
    import numpy as np
    import pandas as pd

    results: list[_ChunkResult] = []
    if value_suite.expectations:
        # Each column's distinct values (a missing value is one of them), padded with missing values to the
        # longest column's count: GX passes over a missing value for every per-value expectation but the
        # not-null one, and the padding's verdicts are never read.
        codes, distinct = {}, {}
        for name in chunk.columns:
            codes[name], distinct[name] = pd.factorize(chunk[name], use_na_sentinel=False)
        longest = max(len(d) for d in distinct.values())
        values = pd.DataFrame(
            {name: pd.Series(d, dtype=chunk[name].dtype).reindex(range(longest)) for name, d in distinct.items()}
        )
        _add_parsed_columns(ds, values)
        found = batch_definition.get_batch(batch_parameters={"dataframe": values}).validate(
            value_suite, result_format={"result_format": "COMPLETE", "unexpected_index_column_names": []}
        )
        for r in found.results:
            column = _base_column(r.expectation_config.kwargs["column"])
            real = len(distinct[column])
            unexpected = [i for i in r.result.get("unexpected_index_list") or [] if i < real]
            unexpected_rows = np.isin(codes[column], unexpected)
            count = int(unexpected_rows.sum())
            result = {
                "element_count": len(chunk),
                "unexpected_count": count,
                "partial_unexpected_index_list": [int(i) for i in chunk.index[unexpected_rows][:SHOWN_ROWS]],
            }
            if "missing_count" in r.result:  # rows whose value GX saw as missing (a helper column's: unparsed)
                missing = values[r.expectation_config.kwargs["column"]].isna().to_numpy()[:real]
                result["missing_count"] = int(missing[codes[column]].sum())
            # A `mostly` is judged on the whole file's counts (see _merge); otherwise a single unexpected row fails.
            raised = _raised(r.exception_info)
            results.append(_ChunkResult(r.expectation_config, result, r.exception_info, not raised and not count))
    if row_suite.expectations:
        _add_parsed_columns(ds, chunk)
        found = batch_definition.get_batch(batch_parameters={"dataframe": chunk}).validate(
            row_suite, result_format={"result_format": "SUMMARY", "partial_unexpected_count": SHOWN_ROWS}
        )
        results += [_ChunkResult(r.expectation_config, r.result, r.exception_info, r.success) for r in found.results]
    return results


def _config_key(config) -> tuple[str, str]:
    """An expectation's identity in a result (GX adds the batch to its kwargs)."""
    kwargs = {k: v for k, v in config.kwargs.items() if k != "batch_id"}
    return config.type, json.dumps(kwargs, sort_keys=True, default=str)


def _result_rank(configs: list) -> dict[tuple[str, str], int]:
    """Each expectation's place in the results of one GX run of the whole suite: grouped by column, columns in
    the order first named, expectations without a column last-named group (GX's Validator orders them so, in
    process_expectations_for_validation). The gate's checks have always been reported in that order."""
    groups: dict[str, list] = {}
    for config in configs:
        column = config.kwargs.get("column")
        groups.setdefault(column if isinstance(column, str) else "_nocolumn", []).append(config)
    ordered = [config for group in groups.values() for config in group]
    return {_config_key(config): i for i, config in reversed(list(enumerate(ordered)))}


def _base_column(column: str) -> str:
    """The file column a helper column is parsed from (``month__parsed`` -> ``month``)."""
    return column.removesuffix(PARSED_SUFFIX).removesuffix(PERIOD_SUFFIX)


# -- Data Docs -------------------------------------------------------------------------------------------


def data_docs_dir() -> Path:
    return settings.data_docs_dir()


_COUNTED = ("element_count", "unexpected_count", "missing_count")


def _sum_counts(totals: dict[int, dict], results: list) -> None:
    """Counts only (never GX's partial_unexpected_list, which holds row values), summed over chunks."""
    for i, r in enumerate(results):
        total = totals.setdefault(i, {"config": r.expectation_config, "raised": False, "counts": {}})
        total["raised"] = total["raised"] or _raised(r.exception_info)
        for name in _COUNTED:
            if name in r.result:
                total["counts"][name] = total["counts"].get(name, 0) + int(r.result[name] or 0)


def _file_result(ds: Dataset, path: Path, rows: int, totals: dict[int, dict], merged: dict, started: datetime):
    """The whole file's GX validation result, judged as the gate judged it, with counts and no values."""
    from great_expectations import __version__ as gx_version
    from great_expectations.core import ExpectationSuiteValidationResult, ExpectationValidationResult
    from great_expectations.core.run_identifier import RunIdentifier

    results = []
    for total in totals.values():
        config, counts = total["config"], total["counts"]
        check = merged[_check_key(config)]
        result = dict(counts)
        if counts.get("element_count"):
            result["unexpected_percent"] = 100 * counts.get("unexpected_count", 0) / counts["element_count"]
        results.append(
            ExpectationValidationResult(
                success=not total["raised"] and check.success,
                expectation_config=config,
                result=result,
                exception_info={
                    "raised_exception": total["raised"],
                    "exception_message": None,
                    "exception_traceback": None,
                },
            )
        )
    passed = sum(r.success for r in results)
    run_id = RunIdentifier(run_name=path.name, run_time=started)
    return ExpectationSuiteValidationResult(
        success=passed == len(results),
        results=results,
        suite_name=ds.name,
        statistics={
            "evaluated_expectations": len(results),
            "successful_expectations": passed,
            "unsuccessful_expectations": len(results) - passed,
            "success_percent": 100 * passed / len(results) if results else None,
        },
        meta={
            "run_id": run_id,
            "validation_time": started.strftime("%Y%m%dT%H%M%S.%fZ"),
            "great_expectations_version": gx_version,
            "batch_spec": {"data_asset_name": ds.name, "file": path.name, "rows": rows},
            "active_batch_definition": {"data_asset_name": ds.name, "batch_identifiers": {"file": path.name}},
        },
    )


def build_data_docs(context, ds: Dataset, spec: dict, file_result) -> Path:
    """Store the file's result and the dataset's suite, and (re)build their pages and the index."""
    import great_expectations as gx
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    stores = {"docs_expectations": "ExpectationsStore", "docs_validations": "ValidationResultsStore"}
    for name, class_name in stores.items():
        folder = settings.gx_stores_dir() / name.removeprefix("docs_")
        context.add_store(
            name,
            {
                "class_name": class_name,
                "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(folder)},
            },
        )
    context.add_data_docs_site(
        site_name=DOCS_SITE,
        site_config={
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(data_docs_dir())},
            "site_index_builder": {
                "class_name": "DefaultSiteIndexBuilder",
                "validation_results_limit": DOCS_VALIDATIONS_SHOWN,
            },
            "site_section_builders": {
                "expectations": {"source_store_name": "docs_expectations"},
                "validations": {"source_store_name": "docs_validations"},
                "profiling": "None",
            },
            "show_how_to_buttons": False,
        },
    )
    suite_key = ExpectationSuiteIdentifier(name=ds.name)
    suite = gx.ExpectationSuite(
        name=spec["name"], expectations=[ExpectationConfiguration(**e).to_domain_obj() for e in spec["expectations"]]
    )
    context.stores["docs_expectations"].add_or_update(key=suite_key, value=suite)
    result_key = ValidationResultIdentifier(
        expectation_suite_identifier=suite_key,
        run_id=file_result.meta["run_id"],
        batch_identifier=file_result.meta["batch_spec"]["file"],
    )
    context.stores["docs_validations"].set(result_key, file_result)
    context.build_data_docs(site_names=[DOCS_SITE], resource_identifiers=[suite_key, result_key])
    return data_docs_dir() / "index.html"


def _raised(exception_info) -> bool:
    """GX reports evaluation errors per metric instead of raising; find any."""
    if not exception_info:
        return False
    if "raised_exception" in exception_info:
        return bool(exception_info["raised_exception"])
    return any(isinstance(v, dict) and v.get("raised_exception") for v in exception_info.values())


def _add_parsed_columns(ds: Dataset, chunk) -> None:
    """Numeric copies of range-checked columns; text that does not parse becomes null (the regex catches it)."""
    import pandas as pd

    def yyyymmdd(col):
        """Dates and datetimes as their YYYYMMDD number; months (YYYY-MM) as YYYYMM01."""
        # Each distinct value parsed once, then spread over the rows (a month's file repeats its dates): the
        # same numbers, and the same dtype (float when a value is missing or does not parse), as row by row.
        codes, distinct = pd.factorize(chunk[col.name])
        values = pd.Series(distinct, dtype=chunk[col.name].dtype)
        if col.type == "month":
            values = values.str.slice(0, 7).str.replace("-", "", regex=False) + "01"
        else:
            values = values.str.slice(0, 10).str.replace("-", "", regex=False)
        parsed = pd.to_numeric(values, errors="coerce").to_numpy()
        return pd.Series(pd.api.extensions.take(parsed, codes, allow_fill=True), index=chunk.index)

    for col in ds.columns:
        if col.min is None and col.max is None:
            continue
        numeric = col.type in ("integer", "decimal")
        chunk[col.name + PARSED_SUFFIX] = pd.to_numeric(chunk[col.name], errors="coerce") if numeric else yyyymmdd(col)
    chunk[ds.record_date_column + PERIOD_SUFFIX] = yyyymmdd(ds.column(ds.record_date_column))
    if ds.event_date_column:
        chunk[ds.event_date_column + PERIOD_SUFFIX] = yyyymmdd(ds.column(ds.event_date_column))


def _plain(value):
    """GX hands bounds back as floats: 20240401.0 reads better as 20240401."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _threshold(kwargs: dict) -> str | None:
    parts = []
    if kwargs.get("mostly") is not None:
        parts.append(f"at least {kwargs['mostly']:.0%} of rows")
    if kwargs.get("min_value") is not None or kwargs.get("max_value") is not None:
        low, high = (_plain(kwargs.get(k)) for k in ("min_value", "max_value"))
        parts.append(f"between {low} and {high}")
    if kwargs.get("regex"):
        parts.append(f"matches {kwargs['regex']}")
    if kwargs.get("value_set"):
        parts.append(f"one of {len(kwargs['value_set'])} allowed values")
    return "; ".join(parts) or "every row"


def _check_key(config) -> tuple[str, str | None]:
    """The check an expectation reports as: (expectation, column), with helper-column suffixes removed."""
    column = config.kwargs.get("column")
    expectation = config.type
    if column and column.endswith(PERIOD_SUFFIX):
        label = (config.meta or {}).get("label", "file period")
        column, expectation = column.removesuffix(PERIOD_SUFFIX), f"{config.type} ({label})"
    return expectation, column.removesuffix(PARSED_SUFFIX) if column else None


def _merge(merged: dict, results: list) -> None:
    """Fold one chunk's GX results into the file's, keeping counts and the first failing rows."""
    for r in results:
        config = r.expectation_config
        meta = config.meta or {}
        expectation, column = _check_key(config)
        check = merged.setdefault(
            (expectation, column),
            CheckResult(expectation, column, True, severity=meta.get("severity", "critical")),
        )
        check.threshold = _threshold(config.kwargs)
        check.rows_checked += int(r.result.get("element_count") or 0)
        if _raised(r.exception_info):
            check.success = False
            check.expectation = expectation + " (could not be evaluated)"
            continue
        unexpected = int(r.result.get("unexpected_count") or 0)
        check.unexpected_count += unexpected
        if unexpected:
            index = r.result.get("partial_unexpected_index_list") or []
            check.rows = sorted(check.rows + [int(i) + 2 for i in index])[:SHOWN_ROWS]
        elements = check.rows_checked
        check.observed = f"{check.unexpected_count} of {elements} rows unexpected"
        mostly = config.kwargs.get("mostly")
        if mostly is not None and elements:
            # Chunks judged one by one could pass or fail differently from the whole file: judge the whole.
            share = 1 - check.unexpected_count / elements
            check.observed = f"{share:.1%} of {elements} rows as expected"
            check.success = share >= mostly
        elif not r.success:
            check.success = False
