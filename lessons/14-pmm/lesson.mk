# What lesson 14's kernel is made of (the Makefile's KERNEL_RULES read it).
# STUDENT: the files a student edits (solutions/14-pmm/ has their references);
# LIBRARY: code later lessons' kernels reuse; OWN: this lesson's kernel only;
# TESTS: its in-kernel tests.
STUDENT_14 := pmm.c
LIBRARY_14 := pmm_info.c pmm_print.c
OWN_14     := main.c
TESTS_14   := tests.c
