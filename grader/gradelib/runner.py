"""Build one kernel, boot its test run, and keep booting until every test
has a result: a test that hangs or takes the kernel down is charged to that
test alone, and the next boot starts after it (ktest.from=N)."""

import concurrent.futures
import os
import re
import resource
import signal
import secrets
import selectors
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import channel, emulators, layout, protocol

ROOT = Path(__file__).resolve().parent.parent.parent
OUTPUT_LIMIT = 1024 * 1024  # bytes of serial output per boot
QEMU_LOG_LIMIT = 16 * 1024 * 1024  # bytes of QEMU's exception log per boot
# SAN=1 in the environment: the Makefile builds -fsanitize=undefined kernels there.
BUILD = "build/san" if os.environ.get("SAN") == "1" else "build"


def kernel_elf(root, kernel):
    return Path(root) / BUILD / f"{kernel}.elf"


@dataclass
class Timeouts:
    idle: float = 15.0    # seconds without a line of output
    total: float = 120.0  # seconds for one boot


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

    @property
    def built(self):
        return not self.build_log


BUILD_TIMEOUT = 300            # seconds for one make run
BUILD_MEMORY = 4 * 1024 ** 3   # bytes of address space for each compiler process


def limit_build_resources():
    """Runs in the child before make starts: a submission's preprocessor bomb
    must fail, not swap the machine (limits are inherited by the compilers)."""
    resource.setrlimit(resource.RLIMIT_AS, (BUILD_MEMORY, BUILD_MEMORY))


def run_make(arguments, root=ROOT):
    """make -s -C ROOT ARGUMENTS... within the time and memory limits; on a
    timeout, the whole process group is killed and a failure returned."""
    command = ["make", "-s", "-C", str(root), *layout.make_variables(root), *arguments]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          start_new_session=True, preexec_fn=limit_build_resources) as process:
        try:
            output, _ = process.communicate(timeout=BUILD_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
            return subprocess.CompletedProcess(command, 1, output +
                                               f"\nthe build took longer than {BUILD_TIMEOUT} s", "")
    return subprocess.CompletedProcess(command, process.returncode, output, "")


def kernels_of(number, root=ROOT):
    """The kernels of lesson `number`: lessonN and its flavours (lessonN-F),
    as the lesson's lesson.mk lists them in FLAVOURS_N: the rule the
    Makefile's KERNELS list follows, read without running make."""
    kernels = [f"lesson{number}"]
    for lesson_mk in sorted((Path(root) / "lessons").glob(f"{number}-*/lesson.mk")):
        match = re.search(rf"^FLAVOURS_{number}\s*:?=(.*)$", lesson_mk.read_text(), re.M)
        if match:
            kernels += [f"lesson{number}-{flavour}" for flavour in match.group(1).split()]
    return kernels


def test_files(lesson, flavour, flavours, root=ROOT):
    """The test sources compiled into a kernel of this flavour (as the Makefile picks them)."""
    folder = root / "lessons" / lesson
    files = []
    for path in sorted(folder.glob("tests*.c")):
        suffix = path.stem[len("tests"):].lstrip("_")
        if suffix in flavours:
            continue  # tests_F.c: only in flavour F, where it replaces tests.c
        flavoured = folder / f"{path.stem}_{flavour}.c"
        files.append(flavoured if flavour and flavoured.exists() else path)
    return files


def make_iso(elf, iso, command_line, nonce_module=None):
    emulators.require("grub-mkrescue")
    module = [str(nonce_module)] if nonce_module else []
    made = subprocess.run([str(ROOT / "tools" / "mkiso"), str(elf), str(iso), command_line,
                           *module], capture_output=True, text=True)
    if made.returncode != 0:
        raise RuntimeError(f"tools/mkiso failed for {elf}:\n{made.stderr}")


def read_lines(process, state, timeouts, on_line, watch=lambda: None):
    """Feeds the process's output to `state` line by line until it exits or a
    limit is hit (`watch` may name one more); returns None or the reason it
    was stopped."""
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    started = last_output = time.monotonic()
    pending, received = b"", 0
    try:
        while True:
            now = time.monotonic()
            if now - started > timeouts.total:
                return f"took longer than {timeouts.total:.0f} s"
            if now - last_output > timeouts.idle:
                return f"no output for {timeouts.idle:.0f} s"
            if (reason := watch()) is not None:
                return reason
            if not selector.select(timeout=0.2):
                continue
            chunk = os.read(process.stdout.fileno(), 65536)
            if not chunk:
                break
            last_output = time.monotonic()
            received += len(chunk)
            if received > OUTPUT_LIMIT:
                return f"printed more than {OUTPUT_LIMIT // 1024} KiB"
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                on_line(line.decode("utf-8", "replace"))
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

    with subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL) as process:
        stopped = read_lines(process, state, timeouts, on_line,
                             lambda: exception_storm(log) or channel.flooded(results))
        if stopped:
            process.kill()
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
    with subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL) as process:
        started = last_change = time.monotonic()
        size, stopped = 0, None
        while process.poll() is None:
            time.sleep(0.1)
            now, current = time.monotonic(), serial_path.stat().st_size
            if current != size:
                size, last_change = current, now
            if current > OUTPUT_LIMIT:
                stopped = f"printed more than {OUTPUT_LIMIT // 1024} KiB"
            elif now - last_change > timeouts.idle:
                stopped = f"no output for {timeouts.idle:.0f} s"
            elif now - started > timeouts.total:
                stopped = f"took longer than {timeouts.total:.0f} s"
            if stopped:
                process.kill()
                break
        process.wait()
    lines = serial_path.read_bytes()[:OUTPUT_LIMIT].decode("utf-8", "replace").splitlines()
    channel.feed_boot(state, lines, channel.read_results(results))
    last = next((line.strip() for line in reversed(lines) if line.strip()), "(nothing)")
    if stopped:
        return f"{stopped} after '{last}'"
    if state.ended:
        return None
    return bochs_panic_report(log_path) or f"the kernel stopped after '{last}'"


