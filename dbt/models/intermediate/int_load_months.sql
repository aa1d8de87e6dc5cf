-- One row per dataset and month of data delivered: the gate's outcome for that month's extract (the month comes
-- from the landing file's YYYY-MM label), with failed warning checks and the loader's own volume verdict. A later
-- accepted copy of a quarantined file counts as delivered. Aggregates of the audit tables: not person-level.
--
-- A dataset without a record key (registry: supersedes_by, police.uk) keeps every file loaded in raw, but a file
-- sent again (re-issued, re-exported) supersedes the earlier one: only the latest loaded batch of each data month
-- and file name counts in rows_loaded (another force's file for the month has a name of its own, and counts).
-- Keyed datasets count every loaded batch.
--
-- Volume: the loader judges each file when it arrives ("volume against the dataset's history": under half the
-- median of the dataset's previous loads; "re-issued month's volume": under half the rows it supersedes,
-- plugins/partnership/batch_audit.py) and records the verdict in audit.validation_result; that verdict is read here
-- (is_volume_flagged_by_loader). It is given only once a dataset has three earlier loads, and files are not
-- loaded in month order (a backfill's first files, or a short month that arrives before its neighbours, are
-- never judged), so the month is also judged afterwards against all the dataset's delivered months: under half
-- their median (is_volume_below_median). Either makes a volume anomaly.

{#- The raw tables whose files supersede earlier ones, from the sources' meta that `partnership registry sync`
    writes (as the latest_issue macro reads it); the graph is not there while parsing, nor its sources in a unit
    test (where every loaded batch counts). -#}
{%- set superseding = [] -%}
{%- if execute and graph.get('sources') -%}
    {%- for node in graph.sources.values() if (node.meta or {}).get('supersedes_by') -%}
        {%- do superseding.append(node.identifier) -%}
    {%- endfor -%}
{%- endif %}

with

load_batches as (
    select * from {{ ref('stg_audit__load_batches') }}
    where status in ('loaded', 'quarantined')
),

validation_results as (
    select * from {{ ref('stg_audit__validation_results') }}
),

batches as (
    select
        *,
        status = 'loaded' and (
            {%- if superseding %}
            dataset not in ({% for name in superseding | sort %}'{{ name }}'{{ ', ' if not loop.last }}{% endfor %})
            {%- else %}
            true
            {%- endif %}
            or batch_id = max(batch_id) filter (where status = 'loaded')
                over (partition by dataset, data_month, file_name)
        ) as is_counted
    from load_batches
),

batch_checks as (
    select
        batch_id,
        count(*) filter (where not success and severity = 'warning') as failed_warnings,
        bool_or(not success and check_name in (
            'volume against the dataset''s history', 're-issued month''s volume'
        )) as failed_volume_check
    from validation_results
    group by batch_id
),

months as (
    select
        batches.dataset,
        batches.data_month,
        bool_or(batches.status = 'loaded') as is_loaded,
        bool_or(batches.status = 'quarantined') as had_quarantine,
        sum(batches.row_count) filter (where batches.is_counted) as rows_loaded,
        coalesce(sum(batch_checks.failed_warnings), 0) as failed_warnings,
        coalesce(bool_or(batch_checks.failed_volume_check) filter (where batches.is_counted), false)
            as is_volume_flagged_by_loader
    from batches
    left join batch_checks using (batch_id)
    where batches.data_month is not null
    group by batches.dataset, batches.data_month
),

typical as (
    select dataset, percentile_cont(0.5) within group (order by rows_loaded) as median_rows
    from months
    where is_loaded
    group by dataset
)

select
    months.dataset,
    months.data_month,
    months.is_loaded,
    months.had_quarantine and not months.is_loaded as is_quarantined,
    months.rows_loaded,
    months.failed_warnings,
    months.is_volume_flagged_by_loader,
    -- Under half the dataset's typical month, as when GMP's recording system changed in 2019.
    coalesce(months.rows_loaded < 0.5 * typical.median_rows, false) as is_volume_below_median,
    months.is_volume_flagged_by_loader or coalesce(months.rows_loaded < 0.5 * typical.median_rows, false)
        as is_volume_anomaly
from months
left join typical using (dataset)
