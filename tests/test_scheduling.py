"""What the landing watcher announces: a dataset whose landing folder holds files an ingest run would take, once
per set of files (not again at every poll while they wait), and nothing for a file still being uploaded."""

from __future__ import annotations

import os
import time

from conftest import land_header_only

from partnership import scheduling, settings


def test_the_watcher_announces_complete_files_once_per_set(data_dir, crimes):
    assert scheduling.landed_fingerprints() == {}
    uploading = land_header_only(crimes, "recorded_crime_2024-05.csv", marker=False)  # no marker, changed just now
    assert scheduling.landed_fingerprints() == {}, "a file still being uploaded is not announced"

    land_header_only(crimes, "recorded_crime_2024-04.csv", marker=True)
    first = scheduling.landed_fingerprints()
    assert set(first) == {crimes.name}
    assert scheduling.landed_fingerprints() == first, "the same waiting files: the same digest, no new announcement"

    settings.upload_marker(uploading).touch()  # the upload completes: the set changed, announce again
    later = time.time() + 1
    os.utime(settings.upload_marker(uploading), (later, later))
    assert scheduling.landed_fingerprints()[crimes.name] != first[crimes.name]
