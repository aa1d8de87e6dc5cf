with

source as (

    select * from {{ source('council', 'asb_case_reviews') }}

),

latest as (

    -- A record sent again in a later batch (a corrected extract) replaces the earlier copy.
    select
        *,
        row_number() over (partition by review_id order by _batch_id desc, _source_row desc) as _version_rank
    from source

),

renamed as (

    select
        review_id,
        cast(application_date as date) as application_date,
        ward_code,
        threshold_met,
        cast(action_plan_date as date) as action_plan_date,
        outcome,
        _batch_id as batch_id,
        _source_row as source_row

    from latest
    where _version_rank = 1

)

select * from renamed
