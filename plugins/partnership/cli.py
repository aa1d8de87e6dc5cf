"""The ``partnership`` command: it parses the arguments and calls the command, grouped by who uses it.

cli_run.py (the pipeline on generated data):
partnership run                  generate data, run the DAGs in the order their Assets give, report
partnership generate             write synthetic agency extracts into the landing zone

cli_operate.py (data engineers):
partnership warehouse init|start|stop|url|check   (check: person-level relations without row security)
partnership registry sync|check  write (or check) the files derived from the source registry
partnership quarantine list|show|release|discard [BATCH] [--file CORRECTED]
partnership dbt-parse            write dbt/target/manifest.json for cosmos
partnership deliveries [--date D] [--record]  each dataset's due deliveries: on time, late or missing
partnership docs                 write the dbt docs site (models, tests, lineage, exposures) into the data folder
partnership keys fingerprint|check|rotate [--id-type T --reason R]  pseudonymisation keys (never shown)
partnership linkage review|decide|relink [PAIR --decision same|different --reason R]  record linkage's clerical
                                 review (token-level evidence, never a value) and a full relink
partnership linkage assess [--truth FOLDER]  linkage quality against a truth sample, recorded for the IG report
partnership reprocess --dataset D --month YYYY-MM --reason R   re-run a month's loaded files from processed/
                                 through the gate, superseding their batches

cli_govern.py (governance and reporting):
partnership retention [--dry-run] delete (or list) data past each dataset's retention period
partnership report [--out DIR]   write the IG data-quality report (static HTML)
partnership board-report [--quarter Q] [--out DIR]  the Board's quarterly report (HTML and PDF)
partnership definitions [--write-doc]     the definitions table (code, version, source) from the seed
partnership publish-protect      protect publish_staging's tables together and replace the publish schema's
partnership publish-audit        try to work suppressed counts back from the publish schema, as an attacker would
"""

from __future__ import annotations

import argparse
import sys

from partnership import cli_govern, cli_operate, cli_run


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="partnership", description="Community Safety Partnership warehouse")
    sub = p.add_subparsers(dest="command", required=True)
    for group in (cli_run, cli_operate, cli_govern):
        group.add_commands(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
