{#
    Every recorded crime's offence is classified: one failing row per offence code (and victim type) that
    int_crimes_classified could not classify, with its count of crimes. The codes are also written to dbt's log,
    so the task log names them: a code the partnership's classification (seed offence_code_classes) lacks, or a
    robbery without the victim type that tells business (34A) from personal (34B) robbery.
#}
{% test offence_codes_classified(model, column_name, classified_column='is_classified') %}

{% set unclassified %}
    select
        {{ column_name }} as ho_offence_code,
        victim_type,
        count(*) as crimes,
        case
            when {{ column_name }} like '034/%' and victim_type is null
                then 'robbery without a victim type (Person or Business)'
            else 'offence code not in seed offence_code_classes'
        end as reason
    from {{ model }}
    where not {{ classified_column }}
    group by 1, 2
{% endset %}

{% if execute %}
    {% set found = run_query(unclassified ~ ' order by 1, 2') %}
    {% for row in found.rows %}
        {{ log("Unclassified offence: " ~ row[0] ~ (" (victim type " ~ row[1] ~ ")" if row[1] else "") ~ ": " ~ row[2] ~ " crime(s); " ~ row[3], info=True) }}
    {% endfor %}
{% endif %}

{{ unclassified }}

{% endtest %}
