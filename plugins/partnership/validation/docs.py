"""GX Data Docs for reviewers: each file's validation result for the whole file (per-chunk counts summed, no
row values) kept in ``<data dir>/gx/``, rendered by GX's SiteBuilder into ``<data dir>/data_docs/``."""

from __future__ import annotations

import functools
from datetime import datetime
from pathlib import Path

from partnership import settings
from partnership.registry import Dataset
from partnership.validation.results import check_key, config_key, gx_raised

DOCS_SITE = "partnership"  # the ephemeral context already has a site called local_site
DOCS_VALIDATIONS_SHOWN = 1000  # the index lists the most recent validation results (it reads each one)


def data_docs_dir() -> Path:
    return settings.data_docs_dir()


_COUNTED = ("element_count", "unexpected_count", "missing_count")


def sum_counts(totals: dict[tuple[str, str], dict], results: list) -> None:
    """Counts only (never GX's partial_unexpected_list, which holds row values), summed over chunks."""
    for r in results:
        total = totals.setdefault(
            config_key(r.expectation_config), {"config": r.expectation_config, "raised": False, "counts": {}}
        )
        total["raised"] = total["raised"] or gx_raised(r.exception_info)
        for name in _COUNTED:
            if name in r.result:
                total["counts"][name] = total["counts"].get(name, 0) + int(r.result[name] or 0)


def file_result(
    ds: Dataset, path: Path, rows: int, totals: dict[tuple[str, str], dict], merged: dict, started: datetime
):
    """The whole file's GX validation result, judged as the gate judged it, with counts and no values."""
    from great_expectations import __version__ as gx_version
    from great_expectations.core import ExpectationSuiteValidationResult, ExpectationValidationResult
    from great_expectations.core.run_identifier import RunIdentifier

    results = []
    for total in totals.values():
        config, counts = total["config"], total["counts"]
        check = merged[check_key(config)]
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


# Each page's view: GX's own, with its templates compiled once per process (docs_view.py).
PAGE_VIEW = {"module_name": "partnership.validation.docs_view", "class_name": "CompiledOncePageView"}


@functools.lru_cache(maxsize=4)
def _site_builder(context):
    """GX's SiteBuilder for the reviewers' site, over file stores in ``<data dir>/gx/`` (one per context: the
    context is one per process and data folder, see run._gx_context)."""
    from great_expectations.render.renderer.site_builder import SiteBuilder

    stores = {"docs_expectations": "ExpectationsStore", "docs_validations": "ValidationResultsStore"}
    for name, class_name in stores.items():
        if name not in context.stores:
            folder = settings.gx_stores_dir() / name.removeprefix("docs_")
            context.add_store(
                name,
                {
                    "class_name": class_name,
                    "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(folder)},
                },
            )
    return SiteBuilder(
        data_context=context,
        site_name=DOCS_SITE,
        store_backend={"class_name": "TupleFilesystemStoreBackend", "base_directory": str(data_docs_dir())},
        site_index_builder={
            "class_name": "DefaultSiteIndexBuilder",
            "validation_results_limit": DOCS_VALIDATIONS_SHOWN,
        },
        site_section_builders={
            "expectations": {"source_store_name": "docs_expectations", "view": PAGE_VIEW},
            "validations": {"source_store_name": "docs_validations", "view": PAGE_VIEW},
            "profiling": "None",
        },
        show_how_to_buttons=False,
    )


