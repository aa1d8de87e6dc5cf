-- One row per check the ingest gate ran on a batch (audit.validation_result): contract, GX expectation, identifier
-- screen, or the loader's volume checks, with its verdict and severity. 1:1 with the source.

with

source as (

    select * from {{ source('audit', 'validation_result') }}

),

renamed as (

    select
        batch_id,
        expectation as check_name,
        column_name,
        success,
        severity,
        unexpected_count

    from source

)

select * from renamed
