"""The data engineers' commands: the warehouse, the registry's derived files, quarantined files, the dbt manifest
and docs, deliveries, pseudonymisation keys and reprocessing a month (docs/operating.md)."""

from __future__ import annotations

import contextlib
import os
import sys
from datetime import UTC
from pathlib import Path

from partnership import runner, settings, warehouse
from partnership.runner import warehouse_for_cli

# dbt parse never connects: any URL will do when none is set.
PARSE_URL = "postgresql://postgres@localhost/warehouse"


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


def cmd_registry(args) -> int:
    from partnership import sync

    if args.action == "check":
        stale = sync.out_of_date()
        for path in stale:
            print(f"out of date: {path} (run `partnership registry sync`)")
        from partnership import publication

        if not publication.manifest_is_current():  # publication is checked on the dbt project as it is now
            runner.dbt("parse", url=os.environ.get("WAREHOUSE_URL") or PARSE_URL)
        found = publication.violations(publication.load_manifest())
        for message in found:
            print(f"publication not allowed: {message}")
        print(f"publication: {len(found)} violations of the registry's permissions")
        return 1 if stale or found else 0
    for path in sync.sync():
        print(f"wrote {path}")
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
    runner.dbt("parse", url=os.environ.get("WAREHOUSE_URL") or PARSE_URL)
    print(f"wrote {settings.DBT_PROJECT_DIR / 'target' / 'manifest.json'}")
    return 0


def cmd_docs(args) -> int:
    with warehouse_for_cli() as url:
        index = runner.write_dbt_docs(url)
    print(f"dbt docs: {index} (serve the folder: python -m http.server -d {index.parent}; or open static_index.html)")
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


@contextlib.contextmanager
def _airflow_of_the_project():
    """Variables are looked up in the Airflow `partnership run` uses, unless this process has its own (a container,
    which names its metadata database): with the embedded warehouse, its metadata is on the embedded server, which
    is started for the lookup."""
    if "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN" in os.environ:
        yield
        return
    env = runner.airflow_environment(os.environ.get("WAREHOUSE_URL") or warehouse.embedded_url())
    os.environ.update({k: env[k] for k in ("AIRFLOW_HOME", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN")})
    on_embedded_server = not env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("sqlite")
    if on_embedded_server and (settings.pgdata_dir() / "PG_VERSION").exists():
        with warehouse_for_cli():
            yield
    else:  # no server, so nothing stored there yet
        yield


def cmd_keys(args) -> int:
    with _airflow_of_the_project():
        return _keys(args)


def _keys(args) -> int:
    from partnership.pseudonymise import KeyUnavailable, declare_rotation, fingerprint, get_key, id_types

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
    for id_type in id_types():
        try:
            fp = fingerprint(get_key(id_type))
        except KeyUnavailable as exc:
            print(exc, file=sys.stderr)
            refused += 1
            continue
        print(f"{id_type}: key usable, fingerprint {fp}" if args.action == "check" else f"{id_type} {fp}")
    return 1 if refused else 0


def cmd_linkage(args) -> int:
    from partnership.linkage import matching, quality, review

    with warehouse_for_cli() as url, warehouse.connect(url) as conn:
        if args.action == "assess":
            folder = Path(args.truth) if args.truth else settings.linkage_truth_dir()
            if not folder.is_dir():
                print(f"no truth sample in {folder}: give one with --truth FOLDER", file=sys.stderr)
                return 2
            try:
                report = quality.assess(conn, folder)
            except ValueError as exc:  # a truth file that is not one: which file, row and column
                print(exc, file=sys.stderr)
                return 2
            if report is None:
                print(f"no record of the truth sample in {folder} is loaded yet")
                return 0
            print("\n".join(quality.describe(report)))
            print("recorded in audit.linkage_assessment (the IG report shows the latest)")
            return 0
        if args.action == "relink":
            result = matching.link(conn)
            print(
                f"linked {result.records:,} records into {result.persons:,} persons in {result.seconds:.1f} s:"
                f" {result.links:,} links, {result.review_pairs:,} pairs for review,"
                f" {result.merges} merges, {result.splits} splits (audit.person_id_change)"
            )
            return 0
        if args.action == "decide":
            if not (args.pair and args.decision):
                print("decide needs a pair and --decision same|different (and --reason)", file=sys.stderr)
                return 2
            try:
                print(review.decide(conn, args.pair, args.decision, args.reason or ""))
            except ValueError as exc:
                print(exc, file=sys.stderr)
                return 2
            return 0
        pairs = review.pending(conn, args.limit)
        if not pairs:
            print("no pair awaits review")
        for p in pairs:
            evidence = ", ".join(f"{field}: {level}" for field, level in p.agreement.items() if level != "missing")
            print(
                f"pair {p.pair}  {p.a_source} / {p.b_source}  weight {p.match_weight:.1f},"
                f" probability {p.match_probability:.2f}\n    {evidence}"
            )
    return 0


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


def add_commands(sub) -> None:
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

    dlv = sub.add_parser("deliveries", help="each dataset's due deliveries: on time, late or missing")
    dlv.add_argument("--date", help="judge as on this day, YYYY-MM-DD (default: today, UK time)")
    dlv.add_argument("--lookback", type=int, default=12, help="due periods shown per dataset (default 12)")
    dlv.add_argument(
        "--record", action="store_true", help="record missing deliveries in audit.late_delivery (once each)"
    )
    dlv.add_argument("--record-lookback", type=int, default=3, help="--record: only the last N due periods (default 3)")
    dlv.set_defaults(func=cmd_deliveries)

    docs = sub.add_parser("docs", help="write the dbt docs site into <data folder>/docs/dbt")
    docs.set_defaults(func=cmd_docs)
    keys = sub.add_parser("keys", help="pseudonymisation keys: fingerprints (never the keys), check, rotate")
    keys.add_argument("action", choices=["fingerprint", "check", "rotate"])
    keys.add_argument("--id-type", default="nhs_number", help="rotate: the identifier type whose key changed")
    keys.add_argument("--reason", help="rotate: why the key changed (recorded in audit.key_rotation)")
    keys.set_defaults(func=cmd_keys)
    link = sub.add_parser(
        "linkage", help="record linkage: pairs awaiting clerical review, decisions, a full relink, quality"
    )
    link.add_argument("action", choices=["review", "decide", "relink", "assess"])
    link.add_argument("pair", nargs="?", help="decide: the pair as review shows it (<record>-<record>)")
    link.add_argument("--decision", choices=["same", "different"], help="decide: one person, or two")
    link.add_argument("--reason", help="decide: why (recorded with the reviewer's name)")
    link.add_argument("--limit", type=int, default=20, help="review: how many pairs to show, likeliest first")
    link.add_argument("--truth", help="assess: the truth sample's folder (default: <data folder>/linkage_truth)")
    link.set_defaults(func=cmd_linkage)
    rep2 = sub.add_parser(
        "reprocess", help="re-run a month's loaded files from processed/ through the gate, superseding their batches"
    )
    rep2.add_argument("--dataset", required=True, help="the registry dataset, e.g. police__recorded_crime")
    rep2.add_argument("--month", required=True, help="YYYY-MM: every loaded batch holding rows of this month")
    rep2.add_argument("--reason", required=True, help="why (recorded in audit.reprocess with who ran it)")
    rep2.set_defaults(func=cmd_reprocess)
