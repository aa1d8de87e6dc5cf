"""Fake direct identifiers made at test time, with valid check digits, so the screens are tested on values that
really pass them. Nothing here is a real person's identifier; none is committed to the repository as data."""

from __future__ import annotations

import csv
import random
from collections.abc import Callable
from pathlib import Path

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


POSTCODE_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


def postcode(rng: random.Random) -> str:
    """A full postcode of the right shape (not checked against the postcode file: shape is what is screened)."""
    outward = rng.choice(["M", "SK", "OL", "WA", "BL"]) + str(rng.randrange(1, 30))
    inward = str(rng.randrange(10)) + "".join(rng.choice(POSTCODE_INWARD_LETTERS) for _ in range(2))
    return f"{outward} {inward}"


def birth_date(rng: random.Random) -> tuple[int, int, int]:
    """(year, month, day) of a child's date of birth; day 13 or later so day and month cannot be swapped."""
    return rng.randrange(2000, 2016), rng.randrange(1, 13), rng.randrange(13, 29)


def person_name(rng: random.Random) -> tuple[str, str]:
    """A forename and surname from the screen's own lists, neither of which is also a street or place word."""
    from partnership.screening import FORENAMES, PLACE_WORDS, SURNAMES

    forename = rng.choice(sorted(FORENAMES - PLACE_WORDS))
    surname = rng.choice(sorted(SURNAMES - PLACE_WORDS - FORENAMES))
    return forename, surname


def fullwidth(text: str) -> str:
    """Letters, digits, "@" and "/" as their fullwidth forms (U+FF01..U+FF5E), as East Asian keyboards type them."""
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and (c.isalnum() or c in "@/") else c for c in text)


MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]  # fmt: skip


