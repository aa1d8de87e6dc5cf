"""Running a dataset's GX suite over a landed file, chunk by chunk, after its contract."""

from __future__ import annotations

import copy
import functools
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from partnership import settings
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

CHUNK_ROWS = 20_000  # rows read at a time: a chunk of a few MB (50,000 took the gate to 306 MB at peak; 20,000: 288)
DISTINCT_VALUES = 25_000  # a column's distinct values held before GX is shown them (a few MB)
SHOWN_TOGETHER = 100  # at the end of a file, columns with no more distinct values than this share one GX run
GX_LOGGER = "great_expectations"


@contextmanager
def quiet_gx_logs(level: int = logging.WARNING) -> Iterator[None]:
    """Great Expectations' loggers (``great_expectations`` and its children) at ``level`` inside the block, as
    they were after it. Importing GX logs some 214 INFO lines (its docs decorators), and a few of its modules set
    their own logger to INFO, which the parent's level would not hold back: without this a validate task's log
    is those lines, with the result at the end."""
    saved: dict[str, int] = {}  # only the loggers changed: each setLevel clears the cache of every logger

    def quieten() -> None:
        for name, logger in list(logging.Logger.manager.loggerDict.items()):
            if not isinstance(logger, logging.Logger) or not (name == GX_LOGGER or name.startswith(GX_LOGGER + ".")):
                continue
            if logger.level < level and (name == GX_LOGGER or logger.level != logging.NOTSET):
                saved.setdefault(name, logger.level)
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
    """This process's ephemeral GX context for the current data folder (its Data Docs stores live there).

    One per process, not one per file: each new context re-saved its whole configuration as YAML for every store,
    datasource and asset added to it (about a tenth of a small file's GX step). Its suites and datasource are
    replaced file by file (:func:`_suite`, :func:`_chunk_batches`).
    """
    import great_expectations as gx
    from great_expectations.execution_engine import pandas_execution_engine

    # GX fingerprints every dataframe batch under 1 GB, hashing each of its cells, for a batch marker nothing here
    # reads (the Data Docs are written from the checks' counts): a sixth of the suite's time on a large file.
    pandas_execution_engine.HASH_THRESHOLD = 0
    _build_configurations_once_when_asked()
    return gx, _context_for(settings.gx_stores_dir())


# Inside :func:`configurations_built_once`: each expectation's configuration, built once (by the object's id; the
# object is held too, so its id cannot be reused while the cache lives).
_built_configurations: ContextVar[dict[int, tuple] | None] = ContextVar("gx_built_configurations", default=None)


@contextmanager
def configurations_built_once() -> Iterator[None]:
    """Within the block, GX builds each expectation's ``configuration`` once, not at every read.

    GX 1.x's ``Expectation.configuration`` is a property that builds a new ExpectationConfiguration from the
    expectation's fields each time it is read, and validating one expectation reads it some fifty times (once
    for each of its domain, success and runtime keys): half of the GX step's time on a small file. While a
    suite is validated nothing changes an expectation's fields (GX validates its own copies: the validator
    deep-copies each configuration and makes a new expectation of it), so the first build is what every later
    one would give. Outside the block, and in any other thread or context, GX builds it as it always does.
    """
    token = _built_configurations.set({})
    try:
        yield
    finally:
        _built_configurations.reset(token)


@functools.cache
def _build_configurations_once_when_asked() -> None:
    """Put the cache of :func:`configurations_built_once` in front of GX's property (once per process)."""
    from great_expectations.expectations.expectation import Expectation

    build = Expectation.configuration.fget

    def configuration(self):
        built = _built_configurations.get()
        if built is None:
            return build(self)
        held = built.get(id(self))
        if held is None or held[0] is not self:
            held = built[id(self)] = (self, build(self))
        return held[1]

    configuration.__doc__ = build.__doc__
    Expectation.configuration = property(configuration)


@functools.lru_cache(maxsize=4)
def _context_for(_stores_dir: Path):
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def _suite(context, suite):
    """Add the suite, replacing one of its name an earlier file left in this process's context (by key: listing
    the context's suites would deserialise every one of them)."""
    from great_expectations.exceptions import DataContextError

    try:
        context.suites.delete(suite.name)
    except DataContextError:  # the first file of the dataset in this process
        pass
    return context.suites.add(suite)


def _chunk_batches(context, ds: Dataset):
    """The batch definition each chunk of a file of the dataset is validated as (a dataframe passed at run time)."""
    if "landing" not in context.data_sources.all():
        context.data_sources.add_pandas("landing")
    source = context.data_sources.get("landing")
    if ds.name not in source.get_asset_names():
        source.add_dataframe_asset(ds.name)
    asset = source.get_asset(ds.name)
    if "chunk" not in {b.name for b in asset.batch_definitions}:  # also when adding it failed for an earlier file
        asset.add_batch_definition_whole_dataframe("chunk")
    return asset.get_batch_definition("chunk")


