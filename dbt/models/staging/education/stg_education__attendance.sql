with

source as (

    -- Each linked person as their current person id (Record linkage: a merge since the row was loaded counts).
    {{ with_current_person_ids('education', 'attendance', ['pupil_person_key']) }}

),

latest as (

    -- A record sent again in a later batch (a corrected extract) replaces the earlier copy.
    select
        *,
        row_number() over (partition by current_pupil_person_key, school_id, term_start_date order by _batch_id desc, _source_row desc) as _version_rank
    from source

),

renamed as (

    select
        current_pupil_person_key as pupil_person_key,
        school_id,
        cast(term_start_date as date) as term_start_date,
        term,
        cast(sessions_possible as integer) as sessions_possible,
        cast(sessions_missed as integer) as sessions_missed,
        persistent_absence_flag,
        cast(age_at_term_start as integer) as age_at_term_start,
        ethnicity,
        _batch_id as batch_id,
        _source_row as source_row

    from latest
    where _version_rank = 1

)

select * from renamed
