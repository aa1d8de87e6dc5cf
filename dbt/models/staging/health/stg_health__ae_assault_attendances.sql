with

source as (

    -- Each linked person as their current person id (Record linkage: a merge since the row was loaded counts).
    {{ with_current_person_ids('health', 'ae_assault_attendances', ['patient_person_key']) }}

),

latest as (

    -- A record sent again in a later batch (a corrected extract) replaces the earlier copy.
    select
        *,
        row_number() over (partition by attendance_id order by _batch_id desc, _source_row desc) as _version_rank
    from source

),

renamed as (

    select
        attendance_id,
        current_patient_person_key as patient_person_key,
        cast(arrival_datetime as timestamp) as arrival_datetime,
        cast(age as integer) as age,
        sex,
        site,
        assault_method,
        location_type,
        incident_lsoa_code,
        _batch_id as batch_id,
        _source_row as source_row

    from latest
    where _version_rank = 1

)

select * from renamed
