"""The transform DAG: dbt through astronomer-cosmos, then disclosure control, once per settled delivery.

preflight -> read_inputs -> analyze_loaded_tables -> dbt (one `dbt build` for the whole project, then
leave_out_unchanged_nodes, then a task per model, seed or snapshot showing how that node did, skipped when the
build left it out) -> protect_publish, check_row_security -> record_built

It runs when settle_deliveries says a delivery's loads are done (scheduling.py), not on each load.

The dbt graph is read from ``dbt/target/manifest.json`` (``LoadMode.DBT_MANIFEST``), so parsing this DAG
runs no dbt command; ``partnership dbt-parse`` (or ``dbt parse``) writes the manifest. dbt reaches the
warehouse through the Airflow connection ``warehouse``, looked up when a task runs, never at parse time.
"""

from __future__ import annotations

from airflow.sdk import BaseOperator, Param, TriggerRule, dag, task
from cosmos import DbtTaskGroup, ExecutionConfig, LoadMode, ProfileConfig, ProjectConfig, RenderConfig, TestBehavior
from cosmos.constants import ExecutionMode, InvocationMode, TestIndirectSelection
from cosmos.profiles import PostgresUserPasswordProfileMapping

from partnership import dbt_node_events, dbt_node_tasks, settings
from partnership.dag_defaults import DEFAULT_ARGS, PUBLISH_ASSET, SETTLED_ASSET, START_DATE

WAREHOUSE_CONN_ID = "warehouse"  # the transformer's LOGIN role in docker-compose: dbt, publish, the checks


def manifest_path():
    path = settings.dbt_manifest()
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `partnership dbt-parse` (or `dbt parse`) first")
    return path


def local_manifest(project: ProjectConfig) -> ProjectConfig:
    """The manifest read as the local file it is. Cosmos wraps it in Airflow's ObjectStoragePath, whose first
    read loads every Airflow plugin to record file lineage (cosmos's own plugin imports FastAPI): 0.26 s of this
    DAG file's 0.65 s parse (benchmarks/dag_parse_time.py), paid in each parse."""
    project.manifest_path = manifest_path()
    return project


def report_after_the_build(dbt_models: DbtTaskGroup, leave_out: BaseOperator) -> None:
    """The node tasks at the top of the graph start once the producer's `dbt build` has finished, and once the
    tasks of the nodes it left out are marked skipped (``leave_out``).

    Cosmos leaves them beside the producer in a task group, to watch its XComs while it runs; ``dag.test()``
    (``partnership run``) runs one task at a time, so a watcher started first would wait for ever. Downstream of
    the producer they read every node's final state at once. They run when the build failed too (that is when
    their states matter); not when preflight failed, as then nothing ran and there is nothing to report. The
    others run when an upstream node was left out of the build (skipped), and not when one failed. The skips come
    after the build, not before it: a node task whose upstream node tasks were all skipped may start at once, and
    before the build it would wait on a producer that ``dag.test()`` never gets to.
    """
    producer = dbt_models.dag.get_task(dbt_node_tasks.producer_task_id(dbt_models.dag))
    roots = [t for t in dbt_models.get_roots() if t is not producer]
    for node_task in dbt_models.children.values():
        if node_task is producer:
            continue
        # A node the build left out (its inputs unchanged) ends skipped; the nodes after it still report their own.
        node_task.trigger_rule = TriggerRule.NONE_FAILED
    # After the build, failed or not: its other upstream, analyze_loaded_tables, succeeded, which lets it run then.
    producer >> leave_out
    leave_out.trigger_rule = TriggerRule.ALL_DONE_MIN_ONE_SUCCESS
    producer >> roots  # one call each, not one per task: each checks the DAG
    leave_out >> roots
    for node_task in roots:
        node_task.trigger_rule = TriggerRule.ALL_DONE_MIN_ONE_SUCCESS


