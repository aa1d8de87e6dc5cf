with

source as (

    -- Each linked person as their current person id (Record linkage: a merge since the row was loaded counts).
    {{ with_current_person_ids('health', 'treatment_episodes', ['client_person_key']) }}

),

latest as (

    -- A record sent again in a later batch (a corrected extract) replaces the earlier copy.
    select
        *,
        row_number() over (partition by episode_id order by _batch_id desc, _source_row desc) as _version_rank
    from source

),

renamed as (

    select
        episode_id,
        current_client_person_key as client_person_key,
        substance_group,
        cast(start_date as date) as start_date,
        cast(exit_date as date) as exit_date,
        exit_reason,
        referral_source,
        cast(age as integer) as age,
        sex,
        _batch_id as batch_id,
        _source_row as source_row

    from latest
    where _version_rank = 1

)

select * from renamed
