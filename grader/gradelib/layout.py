"""A kernel layout of this grading run's own: random padding before the
tests' code and the test harness's code, data and bss (common/linker.ld),
chosen once per run. An address that a student reads off a local build's
symbol table (a test function, the nonce, the running test's record) then
points somewhere else in the graded kernel."""

import secrets

MAX_PADDING = 32 * 1024  # bytes per section; the image must stay below 2 MiB
STEP = 16                # keeps every function and variable aligned as before

PADDING = {section: secrets.randbelow(MAX_PADDING // STEP) * STEP
           for section in ("TESTS", "TEXT", "DATA", "BSS")}


def make_variables():
    """The make command-line assignments that link this run's layout."""
    return [f"HARNESS_{section}_PADDING={bytes_}" for section, bytes_ in PADDING.items()]
