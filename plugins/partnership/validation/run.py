"""Running a dataset's GX suite over a landed file, chunk by chunk, after its contract."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from partnership.registry import Dataset
from partnership.validation.contract import check_contract
from partnership.validation.docs import build_data_docs, file_result, sum_counts
from partnership.validation.results import (
    SHOWN_ROWS,
    CheckResult,
    ValidationReport,
    check_key,
    config_key,
    gx_raised,
    merge,
)
from partnership.validation.suites import (
    PARSED_SUFFIX,
    PERIOD_SUFFIX,
    add_parsed_columns,
    period_expectations,
    read_suite,
)

CHUNK_ROWS = 50_000  # rows read at a time: a chunk stays a few tens of MB
DISTINCT_VALUES = 100_000  # a column's distinct values held before GX is shown them
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
    totals: dict[tuple[str, str], dict] = {}  # per expectation, summed over chunks: what goes into Data Docs
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

    def fold(results: list) -> None:
        results.sort(key=lambda r: rank[config_key(r.expectation_config)])
        merge(merged, results)
        sum_counts(totals, results)

    distinct = _DistinctValues()
    try:
        for chunk in reader:
            rows += len(chunk)
            chunk = chunk.rename(columns=names)  # the file's headers (checked above) -> the registry's names
            if value_suite.expectations:
                distinct.add(chunk)
                if distinct.full():
                    fold(_validate_values(ds, distinct, batch_definition, value_suite))
            if row_suite.expectations:
                fold(_validate_rows(ds, chunk, batch_definition, row_suite))
        if value_suite.expectations and distinct.pending:
            fold(_validate_values(ds, distinct, batch_definition, value_suite))
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        # pandas names the line ("Expected 9 fields in line 5, saw 10"), never the values.
        detail = str(exc).splitlines()[-1].removeprefix("Error tokenizing data. C error: ")
        return ValidationReport(path.name, rows, [CheckResult(f"malformed CSV: {detail}", None, False)])
    # As one run of the whole suite orders them (the value checks were folded in after the row checks).
    totals = dict(sorted(totals.items(), key=lambda item: rank[item[0]]))
    order = [check_key(total["config"]) for total in totals.values()]
    merged = {key: merged[key] for key in dict.fromkeys(order + list(merged))}
    try:
        build_data_docs(context, ds, spec, file_result(ds, path, rows, totals, merged, started))
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
    """One expectation's result, as GX's ExpectationValidationResult gives the parts the gate reads."""

    expectation_config: object
    result: dict
    exception_info: dict | None
    success: bool


class _DistinctValues:
    """Each column's distinct values since GX last saw them, with how many rows hold each and the first
    ``SHOWN_ROWS`` of those rows: GX is shown the values once for many chunks (a run has a fixed cost of a
    few tenths of a second), and the rows are counted from its verdicts. Memory is bounded by
    ``DISTINCT_VALUES``, not by the file: a column of unique values (a record id) is shown every
    ``DISTINCT_VALUES`` rows."""

    def __init__(self) -> None:
        self.columns: dict[str, _ColumnValues] = {}
        self.pending = False  # a chunk was added since GX last saw the values (an empty chunk counts)

    def add(self, chunk) -> None:
        import numpy as np
        import pandas as pd

        for name in chunk.columns:
            column = self.columns.setdefault(name, _ColumnValues(chunk[name].dtype))
            codes, uniques = pd.factorize(chunk[name])  # a missing value's code is -1
            ids = np.fromiter((column.id_of(v) for v in uniques), dtype=np.int64, count=len(uniques))
            rows = np.append(ids, column.id_of(None))[codes]  # each row's value, as the column's id
            column.counts = np.append(column.counts, np.zeros(len(column.values) - len(column.counts), np.int64))
            column.counts += np.bincount(rows, minlength=len(column.values))
            # Each value's first rows: the rows sorted (stably) by value, and the first few of each value.
            order = np.argsort(rows, kind="stable")
            by_value = rows[order]
            starts = np.r_[0, np.flatnonzero(by_value[1:] != by_value[:-1]) + 1]
            rank = np.arange(len(rows)) - np.repeat(starts, np.diff(np.r_[starts, len(rows)]))
            first = rank < SHOWN_ROWS
            for value_id, row in zip(by_value[first].tolist(), chunk.index[order[first]].tolist(), strict=True):
                shown = column.first_rows[value_id]
                if len(shown) < SHOWN_ROWS:
                    shown.append(row)
        self.pending = True

    def full(self) -> bool:
        return max(len(c.values) for c in self.columns.values()) >= DISTINCT_VALUES

    def frame(self):
        """The values, a column each, padded with missing values to the longest column's count: GX passes over a
        missing value for every per-value expectation but the not-null one, and the padding's verdicts are never
        read."""
        import pandas as pd

        longest = max(len(c.values) for c in self.columns.values())
        return pd.DataFrame(
            {name: pd.Series(c.values, dtype=c.dtype).reindex(range(longest)) for name, c in self.columns.items()}
        )

    def clear(self) -> None:
        self.columns = {name: _ColumnValues(c.dtype) for name, c in self.columns.items()}
        self.pending = False


class _ColumnValues:
    def __init__(self, dtype) -> None:
        import numpy as np

        self.dtype = dtype
        self.ids: dict = {}
        self.values: list = []  # a missing value is held as None
        self.counts = np.zeros(0, np.int64)
        self.first_rows: list[list[int]] = []

    def id_of(self, value) -> int:
        found = self.ids.get(value)
        if found is None:
            found = self.ids[value] = len(self.values)
            self.values.append(value)
            self.first_rows.append([])
        return found


def _validate_values(ds: Dataset, distinct: _DistinctValues, batch_definition, value_suite) -> list[_ChunkResult]:
    """The per-value expectations' results on the rows added since GX last saw the values."""
    import numpy as np

    values = distinct.frame()
    add_parsed_columns(ds, values)
    found = batch_definition.get_batch(batch_parameters={"dataframe": values}).validate(
        value_suite, result_format={"result_format": "COMPLETE", "unexpected_index_column_names": []}
    )
    results = []
    for r in found.results:
        column = distinct.columns[_base_column(r.expectation_config.kwargs["column"])]
        real = len(column.values)
        unexpected = [i for i in r.result.get("unexpected_index_list") or [] if i < real]
        result = {
            "element_count": int(column.counts.sum()),
            "unexpected_count": int(column.counts[unexpected].sum()),
            "partial_unexpected_index_list": sorted(row for i in unexpected for row in column.first_rows[i])[
                :SHOWN_ROWS
            ],
        }
        if "missing_count" in r.result:  # rows whose value GX saw as missing (a helper column's: unparsed)
            missing = values[r.expectation_config.kwargs["column"]].isna().to_numpy()[:real]
            result["missing_count"] = int(column.counts[np.flatnonzero(missing)].sum())
        # A `mostly` is judged on the whole file's counts (see merge); otherwise a single unexpected row fails.
        raised = gx_raised(r.exception_info)
        success = not raised and not result["unexpected_count"]
        results.append(_ChunkResult(r.expectation_config, result, r.exception_info, success))
    distinct.clear()
    return results


