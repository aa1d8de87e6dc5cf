"""The commands of governance and reporting: retention, the IG report, the Board's report, the definitions
table, and protecting and auditing the publish schema (docs/governing.md, docs/querying.md)."""

from __future__ import annotations

import sys

from partnership import runner
from partnership.runner import warehouse_for_cli


def cmd_retention(args) -> int:
    from partnership import retention

    with warehouse_for_cli() as url:
        runner.ensure_manifest(url)  # retention finds the incremental models' copies in the manifest
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
        runner.ensure_manifest(url)  # the publish models' disclosure declarations are read from it
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
        runner.ensure_manifest(url)
        result = disclosure_audit.audit_publish_schema(url, schema=args.schema)
    for finding in result.findings:
        print(f"LEAK {finding}")
    print(
        f"{len(result.tables)} publish tables audited, {result.suppressed_cells} suppressed cells, "
        f"{len(result.findings)} recoverable below the protection width ({result.seconds:.1f} s)"
    )
    return 0 if result.ok else 1


def add_commands(sub) -> None:
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

    defs = sub.add_parser("definitions", help="the definitions table (code, version, source) from the seed")
    defs.add_argument("--write-doc", action="store_true", help="rewrite the table in docs/querying.md")
    defs.set_defaults(func=cmd_definitions)
    prot = sub.add_parser("publish-protect", help="protect the publish candidates and replace the publish schema")
    prot.set_defaults(func=cmd_publish_protect)
    aud = sub.add_parser("publish-audit", help="the attacker's audit of the publish schema (exit 1 on any leak)")
    aud.add_argument("--schema", default="publish", help="the schema holding the published tables")
    aud.set_defaults(func=cmd_publish_audit)
