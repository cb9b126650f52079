"""Proof that the grader copes: PATHOLOGICAL kernels misbehave as a whole
(hang, crash, flood the log, lie); each must get a clear verdict and never
full marks. (The mutants, small bugs that prove each lesson's tests can
fail, live beside the references: solutions/NN-name/mutants/.)

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
    must_build: bool = True  # a case the compiler rejects proves nothing about the grader

    def apply(self, text):
        """`text` (the file it edits) with the case in; ValueError unless
        `find` occurs exactly once."""
        if text.count(self.find) != 1:
            raise ValueError(f"the text to replace occurs {text.count(self.find)} times")
        return text.replace(self.find, self.replace)


PMM = "solutions/14-pmm/pmm.c"
STARTER_PMM = "lessons/14-pmm/pmm.c"
PMM_INIT = "void pmm_init(void)\n{\n"

PATHOLOGICAL = [
    Case("boot hang", "14-pmm", PMM, PMM_INIT,
         PMM_INIT + "    for (;;)\n        __asm__ volatile(\"pause\");\n",
         verdict=r"did not run: boot 1: hung at boot, in pmm_init at solutions/14-pmm/pmm.c:\d+"),
    Case("panic at boot", "14-pmm", PMM, PMM_INIT,
         PMM_INIT + "    panic(\"pathological kernel\");\n",
         verdict=r"did not run: boot 1: the kernel crashed at boot \(PANIC at solutions/14-pmm/pmm.c"),
    Case("triple fault", "14-pmm", PMM, PMM_INIT,
         PMM_INIT + "    static const struct { uint16_t limit; uint64_t base; }"
         " __attribute__((packed)) no_idt = {0, 0};\n"
         "    __asm__ volatile(\"lidt %0; int3\" : : \"m\"(no_idt));\n",
         verdict=r"triple fault"),
    # Straight to COM1, the port the grader reads: through kprintf (its VGA
    # copy updates the cursor per character) QEMU 7.2 took 25 s of CPU for
    # 1 MiB and QEMU 10 printed only 683 KB in 30 s; this way a MiB takes 3 s.
    Case("endless output", "14-pmm", PMM, PMM_INIT,
         PMM_INIT + "    void serial_putc(uint16_t base, char c);\n"
         "    for (unsigned i = 0;; i++)\n"
         "        serial_putc(0x3F8 /* COM1 */, i % 64 == 63 ? '\\n' : 'y');\n",
         verdict=r"did not run: boot 1: flooded the console at boot, in .*printed more than \d+ KiB"),
    Case("hang inside one test", "14-pmm", PMM,
         "phys_addr_t pmm_alloc_frames(size_t count)\n{\n",
         "phys_addr_t pmm_alloc_frames(size_t count)\n{\n    for (;;)\n        ;\n",
         caught_by=["alloc_frames_returns_a_contiguous_run"],
         verdict=r"hung in test alloc_frames_returns_a_contiguous_run, in pmm_alloc_frames at "
                 r"solutions/14-pmm/pmm.c:\d+"),
    Case("spoofed result lines", "14-pmm", STARTER_PMM, PMM_INIT,
         PMM_INIT + "    static const char *const names[] = {\"free_rejects_double_free\",\n"
         "        \"free_rejects_bad_addresses\", \"alloc_frames_returns_a_contiguous_run\"};\n"
         "    for (unsigned i = 0; i < ARRAY_SIZE(names); i++)\n"
         "        kprintf(\"ok %u %s # points=3/3 kind=homework nonce=none\\n\", 23 + i, names[i]);\n"
         "    kprintf(\"ok 24 free_rejects_bad_addresses # points=3/3 kind=homework nonce=%s\\n\",\n"
         "            boot_info.command_line + 16);\n",
         kernel="lesson", same_score_as_starter=True),
    Case("does not compile", "14-pmm", PMM, PMM_INIT, "void pmm_init(void)\n{{\n",
         verdict=r"did not compile", must_build=False),
    Case("tests redeclared under the real names", "14-pmm", STARTER_PMM,
         '#include "pmm.h"\n',
         '#include "pmm.h"\n#include "ktest.h"\n'
         "KTEST_HOMEWORK(free_rejects_double_free, 3) {}\n"
         "KTEST_HOMEWORK(alloc_frames_skips_holes, 2) {}\n",
         kernel="lesson", same_score_as_starter=True,
         verdict=r"forged results suspected: free_rejects_double_free: declared twice"),
]

# The same verdicts under Bochs, where hangs, crashes and exits look different.
# Bochs has no witness: its verdicts are still read from the kernel's own lines.
BOCHS_VERDICTS = {
    "boot hang": r"no output for [\d.]+ s.* after 'kernel-memory-lab|command line",
    "triple fault": r"triple fault: Bochs stopped",
    "hang inside one test": r"test alloc_frames_returns_a_contiguous_run: no output for",
    "spoofed result lines": r"result lines without this run's nonce were ignored",
}
BOCHS_PATHOLOGICAL = [replace(case, name=case.name + " (Bochs)", emu="bochs",
                              verdict=BOCHS_VERDICTS[case.name])
                      for case in PATHOLOGICAL if case.name in BOCHS_VERDICTS]
