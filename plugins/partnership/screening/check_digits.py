"""Check digits of the identifiers that have them: the NHS number's modulus 11, the DfE UPN check letter and
the PNC ID's check letter. The content rules count a number only when its check passes, so ordinary numbers do
not trip the screen; :mod:`partnership.pseudonymise` checks the identifiers it replaces with them too."""

from __future__ import annotations


def _ascii_digits(text: str) -> bool:
    """0-9 only: ``str.isdigit()`` is also true for "²" and "٣", which ``int()`` refuses or reads."""
    return text.isascii() and text.isdigit()


def nhs_number_valid(digits: str) -> bool:
    """NHS number: 10 digits, the last a modulus-11 check digit over the first nine (weights 10..2)."""
    if len(digits) != 10 or not _ascii_digits(digits):
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"  # DfE: 23 letters, no I, O or S


def upn_check_letter(body: str) -> str:
    """DfE UPN check letter for the 12 characters after it: sum of value x position (2..13), modulo 23."""
    total = 0
    for position, ch in enumerate(body, start=2):
        total += (int(ch) if _ascii_digits(ch) else UPN_LETTERS.index(ch)) * position
    return UPN_LETTERS[total % 23]


def upn_valid(upn: str) -> bool:
    upn = upn.upper()
    if len(upn) != 13 or upn[0] not in UPN_LETTERS or not _ascii_digits(upn[1:12]):
        return False
    if not (_ascii_digits(upn[12]) or upn[12] in UPN_LETTERS):  # a temporary UPN ends in a letter
        return False
    return upn_check_letter(upn[1:]) == upn[0]


PNC_LETTERS = "ZABCDEFGHJKLMNPQRTUVWXY"  # index = (YY followed by the 7-digit serial) modulo 23


def pnc_check_letter(year: str, serial: str) -> str:
    return PNC_LETTERS[int(year[-2:] + serial.zfill(7)) % 23]


def pnc_valid(year: str, serial: str, letter: str) -> bool:
    if not (_ascii_digits(year) and _ascii_digits(serial) and len(year) in (2, 4) and 1 <= len(serial) <= 7):
        return False
    return pnc_check_letter(year, serial) == letter.upper()
