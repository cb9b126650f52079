"""Scores and reports: the table on the terminal, Gradescope's results.json,
and JUnit XML for CI systems."""

import json
import re
import shutil
import subprocess
import sys
from xml.etree import ElementTree

from . import toolchain
from .runner import BUILD, kernel_elf
from .submission import HIDDEN_TEST_PREFIX


KERNEL_ADDRESS = re.compile(r"0x(ffffffff8[0-9a-f]{7})\b")


def score(results):
    """(points, max points, bonus points, max bonus points) over kernel results."""
    points = maximum = bonus = bonus_max = 0
    for result in results:
        for test in result.tests.values():
            if test.kind == "bonus":
                bonus += test.score
                bonus_max += test.points
            else:
                points += test.score
                maximum += test.points
    return points, maximum, bonus, bonus_max


def full_marks(results):
    return all(t.passed for r in results for t in r.tests.values()) and all(
        r.built for r in results)


def required_passed(results):
    """Every test that counts towards the maximum passed: the bonus is extra."""
    return all(t.passed for r in results for t in r.tests.values() if t.kind != "bonus")


def symbolize(lines, elf, root):
    """Appends ' <function at file:line>' to kernel addresses in report lines."""
    addresses = sorted({m for line in lines for m in KERNEL_ADDRESS.findall(line)})
    addr2line = toolchain.settings()["ADDR2LINE"]
    if not addresses or not elf.exists() or shutil.which(addr2line) is None:
        return lines
    output = subprocess.run([addr2line, "-f", "-e", str(elf)] +
                            [f"0x{a}" for a in addresses], capture_output=True, text=True)
    names, pairs = output.stdout.splitlines(), {}
    # Each address yields two lines: function, file:line (no -i: one frame each).
    if len(names) == 2 * len(addresses):
        for index, address in enumerate(addresses):
            function, place = names[2 * index], names[2 * index + 1]
            if function != "??" and not place.startswith("??"):  # code, not data
                pairs[address] = f"{function} at {place.replace(str(root) + '/', '')}"
    return [KERNEL_ADDRESS.sub(
        lambda m: m.group(0) + (f" <{pairs[m.group(1)]}>" if m.group(1) in pairs else ""), line)
        for line in lines]


def test_name(result, test):
    return f"{result.flavour}/{test.name}" if result.flavour else test.name


# A failed test's one-line reason: its first failed check ("FILE:LINE:
# EXPRESSION: expected X, got Y") or crash (CPU exception, with the faulting
# instruction; panic; undefined behaviour), else how its boot ended. Other
# output (an expected warning of the code under test, a dump) is context.
FAILED_CHECK = re.compile(r"^\S+\.[ch]:\d+: ")
CRASH_LINE = re.compile(r"^\*\*\* (EXCEPTION|PANIC)|^undefined behaviour|^ubsan:|crashed: ")
FAULT_PLACE = re.compile(r"^faulting instruction at (0x[0-9a-f]+)")
BOOT_END = re.compile(r"^(no output for|took longer|printed more|triple fault|Bochs stopped|"
                      r"the kernel stopped|did not run|a result line|declared twice)")


def first_problem(test):
    """The line that says why `test` failed (see FAILED_CHECK)."""
    lines = [line.lstrip("# ").strip() for line in test.output]
    lines = [line for line in lines if line]
    for index, line in enumerate(lines):
        if FAILED_CHECK.match(line):
            return line
        if CRASH_LINE.search(line):
            where = next((m.group(1) for later in lines[index + 1:]
                          if (m := FAULT_PLACE.match(later))), None)
            # A page fault's line names its address and diagnosis: the
            # instruction comes last, apart from them.
            joiner = "; instruction at " if "#PF" in line else " at "
            return line.strip(" *") + (f"{joiner}{where}" if where else "")
    for line in lines:
        if BOOT_END.match(line):
            return line
    return lines[0] if lines else ""


def reason(result, test):
    """first_problem with kernel addresses symbolised (function at file:line)."""
    problem = first_problem(test)
    if not problem:
        return ""
    return symbolize([problem], kernel_elf(result.root, result.kernel), result.root)[0]


