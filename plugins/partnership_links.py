"""An Airflow plugin: links from the Airflow UI's navigation to what the pipeline publishes as static pages.

- the IG data-quality report (``<data dir>/reports/ig/``, written by the ig_report DAG or ``partnership report``);
- the Great Expectations Data Docs (``<data dir>/data_docs/``, one page per validated file);
- the dbt docs (``<data dir>/docs/dbt/``, written by ``partnership docs``).

Airflow does not serve those folders: serve each one as a static site (docs/operating.md, "Links in the Airflow UI") and
set where it is with ``PARTNERSHIP_IG_REPORT_URL``, ``PARTNERSHIP_DATA_DOCS_URL`` and ``PARTNERSHIP_DBT_DOCS_URL``
(read by the api-server when it loads plugins). The defaults are the local servers the README starts.

This is the only module of the plugins folder Airflow's plugin manager loads (``plugins/.airflowignore``); it
imports nothing from the partnership package, so the api-server needs no project settings to show the links.
"""

from __future__ import annotations

import os

from airflow.plugins_manager import AirflowPlugin

CATEGORY = "Partnership"
LINKS = (
    # (name shown in the UI, environment variable, default)
    ("IG data-quality report", "PARTNERSHIP_IG_REPORT_URL", "http://localhost:8081/index.html"),
    ("Great Expectations Data Docs", "PARTNERSHIP_DATA_DOCS_URL", "http://localhost:8082/index.html"),
    ("dbt docs", "PARTNERSHIP_DBT_DOCS_URL", "http://localhost:8083/index.html"),
)


def external_views() -> list[dict]:
    """One navigation link per published site (no ``url_route``: a link out, not a page framed inside Airflow)."""
    return [
        {"name": name, "href": os.environ.get(variable) or default, "destination": "nav", "category": CATEGORY}
        for name, variable, default in LINKS
    ]


class PartnershipLinks(AirflowPlugin):
    name = "partnership_links"
    external_views = external_views()
