"""Build one kernel, boot its test run, and keep booting until every test
has a result: a test that hangs or takes the kernel down is charged to that
test alone, and the next boot starts after it (ktest.from=N)."""

import concurrent.futures
import os
import re
import secrets
import selectors
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import channel, emulators, lab, layout, protocol, sandbox, toolchain, witness

ROOT = Path(__file__).resolve().parent.parent.parent
OUTPUT_LIMIT = 1024 * 1024  # bytes of serial output per boot
QEMU_LOG_LIMIT = 16 * 1024 * 1024  # bytes of QEMU's exception log per boot
# The Makefile's build folder for this environment's SAN=1, LECTURE=1, LLVM=1,
# CROSS_COMPILE=...
BUILD = toolchain.build_folder()


def kernel_elf(root, kernel):
    return Path(root) / BUILD / f"{kernel}.elf"


# The hang budgets, in seconds of the emulator's own CPU time: (before the
# first test, per test). CPU time, not wall-clock time: an emulator that a
# loaded machine starves gets no less budget. Under QEMU the witness charges a
# test its whole run, from its entry to the next test's (witness.py): the
# slowest reference test, fl_exhaustion_and_reuse, took 1.3 s of CPU on a
# loaded machine, BIOS + GRUB up to 2 s; `tests/selftest hangs` keeps every
# reference test under half the budget. Under Bochs a boot is hung after its
# budget without a line of output. docs/benchmarks.md ("Grading") has more.
HANG_BUDGET = {"qemu": (6.0, 4.0), "bochs": (6.0, 2.5)}


@dataclass
class Timeouts:
    idle: float = 15.0    # seconds without output while the emulator is idle (wall clock)
    total: float = 120.0  # seconds of the emulator's CPU time for one boot
    hang: float = 0.0     # CPU seconds of the emulator without output; 0: HANG_BUDGET
    boot: float = 0.0     # the same before the first line; 0: HANG_BUDGET
    output: int = OUTPUT_LIMIT  # bytes of serial output per boot


