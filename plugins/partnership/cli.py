"""The ``partnership`` command.

partnership run                  generate data, run every ingest DAG and the transform DAG, report
partnership generate             write synthetic agency extracts into the landing zone
partnership warehouse init|start|stop|url|check   (check: person-level relations without row security)
partnership registry sync|check  write (or check) the files derived from the source registry
partnership quarantine list|show|release|discard [BATCH] [--file CORRECTED]
partnership dbt-parse            write dbt/target/manifest.json for cosmos
partnership retention [--dry-run] delete (or list) data past each dataset's retention period
partnership report [--out DIR]   write the IG data-quality report (static HTML)
partnership deliveries [--date D] [--record]  each dataset's due deliveries: on time, late or missing
partnership definitions [--write-doc]     the definitions table (code, version, source) from the seed
partnership docs                 write the dbt docs site (models, tests, lineage, exposures) into the data folder
partnership publish-protect      protect publish_staging's tables together and replace the publish schema's
partnership publish-audit        try to work suppressed counts back from the publish schema, as an attacker would
partnership keys fingerprint|check|rotate [--id-type T --reason R]  pseudonymisation keys (never shown)
partnership reprocess --dataset D --month YYYY-MM --reason R   re-run a month's loaded files from processed/
                                 through the gate, superseding their batches
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from contextlib import contextmanager
from datetime import UTC

from partnership import settings, warehouse
from partnership.demo.defects import KINDS as DEFECT_KINDS


@contextmanager
def warehouse_for_cli(keep_running: bool = False):
    """WAREHOUSE_URL if set; otherwise the embedded server, stopped afterwards unless asked not to."""
    url = os.environ.get("WAREHOUSE_URL")
    if url:
        yield url
        return
    url = warehouse.start_embedded()
    try:
        yield url
    finally:
        if not keep_running:
            warehouse.stop_embedded()


def cmd_generate(args) -> int:
    from partnership.demo.generator import generate

    written = generate(seed=args.seed, first_month=args.first_month, months=args.months, scale=args.scale)
    for name, files in written.items():
        print(f"{name}: {len(files)} files in {files[0].parent}")
    if args.defect:
        from partnership.demo import defects
        from partnership.registry import get_dataset

        path = defects.inject(get_dataset(args.dataset), written[args.dataset][0], args.defect, seed=args.seed)
        print(f"wrote a faulty extract ({args.defect}): {path}")
    return 0


def cmd_registry(args) -> int:
    from partnership import sync

    if args.action == "check":
        stale = sync.out_of_date()
        for path in stale:
            print(f"out of date: {path} (run `partnership registry sync`)")
        from partnership import publication, runner

        if not publication.manifest_is_current():  # publication is checked on the dbt project as it is now
            runner.dbt("parse", url=os.environ.get("WAREHOUSE_URL") or "postgresql://postgres@localhost/warehouse")
        found = publication.violations(publication.load_manifest())
        for message in found:
            print(f"publication not allowed: {message}")
        print(f"publication: {len(found)} violations of the registry's permissions")
        return 1 if stale or found else 0
    for path in sync.sync():
        print(f"wrote {path}")
    return 0


def cmd_warehouse(args) -> int:
    if args.action == "stop":
        print("stopped" if warehouse.stop_embedded() else "the embedded warehouse is not running")
        return 0
    if args.action == "start":
        url = warehouse.start_embedded()
        print(url)
        return 0
    with warehouse_for_cli(keep_running=True) as url:
        if args.action == "init":
            warehouse.init_warehouse(url)
            print(f"initialised {warehouse.redacted(url)}")
        elif args.action == "check":
            from partnership import security

            with warehouse.connect(url) as conn:
                unprotected = security.unprotected_person_relations(conn)
            for relation in unprotected:
                print(f"person-level, but neither row security nor security_invoker: {relation}")
            print(f"{len(unprotected)} unprotected person-level relations")
            return 1 if unprotected else 0
        else:
            print(url if os.environ.get("WAREHOUSE_URL") is None else warehouse.redacted(url))
    return 0


def cmd_quarantine(args) -> int:
    import json
    from pathlib import Path

    from partnership import quarantine

    if args.action == "list":
        for doc in quarantine.list_quarantined():
            print(f"batch {doc['batch_id']:>6}  {doc['dataset']:34} {doc['file']:40} {doc['quarantined_at']}")
            print(f"{'':14}{doc['failures'][0] if doc['failures'] else ''}")
        return 0
    if args.batch is None:
        print(f"quarantine {args.action} needs a batch id (see `partnership quarantine list`)", file=sys.stderr)
        return 2
    with warehouse_for_cli():
        if args.action == "show":
            print(json.dumps(quarantine.show(args.batch), indent=2, default=str))
        elif args.action == "release":
            try:
                target = quarantine.release(args.batch, Path(args.file) if args.file else None)
            except (ValueError, FileExistsError) as exc:  # an unsafe name or a landed file in the way
                print(f"not released: {exc}", file=sys.stderr)
                return 1
            print(f"released batch {args.batch}: {target} will be validated and loaded by the next run")
        else:
            quarantine.discard(args.batch)
            print(f"discarded batch {args.batch}; its audit record stays")
    return 0


def cmd_dbt_parse(args) -> int:
    from partnership import runner

    url = os.environ.get("WAREHOUSE_URL") or "postgresql://postgres@localhost/warehouse"  # parse never connects
    runner.dbt("parse", url=url)
    print(f"wrote {settings.DBT_PROJECT_DIR / 'target' / 'manifest.json'}")
    return 0


def cmd_retention(args) -> int:
    from partnership import retention, runner

    with warehouse_for_cli() as url:
        if not settings.dbt_manifest().exists():
            runner.dbt("parse", url=url)  # retention finds the incremental models' copies in the manifest
        try:
            deletions, failures = retention.enforce_retention(url, dry_run=args.dry_run), []
        except retention.RetentionIncomplete as exc:  # everything else was done; say what was not, exit 1
            deletions, failures = exc.deletions, exc.failures
    verb = "would delete" if args.dry_run else "deleted"
    for d in deletions:
        what = f"{d.rows} rows of batch {d.batch_id}" if d.rows is not None else f"batch {d.batch_id} file"
        print(f"{verb} {d.dataset}: {what} {d.target} ({d.rule})")
    print(f"{len(deletions)} deletions" + (" (dry run: nothing deleted)" if args.dry_run else ", recorded in audit"))
    for f in failures:
        print(f"could not delete {f}", file=sys.stderr)
    return 1 if failures else 0


def cmd_report(args) -> int:
    from partnership import report

    with warehouse_for_cli() as url:
        path = report.build_report(url, args.out, latest=args.latest)
    print(path)
    return 0


def cmd_board_report(args) -> int:
    from pathlib import Path

    from partnership.board_report import build

    with warehouse_for_cli() as url:
        try:
            report = build.build(url, args.quarter, Path(args.out) if args.out else None)
        except (LookupError, ValueError, PermissionError) as exc:
            print(f"board-report: {exc}", file=sys.stderr)
            return 2
    print(f"the Board's report for {report.quarter.label}:")
    for path in report.files.values():
        print(f"  {path}")
    return 0


def cmd_deliveries(args) -> int:
    from datetime import date, datetime

    from partnership import timeliness

    today = date.fromisoformat(args.date) if args.date else datetime.now(timeliness.UK).date()
    with warehouse_for_cli() as url, warehouse.connect(url) as conn:
        statuses = timeliness.timeliness(conn, today, args.lookback)
        recorded = timeliness.record_late(conn, today, args.record_lookback) if args.record else []
    print(f"deliveries due by {today} (last {args.lookback} periods per dataset; times UTC)")
    print(f"{'dataset':<32} {'period':<15} {'due':<10}  {'delivered':<16}  status")
    for s in statuses:
        delivered = s.delivered_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if s.delivered_at else "-"
        print(f"{s.dataset:<32} {s.period.label:<15} {s.period.due}  {delivered:<16}  {s.describe()}")
    counts = {status: sum(s.status == status for s in statuses) for status in timeliness.STATUSES}
    print(", ".join(f"{n} {status}" for status, n in counts.items()))
    if args.record:
        for s in recorded:
            print(f"recorded late: {s.dataset} {s.period.label} (due {s.period.due})")
        print(f"{len(recorded)} missing deliveries newly recorded in audit.late_delivery")
    return 0


DBT_DOCS_FILES = ("index.html", "manifest.json", "catalog.json", "static_index.html")


def dbt_docs_dir():
    return settings.dbt_docs_dir()


def write_dbt_docs(url: str):
    """`dbt docs generate` against the warehouse, then copy the site out of dbt/target into the data folder.

    index.html reads manifest.json and catalog.json next to it, so it needs a web server (`python -m
    http.server` in the folder); static_index.html (`--static`) has both inlined and opens from the file.
    """
    import shutil

    from partnership import runner

    runner.dbt("docs", "generate", "--static", url=url)
    out = dbt_docs_dir()
    out.mkdir(parents=True, exist_ok=True)
    for name in DBT_DOCS_FILES:
        shutil.copy2(settings.DBT_PROJECT_DIR / "target" / name, out / name)
    return out / "index.html"


def cmd_docs(args) -> int:
    with warehouse_for_cli() as url:
        index = write_dbt_docs(url)
    print(f"dbt docs: {index} (serve the folder: python -m http.server -d {index.parent}; or open static_index.html)")
    return 0


def _ensure_manifest(url: str) -> None:
    """The publish models' disclosure declarations are read from the dbt manifest."""
    from partnership import runner

    if not settings.dbt_manifest().exists():
        runner.dbt("parse", url=url)


