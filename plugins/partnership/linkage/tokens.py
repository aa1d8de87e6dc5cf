"""Keyed tokens of the linkage fields: what the linkage index keeps in place of them.

Every token is ``HMAC-SHA256(linkage key, "<kind>:<standardised value>")``, cut to 16 bytes (128 bits: no two
values in a population of billions share one). Without the key nobody can compute the token of a guessed name or
date of birth, so the index cannot be searched by dictionary; with the key, tokens are equal exactly when the
standardised values are. Comparisons finer than equality are made of tokens of parts (the year and month of a
date of birth; a postcode's sector; a surname's Soundex code; a name with one letter left out), as in
hashed-field linkage.

The raw values are not kept: :func:`tokenise` returns tokens only, and its callers drop the raw fields.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass, field, fields

import jellyfish

from partnership import pseudonymise
from partnership.linkage import standardise
from partnership.registry_model import (  # the fields an agency may send (its entry says which)
    LINKAGE_FIELDS,
    PSEUDONYMISE_TYPES,
)

KEY_TYPE = pseudonymise.LINKAGE_KEY_TYPE  # PSEUDONYMISATION_KEY_LINKAGE, or Variable pseudonymisation_key_linkage
TOKEN_BYTES = 16


def linkage_key() -> bytes:
    """The partnership's linkage key (refused if missing, a placeholder or weak; masked in Airflow's logs), and
    refused if it is also an identifier type's pseudonymisation key: a token would then be the first half of that
    identifier's pseudonym in raw, and the index would link to the warehouse by it."""
    key = pseudonymise.get_key(KEY_TYPE)
    for id_type in PSEUDONYMISE_TYPES:  # as set in the environment, where keys are usually given
        if os.environ.get(pseudonymise.env_name(id_type)) == key.decode():
            raise pseudonymise.KeyUnavailable(
                f"the linkage key is refused: it is also the {id_type} pseudonymisation key; give each its own"
            )
    return key