def validate_file(ds: Dataset, path: Path, *, plain: bool | None = None) -> ValidationReport:
    """Check the contract, then run the GX suite over the file chunk by chunk, offline. A dataset whose people
    the gate links is checked as the gate's copy, its people linked within the file only (no warehouse is
    read or written): the suite sees person ids, as at the gate."""
    path = Path(path)
    failed = check_contract(ds, path, plain=plain)
    if failed:
        return ValidationReport(path.name, 0, [failed])
    if not ds.linked_persons:
        return run_suite(ds, path)
    import tempfile

    from partnership.linkage.files import link_within_file

    with tempfile.TemporaryDirectory(prefix="validate-") as folder:
        report = run_suite(ds, link_within_file(ds, path, Path(folder) / path.name))
    report.file_name = path.name
    return report


def run_suite(ds: Dataset, path: Path) -> ValidationReport:
    """The dataset's GX suite over a file that has passed the contract, chunk by chunk."""
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
    # The expectations GX is shown each distinct value for, a suite per column they read (a column is shown
    # to GX when it holds DISTINCT_VALUES values, or at the end of the file: a column of codes once per file,
    # a record id every DISTINCT_VALUES rows), and those it is shown every row for (uniqueness), in one suite.
    by_column: dict[str, list] = {}
    for e in expectations:
        if e.expectation_type in PER_VALUE:
            by_column.setdefault(_base_column(e.configuration.kwargs["column"]), []).append(e)
    value_suites = _ValueSuites(context, gx, spec["name"], by_column)
    row_suite = _suite(
        context,
        gx.ExpectationSuite(
            name=f"{spec['name']}__rows", expectations=[e for e in expectations if e.expectation_type not in PER_VALUE]
        ),
    )
    batch_definition = _chunk_batches(context, ds)

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

    distinct = {column: _ColumnValues() for column in by_column}
    try:
        for chunk in reader:
            rows += len(chunk)
            chunk = chunk.rename(columns=names)  # the file's headers (checked above) -> the registry's names
            for column, values in distinct.items():
                values.add(chunk[column])
                if len(values.values) >= DISTINCT_VALUES:
                    fold(_validate_values(ds, {column: values}, batch_definition, value_suites.of([column])))
            if row_suite.expectations:
                fold(_validate_rows(ds, chunk, batch_definition, row_suite))
        # At the end of the file, the columns with few values left are shown to GX together (one run, not one a
        # column: GX's cost is mostly per run and per expectation, not per value); a long one alone.
        pending = {column: values for column, values in distinct.items() if values.pending}
        few = {column: values for column, values in pending.items() if 0 < len(values.values) <= SHOWN_TOGETHER}
        for group in [few] + [{column: values} for column, values in pending.items() if column not in few]:
            if group:
                fold(_validate_values(ds, group, batch_definition, value_suites.of(list(group))))
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


