#!/usr/bin/env python3
"""grading.py - what grading costs, written into build/bench/grading.json:

  class_students_per_minute   `grader/grade --batch -j JOBS` over a Moodle export
                              of 20 lesson 15 students, the mix an instructor
                              meets: 12 honest (the reference; 6 with the bonus,
                              4 of them as a zip in their folder), 3 that hang (one
                              at boot, kheap_init's '=+' typo; two in the 3 tests
                              that call kmalloc_aligned), 3 unchanged starters, a
                              crash (a division by zero in kcalloc), an empty
                              folder; with the seconds it took and the CPU time
  hung_test_seconds           what one hung test adds: a submission with
                              three hanging tests against the reference
                              submission, graded one after the other, / 3;
  hung_test_cpu_seconds       the same in CPU time of the grader and all it
                              runs (QEMU, grub-mkrescue, make): what it costs
                              on an idle machine, whatever the load now
  hang_ratio                  the same two: hanging time / reference time
  loaded_reference            the reference (every lesson) graded while two
                              `yes > /dev/null` keep both cores busy, under
                              QEMU and under Bochs: full marks, or what failed

Wall-clock figures: they depend on the machine and on what else runs."""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
BENCH = ROOT / "build" / "bench"
CLASS_SIZE = 20
SPIN = "    for (;;)\n        __asm__ volatile(\"pause\");\n"


MOODLE_FOLDER = "Student {number:02}_{id}_assignsubmission_file_"


def class_member(folder, number):
    """Student `number` of the bench's class (see the docstring): the files of
    the folder Moodle exports for them; returns True if they hang."""
    import zipfile
    folder.mkdir(parents=True, exist_ok=True)
    kheap = (ROOT / "solutions/15-kheap/kheap.c").read_text()
    bonus = (ROOT / "solutions/15-kheap/kheap_freelist.c").read_text()
    entry = "void *kmalloc_aligned(size_t size, size_t align)\n{\n"
    files = {"kheap.c": kheap}
    if number < 12 and number % 2 == 0:
        files["kheap_freelist.c"] = bonus
    if number == 12:
        files["kheap.c"] = kheap.replace("page += PAGE_SIZE)", "page =+ PAGE_SIZE)")
    elif number in (13, 14):
        files["kheap.c"] = kheap.replace(entry, entry + SPIN)
    elif number in (15, 16, 17):
        files = {"kheap.c": (ROOT / "lessons/15-kheap/kheap.c").read_text()}
    elif number == 18:
        files["kheap.c"] = kheap.replace("void *kcalloc(size_t n, size_t size)\n{\n",
                                         "void *kcalloc(size_t n, size_t size)\n{\n"
                                         "    volatile size_t zero = 0;\n    n /= zero;\n")
    elif number == 19:
        files = {"notes.txt": "I will hand it in tomorrow\n"}
    if number < 12 and number % 3 == 0:
        with zipfile.ZipFile(folder / "work.zip", "w") as archive:
            for name, text in files.items():
                archive.writestr(f"lab/lessons/15-kheap/{name}", text)
    else:
        for name, text in files.items():
            (folder / name).write_text(text)
    return 12 <= number <= 14


def submission(folder, hanging=False, bonus=True):
    folder.mkdir(parents=True, exist_ok=True)
    kheap = (ROOT / "solutions/15-kheap/kheap.c").read_text()
    entry = "void *kmalloc_aligned(size_t size, size_t align)\n{\n"
    if hanging:
        assert kheap.count(entry) == 1, "kmalloc_aligned's definition moved"
        kheap = kheap.replace(entry, entry + SPIN)
    (folder / "kheap.c").write_text(kheap)
    if bonus:
        shutil.copyfile(ROOT / "solutions/15-kheap/kheap_freelist.c", folder / "kheap_freelist.c")


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def grade(*arguments):
    """(wall-clock seconds, CPU seconds, the finished process) of one grader run."""
    started, cpu = time.monotonic(), children_cpu()
    result = subprocess.run([sys.executable, str(ROOT / "grader/grade"), *arguments],
                            capture_output=True, text=True)
    return time.monotonic() - started, children_cpu() - cpu, result


