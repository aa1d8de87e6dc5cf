-- One row per landing file load attempt recorded by the ingest gate (audit.load_batch), with the month of data
-- the file holds read from its YYYY-MM label. 1:1 with the source; which batches count is int_load_months' work.

with

source as (

    select * from {{ source('audit', 'load_batch') }}

),

renamed as (

    select
        batch_id,
        dataset,
        file_name,
        status,
        row_count,
        to_date(substring(file_name from '([0-9]{4}-[0-9]{2})'), 'YYYY-MM') as data_month,
        started_at,
        finished_at

    from source

)

select * from renamed