def kernel_heading(result, variant, emu):
    heading = f"\n{result.kernel} (lesson {result.lesson}, {variant}, {emu})"
    if result.skipped:
        return heading + f": not graded: {result.skipped}"
    return heading + (f": {result.boots} boot{'s' if result.boots != 1 else ''}, "
                      f"{result.seconds:.1f} s")


def render_table(results, variant, emu, width=None, verbose=False):
    """The score table as text; lines are cut to `width` if given. verbose:
    every failed test's whole output (reports symbolised) under its line."""
    out = []
    for result in results:
        out.append(kernel_heading(result, variant, emu))
        if result.skipped:
            continue
        if not result.built:
            out.append("  the kernel did not compile:")
            out += [f"    {line}" for line in result.build_log.splitlines()[:60]]
            continue
        out.append(f"  {'#':>3}  {'test':<52} {'points':>6}  result")
        shown = set()
        for run in runs_of_one_reason(result):
            test = run[0]
            status = "ok" if test.passed else test.status.upper()
            if len(run) >= MIN_COLLAPSED:  # one reason, said once
                numbers = f"{test.number or '-'}-{run[-1].number or '-'}"
                label = f"{len(run)} tests: {test_name(result, test)} ... " \
                        f"{test_name(result, run[-1])}"
                line = (f"  {numbers:>3}  {label[:52]:<52} "
                        f"{0:>2}/{sum(t.points for t in run):<3}  {status}")
            else:
                line = (f"  {test.number or '-':>3}  {test_name(result, test):<52} "
                        f"{test.score:>2}/{test.points:<3}  {status}")
            said = reason(result, test) if not test.passed else ""
            if said:
                line += "  " + said
                shown.add(said.removeprefix("did not run: "))
            out.append(line[:max(width, 80)] if width else line)
            if verbose and not test.passed:
                out += [f"         {detail}" for detail in failure_details(result, test)
                        if detail.strip() != said]
        elf = kernel_elf(result.root, result.kernel)
        for event in symbolize(result.events, elf, result.root):
            if re.sub(r"^boot \d+: ", "", event) not in shown:  # a reason is said once
                out.append(f"  ! {event}")
        out += rerun_hints(result)
    points, maximum, bonus, bonus_max = score(results)
    verdict = (" - full marks" if full_marks(results) else
               " - every required test passes (the bonus is extra)" if required_passed(results)
               else "")
    out.append(f"\nTotal: {points}/{maximum}" +
               (f" + bonus {bonus}/{bonus_max}" if bonus_max else "") + verdict)
    return "\n".join(out)


MIN_COLLAPSED = 3  # failed tests in a row with one reason that take one line


def runs_of_one_reason(result):
    """The kernel's tests in order, grouped: consecutive failed tests of one
    status and one reason (every test a boot never reached) form one group,
    each other test a group of its own."""
    groups, last = [], None
    for test in sorted(result.tests.values(), key=lambda t: t.number or 1 << 30):
        key = None if test.passed else (test.status, reason(result, test))
        if key is not None and key == last:
            groups[-1].append(test)
        else:
            groups.append([test])
        last = key
    split = []
    for group in groups:  # short runs keep a line per test
        split += [group] if len(group) >= MIN_COLLAPSED else [[t] for t in group]
    return split


def print_table(results, variant, emu, verbose=False):
    width = shutil.get_terminal_size((110, 20)).columns if sys.stdout.isatty() else None
    print(render_table(results, variant, emu, None if verbose else width, verbose))


def failure_details(result, test):
    """A failed test's whole output, kernel addresses symbolised."""
    elf = kernel_elf(result.root, result.kernel)
    return symbolize(test.output, elf, result.root)


MAX_HINTS = 10  # rerun commands printed per kernel; the rest are counted


