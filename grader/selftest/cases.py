"""Proof that the tests can fail.

MUTANTS are small deliberate bugs in the reference solutions, the kind a
student might write; each must lose points, and `caught_by` names tests that
must be among the failures. PATHOLOGICAL kernels misbehave as a whole (hang,
crash, flood the log, lie); each must get a clear verdict and never full marks.

A case edits one file of a pristine lab copy: `find` must occur exactly once
in it and is replaced by `replace`."""

from dataclasses import dataclass, field, replace


@dataclass
class Case:
    name: str
    lesson: str
    path: str              # the file to edit, relative to the lab
    find: str
    replace: str
    caught_by: list = field(default_factory=list)  # tests that must fail
    verdict: str = ""      # a regular expression the report must contain
    kernel: str = "solution"  # which build to grade: solution or lesson (starter)
    same_score_as_starter: bool = False
    emu: str = "qemu"


PMM = "solutions/14-pmm/pmm.c"

MUTANTS = [
    Case("frame handed out twice", "14-pmm", PMM,
         "        set_bit(pmm.used, frame);\n        pmm.next_search = frame + 1;",
         "        pmm.next_search = frame + 1;",
         caught_by=["frames_are_page_aligned_and_distinct"]),
    Case("bitmap storage not reserved", "14-pmm", PMM,
         "    reserved[reserved_count++] = (struct phys_range){storage, storage + storage_size};\n",
         "",
         caught_by=["total_matches_memory_map", "frames_never_inside_reserved_memory"]),
    Case("kernel image not reserved", "14-pmm", PMM,
         "        {(phys_addr_t)_kernel_phys_start, (phys_addr_t)_kernel_phys_end},\n",
         "",
         caught_by=["frames_never_inside_reserved_memory"]),
    Case("usable regions rounded outwards", "14-pmm", PMM,
         "        frames_inside(map[i].base, region_end(map[i].base, map[i].length), &first, &last);",
         "        frames_touching(map[i].base, region_end(map[i].base, map[i].length), &first, &last);",
         caught_by=["map_zero_length_and_unaligned_regions"]),
    Case("double free accepted", "14-pmm", PMM,
         "    if (!test_bit(pmm.used, frame))\n        return PMM_DOUBLE_FREE;\n",
         "",
         caught_by=["free_rejects_double_free"]),
    Case("peak counter off by one", "14-pmm", PMM,
         "MAX(pmm.stats.peak_used_frames, used);",
         "MAX(pmm.stats.peak_used_frames, used - 1);",
         caught_by=["stats_track_peak_and_failures"]),
    Case("contiguous run does not restart at a used frame", "14-pmm", PMM,
         "        if (test_bit(pmm.used, frame)) {\n            run_length = 0;\n            continue;\n        }",
         "        if (test_bit(pmm.used, frame))\n            continue;",
         caught_by=["alloc_frames_skips_holes"]),
    Case("boot modules not reserved", "14-pmm", PMM,
         "        reserved[reserved_count++] =\n"
         "            (struct phys_range){boot_info.modules[i].start, boot_info.modules[i].end};",
         "        (void)i;",
         caught_by=["boot_modules_are_reserved"]),
    Case("frame 0 not kept back", "14-pmm", PMM,
         "    mark_frames(0, 1, true);", "",
         caught_by=["map_never_hands_out_frame_zero"]),
]

STARTER_PMM = "lessons/14-pmm/pmm.c"
PMM_INIT = "void pmm_init(void)\n{\n"

PATHOLOGICAL = [
    Case("boot hang", "14-pmm", PMM, PMM_INIT,
         PMM_INIT + "    for (;;)\n        __asm__ volatile(\"pause\");\n",
         verdict=r"no output for \d+ s after 'kernel-memory-lab|command line"),
    Case("panic at boot", "14-pmm", PMM, PMM_INIT,
         PMM_INIT + "    panic(\"pathological kernel\");\n",
         verdict=r"did not run: the kernel stopped after 'kernel: halted after a panic'"),
    Case("triple fault", "14-pmm", PMM, PMM_INIT,
         PMM_INIT + "    static const struct { uint16_t limit; uint64_t base; }"
         " __attribute__((packed)) no_idt = {0, 0};\n"
         "    __asm__ volatile(\"lidt %0; int3\" : : \"m\"(no_idt));\n",
         verdict=r"triple fault"),
    Case("endless output", "14-pmm", PMM, PMM_INIT,
         PMM_INIT + "    for (;;)\n        kprintf(\"all work and no play makes jack a dull boy\\n\");\n",
         verdict=r"printed more than \d+ KiB"),
    Case("hang inside one test", "14-pmm", PMM,
         "phys_addr_t pmm_alloc_frames(size_t count)\n{\n",
         "phys_addr_t pmm_alloc_frames(size_t count)\n{\n    for (;;)\n        ;\n",
         caught_by=["alloc_frames_returns_a_contiguous_run"],
         verdict=r"test alloc_frames_returns_a_contiguous_run: no output for"),
    Case("spoofed result lines", "14-pmm", STARTER_PMM, PMM_INIT,
         PMM_INIT + "    static const char *const names[] = {\"free_rejects_double_free\",\n"
         "        \"alloc_frames_skips_holes\", \"stats_count_allocations_and_frees\"};\n"
         "    for (unsigned i = 0; i < ARRAY_SIZE(names); i++)\n"
         "        kprintf(\"ok %u %s # points=3/3 kind=homework nonce=none\\n\", 13 + i, names[i]);\n"
         "    kprintf(\"ok 14 free_rejects_bad_addresses # points=3/3 kind=homework nonce=%s\\n\",\n"
         "            boot_info.command_line + 16);\n",
         kernel="lesson", same_score_as_starter=True,
         verdict=r"result lines without this run's nonce were ignored"),
    Case("does not compile", "14-pmm", PMM, PMM_INIT, "void pmm_init(void)\n{{\n",
         verdict=r"did not compile"),
]

# The same verdicts under Bochs, where hangs, crashes and exits look different.
BOCHS_PATHOLOGICAL = [
    replace(case, name=case.name + " (Bochs)", emu="bochs",
            verdict=case.verdict.replace("triple fault", "triple fault: Bochs stopped"))
    for case in PATHOLOGICAL
    if case.name in ("boot hang", "triple fault", "hang inside one test", "spoofed result lines")
]