def cmd_definitions(args) -> int:
    from partnership import definitions

    if args.write_doc:
        changed = definitions.write_doc()
        print(f"{definitions.DOC} definitions table " + ("rewritten" if changed else "already current"))
    else:
        print(definitions.markdown_table(), end="")
    return 0


def cmd_publish_protect(args) -> int:
    from partnership import publish

    with warehouse_for_cli() as url:
        _ensure_manifest(url)
        try:
            summary = publish.protect_publish(url)
        except publish.DisclosureAuditFailed as exc:
            print(exc, file=sys.stderr)
            return 1
    for p in summary:
        share = f"{p.suppressed:6} of {p.count_cells:6} count cells suppressed ({p.suppressed_pct:4.1f}%)"
        withheld = f", {p.withheld} withheld with their slice" if p.withheld else ""
        print(f"publish.{p.table:40} {share}{withheld}")
    return 0


def cmd_publish_audit(args) -> int:
    from partnership import disclosure_audit

    with warehouse_for_cli() as url:
        _ensure_manifest(url)
        result = disclosure_audit.audit_publish_schema(url, schema=args.schema)
    for finding in result.findings:
        print(f"LEAK {finding}")
    print(
        f"{len(result.tables)} publish tables audited, {result.suppressed_cells} suppressed cells, "
        f"{len(result.findings)} recoverable below the protection width ({result.seconds:.1f} s)"
    )
    return 0 if result.ok else 1


