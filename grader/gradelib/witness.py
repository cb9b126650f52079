"""The emulator as the witness of a test run: the grader watches each boot
from outside the guest, through QEMU's gdbstub (gdbremote.py), and the
verdicts are what it saw, never what the guest says.

Breakpoints held by the emulator (common/witness.asm) mark four events:
a test's entry (the runner's ktest_call, RDI the test), each failed check,
each crash report, and each return to the runner. A test passes only if the
witness saw it start, saw no failed check until the next test started (its
cleanup included) and saw it return normally: at witness_test_return with
the stack it was entered with. An aborted test, a test that never started
and a test that was running when the kernel stopped all fail. The test plan,
which tests exist and in what order, comes from the ELF file the grader built
(elf.py). The guest's console only describes a failure.

After each test the witness compares the kernel's code and constants in
guest memory with the ELF file, and walks the page tables from CR3 itself:
a changed byte, a writable mapping of the image's frames, or a frame
writable through one mapping and executable through another fails the test
as TAMPERED, with where."""

import os
import selectors
import struct
import time
from dataclasses import dataclass, field

from . import elf as elf_file
from . import gdbremote

PAGE_SIZE = 4096
PTE_PRESENT, PTE_WRITABLE, PTE_HUGE = 1 << 0, 1 << 1, 1 << 7
PTE_NO_EXECUTE = 1 << 63
PTE_ADDRESS = 0x000FFFFFFFFFF000
CANONICAL_HIGH = 0xFFFF000000000000
POLL_SECONDS = 0.02  # how often a running guest's CPU time is looked at


@dataclass
class Limits:
    boot: float        # CPU seconds of the emulator before the first test starts
    test: float        # CPU seconds one test may take, its cleanup included
    output: int        # bytes of console output per boot
    wall_factor: float = 10.0  # however starved, a limit ends after this many times it in wall time


@dataclass
class Sighting:
    """What the witness saw of one test."""
    test: elf_file.PlannedTest
    entry_rsp: int
    started_cpu: float
    returned: bool = False
    failed_checks: int = 0
    crashed: bool = False
    started_wall: float = 0.0
    started_paused: float = 0.0  # the emulator's CPU time spent answering the witness, at entry
    cpu: float = 0.0        # the emulator's CPU seconds from entry to the next test (or the end)
    tampered: str = ""      # what changed, if anything
    problem: str = ""       # why it was stopped (hung, flooded), or ""
    output: list = field(default_factory=list)


@dataclass
class BootOutcome:
    sightings: list         # Sighting, in the order the tests started
    console: list           # every console line of the boot
    boot_lines: list        # console lines outside any test
    stopped: str = ""       # why the boot was stopped or ended early ("": it ran to its end)
    where: str = ""         # where the guest was when it was stopped (symbolised)
    exited: bool = False    # the guest powered off by itself
    crashed_at_boot: bool = False  # a crash report outside any test
    events: list = field(default_factory=list)   # conspicuous things seen
    cpu: float = 0.0
    stops: int = 0
    unwatched: bool = False  # the gdbstub never answered: the grader's trouble, not the kernel's