def _validate_rows(ds: Dataset, chunk, batch_definition, row_suite) -> list[_ChunkResult]:
    """The expectations that look across rows (uniqueness), on every row of the chunk."""
    add_parsed_columns(ds, chunk)
    found = batch_definition.get_batch(batch_parameters={"dataframe": chunk}).validate(
        row_suite, result_format={"result_format": "SUMMARY", "partial_unexpected_count": SHOWN_ROWS}
    )
    return [_ChunkResult(r.expectation_config, r.result, r.exception_info, r.success) for r in found.results]


def _result_rank(configs: list) -> dict[tuple[str, str], int]:
    """Each expectation's place in the results of one GX run of the whole suite: grouped by column, columns in
    the order first named, expectations without a column last-named group (GX's Validator orders them so, in
    process_expectations_for_validation). The gate's checks have always been reported in that order."""
    groups: dict[str, list] = {}
    for config in configs:
        column = config.kwargs.get("column")
        groups.setdefault(column if isinstance(column, str) else "_nocolumn", []).append(config)
    ordered = [config for group in groups.values() for config in group]
    return {config_key(config): i for i, config in reversed(list(enumerate(ordered)))}


def _base_column(column: str) -> str:
    """The file column a helper column is parsed from (``month__parsed`` -> ``month``)."""
    return column.removesuffix(PARSED_SUFFIX).removesuffix(PERIOD_SUFFIX)
