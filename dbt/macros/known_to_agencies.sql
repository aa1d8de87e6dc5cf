{#- Aggregates, per person_key, of a relation of agency contacts (agency, one row a contact): which agencies
    know the person, how many agencies and how many contacts. One spelling of "known to" for the linked-people
    and cohort models. health_as: the name after known_to_ for health contacts (the cohort's are
    violence-related A&E only, so it calls them ae_violence). -#}
{% macro known_to_agencies(health_as='health') -%}
    bool_or(agency = 'police') as known_to_police,
    bool_or(agency = 'youth_justice') as known_to_youth_justice,
    bool_or(agency = 'education') as known_to_education,
    bool_or(agency = 'health') as known_to_{{ health_as }},
    count(distinct agency) as agency_count,
    count(*) as contact_count
{%- endmacro %}
