# tests/host/host.mk - the allocators built as Linux programs (tests/host/README.md): the
# reference solutions' own files, over a simulated machine (tests/host/shim).
# The Makefile includes this file.
#
#   make check-host               unit tests (tests/host/test), gcc, ASan + UBSan
#   make fuzz [FUZZ_SECONDS=60]   a libFuzzer target per allocator (tests/host/fuzz), clang,
#                                 ASan + UBSan, FUZZ_SECONDS each, FUZZ_JOBS at a time
#   make fuzz-merge               fold what `make fuzz` found into tests/host/fuzz/corpus
#   make bench                    instructions per call (callgrind), heap efficiency and
#                                 boot times into build/bench.json (tools/bench/host.py)
#   make host-selftest            all three, briefly: what `make test` runs (tests/host-selftest)

HOST_BUILD   := build/host
HOST_CC      ?= gcc
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_JOBS    ?= $(shell nproc 2>/dev/null || echo 1)
HOST_ALLOCATORS := pmm kheap freelist valloc

# What each program is made of. Kernel code: the allocators under test, and
# the common/ code they call (kprintf.c as is, paging.c through the shim).
HOST_KERNEL_pmm      := solutions/14-pmm/pmm.c lessons/14-pmm/pmm_info.c
HOST_KERNEL_kheap    := $(HOST_KERNEL_pmm) solutions/15-kheap/kheap.c lessons/15-kheap/kheap_dump.c
HOST_KERNEL_freelist := $(HOST_KERNEL_pmm) solutions/15-kheap/kheap_freelist.c \
                        lessons/15-kheap/kheap_dump.c
HOST_KERNEL_valloc   := $(HOST_KERNEL_pmm) solutions/16-vmm/vmm.c solutions/16-vmm/valloc.c \
                        lessons/16-vmm/vmm_report.c
HOST_KERNEL_COMMON   := common/kprintf.c common/multiboot2.c tests/host/shim/paging.c
HOST_SHIM            := tests/host/shim/runtime.c tests/host/shim/memory.c

