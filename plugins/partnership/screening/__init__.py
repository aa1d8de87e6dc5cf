"""Identifier screening: the first gate. A landed file that carries a direct identifier is rejected whole.

Pseudonymised data is still personal data, but a direct identifier (NHS number, UPN, PNC ID, name, date of
birth, full postcode, email, phone number) must never reach the warehouse. The screens, streaming over the
file once:

- the file name, and each header cell: named as an identifier (``nhs_number``, ``surname``, ``dob``...) or
  holding one (a header the agency typed a value into);
- by content, in every column: values that look like an identifier, with check digits verified where the
  identifier has them (NHS modulus 11, the DfE UPN check letter, the PNC check letter) so ordinary numbers do
  not trip the screen. Separators and labels are taken out first: ``401\u00a0023\u00a02137``, ``401.023.2137``,
  ``NHS4010232137``, ``nhs_4010232137``, ``Ref4010232137`` and ``40102 32137`` are one number (glued, only the short
  labels people type: Ref, ID, patient, pt, no, num, Pupil). A plain decimal number (``53.4010232137``, a
  coordinate) keeps its decimal point: only its integer part is screened;
- people's names in the columns the registry marks ``free_text``: a title and a capitalised word, or a known
  forename followed by a known surname (an initial between them passed over; "Smith, John" too), outside
  place names ("On or near Victoria Road"). A warning unless the dataset's ``name_screen`` is ``critical``:
  the lists are published name lists, and miss some names.

Allowed: LSOA codes, postcode districts and sectors (``M14``, ``M14 5``), ages, age bands, timestamps and the
64-hex pseudonymised keys. A column the registry declares ``pseudonymise: <type>`` is exempt: the agreement
lets the agency send that identifier there, and the gate replaces it (see :mod:`partnership.pseudonymise`).

Findings name the column, the rule and row numbers; never the value. A header the contract does not know is
never quoted either (it may be the identifier): it is named by its position, "header cell 7".
"""

from partnership.screening.check_digits import (
    PNC_LETTERS,
    UPN_LETTERS,
    nhs_number_valid,
    pnc_check_letter,
    pnc_valid,
    upn_check_letter,
    upn_valid,
)
from partnership.screening.files import (
    NotPlain,
    RecordShape,
    plain_line_blocks,
    screen_file,
    screen_file_name,
    screen_header,
    shown_file_name,
    without_cyclic_gc,
)
from partnership.screening.names import FORENAMES, NAME_RULE, NAMES_DIR, PLACE_WORDS, SURNAMES, TITLES
from partnership.screening.rules import (
    CONTENT_RULES,
    DOB_RULE,
    EMAIL_RULE,
    NAME_RULES,
    Finding,
    content_rules,
    normalise_name,
)

# The screen's tunables (CHUNK_ROWS, PLAIN_BLOCK, JUDGED_CELLS, SHOWN_ROWS) are not re-exported: they are read
# where they are defined, in partnership.screening.files, and a test that changes one patches it there (a copy
# here would take the patch and change nothing).

__all__ = [
    "CONTENT_RULES",
    "DOB_RULE",
    "EMAIL_RULE",
    "FORENAMES",
    "NAMES_DIR",
    "NAME_RULE",
    "NAME_RULES",
    "PLACE_WORDS",
    "PNC_LETTERS",
    "SURNAMES",
    "TITLES",
    "UPN_LETTERS",
    "Finding",
    "NotPlain",
    "RecordShape",
    "content_rules",
    "nhs_number_valid",
    "normalise_name",
    "plain_line_blocks",
    "pnc_check_letter",
    "pnc_valid",
    "screen_file",
    "screen_file_name",
    "screen_header",
    "shown_file_name",
    "upn_check_letter",
    "upn_valid",
    "without_cyclic_gc",
]
