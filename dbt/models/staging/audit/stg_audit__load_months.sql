-- One row per dataset and month of data delivered: the gate's outcome for that month's extract (the month comes
-- from the landing file's YYYY-MM label), with failed warning checks and a volume judgement against the
-- dataset's other months. A later accepted copy of a quarantined file counts as delivered.
--
-- A dataset without a record key (registry: supersedes_by, police.uk) keeps every file loaded in raw, but a file
-- sent again (re-issued, re-exported) supersedes the earlier one: only the latest loaded batch of each data month
-- and file name counts in rows_loaded (another force's file for the month has a name of its own, and counts).
-- Keyed datasets count every loaded batch, as before.

{#- The raw tables whose files supersede earlier ones, from the sources' meta that `partnership registry sync`
    writes (as the latest_issue macro reads it); the graph is not there while parsing. -#}
{%- set superseding = [] -%}
{%- if execute -%}
    {%- for node in graph.sources.values() if (node.meta or {}).get('supersedes_by') -%}
        {%- do superseding.append(node.identifier) -%}
    {%- endfor -%}
{%- endif %}

with

load_batch as (
    select
        batch_id,
        dataset,
        file_name,
        status,
        row_count,
        to_date(substring(file_name from '([0-9]{4}-[0-9]{2})'), 'YYYY-MM') as data_month
    from {{ source('audit', 'load_batch') }}
    where status in ('loaded', 'quarantined')
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
    from load_batch
),

warnings as (
    select batch_id, count(*) as failed_warnings
    from {{ source('audit', 'validation_result') }}
    where not success and severity = 'warning'
    group by batch_id
),

months as (
    select
        batches.dataset,
        batches.data_month,
        bool_or(batches.status = 'loaded') as is_loaded,
        bool_or(batches.status = 'quarantined') as had_quarantine,
        sum(batches.row_count) filter (where batches.is_counted) as rows_loaded,
        coalesce(sum(warnings.failed_warnings), 0) as failed_warnings
    from batches
    left join warnings using (batch_id)
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
    -- Under half the dataset's typical month, as when GMP's recording system changed in 2019.
    coalesce(months.rows_loaded < 0.5 * typical.median_rows, false) as is_volume_anomaly
from months
left join typical using (dataset)