def rerun_hints(result):
    """Each failed test's rerun command, up to MAX_HINTS, then how many more.
    Hidden tests get none: students do not have them."""
    if result.boot_status and not any(t.status != "not run" for t in result.tests.values()):
        number = re.sub(r"\D", "", result.kernel.split("-")[0])
        options = toolchain.make_options() + (" REFERENCE=1" if result.kernel.startswith(
            "solution") else "") + (f" FLAVOUR={result.flavour}" if result.flavour else "")
        return [f"  the kernel stopped before its first test: make test-lesson{number}{options} "
                f"reruns it   (GDB: make debug-lesson{number}{options})"]
    failed = [t for t in sorted(result.tests.values(), key=lambda t: t.number or 1 << 30)
              if not t.passed and not t.hidden]
    lines = [f"  {test.name}: {reproduce_hint(result, test)}" for test in failed[:MAX_HINTS]]
    if len(failed) > MAX_HINTS:
        lines.append(f"  ... and {len(failed) - MAX_HINTS} more failed tests: the same command "
                     "with ONLY set to a test's name reruns it")
    return lines


def reproduce_hint(result, test):
    """make commands that boot just this test, and the same under GDB."""
    number = re.sub(r"\D", "", result.kernel.split("-")[0])
    options = f" ONLY={test.name}" + toolchain.make_options()
    if result.kernel.startswith("solution"):
        options += " REFERENCE=1"
    if result.flavour:
        options += f" FLAVOUR={result.flavour}"
    return f"make test-lesson{number}{options}   (GDB: make debug-lesson{number}{options})"


def build_errors(results):
    """The compiler's messages, once per distinct log: for the top-level
    output, which students see at once (so a hidden test's lines are not)."""
    logs = {}
    for result in results:
        if not result.built and not result.skipped:
            log = "\n".join("(a line about an instructor's hidden test)"
                            if HIDDEN_TEST_PREFIX in line else line
                            for line in result.build_log.splitlines())
            logs.setdefault(log, []).append(result.kernel)
    return [f"{' and '.join(kernels)} did not compile:\n{log}" for log, kernels in logs.items()]


def gradescope_json(results, seconds):
    """Gradescope's results.json. What students see at once (the top-level
    output, visible tests) never names a hidden test; a compile error is
    shown once, at the top."""
    points, maximum, bonus, _ = score(results)
    tests = []
    for result in results:
        if result.skipped:
            bonus_max = sum(t.points for t in result.tests.values())
            tests.append({"name": f"{result.lesson}: {result.kernel} (not graded)",
                          "score": 0, "max_score": 0, "status": "failed",
                          "output": f"not graded: {result.skipped} ({bonus_max} bonus points)",
                          "tags": ["bonus", result.lesson], "visibility": "visible",
                          "extra_data": {"kind": "bonus", "lesson": result.lesson,
                                         "kernel": result.kernel, "result": "skipped"}})
            continue
        for test in sorted(result.tests.values(), key=lambda t: t.number or 1 << 30):
            if not result.built:
                output = [f"{result.kernel} did not compile: the compiler's messages are in "
                          "the output at the top"]
            elif not test.passed:
                output = failure_details(result, test)
                if not test.hidden:
                    output.append(reproduce_hint(result, test))
            else:
                output = []
            tests.append({
                "name": f"{result.lesson}: {test_name(result, test)}",
                "score": test.score,
                "max_score": test.points,
                "status": "passed" if test.passed else "failed",
                "output": "\n".join(output),
                "tags": [test.kind, result.lesson],
                "visibility": "after_published" if test.hidden else "visible",
                "extra_data": {"kind": test.kind, "lesson": result.lesson,
                               "kernel": result.kernel, "result": test.status},
            })
    # Hidden tests stay hidden until grades are published: their names are
    # kept out of the overall output, which students see at once.
    hidden = {t.name for r in results for t in r.tests.values() if t.hidden}
    events = [f"{r.kernel}: {e}" for r in results for e in r.events
              if not any(name in e for name in hidden) and e != "the kernel did not compile"]
    output = build_errors(results) + events
    return {
        "score": points + bonus,
        "max_score": maximum,
        "execution_time": round(seconds, 2),
        "output": "\n".join(output) if output else "All tests ran.",
        "tests": tests,
    }