def mart_row_counts(url: str, schema: str = "marts") -> list[tuple[str, int]]:
    from psycopg import sql

    with warehouse.connect(url) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "select table_name from information_schema.tables where table_schema = %s order by 1", (schema,)
            )
        ]
        return [
            (t, conn.execute(sql.SQL("select count(*) from {}").format(sql.Identifier(schema, t))).fetchone()[0])
            for t in tables
        ]


def batch_summary(url: str, since: float) -> list[tuple]:
    with warehouse.connect(url) as conn:
        return conn.execute(
            """select dataset, status, count(*), coalesce(sum(row_count), 0)
               from audit.load_batch where started_at >= to_timestamp(%s)
               group by dataset, status order by dataset, status""",
            (since,),
        ).fetchall()


def _pseudonymised_types() -> list[str]:
    from partnership.registry import load_registry

    return sorted({c.pseudonymise for ds in load_registry() for c in ds.columns if c.pseudonymise})


def throwaway_key_allowed(args, *, warehouse_given: bool) -> bool:
    """Only generated data into the embedded warehouse: nothing there needs to link with anything else.

    Not when the landing zone already holds a file to pseudonymise: it was not generated by this run and may be
    real, and its original is deleted once loaded, so pseudonyms made with a throwaway key would be lost for good.
    """
    from partnership.registry import load_registry

    if warehouse_given or args.no_generate:
        return False
    waiting = [
        ds.name
        for ds in load_registry()
        if any(c.pseudonymise for c in ds.columns)
        and any((settings.landing_dir() / ds.landing_subdir).glob(ds.landing_pattern))
    ]
    if waiting:
        print(
            f"landing already holds files of {', '.join(waiting)}, which this run did not generate: no throwaway"
            " pseudonymisation key (set the key, or move those files away)",
            file=sys.stderr,
        )
    return not waiting