def crafted_variants(seed: int = 11) -> list[tuple[str, str, str]]:
    """(label, cell value, the rule that must catch it): the ways an identifier gets typed into a free-text cell.

    Built at run time from synthetic identifiers with valid check digits; the unit tests and
    benchmarks/identifier_screen.py both use this list.
    """
    rng = random.Random(seed)
    n = nhs_number(rng)
    n2 = nhs_number(random.Random(seed + 1))  # a second number, without changing the values made below
    a, b, c = n[:3], n[3:6], n[6:]
    g4 = (n[:4], n[4:7], n[7:])
    nhs = [
        ("NHS number, plain", n),
        ("NHS number, 3-3-4 spaces", f"{a} {b} {c}"),
        ("NHS number, no-break spaces", f"{a}\u00a0{b}\u00a0{c}"),
        ("NHS number, narrow no-break spaces", f"{a}\u202f{b}\u202f{c}"),
        ("NHS number, thin spaces", f"{a}\u2009{b}\u2009{c}"),
        ("NHS number, figure spaces", f"{a}\u2007{b}\u2007{c}"),
        ("NHS number, tabs", f"{a}\t{b}\t{c}"),
        ("NHS number, dots", f"{a}.{b}.{c}"),
        ("NHS number, hyphens", f"{a}-{b}-{c}"),
        ("NHS number, en dashes", f"{a}\u2013{b}\u2013{c}"),
        ("NHS number, em dashes", f"{a}\u2014{b}\u2014{c}"),
        ("NHS number, underscores", f"{a}_{b}_{c}"),
        ("NHS number, spaced hyphens", f"{a} - {b} - {c}"),
        ("NHS number, 4-3-3 spaces", " ".join(g4)),
        ("NHS number, 4-3-3 hyphens", "-".join(g4)),
        ("NHS number, prefix NHS", f"NHS{n}"),
        ("NHS number, prefix nhs_", f"nhs_{n}"),
        ("NHS number, prefix NHS no:", f"NHS no: {n}"),
        ("NHS number, prefix NHS No. grouped", f"NHS No. {a} {b} {c}"),
        ("NHS number, prefix NHS# ", f"NHS#{n}"),
        ("NHS number, in brackets in text", f"referred by GP ({a} {b} {c}) last week"),
        ("NHS number, in a sentence", f"seen with NHS number {n} at the walk-in centre"),
        # Invisible characters between the digits (Unicode format characters and the soft hyphen), and
        # fullwidth digits: normalised (NFKC, format characters dropped) before matching.
        ("NHS number, zero-width spaces", "\u200b".join(n)),
        ("NHS number, zero-width joiners", "\u200d".join(n)),
        ("NHS number, zero-width non-joiners", "\u200c".join(n)),
        ("NHS number, word joiners", "\u2060".join(n)),
        ("NHS number, byte-order marks", "\ufeff".join(n)),
        ("NHS number, soft hyphens", "\u00ad".join(n)),
        ("NHS number, fullwidth digits", fullwidth(n)),
        # Invisible combining marks (categories Mn, Me) between the digits: dropped after NFKC.
        ("NHS number, combining grapheme joiners", "\u034f".join(n)),
        ("NHS number, variation selectors", "\ufe0f".join(n)),
        ("NHS number, combining low lines", "\u0332".join(n) + "\u0332"),
        ("NHS number, enclosing keycaps", "\u20e3".join(n)),
        # A spreadsheet's number, and two numbers in one cell joined by a slash.
        ("NHS number, as a spreadsheet decimal", f"{n}.0"),
        ("NHS number, two joined by a slash", f"{n}/{n2}"),
        ("NHS number, then a slash", f"NHS no {n}/ref"),
        # Other groupings of the ten digits, and the short labels people type glued in front.
        ("NHS number, 2-4-4 spaces", f"{n[:2]} {n[2:6]} {n[6:]}"),
        ("NHS number, 5-5 spaces", f"{n[:5]} {n[5:]}"),
        ("NHS number, 4-6 hyphen", f"{n[:4]}-{n[4:]}"),
        ("NHS number, 3-3-4 with the first group bracketed", f"({a}) {b} {c}"),
        ("NHS number, glued Ref", f"Ref{n}"),
        ("NHS number, glued ID", f"ID{n}"),
        ("NHS number, glued patient", f"patient{n}"),
        ("NHS number, glued pt and grouped 5-5", f"pt{n[:5]} {n[5:]}"),
        ("NHS number, glued no", f"no{n}"),
        ("NHS number, glued num", f"num{n}"),
        ("NHS number, glued Ref in brackets", f"seen (Ref{n}) today"),
        ("NHS number, then a comma", f"{n}, seen at clinic"),
    ]
    m = f"7700{rng.randrange(900000, 1000000)}"  # a mobile number in Ofcom's drama range
    phones = [
        ("phone, +44 hyphens", f"+44-{m[:4]}-{m[4:]}"),
        ("phone, +44 dots", f"+44.{m[:4]}.{m[4:]}"),
        ("phone, +44 compact", f"+44{m}"),
        ("phone, +44 (0)", f"+44 (0){m[:4]} {m[4:]}"),
        ("phone, 0044", f"0044 {m[:4]} {m[4:]}"),
        ("phone, 07 dotted", f"0{m[:4]}.{m[4:7]}.{m[7:]}"),
        ("phone, 07 spaced", f"0{m[:4]} {m[4:]}"),
        ("phone, 07 en dash", f"0{m[:4]}\u2013{m[4:]}"),
        ("phone, 07 no-break space", f"0{m[:4]}\u00a0{m[4:]}"),
        ("phone, landline dotted", f"0161.496.{rng.randrange(1000, 10000)}"),
        ("phone, in text", f"mum rang from 0{m} twice"),
        ("phone, (+44) bracketed", f"(+44) {m[:4]} {m[4:]}"),
        ("phone, +44 0", f"+44 0{m[:4]} {m[4:]}"),
        ("phone, 0044(0)", f"0044(0){m}"),
        ("phone, fullwidth digits", fullwidth(f"0{m}")),
        ("phone, word joiners", "\u2060".join(f"0{m}")),
        ("phone, combining grapheme joiner", f"0{m[:4]}\u034f{m[4:]}"),
        ("phone, variation selector", f"call 0{m[:4]}\ufe0f{m[4:]}"),
        ("phone, spaced extension", f"0{m[:4]} {m[4:]} ext 12"),
        ("phone, glued extension", f"0{m}ext1"),
    ]
    pc = postcode(rng)
    out, inward = pc.split()
    postcodes = [
        ("postcode, double space", f"{out}  {inward}"),
        ("postcode, hyphen", f"{out}-{inward}"),
        ("postcode, no space", f"{out}{inward}"),
        ("postcode, lower case", pc.lower()),
        ("postcode, no-break space", f"{out}\u00a0{inward}"),
        ("postcode, tab", f"{out}\t{inward}"),
        ("postcode, in text", f"moved to {pc}, Manchester"),
        ("postcode, zero-width joiner", f"{out}\u200d{inward}"),
        ("postcode, fullwidth", fullwidth(pc)),
        ("postcode, combining grapheme joiner", f"{out}\u034f {inward}"),
    ]
    y, mo, d = birth_date(rng)
    month = MONTHS[mo - 1]
    dates = [
        ("date, dd/mm/yy", f"{d:02d}/{mo:02d}/{y % 100:02d}"),
        ("date, dd/mm/yyyy", f"{d:02d}/{mo:02d}/{y}"),
        ("date, d/m/yyyy", f"{d}/{mo}/{y}"),
        ("date, dd.mm.yyyy", f"{d:02d}.{mo:02d}.{y}"),
        ("date, dd-mm-yyyy", f"{d:02d}-{mo:02d}-{y}"),
        ("date, yyyy/mm/dd", f"{y}/{mo:02d}/{d:02d}"),
        ("date, yyyy-mm-dd", f"{y}-{mo:02d}-{d:02d}"),
        ("date, yyyymmdd", f"{y}{mo:02d}{d:02d}"),
        ("date, d Month yyyy", f"{d} {month} {y}"),
        ("date, dth Month yyyy", f"{d}th {month} {y}"),
        ("date, d Mon yyyy", f"{d} {month[:3]} {y}"),
        ("date, d-Mon-yy", f"{d}-{month[:3]}-{y % 100:02d}"),
        ("date, Month d, yyyy", f"{month} {d}, {y}"),
        ("date, inside text", f"child born {d:02d}/{mo:02d}/{y} lives with aunt"),
        ("date, after DOB", f"DOB {y}-{mo:02d}-{d:02d}"),
        ("date, d m yyyy spaced", f"{d} {mo:02d} {y}"),
        ("date, dd/mm/yyyy and midnight", f"{d:02d}/{mo:02d}/{y} 00:00"),
        ("date, yyyy-mm-ddT00:00:00", f"{y}-{mo:02d}-{d:02d}T00:00:00"),
        ("date, zero-width joiner", f"{d:02d}\u200d/{mo:02d}/{y}"),
        ("date, fullwidth slashes", f"{d:02d}\uff0f{mo:02d}\uff0f{y}"),
        ("date, then a full stop", f"born {d:02d}/{mo:02d}/{y}."),
        ("date, ISO then a full stop", f"dob {y}-{mo:02d}-{d:02d}."),
        ("date, spaced then a full stop", f"dob {d} {mo:02d} {y}."),
        ("date, dotted then a full stop", f"born {d:02d}.{mo:02d}.{y}. Lives with aunt"),
        ("date, yyyy mm dd spaced", f"{y} {mo:02d} {d:02d}"),
        ("date, dMonyyyy run together", f"{d}{month[:3]}{y}"),
        ("date, dth of Month yyyy", f"{d}th of {month} {y}"),
        ("date, d Month, yyyy", f"{d} {month}, {y}"),
        ("date, Month d, yyyy in text", f"born {month} {d}, {y} in Salford"),
    ]
    u = upn(rng)
    upns = [
        ("UPN, plain", u),
        ("UPN, spaces", f"{u[:4]} {u[4:8]} {u[8:12]} {u[12:]}"),
        ("UPN, hyphens", f"{u[:1]}-{u[1:5]}-{u[5:9]}-{u[9:]}"),
        ("UPN, lower case", u.lower()),
        ("UPN, prefixed", f"UPN: {u}"),
        ("UPN, fullwidth", fullwidth(u)),
        ("UPN, glued Pupil", f"Pupil{u}"),
    ]
    year, serial = f"{rng.randrange(100):02d}", f"{rng.randrange(10**5, 10**7):07d}"
    from partnership.screening import pnc_check_letter

    letter = pnc_check_letter(year, serial)
    short = str(int(serial))
    pncs = [
        ("PNC ID, slash", f"{year}/{serial}{letter}"),
        ("PNC ID, no slash", f"{year}{serial}{letter}"),
        ("PNC ID, four-digit year", f"{'20' if int(year) < 50 else '19'}{year}/{serial}{letter}"),
        ("PNC ID, space for slash", f"{year} {short}{letter}"),
        ("PNC ID, lower-case letter", f"{year}/{short}{letter.lower()}"),
        ("PNC ID, in text", f"known to police as {year}/{short}{letter}"),
    ]
    forename, surname = person_name(rng)
    names = [
        ("name, title and surname", f"spoke to Mrs {surname} at the door"),
        ("name, Dr and surname", f"GP is Dr {surname}"),
        ("name, forename and surname", f"{forename} {surname} attended with her mother"),
        ("name, at the start", f"{forename} {surname}"),
        ("name, after a comma", f"victim, {forename} {surname}, declined"),
        ("name, title and names in capitals", f"MR {forename.upper()} {surname.upper()}"),
        ("name, title in capitals", f"spoke to MRS {surname.upper()}"),
        ("name, forename and surname in capitals", f"{forename.upper()} {surname.upper()} attended"),
        ("name, no-break space", f"{forename}\u00a0{surname} attended"),
        ("name, tab", f"{forename}\t{surname}"),
        ("name, after near", f"victim stood near {forename} {surname} when hit"),
        ("name, on or near a person", f"On or near {forename} {surname}"),
        ("name, surname comma forename", f"{surname}, {forename}"),
        ("name, surname comma forename in text", f"parent is {surname}, {forename} (mother)"),
        ("name, middle initial", f"{forename} {'ABCDEFGHJKLMNPRSTW'[len(surname) % 18]}. {surname} attended"),
        ("name, title and initial", f"letter to Mr {forename[0]}. {surname}"),
    ]
    emails = [
        ("email", "contact jo.bloggs@example.org"),
        ("email, upper case", "JO.BLOGGS@EXAMPLE.ORG"),
        ("email, fullwidth at sign", "jo.bloggs\uff20example.org"),
        ("email, zero-width space", "jo.bloggs@\u200bexample.org"),
        ("email, combining grapheme joiners", "jo\u034f@example\u034f.org"),
        ("email, accented local part", "contact jö@example.org"),
    ]
    rules = {
        "NHS number": nhs,
        "UK phone number": phones,
        "full UK postcode": postcodes,
        "dates in a column": dates,
        "UPN": upns,
        "PNC ID": pncs,
        "person name": names,
        "email address": emails,
    }
    return [(label, value, rule) for rule, variants in rules.items() for label, value in variants]


def append_column(path: Path, header: str, value: Callable[[], str] = str) -> list[list[str]]:
    """Add a column to a CSV file in place (``value()`` for each row, empty by default); returns the rows."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    rows[0].append(header)
    for r in rows[1:]:
        r.append(value())
    with open(path, "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    return rows