def class_figures(jobs):
    klass, logs = BENCH / "class", BENCH / "class-logs"
    shutil.rmtree(klass, ignore_errors=True)
    shutil.rmtree(logs, ignore_errors=True)  # saved results would be kept: grade them all
    hanging = sum(class_member(klass / MOODLE_FOLDER.format(number=n, id=100000 + n), n)
                  for n in range(CLASS_SIZE))
    seconds, cpu, result = grade("--batch", str(klass), "--csv", str(BENCH / "class.csv"),
                                 "--logs", str(logs), "-j", str(jobs), "15")
    hung = sum("[HUNG" in line or ", HUNG" in line for line in result.stdout.splitlines()
               if line.startswith("["))
    return {"class_size": CLASS_SIZE, "class_jobs": jobs, "class_seconds": round(seconds, 1),
            "class_cpu_seconds": round(cpu, 1),
            "class_students_per_minute": round(CLASS_SIZE * 60 / seconds, 1),
            "class_students_per_cpu_minute": round(CLASS_SIZE * 60 / cpu, 1),
            "class_hung_students": hung, "class_hanging_students": hanging,
            "class_load_average": round(os.getloadavg()[0], 1)}


def hang_figures():
    reference, hanging = BENCH / "reference", BENCH / "hanging"
    for folder, hangs in ((reference, False), (hanging, True)):
        shutil.rmtree(folder, ignore_errors=True)
        submission(folder, hanging=hangs)
    reference_seconds, reference_cpu, _ = grade("--submission", str(reference), "15")
    hanging_seconds, hanging_cpu, result = grade("--submission", str(hanging), "15")
    hangs = max(1, result.stdout.count("  HUNG  "))
    return {"reference_submission_seconds": round(reference_seconds, 2),
            "hanging_submission_seconds": round(hanging_seconds, 2), "hung_tests": hangs,
            "hung_test_seconds": round((hanging_seconds - reference_seconds) / hangs, 2),
            "hung_test_cpu_seconds": round((hanging_cpu - reference_cpu) / hangs, 2),
            "hang_ratio": round(hanging_seconds / reference_seconds, 2),
            "hang_ratio_cpu": round(hanging_cpu / reference_cpu, 2),
            "load_average": round(os.getloadavg()[0], 1)}


def loaded_reference():
    """Both cores kept busy by two `yes`: the reference must not lose a test."""
    load = [subprocess.Popen(["yes"], stdout=subprocess.DEVNULL) for _ in range(2)]
    try:
        verdicts = {}
        for emu in ("qemu", "bochs"):
            seconds, _, result = grade("--reference", "--require-bonus", "--emu", emu, "-q")
            verdicts[emu] = {"seconds": round(seconds, 1), "full_marks": result.returncode == 0,
                             "scores": result.stdout.strip().splitlines()}
        return {"loaded_reference": verdicts}
    finally:
        for process in load:
            process.kill()
            process.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--no-load", action="store_true", help="skip the loaded-machine run")
    args = parser.parse_args()
    BENCH.mkdir(parents=True, exist_ok=True)
    subprocess.run(["make", "-s", "-C", str(ROOT), f"-j{args.jobs}", "all"], check=True)
    results = {**hang_figures(), **class_figures(args.jobs)}
    if not args.no_load:
        results.update(loaded_reference())
    print(f"one hung test: {results['hung_test_seconds']:.2f} s, "
          f"{results['hung_test_cpu_seconds']:.2f} s of CPU "
          f"({results['hung_tests']} hung: {results['hanging_submission_seconds']:.1f} s against "
          f"the reference's {results['reference_submission_seconds']:.1f} s, "
          f"{results['hang_ratio']:.1f} x)")
    print(f"a class of {CLASS_SIZE} ({results['class_hanging_students']} hanging), -j "
          f"{args.jobs}: {results['class_seconds']:.1f} s, "
          f"{results['class_students_per_minute']:.1f} students per minute "
          f"({results['class_cpu_seconds']:.1f} s of CPU: "
          f"{results['class_students_per_cpu_minute']:.1f} students per CPU minute; load "
          f"average {results['class_load_average']})")
    for emu, verdict in results.get("loaded_reference", {}).items():
        print(f"reference with both cores busy, {emu}: "
              f"{'full marks' if verdict['full_marks'] else 'LOST POINTS'} "
              f"in {verdict['seconds']:.1f} s")
    (BENCH / "grading.json").write_text(json.dumps(results, indent=2) + "\n")
    lost = [emu for emu, v in results.get("loaded_reference", {}).items() if not v["full_marks"]]
    return 1 if lost or results["class_hung_students"] != results["class_hanging_students"] \
        else 0


if __name__ == "__main__":
    sys.exit(main())
