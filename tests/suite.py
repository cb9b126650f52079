"""The self-test suite's machinery: checks are functions registered with
@check, which records the check's name, its description (the docstring) and
the checks whose results it needs; run() runs a selection of them, each
after what it needs, independent ones side by side.

A check returns (passed, detail) or (passed, detail, data). `detail`'s first
line is the check's summary; `data` is what the checks that need it are
given: a check registered with needs=("starter",) whose function has a
parameter `starter` is called with the starter check's data there (dashes
become underscores), and is not run if there is none. A need that is no
parameter only orders the two (say, "build": the lab's kernels are built).
Nothing else is shared between checks, so a check run alone runs what it
needs first and checks as much as it does in a full run.

Of the checks ready to run, the one at the head of the longest chain of
checks still to come starts first (by each check's time in the last run):
with two at a time, a long check started last would keep one core idle
while it ends.

Checks that share something of the lab that is not made for two at once
(the registry of debug sessions, a build folder that one of them deletes)
name it in `uses`: two checks using the same thing never run together."""

import concurrent.futures
import inspect
import resource
import subprocess
import time
import traceback
from dataclasses import dataclass


@dataclass
class Check:
    name: str
    function: object
    needs: tuple = ()
    uses: tuple = ()
    description: str = ""

    @property
    def summary(self):
        return self.description.split("\n\n")[0].replace("\n", " ")


CHECKS = {}  # name -> Check, in the order they were registered


def check(name, needs=(), uses=()):
    """Registers the decorated function as the check `name`."""
    def register(function):
        if name in CHECKS:
            raise ValueError(f"two checks named {name}")
        unknown = [need for need in needs if need not in CHECKS]
        if unknown:  # so that the registration order is a valid running order
            raise ValueError(f"check {name} needs {unknown}, registered later or never")
        parameters = set(inspect.signature(function).parameters)
        unneeded = parameters - {need.replace("-", "_") for need in needs}
        if unneeded:
            raise ValueError(f"check {name} takes {sorted(unneeded)}, which it does not need")
        description = inspect.getdoc(function)
        if not description:
            raise ValueError(f"check {name} has no docstring to describe it")
        CHECKS[name] = Check(name, function, tuple(needs), tuple(uses), description)
        return function
    return register


def selection(names):
    """The checks called `names` (all if none) and everything they need, in
    registration order; raises KeyError for a name no check has."""
    unknown = [name for name in names if name not in CHECKS]
    if unknown:
        raise KeyError(f"no check named {', '.join(unknown)}; the checks: {' '.join(CHECKS)}")
    wanted = set(names or CHECKS)
    for name in reversed(list(CHECKS)):  # needs are registered earlier
        if name in wanted:
            wanted.update(CHECKS[name].needs)
    return [c for c in CHECKS.values() if c.name in wanted]


@dataclass
class Outcome:
    passed: bool
    detail: str
    data: object = None
    seconds: float = 0.0
    cpu: float = None  # CPU seconds of this process and its children, when run alone


def call(check, given):
    """Runs one check with its needs' data; a check that raises fails, with
    the traceback as its detail."""
    parameters = inspect.signature(check.function).parameters
    arguments = {need.replace("-", "_"): given[need] for need in check.needs
                 if need.replace("-", "_") in parameters}
    missing = [name for name, data in arguments.items() if data is None]
    if missing:
        return Outcome(False, f"not run: {', '.join(missing)} gave it nothing to check")
    try:
        returned = check.function(**arguments)
    except subprocess.TimeoutExpired as error:
        return Outcome(False, f"timed out: {error}")
    except Exception as error:  # noqa: BLE001 - one check must not hide the others' results
        return Outcome(False, f"{type(error).__name__}: {error}\n" + traceback.format_exc())
    passed, detail, *data = returned
    return Outcome(bool(passed), str(detail), data[0] if data else None)


def cpu_now():
    return sum(usage.ru_utime + usage.ru_stime for usage in
               (resource.getrusage(resource.RUSAGE_SELF),
                resource.getrusage(resource.RUSAGE_CHILDREN)))


UNMEASURED_SECONDS = 30.0  # what a check not yet timed is taken to last


def by_longest_chain(checks, seconds):
    """`checks` ordered by the time from each one's start to the end of the
    last check that needs it, longest first; seconds: {name: last time}."""
    chain = {}
    for found in reversed(checks):  # a check's dependents come after it
        after = [chain[other.name] for other in checks if found.name in other.needs]
        chain[found.name] = seconds.get(found.name, UNMEASURED_SECONDS) + max(after, default=0)
    return sorted(checks, key=lambda found: -chain[found.name])


def run(checks, workers, report, seconds=None):
    """Runs `checks`, at most `workers` at a time, each once all it needs
    has finished, the longest chains first (seconds: {name: its last
    time}); report(check, outcome) as each ends. With one worker the
    outcome also says the check's CPU time. Returns {name: Outcome}."""
    outcomes, running = {}, {}
    pending = by_longest_chain(list(checks), seconds or {})

    def timed(check, given):
        started, cpu = time.monotonic(), cpu_now()
        outcome = call(check, given)
        outcome.seconds = time.monotonic() - started
        if workers == 1:
            outcome.cpu = cpu_now() - cpu
        return outcome

    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        while pending or running:
            busy = {use for check in running.values() for use in check.uses}
            for check in list(pending):
                if len(running) >= workers:
                    break
                if all(need in outcomes for need in check.needs) and not busy & set(check.uses):
                    pending.remove(check)
                    given = {need: outcomes[need].data for need in check.needs}
                    running[pool.submit(timed, check, given)] = check
                    busy |= set(check.uses)
            done, _ = concurrent.futures.wait(running, return_when=concurrent.futures.FIRST_COMPLETED)
            for future in done:
                check = running.pop(future)
                outcomes[check.name] = future.result()
                report(check, outcomes[check.name])
    return outcomes
