#!/usr/bin/env python3
"""boot.py - boot-side benchmarks, written into build/bench.json:

  empty_kernel_boot_seconds   an empty Multiboot2 kernel (tools/bench/empty.asm):
                              BIOS + GRUB + QEMU start-up, the floor
  boot_to_result_seconds      per reference kernel: QEMU start to the test
                              run's '# END' line
  grading_seconds             `grader/grade --reference` for every lesson,
                              kernels already built
  grading_ratio               grading_seconds / (lessons x the floor)

Each figure is the median of --runs runs (wall-clock time under QEMU's TCG,
so it depends on the machine and on what else runs on it)."""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "grader"))
from gradelib import emulators, runner  # noqa: E402

BENCH = ROOT / "build" / "bench"


def build_empty_kernel():
    BENCH.mkdir(parents=True, exist_ok=True)
    obj, elf, iso = BENCH / "empty.o", BENCH / "empty.elf", BENCH / "empty.iso"
    subprocess.run(["nasm", "-f", "elf32", str(ROOT / "tools/bench/empty.asm"), "-o", str(obj)],
                   check=True)
    subprocess.run(["ld", "-m", "elf_i386", "-T", str(ROOT / "tools/bench/empty.ld"), "-o",
                    str(elf), str(obj)], check=True)
    runner.make_iso(elf, iso, "")
    return iso


def time_boot(iso, until=None):
    """Seconds from starting QEMU to `until` on its serial output (or its exit)."""
    command = emulators.qemu_command(iso, headless=True)
    started = time.monotonic()
    with subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL) as process:
        for line in process.stdout:
            if until and until in line:
                elapsed = time.monotonic() - started
                process.kill()
                return elapsed
        process.wait()
    return time.monotonic() - started


def median_of(runs, measure):
    return round(statistics.median(measure() for _ in range(runs)), 3)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    lessons = sorted(p.name for p in (ROOT / "lessons").iterdir() if p.name[:2].isdigit())
    kernels = [k.replace("lesson", "solution", 1) for lesson in lessons
               for k in runner.kernels_of(lesson.split("-")[0])]
    subprocess.run(["make", "-s", "-C", str(ROOT), "-j2"] + [f"build/{k}.elf" for k in kernels],
                   check=True)

    results = {"runs": args.runs, "boot_to_result_seconds": {}}
    results["empty_kernel_boot_seconds"] = median_of(args.runs,
                                                     lambda: time_boot(build_empty_kernel()))
    with tempfile.TemporaryDirectory() as scratch:
        for kernel in kernels:
            iso = Path(scratch) / f"{kernel}.iso"
            runner.make_iso(ROOT / "build" / f"{kernel}.elf", iso, "mode=test nonce=bench")
            results["boot_to_result_seconds"][kernel] = median_of(
                args.runs, lambda: time_boot(iso, until=b"# END"))

    def grade_all():
        started = time.monotonic()
        subprocess.run([sys.executable, str(ROOT / "grader/grade"), "-q", "--reference"],
                       capture_output=True)
        return time.monotonic() - started

    results["grading_seconds"] = median_of(max(1, args.runs // 2), grade_all)
    results["grading_ratio"] = round(
        results["grading_seconds"] / (len(lessons) * results["empty_kernel_boot_seconds"]), 2)
    results["lessons"] = len(lessons)

    print(f"empty kernel (floor): {results['empty_kernel_boot_seconds']:.2f} s")
    for kernel, seconds in results["boot_to_result_seconds"].items():
        print(f"{kernel:<24} boot to result {seconds:.2f} s")
    print(f"grading every lesson: {results['grading_seconds']:.2f} s = "
          f"{results['grading_ratio']:.2f} x ({len(lessons)} lessons x the floor)")
    (BENCH / "boot.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
