"""The test protocol the kernel writes on its results port, COM2 (common/ktest.h):

    KTAP version 1
    # lesson 14-pmm
    1..29
    # test 18 total_matches_memory_map points=2 kind=practice nonce=N
    # RUN 18 total_matches_memory_map
    ok 18 total_matches_memory_map # points=2/2 kind=practice nonce=N
    # END nonce=N

(The console, COM1, carries the same lines unsigned, and each test's
diagnostics between its RUN line and its result.)

Only lines carrying this run's nonce count: a kernel that prints "ok" lines of
its own cannot know the nonce the grader handed the harness. And only
the tests declared in the lab's own test files count (expected_tests): a
kernel cannot add tests, drop them or change their points."""

import re
from dataclasses import dataclass, field
from pathlib import Path

DECLARATION = re.compile(
    r"^KTEST_(LECTURE|PRACTICE|HOMEWORK|BONUS)\(\s*(\w+)\s*,\s*(\d+)\s*\)", re.M)

TEST_LINE = re.compile(r"^# test (\d+) (\S+) points=(\d+) kind=(\w+) nonce=(\S+)$")
RUN_LINE = re.compile(r"^# RUN (\d+) (\S+)$")
RESULT_LINE = re.compile(
    r"^(ok|not ok) (\d+) (\S+) # points=(\d+)/(\d+) kind=(\w+) nonce=(\S+)$")
END_LINE = re.compile(r"^# END nonce=(\S+)$")


@dataclass
class TestResult:
    number: int
    name: str
    points: int
    kind: str                 # lecture, practice, homework or bonus
    status: str = "not run"   # passed, failed, crashed, hung, forged, not run
    score: int = 0
    hidden: bool = False      # from an instructor's --extra-tests file
    where: str = ""           # one line: where it failed, hung or crashed ("" if passed)
    output: list = field(default_factory=list)  # diagnostics and reports
    where: str = ""           # hung or crashed: where, in one line ("in kmalloc, kheap.c:12")

    @property
    def passed(self):
        return self.status == "passed"


def expected_tests(files):
    """The tests declared in these source files: {name: TestResult}."""
    tests = {}
    for path in files:
        hidden = Path(path).name.startswith("tests_hidden_")
        for kind, name, points in DECLARATION.findall(Path(path).read_text(errors="replace")):
            tests[name] = TestResult(0, name, int(points), kind.lower(), hidden=hidden)
    return tests


@dataclass
class RunState:
    """What one or more boots of one kernel have reported so far."""
    nonce: str
    tests: dict               # name -> TestResult, from expected_tests
    running: str = ""         # the test after its RUN line, before its result
    ended: bool = False       # "# END" seen
    spoofed: int = 0          # result lines without this run's nonce
    mismatches: list = field(default_factory=list)  # the kernel's plan vs the sources
    forged: list = field(default_factory=list)      # tests reported twice or declared twice
    boot_lines: list = field(default_factory=list)  # output outside any test
    planned: set = field(default_factory=set)       # names in this boot's plan
    test_cpu: dict = field(default_factory=dict)    # name -> the emulator's CPU seconds

    def begin_boot(self):
        self.running, self.ended, self.planned = "", False, set()

    def condemn(self, test, why):
        """A test whose results cannot be trusted: no points, and said why."""
        if test.status != "forged":
            test.status, test.score = "forged", 0
            test.output.append(why)
            self.forged.append(f"{test.name}: {why}")

    def feed(self, line):
        line = line.rstrip("\r\n")
        if match := TEST_LINE.match(line):
            number, name, points, kind, nonce = match.groups()
            test = self.tests.get(name)
            if nonce != self.nonce:
                self.spoofed += 1
            elif test is None or test.points != int(points) or test.kind != kind:
                self.mismatches.append(line)
            elif name in self.planned:
                self.condemn(test, "declared twice in the kernel's test list")
            else:
                self.planned.add(name)
                test.number = int(number)
        elif match := RUN_LINE.match(line):
            self.running = match.group(2)
        elif match := RESULT_LINE.match(line):
            verdict, number, name, score, points, kind, nonce = match.groups()
            test = self.tests.get(name)
            if nonce != self.nonce or test is None:
                self.spoofed += 1
                return
            if int(number) != test.number or test.status != "not run":
                self.condemn(test, "a result line that the test run did not print "
                                   "(reported twice, or under another number)")
                return
            test.status = "passed" if verdict == "ok" else "failed"
            test.score = test.points if verdict == "ok" else 0
            self.running = ""
        elif match := END_LINE.match(line):
            if match.group(1) == self.nonce:
                self.ended = True
        elif self.running in self.tests:
            self.tests[self.running].output.append(line)
        else:
            self.boot_lines.append(line)

    def unfinished(self):
        """Tests that have not reported a result, in the kernel's order."""
        return sorted((t for t in self.tests.values() if t.status == "not run"),
                      key=lambda t: t.number or 1 << 30)
