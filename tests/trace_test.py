#!/usr/bin/env python3
"""trace_test.py - unit tests of tools/trace's reading of the events and its
model, on hand-written traces (python3 tests/trace_test.py; make test runs
them in its `trace` check)."""

import importlib.machinery
import importlib.util
import unittest
from pathlib import Path

LOADER = importlib.machinery.SourceFileLoader("trace", str(Path(__file__).resolve().parent.parent / "tools" / "trace"))
trace = importlib.util.module_from_spec(importlib.util.spec_from_loader("trace", LOADER))
LOADER.exec_module(trace)

START = 0xFFFFFFFF80200000
STATS = "bad=0 double=0 redzone=0 poison=0"


def ret(function, result, used, extra=""):
    return (f"ktrace: ret {function} result={result:x}{extra} used={used} requested=0 "
            f"allocations=0 frees=0 failures=0 pages=1 {STATS}")


def heap(*lines):
    prologue = ["ktrace: call kheap_init caller=0",
                f"ktrace: window start={START:x} end={START + 0x200000:x}",
                ret("kheap_init", 0, 0)]
    return trace.build_model(trace.parse(prologue + list(lines)), {})


class Model(unittest.TestCase):
    def test_bump_block_splits_padding_and_rounding(self):
        model = heap("ktrace: call kmalloc size=20 caller=0", ret("kmalloc", START, 32),
                     "ktrace: call kmalloc_aligned size=100 align=256 caller=0",
                     ret("kmalloc_aligned", START + 0x100, 368))
        aligned = model["blocks"][1]
        self.assertEqual((aligned["footStart"], aligned["start"], aligned["footEnd"]),
                         (32, 0x100, 368))
        self.assertEqual(model["allocations"], 2)

    def test_failure_and_double_free_are_marked(self):
        model = heap("ktrace: call kmalloc size=20 caller=0", ret("kmalloc", START, 32),
                     "ktrace: call kmalloc size=99999999 caller=0", ret("kmalloc", 0, 32),
                     f"ktrace: call kfree ptr={START:x} caller=0", ret("kfree", 0, 32),
                     f"ktrace: call kfree ptr={START:x} caller=0", ret("kfree", 0, 32))
        statuses = [e["status"] for e in model["events"]]
        self.assertEqual(statuses, ["ok", "ok", "fail", "ok", "note"])
        self.assertIn("double free", model["events"][4]["notes"][0])
        self.assertFalse(model["blocks"][0]["reclaimed"])  # `used` did not go down

    def test_overlap_and_unaligned_results_are_noted(self):
        model = heap("ktrace: call kmalloc size=32 caller=0", ret("kmalloc", START, 32),
                     "ktrace: call kmalloc size=32 caller=0", ret("kmalloc", START + 8, 64))
        notes = " ".join(model["events"][2]["notes"])
        self.assertIn("overlaps block #0", notes)
        self.assertIn("not aligned to 16", notes)

    def test_a_call_that_never_returns_is_a_crash(self):
        model = heap("ktrace: call kmalloc size=40 caller=0", "*** EXCEPTION 14: #PF ***")
        self.assertEqual(model["events"][-1]["status"], "crash")
        self.assertIn("*** EXCEPTION 14: #PF ***", model["events"][-1]["console"])

    def test_a_fresh_heap_is_no_reuse(self):
        model = heap("ktrace: call kmalloc size=16 caller=0", ret("kmalloc", START, 16),
                     "ktrace: call kheap_init caller=0", ret("kheap_init", 0, 0))
        self.assertEqual(model["blocks"][0]["t1"], 2)
        self.assertFalse(model["reuses"])
        self.assertEqual(model["classes"], [])

    def test_an_event_after_unfinished_console_text(self):
        parsed = trace.parse(["Allocating:ktrace: call pmm_alloc_frame caller=0",
                              " 0x1000ktrace: ret pmm_alloc_frame result=1000 status=0 free=1"])
        self.assertEqual([c["fn"] for c in parsed["calls"]], ["pmm_alloc_frame"])

    def test_redzone_pattern_and_reuse_on_a_free_list_heap(self):
        model = heap("ktrace: call kmalloc size=20 caller=0",
                     ret("kmalloc", START, 64, " tail=cc:28"),
                     "ktrace: call kmalloc size=40 caller=0",
                     ret("kmalloc", START + 0x1000, 160, " tail=cc:40"),
                     f"ktrace: call kfree ptr={START:x} caller=0", ret("kfree", 0, 96),
                     "ktrace: call kmalloc size=20 caller=0",
                     ret("kmalloc", START, 160, " tail=cc:28"))
        self.assertEqual(model["blocks"][0]["redzone"], [0xCC, 28])
        self.assertEqual(model["blocks"][2]["reuses"], 0)
        self.assertTrue(model["reuses"])
        self.assertEqual([c["footprint"] for c in model["classes"]], [64, 96])

    def test_allocations_counted_from_the_raw_log(self):
        lines = ["ktrace: ret kmalloc result=0 used=0", "ktrace: ret kcalloc result=ff used=16",
                 "ktrace: ret kfree result=0 used=16"]
        self.assertEqual(trace.allocations_in_log(lines), 1)


if __name__ == "__main__":
    unittest.main()
