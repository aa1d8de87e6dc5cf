"""Demo data, kept apart from the warehouse's own code: the generator of synthetic agency extracts (with the
figures it plants for tests to find) and the defect injector that damages them. `partnership run` and the
tests use them; nothing that loads, checks or publishes real data imports them (tests/test_demo_boundary.py)."""