def junit_xml(results):
    suites = ElementTree.Element("testsuites")
    for result in results:
        suite = ElementTree.SubElement(suites, "testsuite", name=result.kernel,
                                       tests=str(len(result.tests)), time=f"{result.seconds:.2f}")
        failures = 0
        for test in sorted(result.tests.values(), key=lambda t: t.number or 1 << 30):
            case = ElementTree.SubElement(suite, "testcase", classname=result.lesson,
                                          name=test_name(result, test))
            if result.skipped:
                ElementTree.SubElement(case, "skipped", message=result.skipped)
            elif not test.passed:
                failures += 1
                failure = ElementTree.SubElement(case, "failure", message=test.status,
                                                 type=test.kind)
                failure.text = "\n".join(test.output or result.build_log.splitlines())
        suite.set("failures", str(failures))
    return ElementTree.tostring(suites, encoding="unicode")


def write_json(path, data):
    with open(path, "w") as out:
        json.dump(data, out, indent=2)
        out.write("\n")


# ---- what an instructor should look at (the batch's flags) --------------------

def listed(names, most=3):
    """'a', 'a and b', 'a, b, c and 2 more'."""
    names = list(names)
    if len(names) <= most:
        return " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
    return f"{', '.join(names[:most])} and {len(names) - most} more"


SYMBOL_PLACE = re.compile(r"<\S+ at ([^>:]+):\d+>|^undefined behaviour.* at ([^:\s]+):\d+")


def crash_in_student_code(result, test, student_files):
    """The symbolised reason of a test whose output reports a CPU exception,
    panic or undefined behaviour, unless it happened in a file that is not
    the student's: a test that faults in its own code (on a NULL the
    unfinished heap gave it) failed, and the student's code did not crash.
    A place that cannot be named (a jump into data) counts as a crash."""
    if not any(CRASH_LINE.search(line) for line in test.output):
        return None
    place = reason(result, test)
    files = [m.group(1) or m.group(2) for m in SYMBOL_PLACE.finditer(place)]
    students = {f"lessons/{result.lesson}/{name}" for name in student_files}
    return place if not files or files[0] in students else None


def attention(results, student_files):
    """[(word, reason)]: GRADER ERROR when a boot could not be watched (the
    grade is not the student's), HUNG with where, CRASHED when the student's
    code crashed or a test took the kernel down, FORGED. One entry per word, its
    reason naming the first case and counting the others."""
    hung, crashed, forged = [], [], []
    for result in results or []:
        if result.boot_status == "hung":
            hung.append(f"{result.kernel} {result.where}")
        elif result.boot_status == "crashed":
            crashed.append(f"{result.kernel} {result.where}")
        for test in sorted(result.tests.values(), key=lambda t: t.number or 1 << 30):
            name = test_name(result, test)
            if test.status == "hung":
                hung.append(test.where or f"in test {name}")
            elif test.status == "not run" and not result.boot_status and (
                    stopped := re.search(r"\b(hung|crashed)\b.*", test.where)):
                # a boot that stopped before this test: said once per boot
                cases = hung if stopped.group(1) == "hung" else crashed
                if f"{result.kernel} {stopped.group(0)}" not in cases:
                    cases.append(f"{result.kernel} {stopped.group(0)}")
            elif test.status == "crashed":
                crashed.append(f"in test {name}: " + (test.where or reason(result, test)
                                                       or "took the kernel down"))
            elif test.status == "forged":
                forged.append(f"{name}: {test.output[-1] if test.output else 'forged'}")
            elif (place := crash_in_student_code(result, test, student_files)) is not None:
                crashed.append(f"in test {name}: {place}")
    flags = [("GRADER ERROR", f"{result.kernel}: {result.grader_error}: grade again")
             for result in results or [] if result.grader_error][:1]
    for word, cases in (("HUNG", hung), ("CRASHED", crashed), ("FORGED", forged)):
        if cases:
            more = f" (and {len(cases) - 1} more)" if len(cases) > 1 else ""
            flags.append((word, cases[0] + more))
    return flags