@dataclass(frozen=True)
class Tokens:
    """One person-record's tokens; None where the field was missing or unreadable. Field names are the index's
    column names."""

    nhs_number: bytes | None = None
    upn: bytes | None = None
    pnc_id: bytes | None = None
    forename: bytes | None = None
    forename_group: tuple[bytes, ...] = field(default=())  # the name and the formal names it is a nickname of
    forename_edits: tuple[bytes, ...] = field(default=())  # the name with each letter left out, and whole
    forename_sx: bytes | None = None  # Soundex code
    surname: bytes | None = None
    surname_edits: tuple[bytes, ...] = field(default=())
    surname_sx: bytes | None = None
    dob: bytes | None = None
    dob_swapped: bytes | None = None  # the date with day and month swapped, when that is a date
    dob_ym: bytes | None = None  # year and month
    dob_md: bytes | None = None  # month and day
    dob_yd: bytes | None = None  # year and day
    dob_year: bytes | None = None
    sex: bytes | None = None
    postcode: bytes | None = None
    postcode_sector: bytes | None = None
    postcode_district: bytes | None = None
    name_dob_postcode: bytes | None = None  # all of forename, surname, date of birth and postcode

    @classmethod
    def columns(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    @classmethod
    def set_columns(cls) -> set[str]:
        return {f.name for f in fields(cls) if str(f.type).startswith("tuple")}

    def every_token(self) -> set[bytes]:
        return {t for v in self.values() if v for t in (v if isinstance(v, list) else [v])}

    def values(self) -> list:
        return [list(v) if isinstance(v, tuple) else v for v in (getattr(self, c) for c in self.columns())]


def tokenise(key: bytes, raw: dict[str, str | None]) -> Tokens:
    """The tokens of one person's linkage fields as an agency sent them ({field: raw value}, any of
    :data:`LINKAGE_FIELDS`; a field the agency does not hold is simply absent)."""
    return Tokeniser(key)(raw)


class Tokeniser:
    """:func:`tokenise` for the records of one file: each field's value is standardised and keyed once, however
    many records share it (a file's people share forenames, surnames, birth years, postcode districts, and a
    name's one-letter variants are a dozen tokens). Its memo holds the values it has seen, so it is made for one
    file and dropped with it, never kept."""

    def __init__(self, key: bytes) -> None:
        # HMAC's keyed state, made once and copied for each token (keying it afresh was a third of each token's cost)
        self._keyed = hmac.new(key, digestmod=hashlib.sha256)
        self._memo: dict[tuple[str, str], dict[str, object]] = {}

    def token(self, kind: str, value: str | None) -> bytes | None:
        if not value:
            return None
        h = self._keyed.copy()
        h.update(f"{kind}:{value}".encode())
        return h.digest()[:TOKEN_BYTES]

    def __call__(self, raw: dict[str, str | None]) -> Tokens:
        unknown = set(raw) - set(LINKAGE_FIELDS)
        if unknown:
            raise ValueError(f"not linkage fields: {sorted(unknown)}")
        t = self.token
        out: dict[str, object] = {}
        for id_type in ("nhs_number", "upn", "pnc_id"):
            out[id_type] = t(id_type, standardise.identifier(id_type, raw.get(id_type)))
        fore = self._memoised("forename", raw.get("forename"), self._forename)
        sur = self._memoised("surname", raw.get("surname"), self._surname)
        dob = self._memoised("date_of_birth", raw.get("date_of_birth"), self._date_of_birth)
        code = self._memoised("postcode", raw.get("postcode"), self._postcode)
        out.update(self._memoised("sex", raw.get("sex"), self._sex))
        for part in (fore, sur, dob, code):
            out.update((k, v) for k, v in part.items() if not k.startswith("_"))
        if fore and sur and dob and code:
            whole = f"{fore['_value']}|{sur['_value']}|{dob['_value']}|{code['_value']}"
            out["name_dob_postcode"] = t("name_dob_postcode", whole)
        return Tokens(**out)

    def _memoised(self, field_name: str, value: str | None, tokens_of) -> dict[str, object]:
        """The tokens of one field's value ({} when it is missing or unreadable); "_value" holds the standardised
        value, for the combined token."""
        key = (field_name, value or "")
        if key not in self._memo:
            self._memo[key] = tokens_of(value)
        return self._memo[key]

    def _forename(self, value: str | None) -> dict[str, object]:
        fore = standardise.forename(value)
        if not fore:
            return {}
        t = self.token
        return {
            "_value": fore,
            "forename": t("forename", fore),
            "forename_group": tuple(sorted(t("forename", n) for n in standardise.forename_group(fore))),
            "forename_edits": _edit_tokens(t, "forename_edits", fore),
            "forename_sx": t("forename_sx", jellyfish.soundex(fore)),
        }

    def _surname(self, value: str | None) -> dict[str, object]:
        sur = standardise.surname(value)
        if not sur:
            return {}
        t = self.token
        return {
            "_value": sur,
            "surname": t("surname", sur),
            "surname_edits": _edit_tokens(t, "surname_edits", sur),
            "surname_sx": t("surname_sx", jellyfish.soundex(sur)),
        }

    def _date_of_birth(self, value: str | None) -> dict[str, object]:
        dob = standardise.date_of_birth(value)
        if not dob:
            return {}
        t = self.token
        out: dict[str, object] = {"_value": dob.isoformat(), "dob": t("dob", dob.isoformat())}
        if dob.day <= 12 and dob.day != dob.month:
            out["dob_swapped"] = t("dob", dob.replace(month=dob.day, day=dob.month).isoformat())
        out["dob_ym"] = t("dob_ym", f"{dob.year}-{dob.month}")
        out["dob_md"] = t("dob_md", f"{dob.month}-{dob.day}")
        out["dob_yd"] = t("dob_yd", f"{dob.year}-{dob.day}")
        out["dob_year"] = t("dob_year", str(dob.year))
        return out

    def _sex(self, value: str | None) -> dict[str, object]:
        return {"sex": self.token("sex", standardise.sex(value))}

    def _postcode(self, value: str | None) -> dict[str, object]:
        code = standardise.postcode(value)
        if not code:
            return {}
        t = self.token
        return {
            "_value": code,
            "postcode": t("postcode", code),
            "postcode_sector": t("postcode_sector", standardise.postcode_sector(code)),
            "postcode_district": t("postcode_district", standardise.postcode_district(code)),
        }


def _edit_tokens(t, kind: str, name: str) -> tuple[bytes, ...]:
    """Tokens of the name and of the name with each one letter left out. Two names one typing error apart (a
    letter changed, left out, added, or two swapped) share one of these; two different names rarely do."""
    variants = {name} | {name[:i] + name[i + 1 :] for i in range(len(name))}
    return tuple(sorted(t(kind, v) for v in variants if v))