def grade_kernel(lesson, kernel, flavours, emu="qemu", timeouts=Timeouts(), root=ROOT,
                 built=False):
    """Grades build/KERNEL.elf of the lab at `root` (the lab itself, or a
    temporary copy with a submission laid over it); `built` says a make run
    has just brought it up to date."""
    flavour = kernel.split("-", 1)[1] if "-" in kernel else ""
    tests = protocol.expected_tests(test_files(lesson, flavour, flavours, root))
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

    state = protocol.RunState(nonce=secrets.token_hex(8), tests=tests)
    workdir = emulators.make_temp_dir(f"grade-{kernel}-")
    boot = boot_qemu if emu == "qemu" else boot_bochs
    first = 0
    try:
        while result.boots <= len(tests):
            command_line = "mode=test"
            if first:
                command_line += f" ktest.from={first}"
            iso = workdir / f"boot{result.boots}.iso"
            make_iso(kernel_elf(root, kernel), iso, command_line,
                     channel.nonce_module(workdir, state.nonce) if emu == "bochs" else None)
            result.boots += 1
            state.begin_boot()
            problem = boot(iso, state, timeouts, workdir)
            if problem is None or not state.unfinished():
                break
            culprit = tests.get(state.running)
            if culprit is None:
                # Down before any test started, or between tests: nobody to blame
                # but the kernel as a whole; what has not run fails.
                crash = [line.strip(" *") for line in state.boot_lines if line.startswith("*** ")]
                if crash:
                    problem += f" ({crash[-1]})"
                result.events.append(f"boot {result.boots}: {problem}")
                for test in state.unfinished():
                    test.status = "not run"
                    test.output.append(f"did not run: {problem}")
                break
            culprit.status = "hung" if problem.startswith(("no output", "took")) else "crashed"
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
    result.seconds = time.monotonic() - started
    return result


def run_make_all(targets, jobs, root=ROOT):
    """Builds several kernels in one make; True if all of them built. After a
    failure grade_kernel builds each again alone, to report its own errors."""
    return run_make([f"-j{max(1, jobs)}", "-k", *targets], root).returncode == 0


def grade_lessons(lessons, solution=False, emu="qemu", timeouts=Timeouts(), jobs=1, root=ROOT):
    """Builds and grades every kernel of `lessons` in the lab at `root`: the
    starter files, or with `solution` the reference ones."""
    plan = []
    for lesson in lessons:
        kernels = kernels_of(lesson.split("-")[0], root)
        flavours = {k.split("-", 1)[1] for k in kernels if "-" in k}
        for kernel in kernels:
            if solution:
                kernel = "solution" + kernel[len("lesson"):]
            plan.append((lesson, kernel, flavours))
    # One make builds everything first (in parallel); then the boots.
    built = run_make_all([f"{BUILD}/{kernel}.elf" for _, kernel, _ in plan], jobs, root)
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(grade_kernel, lesson, kernel, flavours, emu, timeouts, root,
                               built) for lesson, kernel, flavours in plan]
        return [future.result() for future in futures]