def cpu_seconds(pid):
    """The CPU time process `pid` has used (all its threads), or None where
    /proc cannot say."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


# An emulator silent for `idle` seconds that used less of a CPU than this
# meanwhile is idle (a halted guest), not starved by a loaded machine.
IDLE_CPU_SHARE = 0.02
# However starved, a boot ends after this many times its `total` of wall-clock time.
WALL_CLOCK_FACTOR = 10


class SilenceWatch:
    """Says when an emulator has been silent too long: for a budget of its
    CPU time (HANG_BUDGET); or for `idle` seconds of wall-clock time while it
    used almost no CPU (a halted guest uses none, a starved emulator some),
    or where its CPU time cannot be read. Also measures what each test
    costs: test_cpu, name -> CPU seconds from its RUN line to its result."""

    def __init__(self, pid, timeouts, emu):
        self.pid, self.idle = pid, timeouts.idle
        boot, test = HANG_BUDGET[emu]
        self.budget = timeouts.boot or boot
        self.test_budget = timeouts.hang or test
        self.test_cpu, self.running = {}, None
        self.total = timeouts.total
        self.heard()
        self.started_wall, self.started_cpu = self.wall, self.cpu

    def heard(self, lines=None):
        """Output came: `lines`, the complete ones (None: before any)."""
        self.wall, self.cpu = time.monotonic(), cpu_seconds(self.pid)
        if lines is None or self.cpu is None:
            return
        self.budget = self.test_budget  # the kernel has started
        for line in lines:
            if match := re.match(r"# RUN \d+ (\S+)", line):
                self.running = (match.group(1), self.cpu)
            elif line.startswith(("ok ", "not ok ")) and self.running:
                name, started = self.running
                self.test_cpu[name] = round(self.cpu - started, 3)
                self.running = None

    def silent_too_long(self):
        now = cpu_seconds(self.pid) if self.cpu is not None else None
        silent = time.monotonic() - self.wall
        if now is not None and now - self.cpu > self.budget:
            return (f"no output for {self.budget:g} s of the emulator's CPU time "
                    f"({silent:.1f} s)")
        if silent > self.idle and (now is None or now - self.cpu < IDLE_CPU_SHARE * silent):
            return f"no output for {self.idle:.0f} s" + (
                "" if now is None else " (the emulator idle: a halted CPU?)")
        return None

    def over_time(self):
        """The boot has run for `total` seconds of the emulator's CPU time
        (of wall-clock time where that cannot be read), or for
        WALL_CLOCK_FACTOR times that of wall-clock time."""
        wall = time.monotonic() - self.started_wall
        cpu = cpu_seconds(self.pid) if self.started_cpu is not None else None
        used = wall if cpu is None else cpu - self.started_cpu
        if used > self.total or wall > WALL_CLOCK_FACTOR * self.total:
            return f"took longer than {self.total:.0f} s" + (
                "" if cpu is None else f" of the emulator's CPU time ({wall:.0f} s)")
        return None


@dataclass
class KernelResult:
    lesson: str           # e.g. 14-pmm
    kernel: str           # e.g. solution15-freelist
    flavour: str          # "" or e.g. freelist
    tests: dict           # name -> protocol.TestResult
    events: list = field(default_factory=list)  # what went wrong, in words
    boots: int = 0
    seconds: float = 0.0
    build_log: str = ""
    root: Path = ROOT     # the lab copy it was built in
    boot_output: list = field(default_factory=list)
    test_cpu: dict = field(default_factory=dict)  # test -> the emulator's CPU seconds (QEMU)
    skipped: str = ""     # why this kernel was not booted (a bonus still the starter's)
    # A boot that stopped outside any test (at boot, between tests): "hung" or
    # "crashed", and where in one line; the tests it never reached are "not run".
    boot_status: str = ""
    where: str = ""
    # Not the kernel's doing: the grader could not watch a boot, even twice
    # (an emulator that never opened its gdbstub). The grade needs a rerun.
    grader_error: str = ""

    @property
    def built(self):
        return not self.build_log


BUILD_TIMEOUT = 300            # seconds for one make run


def run_make(arguments, root=ROOT):
    """make -s -C ROOT ARGUMENTS... within the time and memory limits; on a
    timeout, the whole process group is killed and a failure returned. In a
    grading copy (a submission's), make and the compilers it starts run in
    the sandbox, seeing the lab copy and the system's tools only."""
    command = ["make", "-s", "-C", str(root), *layout.make_variables(root), *arguments]
    with sandbox.popen(command, limits=sandbox.COMPILE, writable=[Path(root).resolve()],
                       readable=sandbox.program_folders(*toolchain.required_tools()),
                       cwd=root, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT) as process:
        try:
            output, _ = process.communicate(timeout=BUILD_TIMEOUT)
        except subprocess.TimeoutExpired:
            sandbox.kill(process)
            output, _ = process.communicate()
            output += f"\nthe build took longer than {BUILD_TIMEOUT} s".encode()
            return subprocess.CompletedProcess(command, 1, output.decode("utf-8", "replace"), "")
    return subprocess.CompletedProcess(command, process.returncode,
                                       output.decode("utf-8", "replace"), "")


def kernels_of(number, root=ROOT):
    """The kernels of lesson `number`: lessonN and its flavours (lessonN-F),
    as the Makefile builds them."""
    return list(lab.lesson(number, root).kernels)


def test_files(lesson, flavour, root=ROOT):
    """The test sources compiled into the kernel of this flavour (as the
    Makefile composes it, an instructor's hidden tests included)."""
    found = lab.lesson(lesson, root)
    kernel = f"lesson{found.number}" + (f"-{flavour}" if flavour else "")
    return [Path(root) / "lessons" / lesson / name for name in found.tests[kernel]]


def make_iso(elf, iso, command_line, nonce_module=None):
    module = [str(nonce_module)] if nonce_module else []
    made = subprocess.run([str(ROOT / "tools" / "mkiso"), str(elf), str(iso), command_line,
                           *module], capture_output=True, text=True,
                          env=toolchain.mkiso_environment())
    if made.returncode != 0:
        raise RuntimeError(f"tools/mkiso failed for {elf}:\n{made.stderr}")


def read_lines(process, state, timeouts, on_line, watch=lambda: None, emu="qemu"):
    """Feeds the process's output to `state` line by line until it exits or a
    limit is hit (`watch` may name one more); returns None or the reason it
    was stopped."""
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    silence = SilenceWatch(getattr(process, "payload_pid", process.pid), timeouts, emu)
    silence.test_cpu = state.test_cpu
    pending, received = b"", 0
    try:
        while True:
            if (reason := silence.over_time() or watch()) is not None:
                return reason
            if not selector.select(timeout=0.1):
                # Silent only with nothing left to read: a starved grader
                # must not take output waiting in the pipe for a hang.
                if (reason := silence.silent_too_long()) is not None:
                    return reason
                continue
            chunk = os.read(process.stdout.fileno(), 65536)
            if not chunk:
                break
            received += len(chunk)
            if received > timeouts.output:
                return f"printed more than {timeouts.output // 1024} KiB"
            pending += chunk
            *lines, pending = pending.split(b"\n")
            lines = [line.decode("utf-8", "replace") for line in lines]
            silence.heard(lines)  # part of a line is output too
            for line in lines:
                on_line(line)
        if pending:
            on_line(pending.decode("utf-8", "replace"))
        return None
    finally:
        selector.close()


EXCEPTION_NAMES = {0: "#DE", 1: "#DB", 3: "#BP", 6: "#UD", 8: "#DF", 10: "#TS", 11: "#NP",
                   12: "#SS", 13: "#GP", 14: "#PF"}
QEMU_INTERRUPT = re.compile(r"^\s*\d+: v=([0-9a-f]+) e=([0-9a-f]+) .*? IP=[0-9a-f]+:([0-9a-f]+)",
                            re.M)


def triple_fault_report(log_path):
    """QEMU's account of a triple fault (-d int,cpu_reset), or ''."""
    try:
        text = Path(log_path).read_text(errors="replace")
    except OSError:
        return ""
    if "Triple fault" not in text:
        return ""
    chain = []
    for vector, error, rip in QEMU_INTERRUPT.findall(text)[-3:]:
        vector = int(vector, 16)
        chain.append(f"{EXCEPTION_NAMES.get(vector, f'vector {vector}')} "
                     f"(error 0x{int(error, 16):x}) at 0x{rip}")
    last = f"; the last exceptions QEMU logged: {' -> '.join(chain)}" if chain else ""
    return f"triple fault (the CPU reset itself){last}"


def bochs_panic_report(log_path):
    """Bochs's PANIC line (e.g. a triple fault: '3rd (13) exception with no
    resolution'), or ''."""
    try:
        text = Path(log_path).read_text(errors="replace")
    except OSError:
        return ""
    match = re.search(r">>PANIC<< (.*)", text)
    if match is None or "Shutdown port" in match.group(1):
        return ""
    detail = match.group(1).strip()
    kind = "triple fault: " if "3rd" in detail and "exception" in detail else ""
    return f"{kind}Bochs stopped: {detail}"


def exception_storm(log):
    """A fault handler that returns without fixing its fault makes the CPU
    fault forever, and QEMU logs each one: stop before the disk fills up."""
    try:
        size = log.stat().st_size
    except OSError:
        return None
    if size <= QEMU_LOG_LIMIT:
        return None
    return (f"an exception storm (QEMU logged more than {QEMU_LOG_LIMIT >> 20} MiB of "
            "exceptions; a fault handler returns without fixing the fault?)")


def boot_qemu(iso, state, timeouts, workdir):
    log, results = workdir / "qemu.log", workdir / "results.log"
    results.unlink(missing_ok=True)
    command = emulators.qemu_command(iso, headless=True, log=log, results=results,
                                     nonce=state.nonce)
    last_line, console = ["(nothing)"], []

    def on_line(line):
        if line.strip():
            last_line[0] = line.strip()
        console.append(line)

    with sandbox.popen(command, limits=sandbox.EMULATOR, writable=[workdir],
                       readable=sandbox.program_folders(emulators.QEMU), payload_pid=True,
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL) as process:
        stopped = read_lines(process, state, timeouts, on_line,
                             lambda: exception_storm(log) or channel.flooded(results))
        if stopped:
            sandbox.kill(process)
        process.wait()
    channel.feed_boot(state, console, channel.read_results(results))
    if stopped:
        return f"{stopped} after '{last_line[0]}'"
    if state.ended:
        return None
    return triple_fault_report(log) or f"the kernel stopped after '{last_line[0]}'"


def boot_bochs(iso, state, timeouts, workdir):
    results = workdir / "results.log"
    command, serial_path, log_path = emulators.bochs_files(iso, workdir, interactive=False,
                                                           results_path=results)
    serial_path.write_bytes(b"")
    results.write_bytes(b"")
    if sandbox.probe() is None:  # the sandbox's network namespace replaces unshare's
        command = command[command.index(emulators.BOCHS):]
    with sandbox.popen(command, limits=sandbox.EMULATOR, writable=[workdir],
                       readable=sandbox.program_folders(emulators.BOCHS), payload_pid=True,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL) as process:
        silence = SilenceWatch(process.payload_pid, timeouts, "bochs")
        silence.test_cpu = {}  # lines are read after the run: no per-test figures
        size, stopped = 0, None
        while process.poll() is None:
            time.sleep(0.1)
            current = serial_path.stat().st_size
            if current != size:
                size = current
                silence.heard([])
            if current > timeouts.output:
                stopped = f"printed more than {timeouts.output // 1024} KiB"
            elif (silent := silence.silent_too_long()) is not None and \
                    serial_path.stat().st_size == size:  # nothing written meanwhile
                stopped = silent
            elif (over := silence.over_time()) is not None:
                stopped = over
            if stopped:
                sandbox.kill(process)
                break
        process.wait()
    lines = serial_path.read_bytes()[:timeouts.output].decode("utf-8", "replace").splitlines()
    channel.feed_boot(state, lines, channel.read_results(results))
    last = next((line.strip() for line in reversed(lines) if line.strip()), "(nothing)")
    if stopped:
        return f"{stopped} after '{last}'"
    if state.ended:
        return None
    return bochs_panic_report(log_path) or f"the kernel stopped after '{last}'"


def hang_or_crash(problem):
    """A stopped boot's verdict from how it stopped (boot_qemu, boot_bochs)."""
    return "hung" if problem.startswith(("no output", "took")) else "crashed"


def problem_place(problem):
    """', after LAST LINE' from a stopped boot's "... after 'LAST LINE'", or ''."""
    match = re.search(r" after '(.*)'$", problem)
    return f", after '{match.group(1)}'" if match else ""


# The witness's other limits (QEMU): a kernel may use KERNEL_CPU_BUDGET of
# the emulator's CPU time over all its boots (a reference kernel uses 1 to 4 s);
# after MAX_STUCK_TESTS tests that hung or flooded the console the rest are
# not run, so a kernel that hangs in every test costs a few budgets, not one
# per test.
KERNEL_CPU_BUDGET = 30.0
MAX_STUCK_TESTS = 3
TEST_OUTPUT_LINES = 200  # console lines kept per test (results.json, logs)


def symbolizer(elf, root):
    """address -> 'function (file:line)' for the kernel `elf`, or ''."""
    from .report import symbolize  # report imports this module
    def where(address):
        line = symbolize([f"{address:#x}"], elf, root)[0]
        if "<" not in line:
            return ""
        place = re.sub(r" \(discriminator \d+\)", "", line[line.index("<") + 1:-1])
        return place.replace(f"{ROOT}/", "")
    return where


def cap_output(lines):
    if len(lines) <= TEST_OUTPUT_LINES:
        return lines
    return lines[:TEST_OUTPUT_LINES] + [f"({len(lines) - TEST_OUTPUT_LINES} more lines not kept)"]


def witnessed_verdict(sighting, outcome, test):
    """(status, where) of a test the witness saw start."""
    if sighting.tampered:
        return "forged", f"TAMPERED: {sighting.tampered}"
    if sighting.problem:
        return ("hung" if sighting.problem.startswith("hung") else "failed"), sighting.problem
    if sighting.crashed:
        return "crashed", ""
    if sighting.failed_checks:
        return "failed", ""
    if not sighting.returned:
        if sighting is outcome.sightings[-1] and not any(
                s.returned for s in outcome.sightings[-1:]) and outcome.exited:
            return "crashed", "the kernel stopped during the test"
        return "failed", "the test ended without returning (aborted), and no check failed"
    return "passed", ""


def grade_kernel_witnessed(result, tests, elf_path, timeouts, root, workdir):
    """Boots the kernel under the witness (witness.py) until every test of
    the ELF's plan has a verdict; fills `tests` (name -> TestResult)."""
    watcher = witness.Witness(elf_path, symbolizer(elf_path, root))
    planned = {}
    for test in watcher.plan:
        declared = tests.get(test.name)
        if declared is None or declared.points != test.points or declared.kind != test.kind:
            result.events.append(f"the kernel's test list differs from the lab's test sources: "
                                 f"{test.name} points={test.points} kind={test.kind}")
            continue
        if test.name in planned:
            declared.status, declared.score = "forged", 0
            declared.where = "declared twice in the kernel's test list"
            declared.output.append(declared.where)
            result.events.append(f"forged results suspected: {test.name}: declared twice")
            continue
        planned[test.name] = test
        declared.number = test.number
    limits = witness.Limits(boot=timeouts.boot or HANG_BUDGET["qemu"][0],
                            test=timeouts.hang or HANG_BUDGET["qemu"][1], output=timeouts.output)
    first, stuck, cpu_used, retried = 1, 0, 0.0, False
    verdicts = {}
    while True:
        command_line = "mode=test" + (f" ktest.from={first}" if first > 1 else "")
        iso = workdir / f"boot{result.boots}.iso"
        make_iso(elf_path, iso, command_line)
        socket_path = workdir / "witness.sock"
        socket_path.unlink(missing_ok=True)
        # QEMU binds the socket by its name in its working folder: a socket's
        # path has at most 107 bytes, and a batch's folders are deeper.
        command = emulators.qemu_command(iso, headless=True, log=workdir / "qemu.log",
                                         witness=Path(socket_path.name))
        result.boots += 1
        def start():
            return sandbox.popen(command, limits=sandbox.EMULATOR, writable=[workdir],
                                 readable=sandbox.program_folders(emulators.QEMU),
                                 cwd=workdir, payload_pid=True, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        outcome = watcher.watch(start, sandbox.kill, socket_path, limits, cpu_seconds)
        if outcome.unwatched and not retried:
            retried = True  # once: a machine too loaded to start the emulator in time
            result.events.append(f"boot {result.boots}: {outcome.stopped}; booted again")
            continue
        if outcome.unwatched:
            result.grader_error = outcome.stopped
        cpu_used += outcome.cpu
        result.events += [f"boot {result.boots}: {event}" for event in outcome.events]
        result.boot_output += cap_output(outcome.boot_lines)
        last_number = first - 1
        for sighting in outcome.sightings:
            test = tests.get(sighting.test.name)
            if test is None or sighting.test.name not in planned:
                continue
            if sighting.test.name in verdicts:
                test.status, test.score = "forged", 0
                test.where = "started twice"
                continue
            status, where = witnessed_verdict(sighting, outcome, test)
            if status == "crashed" and not where and outcome.exited and \
                    sighting is outcome.sightings[-1] and not sighting.returned:
                where = triple_fault_report(workdir / "qemu.log") or \
                    "the kernel stopped during the test"
            verdicts[sighting.test.name] = status
            test.status, test.where = status, where
            test.score = test.points if status == "passed" else 0
            test.output = cap_output(sighting.output) + ([where] if where else [])
            result.test_cpu[test.name] = round(sighting.cpu, 3)
            last_number = max(last_number, sighting.test.number)
            if sighting.problem:
                stuck += 1
                result.events.append(f"test {test.name}: {where}")
        if not outcome.sightings:
            crash = [line.strip(" *") for line in outcome.boot_lines if line.startswith("*** ")]
            problem = outcome.stopped or (
                f"the kernel crashed at boot ({crash[-1]})" if crash else
                triple_fault_report(workdir / "qemu.log") or "the kernel stopped at boot")
            result.events.append(f"boot {result.boots}: {problem}")
            break
        remaining = [t for t in watcher.plan if t.name in planned and t.name not in verdicts
                     and t.number > last_number]
        if not outcome.stopped or not remaining:
            if outcome.exited and outcome.sightings and \
                    not outcome.sightings[-1].returned and remaining:
                first = outcome.sightings[-1].test.number + 1  # crashed: reboot after it
                if cpu_used < KERNEL_CPU_BUDGET:
                    continue
            break
        if stuck >= MAX_STUCK_TESTS:
            result.events.append(f"{stuck} tests hung or flooded the console: the rest are "
                                 "not run")
            break
        if cpu_used >= KERNEL_CPU_BUDGET:
            result.events.append(f"the kernel used its budget of {KERNEL_CPU_BUDGET:g} s of "
                                 "the emulator's CPU time: the rest are not run")
            break
        first = last_number + 1
    for name, test in tests.items():
        if name in planned and name not in verdicts and test.status == "not run":
            why = result.events[-1] if result.events else "the kernel stopped before it"
            test.where = f"never started: {why}"
            test.output.append(f"did not run: {why}")


def grade_kernel(lesson, kernel, emu="qemu", timeouts=Timeouts(), root=ROOT,
                 built=False, only=()):
    """Grades build/KERNEL.elf of the lab at `root` (the lab itself, or a
    temporary copy with a submission laid over it); `built` says a make run
    has just brought it up to date. only: the names of the tests to run
    (ktest.only), the others stay "not run"; none: all."""
    flavour = kernel.split("-", 1)[1] if "-" in kernel else ""
    tests = protocol.expected_tests(test_files(lesson, flavour, root))
    result = KernelResult(lesson, kernel, flavour, tests, root=root)
    started = time.monotonic()

    build = None if built else run_make([f"{BUILD}/{kernel}.elf"], root)
    if build is not None and build.returncode != 0:
        result.build_log = (build.stdout + build.stderr).strip() or "make failed"
        for test in tests.values():
            test.status = "build failed"
        result.events.append("the kernel did not compile")
        result.seconds = time.monotonic() - started
        return result

    if emu == "qemu":
        workdir = emulators.make_temp_dir(f"grade-{kernel}-")
        try:
            grade_kernel_witnessed(result, tests, kernel_elf(root, kernel), timeouts, root,
                                   workdir)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        result.seconds = time.monotonic() - started
        return result

    state = protocol.RunState(nonce=secrets.token_hex(8), tests=tests)
    workdir = emulators.make_temp_dir(f"grade-{kernel}-")
    boot = boot_qemu if emu == "qemu" else boot_bochs
    first = 0
    try:
        while result.boots <= len(tests):
            command_line = "mode=test"
            if only:
                command_line += f" ktest.only={','.join(only)}"
            if first:
                command_line += f" ktest.from={first}"
            iso = workdir / f"boot{result.boots}.iso"
            make_iso(kernel_elf(root, kernel), iso, command_line,
                     channel.nonce_module(workdir, state.nonce) if emu == "bochs" else None)
            result.boots += 1
            state.begin_boot()
            problem = boot(iso, state, timeouts, workdir)
            if problem is None or not [t for t in state.unfinished() if not only or t.name in only]:
                break
            culprit = tests.get(state.running)
            if culprit is None:
                # Down before any test started, or between tests: nobody to blame
                # but the kernel as a whole; what has not run fails.
                reached = any(t.status != "not run" for t in tests.values())
                result.boot_status = hang_or_crash(problem)
                result.where = ("between tests" if reached else "at boot, before any test") \
                    + problem_place(problem)
                crash = [line.strip(" *") for line in state.boot_lines if line.startswith("*** ")]
                if crash:
                    problem += f" ({crash[-1]})"
                result.events.append(f"boot {result.boots}: {problem}")
                for test in state.unfinished():
                    test.status = "not run"
                    test.output.append(f"did not run: {problem}")
                break
            culprit.status = hang_or_crash(problem)
            culprit.where = f"in test {culprit.name}" + problem_place(problem)
            culprit.output.append(problem)
            result.events.append(f"test {culprit.name}: {problem}")
            if not culprit.number:
                break
            first = culprit.number + 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if state.spoofed:
        result.events.append(f"{state.spoofed} result lines without this run's nonce were ignored")
    for forgery in state.forged:
        result.events.append(f"forged results suspected: {forgery}")
    if state.mismatches:
        result.events.append("the kernel's test list differs from the lab's test sources: "
                             + "; ".join(state.mismatches[:3]))
    result.boot_output = state.boot_lines
    result.test_cpu = state.test_cpu
    result.seconds = time.monotonic() - started
    return result


def seed_objects(source, destination):
    """Copies the lab at `source`'s objects and flags stamp into the lab copy
    at `destination`, their times kept: make compares them with the copy's
    sources (copied with their times too) and rebuilds only what is newer,
    the student's files, or what another compiler or flags would change."""
    build = Path(source) / BUILD
    if (build / "obj").is_dir() and (build / "flags").is_file():
        shutil.copytree(build / "obj", Path(destination) / BUILD / "obj",
                        dirs_exist_ok=True)
        shutil.copy2(build / "flags", Path(destination) / BUILD / "flags")


def run_make_all(targets, jobs, root=ROOT):
    """Builds several kernels in one make; True if all of them built. After a
    failure grade_kernel builds each again alone, to report its own errors."""
    return run_make([f"-j{max(1, jobs)}", "-k", *targets], root).returncode == 0


def skipped_kernel(lesson, kernel, reason, root=ROOT):
    """A kernel not booted: its tests score nothing, and `reason` says why."""
    flavour = kernel.split("-", 1)[1] if "-" in kernel else ""
    tests = protocol.expected_tests(test_files(lesson, flavour, root))
    for test in tests.values():
        test.status = "skipped"
    return KernelResult(lesson, kernel, flavour, tests, root=root, skipped=reason)


def bonus_starter_files(lesson, root, starter):
    """{flavour kernel: its student file} for each kernel whose tests are all
    bonus and whose student file (NAME_F.c) in the lab at `root` is byte for
    byte the starter's: starter(NAME_F.c) gives those bytes, or None."""
    folder = Path(root) / "lessons" / lesson
    kernels = kernels_of(lesson.split("-")[0], root)
    found = {}
    for kernel in kernels[1:]:
        flavour = kernel.split("-", 1)[1]
        tests = protocol.expected_tests(test_files(lesson, flavour, root)).values()
        if not tests or any(t.kind != "bonus" for t in tests):
            continue
        for name in lab.lesson(lesson, root).kernels[kernel]:
            if (folder / name).read_bytes() == starter(name):
                found[kernel] = name
    return found


def grade_lessons(lessons, reference=False, emu="qemu", timeouts=Timeouts(), jobs=1, root=ROOT,
                  skip=None, only=None):
    """Builds and grades every kernel of `lessons` in the lab at `root`: the
    starter files, or with `reference` the reference ones. skip: {kernel: why}
    for kernels to leave out (their tests score nothing). only: {kernel: the
    names of the only tests to run in it} (grade_kernel)."""
    plan, skip = [], skip or {}
    for lesson in lessons:
        for kernel in kernels_of(lesson.split("-")[0], root):
            if reference:
                kernel = "solution" + kernel[len("lesson"):]  # build/solutionN.elf
            plan.append((lesson, kernel))
    booted = [entry for entry in plan if entry[1] not in skip]
    # One make builds everything first (in parallel); then the boots.
    built = run_make_all([f"{BUILD}/{kernel}.elf" for _, kernel in booted], jobs, root)
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {kernel: pool.submit(grade_kernel, lesson, kernel, emu, timeouts, root,
                                       built, (only or {}).get(kernel, ()))
                   for lesson, kernel in booted}
        return [futures[kernel].result() if kernel in futures else
                skipped_kernel(lesson, kernel, skip[kernel], root)
                for lesson, kernel in plan]