def build_transform_dag():
    @dag(
        dag_id="transform_warehouse",
        description="Builds staging, intermediate and mart models with dbt once a delivery's loads are done.",
        schedule=SETTLED_ASSET,
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        tags=["transform", "dbt"],
        params={
            "full_build": Param(
                False,
                type="boolean",
                description="Build every node, not only those whose inputs changed since the last build.",
            )
        },
    )
    def transform_warehouse():
        @task(retries=0)
        def preflight() -> None:
            """The warehouse connection is usable by dbt before the build and its 115 node tasks find out."""
            from partnership import preflight

            preflight.fail_on(preflight.connection_problems(WAREHOUSE_CONN_ID, needs_password=True))

        dbt_models = DbtTaskGroup(
            group_id="dbt",
            project_config=local_manifest(
                ProjectConfig(
                    dbt_project_path=settings.DBT_PROJECT_DIR, manifest_path=manifest_path(), project_name="partnership"
                )
            ),
            profile_config=ProfileConfig(
                profile_name=settings.DBT_PROFILE,
                target_name=settings.DBT_TARGET,
                profile_mapping=PostgresUserPasswordProfileMapping(
                    conn_id=WAREHOUSE_CONN_ID,
                    profile_args={"schema": "public", "threads": 4},  # as dbt/profiles.yml
                ),
            ),
            # Cosmos's watcher mode: one producer task runs a single `dbt build` over the project (dbt's threads,
            # one start-up, not one per model), and each model, seed or snapshot has a task that reports how its
            # node did, read from the producer's XComs; a failed node's task fails and its retry runs that node
            # alone. dbt runs in the producer's own process (dbtRunner), from the same environment as Airflow.
            # `dbt build` runs each node's tests right after it, and skips what is downstream of a failure.
            # The build is not retried: a retry of cosmos's producer skips (it never runs a second `dbt build`), and
            # each node task after it would then build its own node with a `dbt build` of its own, one per node. A
            # failed build fails the producer (and the run, and alerts); the node tasks then show which node
            # failed, and their own retries re-run it.
            execution_config=ExecutionConfig(
                execution_mode=ExecutionMode.WATCHER,
                invocation_mode=InvocationMode.DBT_RUNNER,
                test_indirect_selection=TestIndirectSelection.BUILDABLE,
                # The producer pushes only the node events a node task reads (dbt_node_events.py): a third of
                # the build's time went to the others.
                # It leaves out the nodes whose inputs have not changed since the last build (read_inputs).
                setup_operator_args={
                    "retries": 0,
                    "on_execute_callback": [
                        dbt_node_events.push_only_events_node_tasks_read,
                        dbt_node_tasks.skip_unchanged_nodes,
                    ],
                },
            ),
            # Assets for dbt models would carry the warehouse host in their URIs (a socket path when
            # embedded); the raw-table Assets already drive scheduling.
            # Exposures (dbt/models/exposures.yml) document who reads what; there is nothing to run for them.
            # One task per model, seed or snapshot, failing when the node or any of its tests failed
            # (dbt_node_tasks.py), not cosmos's two (`.run` and `.test`).
            render_config=dbt_node_tasks.one_task_per_node(
                RenderConfig(
                    load_method=LoadMode.DBT_MANIFEST,
                    emit_datasets=False,
                    test_behavior=TestBehavior.AFTER_EACH,  # the build runs each node's tests right after it
                    # Unit tests check the SQL against fixed inputs, not the data: they run where the SQL changes
                    # (every full `dbt build` of the test suite, and a developer's), not in each production build.
                    exclude=["resource_type:exposure", "resource_type:unit_test"],
                )
            ),
            # dbt's console output is the task log: plain text, no ANSI colour codes. dbt's log file is not
            # written: cosmos runs dbt in a temporary copy of the project and deletes it, log file and all, and
            # writing its debug lines (every SQL statement) from dbt's threads under one lock took a tenth of
            # the build task (71 s against 81 s, three runs each).
            operator_args={
                "install_deps": False,
                "dbt_cmd_global_flags": ["--no-use-colors", "--log-level-file", "none"],
            },
        )

        # After a build that left some nodes out (skipped), as after one that built them all.
        @task(outlets=[PUBLISH_ASSET], trigger_rule=TriggerRule.NONE_FAILED)
        def protect_publish() -> list[str]:
            """dbt wrote the candidates into publish_staging; protect them together, audit, replace publish."""
            from partnership import publish, warehouse

            return [
                f"{p.table}: {p.suppressed} of {p.count_cells} count cells suppressed ({p.primary} small"
                + (f", {p.withheld} withheld with their slice)" if p.withheld else ")")
                for p in publish.protect_publish(warehouse.from_airflow_connection(WAREHOUSE_CONN_ID))
            ]

        @task(trigger_rule=TriggerRule.NONE_FAILED)
        def check_row_security() -> None:
            """Fail the run when dbt left a person-level relation that restricted analysts would read in full."""
            from partnership import security, warehouse

            with warehouse.connect(warehouse.from_airflow_connection(WAREHOUSE_CONN_ID)) as conn:
                unprotected = security.unprotected_person_relations(conn)
            if unprotected:
                raise RuntimeError(
                    f"no row security or security_invoker on {', '.join(unprotected)}: see docs/governing.md"
                )

        @task(task_id=dbt_node_tasks.READ_INPUTS_TASK_ID)
        def read_inputs(params=None, ti=None) -> str:
            """What this build reads (transform_inputs.py), taken before dbt starts: a load that lands during the
            build is not in what it records (its rows may reach some of its tables), so the next run builds it.
            The nodes none of whose inputs changed since the last build are left out of it, unless the run's
            ``full_build`` parameter is set."""
            from partnership import transform_inputs, warehouse

            with warehouse.connect(warehouse.from_airflow_connection(WAREHOUSE_CONN_ID)) as conn:
                inputs, last = transform_inputs.fingerprint(conn, manifest_path()), transform_inputs.last_built(conn)
            full = bool((params or {}).get("full_build"))
            unchanged = [] if full else transform_inputs.unchanged_nodes(manifest_path(), last, inputs)
            ti.xcom_push(key=dbt_node_tasks.UNCHANGED_NODES_XCOM, value=unchanged)
            return inputs

        @task
        def analyze_loaded_tables() -> list[str]:
            """The planner's statistics of the raw and linkage tables loads changed, brought up to date before dbt
            plans on them (autovacuum may not have reached them yet): security/audit_functions.py."""
            from partnership import transform_inputs, warehouse

            with warehouse.connect(warehouse.from_airflow_connection(WAREHOUSE_CONN_ID)) as conn:
                return transform_inputs.analyze_loaded_tables(conn)

        @task
        def record_built(inputs: str) -> None:
            """The warehouse is built and published from these inputs: a run with nothing new can skip the build."""
            from partnership import transform_inputs, warehouse

            with warehouse.connect(warehouse.from_airflow_connection(WAREHOUSE_CONN_ID)) as conn:
                transform_inputs.record_built(conn, inputs)

        inputs = read_inputs()
        analyzed = analyze_loaded_tables()
        # Not retried: if it fails, the node tasks of what was left out still read "skipped" from the producer.
        leave_out = dbt_node_tasks.LeaveOutUnchangedNodes(task_id="leave_out_unchanged_nodes", retries=0)
        preflight() >> inputs >> analyzed >> dbt_models
        analyzed >> leave_out
        dbt_models >> [protect_publish(), check_row_security()] >> record_built(inputs)
        report_after_the_build(dbt_models, leave_out)

    return transform_warehouse()
