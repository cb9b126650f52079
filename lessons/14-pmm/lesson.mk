# What lesson 14's kernel is made of (the Makefile's KERNEL_RULES read it).
# STUDENT: the files a student edits (solutions/14-pmm/ has their references);
# LIBRARY: code later lessons' kernels reuse; OWN: this lesson's kernel only;
# TESTS: its in-kernel tests.
STUDENT_14 := pmm.c
LIBRARY_14 := pmm_info.c pmm_print.c
OWN_14     := main.c
TESTS_14   := tests.c
# INIT: what brings this lesson's subsystems up, called at boot in order in
# this lesson's kernel and every later lesson's (common/main.c).
INIT_14    := pmm_init
# make trace-lesson14: the functions ld --wraps in trace kernels (TRACED) and
# the file with the wrappers (TRACE; common/trace/ktrace.h).
TRACED_14  := pmm_alloc_frame pmm_free_frame pmm_alloc_frames pmm_free_frames
TRACE_14   := trace.c
