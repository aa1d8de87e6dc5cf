with

source as (

    -- Each linked person as their current person id (Record linkage: a merge since the row was loaded counts).
    {{ with_current_person_ids('probation', 'caseload', ['person_key']) }}

),

latest as (

    -- A record sent again in a later batch (a corrected extract) replaces the earlier copy.
    select
        *,
        row_number() over (partition by current_person_key, snapshot_month order by _batch_id desc, _source_row desc) as _version_rank
    from source

),

renamed as (

    select
        current_person_key as person_key,
        cast(snapshot_month || '-01' as date) as snapshot_month,
        age_band,
        sex,
        ethnicity,
        accommodation,
        ete_status,
        cohort,
        proven_reoffence_flag,
        _batch_id as batch_id,
        _source_row as source_row

    from latest
    where _version_rank = 1

)

select * from renamed
