with

source as (

    -- Each linked person as their current person id (Record linkage: a merge since the row was loaded counts).
    {{ with_current_person_ids('police', 'recorded_crime', ['victim_person_key', 'suspect_person_key']) }}

),

latest as (

    -- A record sent again in a later batch (a corrected extract) replaces the earlier copy.
    select
        *,
        row_number() over (partition by crime_reference order by _batch_id desc, _source_row desc) as _version_rank
    from source

),

renamed as (

    select
        crime_reference,
        cast(offence_date as date) as offence_date,
        cast(recorded_date as date) as recorded_date,
        offence_time,
        ho_offence_code,
        crime_type,
        lsoa_code,
        domestic_abuse_flag,
        hate_strand,
        weapon,
        night_time_economy_flag,
        street_community_flag,
        victim_type,
        current_victim_person_key as victim_person_key,
        cast(victim_age as integer) as victim_age,
        victim_sex,
        victim_ethnicity,
        victim_home_lsoa,
        current_suspect_person_key as suspect_person_key,
        cast(suspect_age as integer) as suspect_age,
        suspect_sex,
        suspect_ethnicity,
        outcome,
        _batch_id as batch_id,
        _source_row as source_row

    from latest
    where _version_rank = 1

)

select * from renamed
