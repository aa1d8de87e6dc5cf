with

source as (

    select * from {{ source('health', 'navigator_referrals') }}

),

latest as (

    -- A record sent again in a later batch (a corrected extract) replaces the earlier copy.
    select
        *,
        row_number() over (partition by referral_id order by _batch_id desc, _source_row desc) as _version_rank
    from source

),

renamed as (

    select
        referral_id,
        -- The gate replaced the NHS number by its keyed pseudonym (HMAC-SHA256): the same key as every agency's.
        nhs_number as patient_person_key,
        cast(referral_date as date) as referral_date,
        cast(age as integer) as age,
        sex,
        engaged,
        _batch_id as batch_id,
        _source_row as source_row

    from latest
    where _version_rank = 1

)

select * from renamed
