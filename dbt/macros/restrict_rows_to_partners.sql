{#- Row-level security for a person-level table (a post-hook): a restricted analyst sees only the rows of agencies
    whose data is shared with their partner. audit.partner_access (role_name, agency) is written from the source
    registry's shared_with by `partnership warehouse init`; pg_has_role checks the querying role's membership.
    The table's owner (dbt) is not filtered, so marts still aggregate every row. -#}
{% macro restrict_rows_to_partners(agency_column='agency') -%}
alter table {{ this }} enable row level security;
drop policy if exists partner_sharing on {{ this }};
create policy partner_sharing on {{ this }} for select using (
    {{ agency_column }} in (select agency from audit.partner_access where pg_has_role(role_name, 'member'))
)
{%- endmacro %}
