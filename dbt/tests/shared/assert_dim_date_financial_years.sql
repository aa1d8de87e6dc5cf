-- Hand-computed days: financial years run April to March; the first lockdown (23 March 2020) starts the
-- pandemic phase and 19 July 2021 ends it. Returns the days that disagree.
with expected (date_day, financial_year, financial_quarter, financial_year_quarter, pandemic_phase) as (
    values
        (date '2022-03-31', '2021/22', 4, '2021/22 Q4', 'After the pandemic'),
        (date '2022-04-01', '2022/23', 1, '2022/23 Q1', 'After the pandemic'),
        (date '2019-12-31', '2019/20', 3, '2019/20 Q3', 'Pre-pandemic'),
        (date '2020-03-22', '2019/20', 4, '2019/20 Q4', 'Pre-pandemic'),
        (date '2020-03-23', '2019/20', 4, '2019/20 Q4', 'Pandemic'),
        (date '2021-07-18', '2021/22', 2, '2021/22 Q2', 'Pandemic'),
        (date '2021-07-19', '2021/22', 2, '2021/22 Q2', 'After the pandemic'),
        (date '1999-12-31', '2099/00', 0, 'none', 'none')  -- outside the dimension: must be missing
)
select expected.*
from expected
left join {{ ref('dim_date') }} as dates using (date_day)
where expected.date_day >= '2015-01-01' and (
    dates.date_day is null
    or dates.financial_year <> expected.financial_year
    or dates.financial_quarter <> expected.financial_quarter
    or dates.financial_year_quarter <> expected.financial_year_quarter
    or dates.pandemic_phase <> expected.pandemic_phase
)