def pseudonymisation_keys_for_run(throwaway_allowed: bool, url: str | None = None) -> bool:
    """Check the key of every identifier type the registry pseudonymises; False (having said why) if one is
    missing or refused. Airflow's settings for the run must be in place: a key may be in its Variables.

    A missing key becomes a throwaway one (this process only) if allowed, so that `make run` works on a fresh
    checkout; never when a key exists anywhere, or real data would get pseudonyms that link to nothing. Its
    rotation is declared in the warehouse, so a later run's new throwaway key loads too. Never printed.
    """
    import secrets

    from partnership.pseudonymise import KeyUnavailable, configured_key, env_name, get_key

    ready = True
    for id_type in _pseudonymised_types():
        if throwaway_allowed and configured_key(id_type) is None:
            os.environ[env_name(id_type)] = secrets.token_hex(32)
            print(f"{env_name(id_type)} is not set anywhere: using a throwaway key for this run only")
            if url:
                declare_rotation(url, id_type, "throwaway key for generated data (partnership run)")
        try:
            get_key(id_type)
        except KeyUnavailable as exc:
            print(exc, file=sys.stderr)
            ready = False
    if not ready:
        print(
            "`partnership run` makes a throwaway key only for generated data into the embedded warehouse",
            file=sys.stderr,
        )
    return ready


def declare_rotation(url: str, id_type: str, reason: str | None) -> str:
    """Record that the current key for id_type is the new one (who, when, why); returns its fingerprint."""
    import getpass

    from partnership.pseudonymise import fingerprint, get_key

    new = fingerprint(get_key(id_type))
    with warehouse.connect(url) as conn:
        conn.execute(
            "insert into audit.key_rotation (id_type, new_fingerprint, reason, declared_by)"
            " values (%s, %s, %s, %s || ' as ' || session_user)",
            (id_type, new, reason, getpass.getuser()),
        )
    return new


def prepare_run(args, url: str, *, warehouse_given: bool) -> bool:
    """What `partnership run` does before the DAGs; False if it must stop (a key is missing or refused)."""
    from partnership import runner
    from partnership.demo.generator import generate

    warehouse.init_warehouse(url)
    os.environ.update(runner.airflow_environment(url))
    runner.migrate_airflow_db()
    if not pseudonymisation_keys_for_run(throwaway_key_allowed(args, warehouse_given=warehouse_given), url):
        return False
    if not args.no_generate:
        generate(seed=args.seed, first_month=args.first_month, months=args.months, scale=args.scale)
        print(f"generated extracts in {settings.landing_dir()}")
    return True


