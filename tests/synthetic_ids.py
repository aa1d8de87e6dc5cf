"""Fake direct identifiers made at test time, with valid check digits, so the screens are tested on values that
really pass them. Nothing here is a real person's identifier; none is committed to the repository as data."""

from __future__ import annotations

import random

from partnership.screening import UPN_LETTERS, nhs_number_valid, pnc_check_letter, upn_check_letter


def nhs_number(rng: random.Random) -> str:
    while True:
        digits = f"{rng.randrange(10**9):09d}"
        for check in "0123456789":
            if nhs_number_valid(digits + check):
                return digits + check


def invalid_nhs_number(rng: random.Random) -> str:
    valid = nhs_number(rng)
    return valid[:9] + str((int(valid[9]) + 1) % 10)


def upn(rng: random.Random) -> str:
    body = f"{rng.randrange(10**12):012d}"
    return upn_check_letter(body) + body


def pnc_id(rng: random.Random) -> str:
    year, serial = f"{rng.randrange(100):02d}", str(rng.randrange(1, 10**7))
    return f"{year}/{serial}{pnc_check_letter(year, serial)}"


def wrong_upn(rng: random.Random) -> str:
    good = upn(rng)
    return next(c for c in UPN_LETTERS if c != good[0]) + good[1:]
