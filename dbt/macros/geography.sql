{#
    Shared place logic for every model that puts an event in its LSOA through dim_geography (left-joined as
    `geography`): an event is never dropped for its place, it is labelled.

    lsoa_location_status(lsoa):  'matched' (in dim_geography), 'unmatched' (a code dim_geography does not know:
                                 outside Greater Manchester, or not a 2011/2021 LSOA code) or 'not recorded'.
    lsoa_ward_columns(lsoa):     ward_code, ward_name and locality, with the explicit fallbacks for the other two
                                 statuses. Labels can be overridden (police.uk files hold neighbouring forces'
                                 LSOAs, which are better called 'outside Greater Manchester').
#}

{% macro lsoa_location_status(lsoa, geography='geography') -%}
    case
        when {{ lsoa }} is null then 'not recorded'
        when {{ geography }}.lsoa_code is null then 'unmatched'
        else 'matched'
    end
{%- endmacro %}

{% macro lsoa_ward_columns(
    lsoa,
    geography='geography',
    unmatched_code='unmatched',
    unmatched_name='LSOA not in the ONS lookup',
    unmatched_locality='Unknown',
    missing_code='not recorded',
    missing_name='Location not recorded',
    missing_locality='Unknown'
) -%}
    case
        when {{ lsoa }} is null then '{{ missing_code }}'
        else coalesce({{ geography }}.ward_code, '{{ unmatched_code }}')
    end as ward_code,
    case
        when {{ lsoa }} is null then '{{ missing_name }}'
        else coalesce({{ geography }}.ward_name, '{{ unmatched_name }}')
    end as ward_name,
    case
        when {{ lsoa }} is null then '{{ missing_locality }}'
        else coalesce({{ geography }}.locality, '{{ unmatched_locality }}')
    end as locality
{%- endmacro %}
