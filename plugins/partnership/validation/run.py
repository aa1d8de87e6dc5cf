"""Running a dataset's GX suite over a landed file, chunk by chunk, after its contract."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from partnership.registry import Dataset
from partnership.validation.contract import check_contract
from partnership.validation.docs import build_data_docs, file_result, sum_counts
from partnership.validation.results import SHOWN_ROWS, CheckResult, ValidationReport, gx_raised, merge
from partnership.validation.suites import (
    PARSED_SUFFIX,
    PERIOD_SUFFIX,
    add_parsed_columns,
    period_expectations,
    read_suite,
)

CHUNK_ROWS = 50_000  # rows GX is shown at a time: a chunk and its distinct values stay a few tens of MB
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
            merge(merged, results)
            sum_counts(totals, results)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        # pandas names the line ("Expected 9 fields in line 5, saw 10"), never the values.
        detail = str(exc).splitlines()[-1].removeprefix("Error tokenizing data. C error: ")
        return ValidationReport(path.name, rows, [CheckResult(f"malformed CSV: {detail}", None, False)])
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
        add_parsed_columns(ds, values)
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
            # A `mostly` is judged on the whole file's counts (see merge); otherwise a single unexpected row fails.
            raised = gx_raised(r.exception_info)
            results.append(_ChunkResult(r.expectation_config, result, r.exception_info, not raised and not count))
    if row_suite.expectations:
        add_parsed_columns(ds, chunk)
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
