"""Council extracts: ASB requests for service and ASB case reviews."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from partnership.demo.tables import ASB_REQUEST_CATEGORIES

if TYPE_CHECKING:
    from partnership.demo.generator import Generator


def council(gen: Generator, m: int, month: date) -> None:
    rng = gen.rng
    label = f"{month:%Y-%m}"
    # Covid-related requests were 40% in 2021/22 (1,224 of 3,027); a few per cent outside the pandemic.
    covid_share = 0.40 if date(2020, 3, 1) <= month < date(2022, 4, 1) else 0.02
    out = gen.open("council__asb_requests", label)
    for seq in range(1, gen.volume("council__asb_requests", m) + 1):
        out.write(
            {
                "request_id": f"RFS{month:%Y%m}{seq:06d}",
                "received_date": gen.day(month).isoformat(),
                "ward_code": gen.place().ward_code,
                "category": rng.choices(list(ASB_REQUEST_CATEGORIES), weights=list(ASB_REQUEST_CATEGORIES.values()))[0],
                "covid_related_flag": "Y" if rng.random() < covid_share else "N",
            }
        )
    out.close()
    out = gen.open("council__asb_case_reviews", label)
    for seq in range(1, gen.volume("council__asb_case_reviews", m) + 1):
        applied = gen.day(month)
        met = rng.random() < 0.7
        out.write(
            {
                "review_id": f"CRV{month:%Y%m}{seq:04d}",
                "application_date": applied.isoformat(),
                "ward_code": gen.place().ward_code,
                "threshold_met": "Y" if met else "N",
                "action_plan_date": (applied + timedelta(days=rng.randint(10, 40))).isoformat() if met else "",
                "outcome": rng.choice(["Action plan agreed", "Referred to another agency", "Open"])
                if met
                else "No further action",
            }
        )
    out.close()
