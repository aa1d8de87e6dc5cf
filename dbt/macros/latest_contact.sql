{#- Each person's latest contact in `contacts` (person_key, contact_date, age_at_contact): its date and the age
    then, the higher age where one day holds two contacts. Shared by the linked-people and cohort models, so a
    person's "age at latest contact" (and the age band drawn from it) is decided one way. -#}
{% macro latest_contact(contacts) -%}
    select distinct on (person_key)
        person_key,
        contact_date as latest_contact_date,
        age_at_contact as age_at_latest_contact
    from {{ contacts }}
    order by person_key, contact_date desc, age_at_contact desc nulls last
{%- endmacro %}
