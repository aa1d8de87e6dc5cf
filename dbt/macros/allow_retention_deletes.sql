{#- Lets the retention job (plugins/partnership/retention.py, run as pw_loader by the governance DAG) delete the
    expired rows of an incremental model, which keeps its own copy of rows that retention deletes from raw.
    A post-hook on every incremental model; the model's yml names its source dataset and record date in
    config.meta (retention_source, retention_date_column), which retention reads from the dbt manifest.

    The loader gets DELETE and SELECT on only the two columns its WHERE clause reads (record date, batch), so it
    still cannot read person-level columns (usage on the schema comes from `partnership warehouse init`). Under row-level security a DELETE sees only rows a SELECT policy and
    a DELETE policy let through, hence both policies for the loader. dbt's grants step revokes the table-level
    DELETE on each incremental run (its config lists select only) and this hook grants it again, in the same
    transaction. -#}
{% macro allow_retention_deletes() -%}
{%- set date_column = model.config.meta.get('retention_date_column') -%}
{%- if execute and not (date_column and model.config.meta.get('retention_source')) -%}
    {{ exceptions.raise_compiler_error(model.name ~ ": an incremental model declares config.meta retention_source and retention_date_column") }}
{%- endif -%}
grant delete on {{ this }} to pw_loader;
grant select ({{ adapter.quote(date_column) }}, batch_id) on {{ this }} to pw_loader;
drop policy if exists retention_reads on {{ this }};
create policy retention_reads on {{ this }} for select to pw_loader using (true);
drop policy if exists retention_deletes on {{ this }};
create policy retention_deletes on {{ this }} for delete to pw_loader using (true)
{%- endmacro %}
