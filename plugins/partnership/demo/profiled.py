"""Extracts drawn from a registry entry's generation profile: the demo data of a dataset that has no writer of
its own here (a new partner's dataset, say), so that one registry entry is enough to generate, load and build it.

Each dataset draws from its own random stream (seed, dataset, month), so adding one leaves every other file
byte-identical. Rows about people take them from the population every agency shares, so a person key drawn here
links to the same person in police, youth justice, education and health extracts.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from partnership.demo.population import days_in_month
from partnership.registry import Column, Dataset

if TYPE_CHECKING:
    from partnership.demo.generator import Generator
    from partnership.registry_model import ColumnRule


def write_month(gen: Generator, ds: Dataset, m: int, month: date) -> None:
    """One month's extract of ``ds``, drawn column by column from its profile."""
    profile = ds.generation
    rng = random.Random(f"{gen.seed}:{ds.name}:{month:%Y-%m}")
    about_people = any(c.identifier == "person" for c in ds.columns) or any(
        rule.kind == "person" for _, rule in profile.columns
    )
    out = gen.open(ds.name, f"{month:%Y-%m}")
    base = profile.rows_per_month * gen.scale
    for seq in range(1, max(1, int(rng.gauss(base, base * 0.05))) + 1):
        draw = _Row(
            rng,
            m,
            month,
            seq,
            person=gen.people.aged(rng, m, *profile.ages) if about_people else None,
            place=rng.choices(gen.places, weights=gen.place_weights)[0],
            day=month + timedelta(days=rng.randrange(days_in_month(month))),
        )
        row = {}
        for column in ds.columns:
            value = draw.value(column, profile.rule(column.name))
            if value and column.allowed and value not in column.allowed:
                raise ValueError(
                    f"registry/{ds.name}.yml: generation {column.name}: drew {value!r}, which is not among its"
                    f" allowed values ({', '.join(column.allowed)}): give it a rule"
                )
            row[column.name] = value
        out.write(row)
    out.close()


class _Row:
    """What one row is drawn around: its person, place and day, from which each column's value is taken."""

    def __init__(self, rng, m, month, seq, *, person, place, day):
        self.rng, self.m, self.month, self.seq = rng, m, month, seq
        self.person, self.place, self.day = person, place, day

    def value(self, column: Column, rule: ColumnRule | None) -> str:
        if rule is not None and rule.blank and self.rng.random() < rule.blank:
            return ""
        if rule is None:
            return self._by_default(column)
        kind, arg = rule.kind, rule.arg
        if kind == "format":
            return arg.format(month=self.month, seq=self.seq)
        if kind == "value":
            return arg
        if kind == "place":
            return {"lsoa_code": self.place.lsoa, "ward_code": self.place.ward_code}[arg]
        if kind == "person":
            p = self.person
            return {
                "key": p,  # the Extract writes its key, or its details when the dataset is linked
                "age": str(p.age(self.m)),
                "sex": p.sex,
                "ethnicity": p.ethnicity,
                "home_lsoa_code": p.home.lsoa,
            }[arg]
        if kind == "weights":
            return self.rng.choices([v for v, _ in arg], weights=[w for _, w in arg])[0]
        low, high = arg  # range
        return str(self.rng.randint(low, high))

    def _by_default(self, column: Column) -> str:
        if column.allowed:
            return self.rng.choice(column.allowed)
        if column.identifier == "person":
            return self.person  # as above
        if column.type in ("date", "datetime", "month"):
            moment = datetime.combine(self.day, time(0, 0))
            if column.type == "datetime":
                moment += timedelta(seconds=self.rng.randrange(86_400))
            if "%z" in column.date_format:
                moment = moment.replace(tzinfo=UTC)
            return moment.strftime(column.date_format)
        if column.type == "integer" and column.min is not None and column.max is not None:
            return str(self.rng.randint(int(column.min), int(column.max)))
        if column.type == "decimal" and column.min is not None and column.max is not None:
            return f"{self.rng.uniform(float(column.min), float(column.max)):.2f}"
        return ""  # an optional column with no rule is left empty (registry_profiles.check_generation)
