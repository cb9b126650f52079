# What lesson 16's kernel is made of (the Makefile's KERNEL_RULES read it).
# STUDENT: the files a student edits (solutions/16-vmm/ has their references);
# LIBRARY: code later lessons' kernels reuse; OWN: this lesson's kernel only;
# TESTS: its in-kernel tests.
STUDENT_16 := vmm.c valloc.c
LIBRARY_16 := vmm_report.c
OWN_16     := main.c
TESTS_16   := tests.c
# INIT: called at boot after the earlier lessons' (common/main.c).
INIT_16    := vmm_init
# make trace-lesson16: what trace kernels wrap, and the wrappers (common/trace/ktrace.h).
TRACED_16  := valloc vfree vmm_map vmm_unmap
TRACE_16   := trace.c

# make gdb-lesson16 stops at the first valloc (a hardware breakpoint).
GDB_BREAK_16 := valloc