def build_data_docs(context, ds: Dataset, spec: dict, file_result) -> Path:
    """Store the file's result and the dataset's suite, and (re)build their two pages.

    Not the index: it reads every result kept (up to DOCS_VALIDATIONS_SHOWN), so rebuilding it for each file
    made a delivery's Data Docs cost grow with the history, to half of the GX step's time. The IG report
    rebuilds it (:func:`build_data_docs_index`) each time a delivery settles or a file is quarantined.
    """
    import great_expectations as gx
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    builder = _site_builder(context)
    suite_key = ExpectationSuiteIdentifier(name=ds.name)
    pages = []
    if not _suite_page_is_current(ds, spec):
        suite = gx.ExpectationSuite(
            name=spec["name"],
            expectations=[ExpectationConfiguration(**e).to_domain_obj() for e in spec["expectations"]],
        )
        context.stores["docs_expectations"].add_or_update(key=suite_key, value=suite)
        pages.append(suite_key)
    result_key = ValidationResultIdentifier(
        expectation_suite_identifier=suite_key,
        run_id=file_result.meta["run_id"],
        batch_identifier=file_result.meta["batch_spec"]["file"],
    )
    context.stores["docs_validations"].set(result_key, file_result)
    render_pages(builder, [*pages, result_key])
    if pages:
        _rendered_suites[ds.name] = _suite_page_state(ds, spec)
    return data_docs_dir() / "index.html"


# The suite each dataset's page was last rendered from by this process, with the stored suite's and the page's
# files as that left them: the suite is the same for every file of a delivery, and storing and rendering it
# again was a third of a small file's Data Docs cost.
_rendered_suites: dict[str, tuple] = {}


def _suite_page_state(ds: Dataset, spec: dict) -> tuple:
    """The suite's digest, and the path and modification time of its stored copy and its page (None if missing)."""
    import hashlib
    import json

    files = (
        settings.gx_stores_dir() / "expectations" / f"{ds.name}.json",
        data_docs_dir() / "expectations" / f"{ds.name}.html",
    )
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()
    return (digest, *(part for f in files for part in (str(f), f.stat().st_mtime_ns if f.is_file() else None)))


def _suite_page_is_current(ds: Dataset, spec: dict) -> bool:
    """This process stored and rendered this very suite for the dataset, into this data folder, and nobody has
    removed or rewritten the stored suite or its page since (another process, another suite, a folder emptied by
    hand: they are stored and rendered again)."""
    state = _rendered_suites.get(ds.name)
    return state is not None and None not in state and state == _suite_page_state(ds, spec)


def render_pages(builder, keys: list) -> None:
    """Render the pages of these stored resources as GX's ``SiteBuilder.build(resource_identifiers=keys)`` does.

    GX's section builders list every key of their stores and walk them to find the few asked for: a cost per file
    that grows with every file ever validated (about 20 ms a file after one year's run, and on for as long as
    results are kept). Here each resource is read from its store by its key, as GX reads it, and rendered by the
    section's own renderer and view. Static assets are copied once (the index rebuild copies them again).
    """
    import great_expectations as gx
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        SiteSectionIdentifier,
    )

    for key in keys:
        is_suite = isinstance(key, ExpectationSuiteIdentifier)
        section = builder.site_section_builders["expectations" if is_suite else "validations"]
        resource = section.source_store.get(key)
        if is_suite:
            resource = gx.ExpectationSuite(**resource)
        content = section.view_class.render(
            section.renderer_class.render(resource),
            data_context_id=section.data_context_id,
            show_how_to_buttons=section.show_how_to_buttons,
        )
        page = SiteSectionIdentifier(site_section_name=section.name, resource_identifier=key)
        section.target_store.set(page, content)
    if not (data_docs_dir() / "static").is_dir():
        builder.target_store.copy_static_assets()


def build_data_docs_index() -> Path | None:
    """(Re)build the Data Docs index over every kept result (the latest DOCS_VALIDATIONS_SHOWN); None, and
    nothing written, when no file has been validated yet."""
    if not (settings.gx_stores_dir() / "validations").is_dir():
        return None
    from partnership.validation.run import _gx_context, quiet_gx_logs

    with quiet_gx_logs():
        _, context = _gx_context()
        builder = _site_builder(context)
        builder.target_store.copy_static_assets()
        builder.site_index_builder.build()
    return data_docs_dir() / "index.html"
