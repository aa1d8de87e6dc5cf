"""People's names in free text: a title and a capitalised word, or a known forename followed by a known surname
(an initial between them passed over; "Smith, John" too), outside place names ("On or near Victoria Road")."""

from __future__ import annotations

import re
from pathlib import Path

# The package's folder is screening/; the name lists are the partnership package's reference data.
NAMES_DIR = Path(__file__).parent.parent / "reference" / "names"  # published lists; source and licence in its README


def _name_list(file: str) -> frozenset[str]:
    return frozenset(line.strip() for line in (NAMES_DIR / file).read_text().splitlines() if line.strip())


FORENAMES = _name_list("forenames.txt")
SURNAMES = _name_list("surnames.txt")
TITLES = frozenset("Mr Mrs Ms Miss Mx Dr Master Sir Dame Lady Lord Prof Professor Rev Revd Father Sister Cllr".split())
# A run of capitalised words holding one of these is a place ("On or near Mary Rose Close", "Victoria Park"),
# however many of its words are also people's names.
PLACE_WORDS = frozenset(
    """Road Rd Street St Lane Ln Avenue Ave Park Station Close Way Drive Court Ct Crescent Cres Place Pl Square Sq
    Terrace Gardens Garden Grove Hill Hills Row Walk Mews Rise Green Vale View Parade Hall House Houses Centre
    Center Field Fields Wood Woods Bridge Brook Church Chapel Cathedral Abbey School College Academy University
    Hospital Surgery Market Shopping Retail Estate Industrial Business Farm Mill Mills Lodge Manor Castle Tower
    Towers Bank Quay Wharf Dock Docks Yard Gate Gates End Common Heath Moor Marsh Meadow Meadows Cottages
    Buildings Arcade Precinct Approach Circus Boulevard Broadway Highway Bypass Link Path Passage Alley Stadium
    Airport Railway Car Petrol Nightclub Police Fire Library Theatre Cinema Club Hotel Pub Inn Arms Supermarket
    Store Shop Sports Recreation Area Ground Grounds Playground Football Cricket Golf Course Parking Leisure Village
    Town City Valley Cross Corner Hollow Croft Fold Garth Nook Chase Copse Dene Dale Glen Holme Mead Orchard
    Paddock Pastures Ridge Spinney Wynd Embankment Esplanade Promenade Plaza Point Reach Side Lea Leys Acre Acres
    Bottom Brow Top Lake Pond River Canal Mount Beck Water Island Gallery Museum Works Junction Roundabout
    Services Terminal Port Harbour Beach Pier Marina Forest Fountain Meade Royal Saint Old New Upper Lower North
    South East West Great Little High Mall Hotel Motorway Interchange Subway Underpass Flyover Tunnel Platt Oaks
    Elms Pines Willows Limes Beeches Birches Firs Cedars Laurels Poplars Maples Hollies Rowans Brae Clough Ings
    Heights Oval Circle Cottage Courtyard Retreat Sidings Steps Twitchel Ginnel Hurst Bay Cove Cliffs Sands Shore
    Seafront Dunes Slipway Jetty Lagoon Loch Estuary Headland Creek Isle Rocks Crag Tor Downs Links""".split()
)
NAME_RULE = "person name (a title, or a forename and surname, in free text)"
# A capitalised word, or one in capitals ("MR JOHN SMITH": compared as "Mr John Smith").
# An initial ("John A. Smith", "Mr J. Smith") is a capital standing alone.
_CAPITALISED = re.compile(
    r"[A-Z][a-z]+(?:['\u2019-][A-Z]?[a-z]+)*|[A-Z]{2,}(?:['\u2019-][A-Z]+)*(?![a-z])|(?<![A-Za-z])[A-Z](?![\w'\u2019-])"
)
_WORD_GAP = re.compile(r"\.?[ \t]+")  # between words of one run ("Mr. Smith", "Jo  Bloggs"; NBSP is a space by now)
_COMMA_GAP = re.compile(r",[ \t]*")  # "Smith, John": a surname, a comma, a forename


def _person_name(cell: str) -> bool:
    """A title and a capitalised word, or a known forename then a known surname, in a run of capitalised words
    holding no street or place word. police.uk's "On or near Berry Meade" names a place by its place word, so
    "near" alone excuses nothing: "stood near Jo Bloggs" is a person."""
    run: list[str] = []  # adjacent capitalised words
    before: list[str] = []  # the run before this one, when a comma alone parts them
    end = -1
    for m in _CAPITALISED.finditer(cell):
        word = m.group()
        word = word.capitalize() if len(word) > 1 and word.isupper() else word
        if run and _WORD_GAP.fullmatch(cell, end, m.start()):
            run.append(word)
        else:
            if run and (_names_someone(run) or _surname_first(before, run)):
                return True
            before = run if run and _COMMA_GAP.fullmatch(cell, end, m.start()) else []
            run = [word]
        end = m.end()
    return bool(run) and (_names_someone(run) or _surname_first(before, run))


def _names_someone(run: list[str]) -> bool:
    if len(run) < 2 or not PLACE_WORDS.isdisjoint(run):
        return False
    # An initial between a forename and a surname is passed over ("John A Smith"); after a title it is a name.
    names = [word for i, word in enumerate(run) if len(word) > 1 or (i and run[i - 1] in TITLES)]
    return any(
        first in TITLES or (first in FORENAMES and second in SURNAMES)
        for first, second in zip(names, names[1:], strict=False)
    )


def _surname_first(before: list[str], run: list[str]) -> bool:
    """A known surname, a comma, a known forename ("Smith, John"), neither run holding a place word."""
    if not before or not PLACE_WORDS.isdisjoint(before) or not PLACE_WORDS.isdisjoint(run):
        return False
    return before[-1] in SURNAMES and run[0] in FORENAMES
