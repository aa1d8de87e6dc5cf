"""What a check found: CheckResult per expectation or contract rule, a file's ValidationReport, and how
GX's per-chunk results fold into them (counts and row numbers, never values)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from partnership.validation.suites import PARSED_SUFFIX, PERIOD_SUFFIX

SHOWN_ROWS = 5  # failing row numbers kept per check


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


def gx_raised(exception_info) -> bool:
    """GX reports evaluation errors per metric instead of raising; find any."""
    if not exception_info:
        return False
    if "raised_exception" in exception_info:
        return bool(exception_info["raised_exception"])
    return any(isinstance(v, dict) and v.get("raised_exception") for v in exception_info.values())


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


def config_key(config) -> tuple[str, str]:
    """An expectation's identity in a result (GX adds the batch to its kwargs)."""
    kwargs = {k: v for k, v in config.kwargs.items() if k != "batch_id"}
    return config.type, json.dumps(kwargs, sort_keys=True, default=str)


def check_key(config) -> tuple[str, str | None]:
    """The check an expectation reports as: (expectation, column), with helper-column suffixes removed."""
    column = config.kwargs.get("column")
    expectation = config.type
    if column and column.endswith(PERIOD_SUFFIX):
        label = (config.meta or {}).get("label", "file period")
        column, expectation = column.removesuffix(PERIOD_SUFFIX), f"{config.type} ({label})"
    return expectation, column.removesuffix(PARSED_SUFFIX) if column else None


def merge(merged: dict, results: list) -> None:
    """Fold one chunk's GX results into the file's, keeping counts and the first failing rows."""
    for r in results:
        config = r.expectation_config
        meta = config.meta or {}
        expectation, column = check_key(config)
        check = merged.setdefault(
            (expectation, column),
            CheckResult(expectation, column, True, severity=meta.get("severity", "critical")),
        )
        check.threshold = _threshold(config.kwargs)
        check.rows_checked += int(r.result.get("element_count") or 0)
        if gx_raised(r.exception_info):
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
