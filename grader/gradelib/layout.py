"""A kernel layout of this grading run's own: random padding before the
tests' code and the test harness's code, data and bss (common/linker.ld),
chosen once per run, for the kernels built in a grading copy. An address
that a student reads off a local build's symbol table (a test function, the
nonce, the running test's record) then points somewhere else in the graded
kernel."""

import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent

MAX_PADDING = 32 * 1024  # bytes per section; the image must stay below 2 MiB
STEP = 16                # keeps every function and variable aligned as before

PADDING = {section: secrets.randbelow(MAX_PADDING // STEP) * STEP
           for section in ("TESTS", "TEXT", "DATA", "BSS")}


def make_variables(root):
    """The make command-line assignments that link this run's layout in the
    lab at `root`: a grading copy (a submission's, the self-test's). The lab
    itself, a student's own tree, keeps the layout of `make`, so that grading
    there relinks nothing."""
    if Path(root).resolve() == ROOT:
        return []
    return [f"HARNESS_{section}_PADDING={bytes_}" for section, bytes_ in PADDING.items()]
