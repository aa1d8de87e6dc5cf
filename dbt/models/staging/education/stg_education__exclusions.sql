with

source as (

    -- Each linked person as their current person id (Record linkage: a merge since the row was loaded counts).
    {{ with_current_person_ids('education', 'exclusions', ['pupil_person_key']) }}

),

latest as (

    -- A record sent again in a later batch (a corrected extract) replaces the earlier copy.
    select
        *,
        row_number() over (partition by exclusion_id order by _batch_id desc, _source_row desc) as _version_rank
    from source

),

renamed as (

    select
        exclusion_id,
        current_pupil_person_key as pupil_person_key,
        school_id,
        exclusion_type,
        cast(start_date as date) as start_date,
        cast(sessions as integer) as sessions,
        reason,
        cast(age_at_start as integer) as age_at_start,
        cast(year_group as integer) as year_group,
        sex,
        ethnicity,
        _batch_id as batch_id,
        _source_row as source_row

    from latest
    where _version_rank = 1

)

select * from renamed
