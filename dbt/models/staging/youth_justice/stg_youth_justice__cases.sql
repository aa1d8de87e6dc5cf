with

source as (

    -- Each linked person as their current person id (Record linkage: a merge since the row was loaded counts).
    {{ with_current_person_ids('youth_justice', 'cases', ['child_person_key']) }}

),

latest as (

    -- A record sent again in a later batch (a corrected extract) replaces the earlier copy.
    select
        *,
        row_number() over (partition by case_id order by _batch_id desc, _source_row desc) as _version_rank
    from source

),

renamed as (

    select
        case_id,
        current_child_person_key as child_person_key,
        cast(age_at_offence as integer) as age_at_offence,
        cast(offence_date as date) as offence_date,
        -- The outcome's date: YJB first-time entrants are dated by it, not by the offence.
        cast(disposal_date as date) as disposal_date,
        cast(age_at_disposal as integer) as age_at_disposal,
        offence_category,
        outcome,
        cast(gravity_score as integer) as gravity_score,
        first_time_entrant,
        cast(intervention_start_date as date) as intervention_start_date,
        cast(intervention_end_date as date) as intervention_end_date,
        sex,
        ethnicity,
        home_lsoa_code,
        _batch_id as batch_id,
        _source_row as source_row

    from latest
    where _version_rank = 1

)

select * from renamed