class Witness:
    def __init__(self, elf_path, symbolize):
        """symbolize(address) -> 'function (file:line)' or ''."""
        self.elf = elf_file.Elf(elf_path)
        self.plan = self.elf.test_plan()
        self.by_run = {test.run: test for test in self.plan}
        self.symbolize = symbolize
        self.entry = self.elf.address("witness_test_entry")
        self.returned = self.elf.address("witness_test_return")
        self.check_failed = self.elf.address("witness_check_failed")
        self.crash_report = self.elf.address("witness_crash_report")
        self.image = self.elf.image()
        text_start = self.elf.address("_text_start")
        image_phys = [segment.phys for segment in self.image]
        self.image_frames = (min(image_phys) & ~(PAGE_SIZE - 1),
                             max(s.phys + len(s.data) for s in self.image))
        self.text_start = text_start

    def where(self, address):
        """'pmm_init at lessons/14-pmm/pmm.c:40', or the bare address."""
        return self.symbolize(address) or f"{address:#x}"

    # ---- after each test -----------------------------------------------------

    def image_changes(self, remote):
        """'' or where the guest's copy of the code and constants differs
        from the ELF file (read through physical memory, as loaded)."""
        for segment in self.image:
            seen = remote.memory(segment.phys, len(segment.data), physical=True)
            if seen != segment.data:
                at = next(i for i, (a, b) in enumerate(zip(seen, segment.data)) if a != b)
                kind = "code" if segment.executable else "constants"
                return (f"the kernel's {kind} changed at {segment.virt + at:#x} "
                        f"({self.where(segment.virt + at)})")
        return ""

    def mapping_problems(self, remote):
        """The page tables from CR3, walked here: writable mappings of the
        image's code and constants, and frames writable through one mapping
        and executable through another."""
        cr3 = remote.register("cr3") & PTE_ADDRESS
        writable, executable, problems = [], [], []
        low, high = self.image_frames

        def walk(table, level, virt_base, can_write, can_execute):
            entries = struct.unpack("<512Q", remote.memory(table, PAGE_SIZE, physical=True))
            for index, entry in enumerate(entries):
                if not entry & PTE_PRESENT:
                    continue
                virt = virt_base | index << (12 + 9 * (level - 1))
                if virt & (1 << 47):
                    virt |= CANONICAL_HIGH
                write = can_write and bool(entry & PTE_WRITABLE)
                execute = can_execute and not entry & PTE_NO_EXECUTE
                size = PAGE_SIZE << (9 * (level - 1))
                if level == 1 or (level in (2, 3) and entry & PTE_HUGE):
                    frame = entry & PTE_ADDRESS & ~(size - 1)
                    if write:
                        writable.append((frame, frame + size, virt))
                        if frame < high and low < frame + size:
                            problems.append(f"a writable mapping of the kernel image: "
                                            f"{virt:#x} -> frame {max(frame, low):#x}")
                    if execute:
                        executable.append((frame, frame + size, virt))
                elif level > 1:
                    walk(entry & PTE_ADDRESS, level - 1, virt, write, execute)

        walk(cr3, 4, 0, True, True)
        for start, end, virt in executable:
            for w_start, w_end, w_virt in writable:
                if w_start < end and start < w_end:
                    frame = max(start, w_start)
                    problems.append(f"frame {frame:#x} is writable at "
                                    f"{w_virt + frame - w_start:#x} and executable at "
                                    f"{virt + frame - start:#x}")
                    break
        return problems[:3]

    def inspect(self, remote):
        """'' or why the kernel can no longer be trusted."""
        change = self.image_changes(remote)
        if change:
            return change
        return "; ".join(self.mapping_problems(remote))

    # ---- one boot -------------------------------------------------------------

    def watch(self, start, kill, socket_path, limits, cpu_seconds, seed_writer=None):
        """Boots the emulator start() returns (a Popen, paused, its gdbstub
        at socket_path, its console on stdout; `payload_pid` the emulator's
        own PID) and watches it to the end; kill(process) ends it.
        cpu_seconds(pid) reads the emulator's CPU time. seed_writer(remote,
        elf) may write the run's inputs into the guest."""
        outcome = BootOutcome([], [], [])
        with start() as process:
            remote = None
            pid = getattr(process, "payload_pid", process.pid)
            try:
                remote = gdbremote.Remote(socket_path, alive=lambda: process.poll() is None)
                for address in (self.entry, self.returned, self.check_failed, self.crash_report):
                    remote.set_breakpoint(address)
                if seed_writer is not None:
                    seed_writer(remote, self.elf)
                self._run(process, pid, remote, limits, cpu_seconds, outcome)
            except (gdbremote.Disconnected, OSError) as error:
                if remote is None:
                    outcome.stopped = f"the emulator did not start its gdbstub ({error})"
                    outcome.unwatched = True
            finally:
                outcome.cpu = cpu_seconds(pid) or 0.0
                if outcome.sightings and not outcome.sightings[-1].cpu:
                    last = outcome.sightings[-1]
                    last.cpu = outcome.cpu - last.started_cpu
                if remote is not None:
                    remote.kill()
                    remote.close()
                kill(process)
                process.wait()
        return outcome

    def _run(self, process, pid, remote, limits, cpu_seconds, outcome):
        selector = selectors.DefaultSelector()
        selector.register(process.stdout, selectors.EVENT_READ, "console")
        selector.register(remote.socket, selectors.EVENT_READ, "stub")
        pending, received = b"", 0
        running = None        # the Sighting of the test between entry and the next entry
        started_wall = time.monotonic()
        boot_cpu = cpu_seconds(pid) or 0.0
        # QEMU's CPU time spent answering the witness while the guest is
        # paused (memory reads, mostly) is charged to no test.
        paused = 0.0

        def test_cpu(sighting, now):
            return now - sighting.started_cpu - (paused - sighting.started_paused)

        def take_console(data):
            nonlocal pending, received
            received += len(data)
            pending += data
            *lines, pending = pending.split(b"\n")
            for line in lines:
                text = line.decode("utf-8", "replace").rstrip("\r")
                outcome.console.append(text)
                (running.output if running is not None else outcome.boot_lines).append(text)

        def drain_console():
            while True:
                ready = selector.select(timeout=0)
                if not any(key.data == "console" for key, _ in ready):
                    return
                chunk = os.read(process.stdout.fileno(), 65536)
                if not chunk:
                    return
                take_console(chunk)

        def stop_guest(reason):
            """Stops the guest; `reason` names where it was: 'hung in test X,
            in pmm_alloc_frames at lessons/14-pmm/pmm.c:120 (...)'."""
            try:
                remote.interrupt()
                outcome.where = self.where(remote.register("rip"))
            except (gdbremote.Disconnected, OSError, ValueError):
                pass
            label = "at boot" if running is None else f"in test {running.test.name}"
            outcome.stopped = reason.format(label=label, where=f", in {outcome.where}"
                                            if outcome.where else "")
            if running is not None:
                running.problem = outcome.stopped

        remote.resume()
        while True:
            ready = selector.select(timeout=POLL_SECONDS)
            for key, _ in ready:
                if key.data == "console":
                    chunk = os.read(process.stdout.fileno(), 65536)
                    if chunk:
                        take_console(chunk)
            if received > limits.output:
                stop_guest("flooded the console {label}{where} (printed more than "
                           f"{limits.output // 1024} KiB)")
                return
            if any(key.data == "stub" for key, _ in ready):
                try:
                    remote.read_available()
                except gdbremote.Disconnected:
                    drain_console()
                    outcome.exited = True
                    return
            if not remote.packet_ready():
                cpu = cpu_seconds(pid)
                if running is None:
                    budget, since, cpu_since = limits.boot, started_wall, boot_cpu
                else:
                    budget = limits.test
                    since, cpu_since = running.started_wall, running.started_cpu
                used = time.monotonic() - since if cpu is None else \
                    cpu - cpu_since - (paused if running is None else
                                       paused - running.started_paused)
                if used > budget or time.monotonic() - since > limits.wall_factor * budget:
                    stop_guest("hung {label}{where} (not done after " + f"{budget:g} s of the "
                               "emulator's CPU time)")
                    return
                continue
            try:
                reply = remote.receive()
            except gdbremote.Disconnected:
                drain_console()
                outcome.exited = True
                return
            if reply.startswith(("W", "X")):
                drain_console()
                outcome.exited = True
                return
            if not reply.startswith(("T", "S")):
                continue
            outcome.stops += 1
            stopped_cpu = cpu_seconds(pid) or 0.0
            rip = remote.register("rip")
            drain_console()
            if rip == self.entry:
                test = self.by_run.get(remote.register("rdi"))
                rsp = remote.register("rsp")
                if test is None:
                    outcome.events.append(f"the runner was made to call "
                                          f"{self.where(remote.register('rdi'))}, not a test")
                    running = None
                else:
                    if any(s.test is test for s in outcome.sightings):
                        outcome.events.append(f"test {test.name} started twice")
                    if running is not None:
                        running.cpu = test_cpu(running, stopped_cpu)
                    running = Sighting(test, rsp, stopped_cpu, started_wall=time.monotonic(),
                                       started_paused=paused)
                    outcome.sightings.append(running)
            elif rip == self.returned:
                rsp = remote.register("rsp")
                if running is not None and rsp == running.entry_rsp and not running.returned:
                    running.returned = True
                    running.tampered = self.inspect(remote)
                    if running.tampered:
                        outcome.events.append(f"TAMPERED during test {running.test.name}: "
                                              f"{running.tampered}")
                else:
                    outcome.events.append("a return to the test runner that no test made "
                                          f"(stack {rsp:#x})")
            elif rip == self.check_failed:
                if running is not None:
                    running.failed_checks += 1
            elif rip == self.crash_report:
                if running is not None:
                    running.crashed = True
                else:
                    outcome.crashed_at_boot = True
            else:
                outcome.events.append(f"the emulator stopped at {self.where(rip)}")
            remote.set_register("rip", rip + 1)  # past the breakpoint's nop
            paused += (cpu_seconds(pid) or stopped_cpu) - stopped_cpu
            remote.resume()