def cmd_run(args) -> int:
    from partnership import report, runner, sync

    started = time.time()
    stale = sync.out_of_date()
    if stale:
        print(
            f"registry-derived files are out of date: {', '.join(map(str, stale))}; run `partnership registry sync`",
            file=sys.stderr,
        )
        return 2
    warehouse_given = bool(os.environ.get("WAREHOUSE_URL"))
    with warehouse_for_cli(keep_running=args.keep_running) as url:
        print(f"warehouse: {warehouse.redacted(url)}")
        if not prepare_run(args, url, warehouse_given=warehouse_given):
            return 2
        runner.dbt("parse", url=url)
        dags = runner.load_dags()
        failed = []
        # The reports last: the IG report shows this run's loads and quarantines, the Board's the new publish schema.
        built = False
        reports = ["ig_report", "board_report"]
        board_dir = settings.board_reports_dir()
        for dag_id in sorted(d for d in dags if d.startswith("ingest_")) + ["transform_warehouse", *reports]:
            if dag_id == "transform_warehouse" and not args.rebuild and _warehouse_is_current(url):
                print(f"  {dag_id}: skipped, nothing new since the last build (--rebuild builds anyway)")
                continue
            if dag_id == "board_report" and not built and any(board_dir.glob("*/index.html")):
                print(f"  {dag_id}: skipped, the publish schema is as it was when the report was built")
                continue
            print(f"running DAG {dag_id} ...", flush=True)
            dag_started = time.time()
            state = runner.run_dag(dags[dag_id])
            built = built or dag_id == "transform_warehouse"
            print(f"  {dag_id}: {state} ({time.time() - dag_started:.0f} s)")
            if state != "success":
                failed.append(dag_id)

        # Last, so the catalog describes the tables this run built.
        docs_index = dbt_docs_dir() / "index.html"
        try:
            if built or not docs_index.exists():
                print("writing the dbt docs ...", flush=True)
                docs_index = write_dbt_docs(url)
        except Exception as exc:  # the run's data is there; say what failed and fail the run at the end
            print(f"  dbt docs failed: {exc}", file=sys.stderr)
            docs_index = None
            failed.append("dbt docs")

        print("\nFiles this run (audit.load_batch):")
        for dataset, status, files, rows in batch_summary(url, started):
            print(f"  {dataset:34} {status:18} {files:3} files {rows:9} rows")
        print("\nWhere the results are:")
        print(f"  warehouse      {warehouse.redacted(url)}  (schemas: {', '.join(settings.SCHEMAS)})")
        print(f"  landing zone   {settings.landing_dir()}")
        print(f"  processed      {settings.processed_dir()}")
        print(f"  quarantine     {settings.quarantine_dir()}")
        print(f"  IG report      {report.default_out_dir() / 'index.html'}")
        print(f"  Board report   {board_dir}  (a folder per quarter: index.html, board_report.pdf)")
        print(f"  dbt docs       {docs_index or 'not written (see above)'}  (models, lineage, exposures)")
        print("\nRows per mart:")
        for table, rows in mart_row_counts(url):
            print(f"  marts.{table:40} {rows:8}")
        print("\nRows per publishable table (small counts suppressed):")
        for table, rows in mart_row_counts(url, "publish"):
            print(f"  publish.{table:38} {rows:8}")
    print(f"\nfinished in {time.time() - started:.0f} s" + (f"; failed DAGs: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


def _warehouse_is_current(url: str) -> bool:
    """The last transform read what the warehouse holds now and the dbt project as it is (transform_inputs.py)."""
    from partnership import transform_inputs
    from partnership.transform import manifest_path

    with warehouse.connect(url) as conn:
        return transform_inputs.unchanged_since_last_build(conn, manifest_path())


def _airflow_of_the_project() -> None:
    """Variables are looked up in the Airflow `partnership run` uses, unless this process has its own (a container)."""
    from partnership import runner

    if "AIRFLOW_HOME" not in os.environ:
        env = runner.airflow_environment(os.environ.get("WAREHOUSE_URL") or "postgresql://postgres@localhost/warehouse")
        os.environ.update({k: env[k] for k in ("AIRFLOW_HOME", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN")})


def cmd_keys(args) -> int:
    from partnership.pseudonymise import KeyUnavailable, fingerprint, get_key

    _airflow_of_the_project()
    if args.action == "rotate":
        with warehouse_for_cli() as url:
            try:
                new = declare_rotation(url, args.id_type, args.reason)
            except KeyUnavailable as exc:
                print(exc, file=sys.stderr)
                return 1
        print(f"declared: the {args.id_type} key is now the one with fingerprint {new}; batches made with it load")
        return 0
    refused = 0
    for id_type in _pseudonymised_types():
        try:
            fp = fingerprint(get_key(id_type))
        except KeyUnavailable as exc:
            print(exc, file=sys.stderr)
            refused += 1
            continue
        print(f"{id_type}: key usable, fingerprint {fp}" if args.action == "check" else f"{id_type} {fp}")
    return 1 if refused else 0


def cmd_reprocess(args) -> int:
    from partnership import reprocess
    from partnership.registry import get_dataset

    try:
        ds = get_dataset(args.dataset)
    except KeyError:
        print(f"not reprocessed: no dataset {args.dataset!r} in the registry", file=sys.stderr)
        return 2
    with warehouse_for_cli() as url:
        previous = os.environ.get("WAREHOUSE_URL")
        os.environ["WAREHOUSE_URL"] = url  # the gate's functions connect through it (the embedded server too)
        try:
            done = reprocess.reprocess(ds, args.month, args.reason)
        except reprocess.ReprocessError as exc:
            print(f"not reprocessed: {exc}", file=sys.stderr)
            return 1
        finally:
            if previous is None:
                os.environ.pop("WAREHOUSE_URL", None)
    for s in done:
        print(f"superseded {ds.name} {args.month}: {s}")
    print(f"{len(done)} batch(es) reprocessed; recorded in audit.reprocess (run the transform to rebuild the marts)")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="partnership", description="Community Safety Partnership warehouse")
    sub = p.add_subparsers(dest="command", required=True)

    def data_options(sp):
        sp.add_argument("--seed", type=int, default=2024, help="random seed (same seed, same files)")
        sp.add_argument("--first-month", default="2024-04", help="first month generated, YYYY-MM")
        sp.add_argument("--months", type=int, default=12, help="how many monthly extracts per dataset")
        sp.add_argument("--scale", type=float, default=1.0, help="volume multiplier (1 = about 12k crimes a year)")

    run = sub.add_parser("run", help="the whole pipeline on generated data, through the real DAGs")
    data_options(run)
    run.add_argument("--no-generate", action="store_true", help="load what is already in the landing zone")
    run.add_argument("--keep-running", action="store_true", help="leave the embedded warehouse running")
    run.add_argument(
        "--rebuild",
        action="store_true",
        help="run the transform even when nothing it reads changed since the last build",
    )
    run.set_defaults(func=cmd_run)

    gen = sub.add_parser("generate", help="write synthetic extracts into the landing zone")
    data_options(gen)
    gen.add_argument(
        "--defect",
        choices=sorted(DEFECT_KINDS),
        help="then turn the dataset's first file into a faulty extract of this kind",
    )
    gen.add_argument("--dataset", default="police__recorded_crime", help="the dataset --defect applies to")
    gen.set_defaults(func=cmd_generate)

    wh = sub.add_parser("warehouse", help="the warehouse database")
    wh.add_argument("action", choices=["init", "start", "stop", "url", "check"])
    wh.set_defaults(func=cmd_warehouse)

    reg = sub.add_parser("registry", help="files derived from the source registry")
    reg.add_argument("action", choices=["sync", "check"])
    reg.set_defaults(func=cmd_registry)

    q = sub.add_parser("quarantine", help="list, explain, release or discard quarantined files")
    q.add_argument("action", choices=["list", "show", "release", "discard"])
    q.add_argument("batch", type=int, nargs="?", help="the quarantined batch id (from `list`)")
    q.add_argument("--file", help="release: the corrected file to land in place of the quarantined one")
    q.set_defaults(func=cmd_quarantine)

    parse = sub.add_parser("dbt-parse", help="write the dbt manifest cosmos reads")
    parse.set_defaults(func=cmd_dbt_parse)

    ret = sub.add_parser("retention", help="delete rows and files past each dataset's retention period")
    ret.add_argument("--dry-run", action="store_true", help="list what would be deleted; delete nothing")
    ret.set_defaults(func=cmd_retention)
    rep = sub.add_parser("report", help="write the information-governance data-quality report (static HTML)")
    rep.add_argument("--out", help="folder for index.html (default: <data folder>/reports/ig)")
    rep.add_argument(
        "--latest", type=int, help="completeness over each dataset's latest N loaded batches (default: all rows)"
    )
    rep.set_defaults(func=cmd_report)

    board = sub.add_parser(
        "board-report", help="write the Board's quarterly report (HTML and PDF) from the publish schema"
    )
    board.add_argument("--quarter", help="financial quarter, e.g. 2024/25-Q3 (default: the latest published)")
    board.add_argument(
        "--out", help="folder for index.html and board_report.pdf (default: <data>/reports/board/<quarter>)"
    )
    board.set_defaults(func=cmd_board_report)

    dlv = sub.add_parser("deliveries", help="each dataset's due deliveries: on time, late or missing")
    dlv.add_argument("--date", help="judge as on this day, YYYY-MM-DD (default: today, UK time)")
    dlv.add_argument("--lookback", type=int, default=12, help="due periods shown per dataset (default 12)")
    dlv.add_argument(
        "--record", action="store_true", help="record missing deliveries in audit.late_delivery (once each)"
    )
    dlv.add_argument("--record-lookback", type=int, default=3, help="--record: only the last N due periods (default 3)")
    dlv.set_defaults(func=cmd_deliveries)

    defs = sub.add_parser("definitions", help="the definitions table (code, version, source) from the seed")
    defs.add_argument("--write-doc", action="store_true", help="rewrite the table in docs/querying.md")
    defs.set_defaults(func=cmd_definitions)
    docs = sub.add_parser("docs", help="write the dbt docs site into <data folder>/docs/dbt")
    docs.set_defaults(func=cmd_docs)
    prot = sub.add_parser("publish-protect", help="protect the publish candidates and replace the publish schema")
    prot.set_defaults(func=cmd_publish_protect)
    aud = sub.add_parser("publish-audit", help="the attacker's audit of the publish schema (exit 1 on any leak)")
    aud.add_argument("--schema", default="publish", help="the schema holding the published tables")
    aud.set_defaults(func=cmd_publish_audit)
    keys = sub.add_parser("keys", help="pseudonymisation keys: fingerprints (never the keys), check, rotate")
    keys.add_argument("action", choices=["fingerprint", "check", "rotate"])
    keys.add_argument("--id-type", default="nhs_number", help="rotate: the identifier type whose key changed")
    keys.add_argument("--reason", help="rotate: why the key changed (recorded in audit.key_rotation)")
    keys.set_defaults(func=cmd_keys)
    rep2 = sub.add_parser(
        "reprocess", help="re-run a month's loaded files from processed/ through the gate, superseding their batches"
    )
    rep2.add_argument("--dataset", required=True, help="the registry dataset, e.g. police__recorded_crime")
    rep2.add_argument("--month", required=True, help="YYYY-MM: every loaded batch holding rows of this month")
    rep2.add_argument("--reason", required=True, help="why (recorded in audit.reprocess with who ran it)")
    rep2.set_defaults(func=cmd_reprocess)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