# The kernel's flags, but for a process (no -mcmodel=kernel, no PIE: the
# shim's linker symbols are absolute, as the kernel's are). layout.h comes
# first everywhere; tests/host/shim holds only the headers that must differ.
HOST_KERNEL_CFLAGS := $(filter-out -mcmodel=kernel,$(CFLAGS))
HOST_CFLAGS        := -std=c2x -O1 -g -fno-pie -fno-omit-frame-pointer $(WARNINGS)
HOST_INCLUDES      := -D_GNU_SOURCE -include tests/host/shim/layout.h -iquote tests/host/shim -iquote common \
                      $(addprefix -iquote ,$(wildcard lessons/*/)) -iquote tests/host/test -iquote tests/host/fuzz
HOST_SANITIZE      := -fsanitize=address,undefined -fno-sanitize-recover=all

# $(call host_objects,CONFIG,KERNEL FILES,HOST FILES)
host_objects = $(patsubst %.c,$(HOST_BUILD)/$(1)/kernel/%.o,$(2)) \
               $(patsubst %.c,$(HOST_BUILD)/$(1)/host/%.o,$(3))

# ---- check: unit tests under the sanitizers ------------------------------------
HOST_CHECK_PROGRAMS := $(addprefix $(HOST_BUILD)/check/test_,$(HOST_ALLOCATORS))

$(HOST_BUILD)/check/kernel/%.o: %.c
	@mkdir -p $(@D)
	@echo "  HOSTCC  $<"
	@$(HOST_CC) $(HOST_KERNEL_CFLAGS) $(HOST_SANITIZE) $(HOST_INCLUDES) -MMD -MP -c $< -o $@

$(HOST_BUILD)/check/host/%.o: %.c
	@mkdir -p $(@D)
	@echo "  HOSTCC  $<"
	@$(HOST_CC) $(HOST_CFLAGS) $(HOST_SANITIZE) $(HOST_INCLUDES) -MMD -MP -c $< -o $@

$(foreach A,$(HOST_ALLOCATORS),$(eval $(HOST_BUILD)/check/test_$(A): $(call host_objects,check,\
    $(HOST_KERNEL_$(A)) $(HOST_KERNEL_COMMON),$(HOST_SHIM) tests/host/shim/sanitizer_options.c \
    tests/host/test/harness.c tests/host/test/test_$(A).c)))

$(HOST_CHECK_PROGRAMS):
	@echo "  HOSTLD  $@"
	@$(HOST_CC) $(HOST_SANITIZE) -no-pie $^ -o $@

# ---- fuzz: libFuzzer targets -----------------------------------------------------
HOST_FUZZ_PROGRAMS := $(addprefix $(HOST_BUILD)/fuzz/fuzz_,$(HOST_ALLOCATORS))
HOST_FUZZ_SANITIZE := $(HOST_SANITIZE) -fsanitize=fuzzer-no-link
HOST_FUZZ_KERNEL_CFLAGS := $(filter-out -fno-tree-loop-distribute-patterns,$(HOST_KERNEL_CFLAGS))

$(HOST_BUILD)/fuzz/kernel/%.o: %.c
	@mkdir -p $(@D)
	@echo "  FUZZCC  $<"
	@$(FUZZ_CC) $(HOST_FUZZ_KERNEL_CFLAGS) $(HOST_FUZZ_SANITIZE) $(HOST_INCLUDES) -MMD -MP -c $< -o $@

$(HOST_BUILD)/fuzz/host/%.o: %.c
	@mkdir -p $(@D)
	@echo "  FUZZCC  $<"
	@$(FUZZ_CC) $(HOST_CFLAGS) $(HOST_FUZZ_SANITIZE) $(HOST_INCLUDES) -MMD -MP -c $< -o $@

$(foreach A,$(HOST_ALLOCATORS),$(eval $(HOST_BUILD)/fuzz/fuzz_$(A): $(call host_objects,fuzz,\
    $(HOST_KERNEL_$(A)) $(HOST_KERNEL_COMMON),$(HOST_SHIM) tests/host/shim/sanitizer_options.c \
    tests/host/fuzz/model.c tests/host/fuzz/fuzz_$(A).c)))

$(HOST_FUZZ_PROGRAMS):
	@echo "  FUZZLD  $@"
	@$(FUZZ_CC) $(HOST_SANITIZE) -fsanitize=fuzzer -no-pie $^ -o $@

# ---- bench: the kernel's flags, no sanitizers -----------------------------------
# common/string.c comes along, so that kcalloc's memset costs what it does
# in the kernel. One program per heap (both define kmalloc).
HOST_BENCH_PROGRAMS := $(HOST_BUILD)/bench/bench_kheap $(HOST_BUILD)/bench/bench_freelist

$(HOST_BUILD)/bench/kernel/%.o: %.c
	@mkdir -p $(@D)
	@echo "  BENCHCC $<"
	@$(HOST_CC) $(HOST_KERNEL_CFLAGS) $(HOST_INCLUDES) -MMD -MP -c $< -o $@

$(HOST_BUILD)/bench/host/%.o: %.c
	@mkdir -p $(@D)
	@echo "  BENCHCC $<"
	@$(HOST_CC) $(HOST_CFLAGS) -O2 $(HOST_INCLUDES) -MMD -MP -c $< -o $@

$(HOST_BUILD)/bench/bench_kheap: $(call host_objects,bench,$(HOST_KERNEL_kheap) \
    solutions/16-vmm/vmm.c solutions/16-vmm/valloc.c $(HOST_KERNEL_COMMON) common/string.c,\
    $(HOST_SHIM) tests/host/bench/bench.c tests/host/bench/bench_kheap.c)
$(HOST_BUILD)/bench/bench_freelist: $(call host_objects,bench,$(HOST_KERNEL_freelist) \
    $(HOST_KERNEL_COMMON) common/string.c,$(HOST_SHIM) tests/host/bench/bench.c \
    tests/host/bench/bench_freelist.c)

$(HOST_BENCH_PROGRAMS):
	@echo "  BENCHLD $@"
	@$(HOST_CC) -no-pie $^ -o $@

-include $(shell find $(HOST_BUILD) -name '*.d' 2>/dev/null)

# ---- the targets -------------------------------------------------------------------
.PHONY: check-host fuzz fuzz-merge bench host-programs host-selftest

host-programs: $(HOST_CHECK_PROGRAMS) $(HOST_FUZZ_PROGRAMS) $(HOST_BENCH_PROGRAMS)

check-host: $(HOST_CHECK_PROGRAMS)
	@$(PYTHON) tests/host/run-tests $^

fuzz: $(HOST_FUZZ_PROGRAMS)
	@$(PYTHON) tests/host/run-fuzz --seconds $(FUZZ_SECONDS) --jobs $(FUZZ_JOBS) $^

# After a long `make fuzz`: keep a few dozen inputs per target in tests/host/fuzz/corpus.
fuzz-merge: $(HOST_FUZZ_PROGRAMS)
	@$(PYTHON) tests/host/run-fuzz --merge $^

bench: $(HOST_BENCH_PROGRAMS)
	@$(PYTHON) tools/bench/host.py

host-selftest:
	@tests/host-selftest

# ---- lesson: a lesson's own tests on the host (make test-lessonN HOST=1) ---------
# The kernel's files of that lesson (SRCS_KERNEL, the Makefile's KERNEL_RULES: the
# student's files or, with REFERENCE=1, the reference's; lessons/NN-name/tests*.c;
# main.c for lesson_init), common/ as the shim gives it, and tests/host/ktest: the
# runner behind ktest.h. ASan + UBSan, -O1 for exact lines. -fPIC keeps each global
# function interposable (GCC then never inlines one into another), so that
# tests/host/ktest/heap_shadow.c can stand between kcalloc and kmalloc: the objcopy
# below weakens the heap's own kmalloc, kmalloc_aligned and kheap_init and names
# their code host_real_NAME.
HOST_LESSON_BUILD  := $(HOST_BUILD)/lesson
HOST_LESSON_CFLAGS := -O1 -fPIC -ffunction-sections
HOST_LESSON_SHIM   := $(HOST_SHIM) tests/host/shim/sanitizer_options.c tests/host/ktest/kernel_only.c
HOST_INTERPOSED    := kmalloc kmalloc_aligned kheap_init
HOST_JOBS          ?= $(shell nproc 2>/dev/null || echo 1)

host_lesson_object = $(patsubst %.c,$(HOST_LESSON_BUILD)/obj/%.o,$(1))
# $(1): a kernel's name (lesson15, solution15-freelist); the bump heap's blocks get
# their ends told to ASan (heap_shadow.c).
host_lesson_files = $(filter-out common/%,$(filter %.c,$(SRCS_$(1)))) $(HOST_KERNEL_COMMON) \
    $(HOST_LESSON_SHIM) $(if $(filter %/kheap.c,$(SRCS_$(1))),tests/host/ktest/heap_shadow.c)

$(HOST_LESSON_BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	@echo "  HOSTCC  $<"
	@$(HOST_CC) $(HOST_KERNEL_CFLAGS) $(WERROR) $(HOST_LESSON_CFLAGS) $(HOST_SANITIZE) \
	    $(HOST_INCLUDES) -MMD -MP -c $< -o $@
	@defined=$$(nm --defined-only $@ | awk '$$2 == "T" { print $$3 }'); args=; \
	for f in $(HOST_INTERPOSED); do case " $$(echo $$defined) " in *" $$f "*) \
	    args="$$args --weaken-symbol=$$f --add-symbol host_real_$$f=.text.$$f:0,global,function";; \
	esac; done; [ -z "$$args" ] || objcopy $$args $@

$(HOST_LESSON_BUILD)/obj/tests/host/%.o: tests/host/%.c
	@mkdir -p $(@D)
	@echo "  HOSTCC  $<"
	@$(HOST_CC) $(HOST_CFLAGS) $(HOST_SANITIZE) $(HOST_INCLUDES) -iquote tests/host/ktest \
	    -MMD -MP -c $< -o $@

# The students' files keep their warnings but not -Werror, as in the kernel build.
$(foreach L,$(LESSONS),$(eval $(call host_lesson_object,$(addprefix lessons/$(L)/,\
    $(call student_files,$(call number_of,$(L))))): WERROR := -Wno-error))

# $(1): lesson folder, $(2): kernel name; HOST_PREVIOUS: the earlier lessons, whose
# inits run first (LESSON_INITS, as for common/main.c).
define HOST_LESSON_RULES
$(HOST_LESSON_BUILD)/obj/$(2)/ktest_host.o: tests/host/ktest/ktest_host.c
	@mkdir -p $$(@D)
	@echo "  HOSTCC  $$<"
	@$(HOST_CC) $(HOST_CFLAGS) $(HOST_SANITIZE) $(HOST_INCLUDES) -iquote tests/host/ktest \
	    -DLESSON_NAME='"$(1)"' \
	    -D'LESSON_INITS(CALL)=$(foreach E,$(HOST_PREVIOUS) $(1),$(foreach I,$(INIT_$(call number_of,$(E))),CALL($(I))))' \
	    -MMD -MP -c $$< -o $$@

$(HOST_LESSON_BUILD)/$(2): $(call host_lesson_object,$(call host_lesson_files,$(2))) \
    $(HOST_LESSON_BUILD)/obj/$(2)/ktest_host.o tests/host/ktest/ktest.ld
	@echo "  HOSTLD  $$@"
	@$(HOST_CC) $(HOST_SANITIZE) -no-pie -Wl,-T,tests/host/ktest/ktest.ld $$(filter %.o,$$^) -o $$@
endef
HOST_PREVIOUS :=
$(foreach L,$(LESSONS),$(foreach N,$(call number_of,$(L)),$(foreach V,lesson solution,\
    $(foreach F,- $(FLAVOURS_$(N)),$(eval $(call HOST_LESSON_RULES,$(L),$(V)$(N)$(if $(F:-=),-$(F)))))))\
    $(eval HOST_PREVIOUS += $(L)))

# make test-lessonN HOST=1 [REFERENCE=1] [KHEAP=freelist] [ONLY=name[,name]]
comma := ,
ifeq ($(HOST),1)
$(foreach N,$(NUMBERS),$(eval test-lesson$(N): ; \
    @$$(MAKE) --no-print-directory -j$(HOST_JOBS) $(HOST_LESSON_BUILD)/$(call kernel_name,$(N)) && \
    $(HOST_LESSON_BUILD)/$(call kernel_name,$(N)) $(subst $(comma), ,$(ONLY))))
endif