class _ColumnValues:
    """A column's distinct values since GX last saw them (a missing value is one of them), with how many rows
    hold each and the first ``SHOWN_ROWS`` of those rows: GX is shown the values once for many chunks (its run
    costs a few milliseconds per expectation, whatever the values), and the rows are counted from its verdicts.
    Memory is bounded by ``DISTINCT_VALUES``, not by the file."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        import numpy as np
        import pandas as pd

        self.values = pd.Index([], dtype=object)
        self.dtype = object  # the chunks' (read_csv's string dtype)
        self.counts = np.zeros(0, np.int64)
        self.first_rows = np.zeros((0, SHOWN_ROWS), np.int64)  # filled from the left; -1: none yet
        self.shown = np.zeros(0, np.int64)  # how many of a value's first rows are held
        self.pending = False  # rows were added since GX last saw the values (an empty chunk counts)

    def add(self, column) -> None:
        import numpy as np
        import pandas as pd

        self.dtype = column.dtype
        codes, uniques = pd.factorize(column, use_na_sentinel=False)
        found = self.values.get_indexer(uniques)  # hashed in C: -1 for a value not held yet
        new = found < 0
        found[new] = np.arange(len(self.values), len(self.values) + new.sum())
        if new.any():
            self.values = self.values.append(pd.Index(uniques[new], dtype=object))
            grow = len(self.values) - len(self.counts)
            self.counts = np.r_[self.counts, np.zeros(grow, np.int64)]
            self.shown = np.r_[self.shown, np.zeros(grow, np.int64)]
            self.first_rows = np.vstack([self.first_rows, np.full((grow, SHOWN_ROWS), -1, np.int64)])
        rows = found[codes]  # each row's value, by its place in self.values
        self.counts += np.bincount(rows, minlength=len(self.values))
        # Each value's first rows in this chunk (rows sorted stably by value; the first few of each), placed
        # after the ones held from earlier chunks, while there is room.
        order = np.argsort(rows, kind="stable")
        by_value = rows[order]
        starts = np.r_[0, np.flatnonzero(by_value[1:] != by_value[:-1]) + 1]
        rank = np.arange(len(rows)) - np.repeat(starts, np.diff(np.r_[starts, len(rows)]))
        slot = self.shown[by_value] + rank
        room = slot < SHOWN_ROWS
        self.first_rows[by_value[room], slot[room]] = np.asarray(column.index)[order[room]]
        self.shown = np.minimum(self.shown + np.bincount(rows, minlength=len(self.values)), SHOWN_ROWS)
        self.pending = True


class _ValueSuites:
    """The suites of per-value expectations, one for each set of columns shown to GX together, added to the
    context when first needed (adding a suite serialises it: a cost per suite, not per value)."""

    def __init__(self, context, gx, name: str, by_column: dict[str, list]) -> None:
        self.context, self.gx, self.name, self.by_column = context, gx, name, by_column
        self.suites: dict[tuple[str, ...], object] = {}

    def of(self, columns: list[str]):
        key = tuple(columns)
        if key not in self.suites:
            # A column can be in two sets (alone mid-file, with others at the end): GX lets an expectation
            # belong to one suite, so each suite holds copies.
            held = [copy.copy(e) for column in columns for e in self.by_column[column]]
            name = f"{self.name}__values__{'__'.join(columns) if len(columns) == 1 else len(self.suites)}"
            self.suites[key] = _suite(self.context, self.gx.ExpectationSuite(name=name, expectations=held))
        return self.suites[key]


def _validate_values(ds: Dataset, columns: dict[str, _ColumnValues], batch_definition, suite) -> list[_ChunkResult]:
    """The results of these columns' per-value expectations on the rows added since GX last saw their values.

    Columns shown together share one dataframe: each column's distinct values, then its first value repeated
    to the length of the longest. GX's verdict on a value depends on that value alone, so the repeats change
    no verdict, and they are left out of the counts (only a column's own places are read back)."""
    import numpy as np
    import pandas as pd

    length = max(len(column.values) for column in columns.values())
    values = pd.DataFrame(
        {
            name: pd.Series(
                np.concatenate([column.values, np.repeat(column.values[:1], length - len(column.values))])
                if len(column.values)
                else [],
                dtype=column.dtype,
            )
            for name, column in columns.items()
        }
    )
    add_parsed_columns(ds, values)
    batch = batch_definition.get_batch(batch_parameters={"dataframe": values})
    results = []
    for r in _counts_then_detail(batch, suite, {"result_format": "COMPLETE", "unexpected_index_column_names": []}):
        column = columns[_base_column(r.expectation_config.kwargs["column"])]
        held = len(column.values)
        unexpected = [i for i in r.result.get("unexpected_index_list") or [] if i < held]
        result = {
            "element_count": int(column.counts.sum()),
            "unexpected_count": int(column.counts[unexpected].sum()),
            "partial_unexpected_index_list": sorted(
                int(row) for row in column.first_rows[unexpected].ravel() if row >= 0
            )[:SHOWN_ROWS],
        }
        if "missing_count" in r.result:  # rows whose value GX saw as missing (a helper column's: unparsed)
            missing = values[r.expectation_config.kwargs["column"]].isna().to_numpy()[:held]
            result["missing_count"] = int(column.counts[np.flatnonzero(missing)].sum())
        # A `mostly` is judged on the whole file's counts (see merge); otherwise a single unexpected row fails.
        raised = gx_raised(r.exception_info)
        success = not raised and not result["unexpected_count"]
        results.append(_ChunkResult(r.expectation_config, result, r.exception_info, success))
    for column in columns.values():
        column.clear()
    return results


def _validate_rows(ds: Dataset, chunk, batch_definition, row_suite) -> list[_ChunkResult]:
    """The expectations that look across rows (uniqueness), on every row of the chunk."""
    add_parsed_columns(ds, chunk)
    batch = batch_definition.get_batch(batch_parameters={"dataframe": chunk})
    found = _counts_then_detail(batch, row_suite, {"result_format": "SUMMARY", "partial_unexpected_count": SHOWN_ROWS})
    return [_ChunkResult(r.expectation_config, r.result, r.exception_info, r.success) for r in found]


def _counts_then_detail(batch, suite, detail: dict) -> list:
    """GX's results for the suite on the batch, with the ``detail`` result format where it matters.

    Most values pass, and GX's counts alone (BASIC) cost about half of listing which rows or values failed. So
    the counts come first, and only the expectations a value failed or GX raised on run again, with ``detail``:
    the results the gate reads are those of a run with ``detail`` (tests/test_validation.py compares them with
    GX shown every row). For the others the counts are all there is to read.
    """
    import great_expectations as gx

    with configurations_built_once():
        found = batch.validate(suite, result_format={"result_format": "BASIC"}).results
    again = [r for r in found if gx_raised(r.exception_info) or r.result.get("unexpected_count")]
    if not again:
        return found
    failed = gx.ExpectationSuite(
        name=f"{suite.name}__failed", expectations=[copy.copy(r.expectation_config.to_domain_obj()) for r in again]
    )
    with configurations_built_once():
        detailed = batch.validate(failed, result_format=detail).results
    detailed = {config_key(r.expectation_config): r for r in detailed}
    return [detailed.get(config_key(r.expectation_config), r) for r in found]


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
