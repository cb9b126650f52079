# kernel-memory-lab - build, boot, debug and grade the lessons' kernels.
# `make help` lists the targets.

# ---- toolchain and flags ----------------------------------------------------
# The Linux kernel's conventions. By default the host's GNU tools (gcc, ld,
# objcopy); CROSS_COMPILE=x86_64-elf- puts that prefix on each of them. LLVM=1
# uses clang, ld.lld and llvm-objcopy instead (LLVM=-14: names with that
# suffix; LLVM=/usr/lib/llvm-14/bin/: the ones in that folder); when the
# unversioned names are missing, LLVM=1 takes Debian's newest
# /usr/lib/llvm-N/bin/. A host whose gcc does not make x86_64 Linux ELF code
# (macOS, an ARM machine) and that names neither gets the x86_64-elf- cross
# gcc if it is installed, LLVM otherwise.
# `make doctor` says which toolchain a build uses.
# GRUB_MKRESCUE=COMMAND: the GRUB that makes the ISOs (tools/mkiso looks for
# grub-mkrescue, grub2-mkrescue, x86_64-elf-grub-mkrescue, i686-elf-grub-mkrescue).
ifeq ($(origin LLVM)$(origin CROSS_COMPILE),undefinedundefined)
  HOST_MACHINE := $(shell gcc -dumpmachine 2>/dev/null)
  ifeq ($(and $(findstring x86_64,$(HOST_MACHINE)),$(findstring linux,$(HOST_MACHINE))),)
    CROSS_COMPILE := $(if $(shell command -v x86_64-elf-gcc 2>/dev/null),x86_64-elf-)
    LLVM := $(if $(CROSS_COMPILE),0,1)
  endif
endif
LLVM ?= 0
ifneq ($(filter-out 0,$(LLVM)),)
  ifneq ($(filter %/,$(LLVM)),)
    LLVM_PREFIX := $(LLVM)
  else ifneq ($(filter -%,$(LLVM)),)
    LLVM_SUFFIX := $(LLVM)
  else ifneq ($(words $(foreach T,clang ld.lld llvm-objcopy,$(shell command -v $(T) 2>/dev/null))),3)
    LLVM_PREFIX := $(lastword $(sort $(dir $(wildcard /usr/lib/llvm-*/bin/ld.lld))))
  endif
  CC      := $(LLVM_PREFIX)clang$(LLVM_SUFFIX) --target=x86_64-unknown-none-elf
  LD      := $(LLVM_PREFIX)ld.lld$(LLVM_SUFFIX)
  OBJCOPY := $(LLVM_PREFIX)llvm-objcopy$(LLVM_SUFFIX)
  ADDR2LINE := $(LLVM_PREFIX)llvm-addr2line$(LLVM_SUFFIX)
  TOOLCHAIN := llvm
  TOOLCHAIN_FOLDER := /llvm
else
  CC      := $(CROSS_COMPILE)gcc
  LD      := $(CROSS_COMPILE)ld
  OBJCOPY := $(CROSS_COMPILE)objcopy
  ADDR2LINE := $(CROSS_COMPILE)addr2line
  TOOLCHAIN := $(if $(CROSS_COMPILE),cross $(CROSS_COMPILE),gnu)
  TOOLCHAIN_FOLDER := $(if $(CROSS_COMPILE),/$(patsubst %-,%,$(notdir $(CROSS_COMPILE))))
endif
# make CC=clang (any compiler named on the command line): build/clang/.
ifeq ($(origin CC),command line)
  TOOLCHAIN := $(TOOLCHAIN) with CC=$(CC)
  TOOLCHAIN_FOLDER := $(TOOLCHAIN_FOLDER)/$(notdir $(firstword $(CC)))
endif
NASM    := nasm
PYTHON  := python3
GRUB_MKRESCUE ?=
# tools/mkiso strips the ISO's copy of a kernel with the same toolchain's objcopy.
MKISO = OBJCOPY="$(OBJCOPY)" GRUB_MKRESCUE="$(GRUB_MKRESCUE)" tools/mkiso

# gcc would compile string.c's memset loop into a call to memset itself;
# clang does not under -ffreestanding, and does not know the option.
ifeq ($(findstring clang,$(notdir $(firstword $(CC)))),)
  COMPILER_CFLAGS := -fno-tree-loop-distribute-patterns
endif
WARNINGS := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wno-unused-parameter
CFLAGS   := -std=c2x -O2 -g -ffreestanding -fno-pic -fno-pie -mcmodel=kernel \
            -mno-red-zone -mno-mmx -mno-sse -mno-sse2 -fno-stack-protector \
            -fno-asynchronous-unwind-tables -fno-omit-frame-pointer \
            $(COMPILER_CFLAGS) $(WARNINGS) $(EXTRA_CFLAGS)
# The boot code runs before paging, so its segment is RWX by design (binutils
# older than 2.39 neither warns nor knows the option).
NO_RWX_WARNING := $(shell $(LD) --help 2>/dev/null | grep -o -m1 -- --no-warn-rwx-segments)
LDFLAGS  := -nostdlib -static -no-pie -z max-page-size=0x1000 --build-id=none \
            $(NO_RWX_WARNING) -T common/linker.ld
# Where the compiler has a libgcc (clang for this target has none), it links
# after the objects, for any helper the compiler calls.
LIBGCC   := $(wildcard $(shell $(CC) -print-libgcc-file-name 2>/dev/null))
# Bytes of padding before the tests' code and the test harness's code, data
# and bss (linker.ld): the grader picks them at random for each run
# (grader/gradelib/layout.py). Only the link sees them (LAYOUT_STAMP below), so
# a new layout relinks without recompiling anything.
HARNESS_PADDINGS := TESTS TEXT DATA BSS
$(foreach P,$(HARNESS_PADDINGS),$(eval HARNESS_$(P)_PADDING ?= 0))
HARNESS_LDFLAGS := $(foreach P,$(HARNESS_PADDINGS),--defsym=HARNESS_$(P)_PADDING=$(HARNESS_$(P)_PADDING))
NASMFLAGS := -f elf64

# ---- what a lesson's kernel is made of ---------------------------------------
# lessons/NN-name/lesson.mk says it, in lists of file names (in lessons/NN-name/):
#   STUDENT_NN  the files a student edits; solutions/NN-name/ has their references
#   LIBRARY_NN  code that later lessons' kernels reuse
#   OWN_NN      this lesson's kernel only (main.c: init and demo; test helpers)
#   TESTS_NN    the in-kernel tests
#   FLAVOURS_NN alternative kernels (lesson 15: KHEAP=freelist); flavour F has
#               its own STUDENT_NN_F and TESTS_NN_F, which replace STUDENT_NN
#               and TESTS_NN
#   GDB_BREAK_NN where make gdb-lessonNN stops (lesson_demo if unset)
#   INIT_NN     the functions (void f(void)) that bring the lesson's subsystems
#               up: common/main.c calls every lesson's, earlier lessons first,
#               then the kernel's own lesson_init (main.c) if it has one
#   TRACED_NN, TRACE_NN  make trace-lessonN: the functions trace kernels wrap,
#               and the file with the wrappers (common/trace/ktrace.h)
# A lesson's kernel = common/ + every earlier lesson's library files and the
# references of its student files + this lesson's files. An instructor's hidden
# tests (grader/grade --extra-tests) are lessons/NN-name/tests_hidden_*.c, in the
# main kernel, or tests_hidden_*_F.c, in flavour F's.
LESSONS := $(sort $(notdir $(wildcard lessons/[0-9][0-9]-*)))
NUMBERS := $(foreach L,$(LESSONS),$(firstword $(subst -, ,$(L))))
-include $(addsuffix /lesson.mk,$(addprefix lessons/,$(LESSONS)))
FLAVOUR ?=

# SAN=1: every kernel built with -fsanitize=undefined into build/san/, the
# checks reported by common/ubsan.c (compiled without the flag itself).
SAN ?= 0
SANITIZE := $(if $(filter 1,$(SAN)),-fsanitize=undefined)
COMMON_C   := $(filter-out common/main.c $(if $(SANITIZE),,common/ubsan.c),$(wildcard common/*.c))
COMMON_ASM := $(wildcard common/*.asm)

INCLUDES := -Icommon $(addprefix -Ilessons/,$(LESSONS))

# Each toolchain builds into its own folder (build/ is the host's GNU tools').
BUILD := build$(TOOLCHAIN_FOLDER)$(if $(SANITIZE),/san)

# TRACE=1 (what make trace-lessonN uses): kernels whose lessons' public calls
# (TRACED_NN), and the page calls of common/paging.c made during them, go
# through wrappers (ld --wrap: common/trace/ktrace.c and each lesson's
# TRACE_NN file), built apart in build/trace/ (under the toolchain's folder).
TRACE ?= 0
TRACE_BUILD := build$(TOOLCHAIN_FOLDER)/trace$(if $(SANITIZE),/san)
TRACED := paging_map paging_unmap $(foreach N,$(NUMBERS),$(TRACED_$(N)))
ifeq ($(TRACE),1)
BUILD := $(TRACE_BUILD)
COMMON_C += common/trace/ktrace.c
LDFLAGS += $(addprefix --wrap=,$(TRACED))
endif

# LECTURE=1: every kernel built for stepping through in GDB in a class (into
# build/lecture/). At -O0 each helper is a call of its own and every local
# lives in the frame for the whole call, so `info locals` always has a value;
# -Og -fno-inline steps as well but, 15 steps from kmalloc into bump(), still
# shows start = <optimized out> (a value not computed yet or no longer needed).
# SAN=1 LECTURE=1 builds into build/san/lecture/; EXTRA_CFLAGS still wins.
LECTURE ?= 0
ifneq ($(filter 1 yes true,$(LECTURE)),)
CFLAGS += -O0 $(EXTRA_CFLAGS)
BUILD := $(BUILD)/lecture
endif

# A stamp per build folder holds the commands and flags its files were built
# with; it changes only when they do, and every object and kernel depends on
# it: a new EXTRA_CFLAGS (or compiler, or Makefile flag) rebuilds what it affects.
# (Written through a file of its own per make, $@.PID: several makes may
# share a build folder, as two debug sessions do.)
FLAGS_STAMP := $(BUILD)/flags
BUILD_FLAGS := $(CC) $(CFLAGS) $(SANITIZE) $(INCLUDES); $(NASM) $(NASMFLAGS); $(LD) $(LDFLAGS);\
               $(OBJCOPY)
$(FLAGS_STAMP): FORCE
	@mkdir -p $(@D); new=$@.$$$$; echo '$(BUILD_FLAGS)' > $$new; \
	if cmp -s $$new $@; then rm $$new; else mv $$new $@; echo "  FLAGS   $@"; fi

# REFERENCE=1: the reference kernels (solutions/), built as build/solutionN.*;
# the starter's are build/lessonN.*.
REFERENCE ?= 0
VARIANT := $(if $(filter 1 yes true,$(REFERENCE)),solution,lesson)

number_of = $(firstword $(subst -, ,$(1)))
# $(call X,NUMBER,FLAVOUR): the file names of a kernel of that flavour.
flavoured     = $(if $(2),$(if $(filter undefined,$(origin $(1)_$(2))),$($(1)),$($(1)_$(2))),$($(1)))
kernel_student = $(call flavoured,STUDENT_$(1),$(2))
hidden_tests  = $(notdir $(if $(2),$(wildcard lessons/$(3)/tests_hidden_*_$(2).c),\
                  $(filter-out $(foreach F,$(FLAVOURS_$(1)),%_$(F).c),\
                    $(wildcard lessons/$(3)/tests_hidden_*.c))))
kernel_tests  = $(call flavoured,TESTS_$(1),$(2)) $(call hidden_tests,$(1),$(2),$(3))
# Every file a student of lesson NUMBER edits, over all its kernels.
student_files = $(sort $(STUDENT_$(1)) $(foreach F,$(FLAVOURS_$(1)),$(STUDENT_$(1)_$(F))))
object        = $(addsuffix .o,$(addprefix $(BUILD)/obj/,$(basename $(1))))

# $(1): lesson folder, $(2): its number, $(3): variant (lesson = starter,
# solution = reference), $(4): flavour or empty. PREVIOUS: the earlier lessons.
define KERNEL_RULES
KERNEL := $(3)$(2)$(if $(4),-$(4))
SRCS_$$(KERNEL) := $(COMMON_C) $(COMMON_ASM) \
    $(foreach E,$(PREVIOUS),$(addprefix lessons/$(E)/,$(LIBRARY_$(call number_of,$(E)))) \
        $(addprefix solutions/$(E)/,$(STUDENT_$(call number_of,$(E))))) \
    $(addprefix lessons/$(1)/,$(OWN_$(2)) $(LIBRARY_$(2)) $(call kernel_tests,$(2),$(4),$(1))) \
    $(if $(filter 1,$(TRACE)),$(foreach E,$(PREVIOUS) $(1),\
        $(addprefix lessons/$(E)/,$(TRACE_$(call number_of,$(E)))))) \
    $(addprefix $(if $(filter solution,$(3)),solutions,lessons)/$(1)/,$(call kernel_student,$(2),$(4)))

$(BUILD)/$$(KERNEL).elf: $$(call object,$$(SRCS_$$(KERNEL))) $(BUILD)/obj/$$(KERNEL)/main.o common/linker.ld \
    $(FLAGS_STAMP) $(LAYOUT_STAMP)
	@echo "  LD      $$@"
	@$(LD) $(LDFLAGS) $(HARNESS_LDFLAGS) -o $$@ $$(filter %.o,$$^) $(LIBGCC)

$(BUILD)/obj/$$(KERNEL)/main.o: common/main.c $(FLAGS_STAMP)
	@mkdir -p $$(@D)
	@echo "  CC      $$@"
	@$(CC) $(CFLAGS) $(SANITIZE) $(INCLUDES) -DLESSON_NAME='"$(1)"' -DLESSON_FLAVOUR='"$(4)"' \
	    -D'LESSON_INITS(CALL)=$(foreach E,$(PREVIOUS) $(1),$(foreach I,$(INIT_$(call number_of,$(E))),CALL($(I))))' \
	    -DLESSON_BUILD='"$(if $(filter solution,$(3)),reference,starter)"' -MMD -MP -c $$< -o $$@
endef

# A kernel is linked again when the harness's padding changes.
# Written only when a kernel is linked: make's other targets (print-lab ...)
# leave the tree as it is.
LAYOUT_STAMP := $(BUILD)/harness-layout
LAYOUT := $(foreach P,$(HARNESS_PADDINGS),$(HARNESS_$(P)_PADDING))
$(LAYOUT_STAMP): FORCE
	@mkdir -p $(@D); new=$@.$$$$; echo '$(LAYOUT)' > $$new; \
	if cmp -s $$new $@; then rm $$new; else mv $$new $@; fi

PREVIOUS :=
$(foreach L,$(LESSONS),$(foreach V,lesson solution,$(foreach F,- $(FLAVOURS_$(call \
    number_of,$(L))),$(eval $(call KERNEL_RULES,$(L),$(call number_of,$(L)),$(V),$(F:-=)))))\
    $(eval PREVIOUS += $(L)))

# For the grader and the tools (grader/gradelib/lab.py): what each lesson is
# made of, a line "KEY LESSON [KERNEL]: VALUES" each.
print-lab:
	@$(foreach L,$(LESSONS),$(foreach N,$(call number_of,$(L)),\
	    echo "student $(L): $(call student_files,$(N))";\
	    echo "gdb-break $(L): $(or $(GDB_BREAK_$(N)),lesson_demo)";\
	    $(foreach F,- $(FLAVOURS_$(N)),\
	        echo "kernel $(L) lesson$(N)$(if $(F:-=),-$(F)): $(call kernel_student,$(N),$(F:-=))";\
	        echo "tests $(L) lesson$(N)$(if $(F:-=),-$(F)): $(call kernel_tests,$(N),$(F:-=),$(L))";)))

# The kernel `make lessonN` means: starter or reference, and the flavour asked for.
kernel_name = $(VARIANT)$(1)$(if $(and $(FLAVOUR),$(filter $(FLAVOUR),$(FLAVOURS_$(1)))),-$(FLAVOUR))

# The files students edit (lessons/NN/ twins of solutions/NN/) keep their
# warnings but not -Werror: a warning must not cost a student every point.
$(foreach L,$(LESSONS),$(eval $(call object,$(addprefix lessons/$(L)/,\
    $(call student_files,$(call number_of,$(L))))): WERROR := -Wno-error))

# Every file compiles once, whichever kernels use it. Header names are unique
# across lessons, so one include path serves all of them.
$(BUILD)/obj/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) $(WERROR) $(if $(filter common/ubsan.c,$<),,$(SANITIZE)) $(INCLUDES) \
	    -MMD -MP -c $< -o $@

$(BUILD)/obj/%.o: %.asm $(FLAGS_STAMP)
	@mkdir -p $(@D)
	@echo "  NASM    $<"
	@$(NASM) $(NASMFLAGS) -MD $(@:.o=.d) -MP $< -o $@

# Demo ISOs boot the default mode; test ISOs the in-kernel tests (ONLY=NAME[,NAME]
# picks tests). The grader makes its own test ISOs, each with a fresh nonce.
ONLY ?=
TEST_COMMAND_LINE := mode=test$(if $(ONLY), ktest.only=$(ONLY))

$(BUILD)/%.iso: $(BUILD)/%.elf tools/mkiso
	@echo "  ISO     $@"
	@$(MKISO) $< $@ "mode=demo"

# The kernel's symbols for Bochs's debugger (`ldsym`): a line "ADDRESS NAME"
# (hex) per function and variable, in address order, and the linker script's
# higher-half addresses (HEAP_WINDOW: `x` on the heap then says
# <HEAP_WINDOW+20>, where it said <bogus+ 0>). Bochs names an address after
# the symbol below it only if some symbol lies above it: the last line is one
# at the top of the address space, END_OF_SYMBOLS.
$(BUILD)/%.sym: $(BUILD)/%.elf
	@echo "  SYM     $@"
	@nm -n --defined-only $< | awk '$$2 ~ /^[tTdDbBrR]$$/ || ($$2 == "A" && $$1 ~ /^ffffffff8/) \
	    { print $$1, $$3 } END { print "ffffffffffffffff", "END_OF_SYMBOLS" }' > $@

$(BUILD)/%-test.iso: $(BUILD)/%.elf tools/mkiso FORCE
	@echo "  ISO     $@ ($(TEST_COMMAND_LINE))"
	@$(MKISO) $< $@ "$(TEST_COMMAND_LINE)"

FORCE:

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# Host builds of the allocators: make check-host, fuzz, bench (tests/host/host.mk).
-include tests/host/host.mk

# ---- user-facing targets --------------------------------------------------------
.PHONY: all help deps test-deps apt-install doctor lint clean test compdb grade print-lab \
        print-packages print-toolchain print-cflags
.DEFAULT_GOAL := help

KERNELS := $(foreach N,$(NUMBERS),$(foreach V,lesson solution,$(foreach F,- $(FLAVOURS_$(N)),\
               $(V)$(N)$(if $(F:-=),-$(F)))))
all: $(addprefix $(BUILD)/,$(addsuffix .iso,$(KERNELS)))

# For the grader's checks of submitted files: how the lab compiles C.
print-cflags:
	@echo $(CFLAGS) $(INCLUDES)

# For tools/gradescope: what the Gradescope image installs. It grades one
# submission at a time, so it leaves out what only a batch uses (sim_c).
BATCH_ONLY_PACKAGES := similarity-tester
print-packages:
	@echo $(filter-out $(BATCH_ONLY_PACKAGES),$(DEBIAN_PACKAGES))

# For the grader, tools/doctor and tests/selftest: the tools a build uses.
print-toolchain:
	@echo "TOOLCHAIN=$(TOOLCHAIN)"
	@echo "BUILD=$(BUILD)"
	@echo "CC=$(CC)"
	@echo "LD=$(LD)"
	@echo "OBJCOPY=$(OBJCOPY)"
	@echo "ADDR2LINE=$(ADDR2LINE)"
	@echo "GRUB_MKRESCUE=$(GRUB_MKRESCUE)"


$(foreach N,$(NUMBERS),$(eval .PHONY: lesson$(N) run-lesson$(N) bochs-lesson$(N) \
    test-lesson$(N) debug-lesson$(N) gdb-lesson$(N) grade-lesson$(N)))

# make lessonN [REFERENCE=1]: build/lessonN.{elf,iso} (or build/solutionN.*)
$(foreach N,$(NUMBERS),$(eval lesson$(N): $(BUILD)/$(call kernel_name,$(N)).iso))

# make run-lessonN: QEMU, windowed if there is a display, serial on the terminal
$(foreach N,$(NUMBERS),$(eval run-lesson$(N): $(BUILD)/$(call kernel_name,$(N)).iso ; \
    @tools/boot --emu qemu $$<))

# make test-lessonN: boot the in-kernel tests and show the raw protocol
# (HOST=1: the same tests as a Linux program under ASan and UBSan, tests/host/host.mk)
ifneq ($(HOST),1)
$(foreach N,$(NUMBERS),$(eval test-lesson$(N): $(BUILD)/$(call kernel_name,$(N))-test.iso ; \
    @tools/boot --emu qemu $$<))
endif

# make bochs-lessonN: Bochs (magic breakpoints and port 0xE9 on), the
# kernel's symbols loaded into its debugger; BOCHS_BREAK=FUNCTION stops in
# that function's first call (a breakpoint set before the kernel boots)
$(foreach N,$(NUMBERS),$(eval bochs-lesson$(N): $(BUILD)/$(call kernel_name,$(N)).iso \
    $(BUILD)/$(call kernel_name,$(N)).sym ; @tools/boot --emu bochs --symbols $$(word 2,$$^) \
    $(if $(BOCHS_BREAK),--break $(BOCHS_BREAK)) $$<))

# make debug-lessonN: QEMU paused, waiting for GDB (make gdb-lessonN in another
# terminal); with ONLY=TEST it boots that test instead of the demo. The port is
# the first free one from 20000 + uid, or GDB_PORT=N; gdb-lessonN attaches to a
# session of the same kernel (tools/debugsession.py), waiting for one if needed.
$(foreach N,$(NUMBERS),$(eval debug-lesson$(N): \
    $(BUILD)/$(call kernel_name,$(N))$(if $(ONLY),-test).iso ; \
    @tools/boot --emu qemu --debug $(if $(GDB_PORT),--port $(GDB_PORT)) $$<))

# GDB_SCRIPT=FILE runs FILE's commands non-interactively (a rehearsal of a demo).
$(foreach N,$(NUMBERS),$(eval gdb-lesson$(N): $(BUILD)/$(call kernel_name,$(N)).elf ; \
    @tools/gdb $(if $(GDB_PORT),--port $(GDB_PORT)) $(if $(GDB_SCRIPT),--batch $(GDB_SCRIPT)) $$<))

# make grade-lessonN [REFERENCE=1]
$(foreach N,$(NUMBERS),$(eval grade-lesson$(N): ; \
    @$(PYTHON) grader/grade $(if $(filter solution,$(VARIANT)),--reference) $(N)))

grade:
	@$(PYTHON) grader/grade $(if $(filter solution,$(VARIANT)),--reference)

# make trace-lessonN [ONLY=test]: the demo (or that test) with the lesson's
# allocator traced (frames, kmalloc, valloc), drawn in one page per kernel:
# build/trace-KERNEL[-test]-TOOLCHAIN.html (trace_page), e.g.
# build/trace-solution15-freelist-gnu.html; it says whether it traces the
# starter or the reference.
trace_tag  = $(or $(subst /,-,$(patsubst /%,%,$(TOOLCHAIN_FOLDER))),gnu)$(if $(SANITIZE),-san)
trace_page = build/trace-$(call kernel_name,$(1))$(if $(ONLY),-test)-$(trace_tag).html
trace_reference = the reference ($(1) with solutions/$(2)/)
trace_starter   = the starter ($(1) with your files in lessons/$(2)/; REFERENCE=1 traces the reference)
trace_says = $(call trace_$(if $(filter solution,$(VARIANT)),reference,starter),$(1),$(2))
$(foreach N,$(NUMBERS),$(eval .PHONY: trace-lesson$(N)))
$(foreach L,$(LESSONS),$(foreach N,$(call number_of,$(L)),$(eval trace-lesson$(N): ; \
    @echo "trace: tracing $(call trace_says,$(call kernel_name,$(N)),$(L))" && \
    $$(MAKE) --no-print-directory TRACE=1 \
        $(TRACE_BUILD)/$(call kernel_name,$(N))$$(if $$(ONLY),-test).iso && \
    $(PYTHON) tools/trace run --elf $(TRACE_BUILD)/$(call kernel_name,$(N)).elf \
        --out $(call trace_page,$(N)) \
        $(TRACE_BUILD)/$(call kernel_name,$(N))$$(if $$(ONLY),-test).iso)))

# The lab's tools; qemu-system-gui gives QEMU its window at a desktop.
# make gradescope LESSON=N [EXTRA_TESTS=DIR]: build/gradescope-lessonN.zip for Gradescope
.PHONY: gradescope
gradescope:
	@tools/gradescope $(or $(LESSON),$(error say which lesson: make gradescope LESSON=N)) \
	    $(if $(EXTRA_TESTS),--extra-tests $(EXTRA_TESTS))

# What a student or a grading machine needs (make deps; the Gradescope image),
# and what the lab's own checks add (make test-deps; CI): the static analysers,
# the LLVM toolchain and sanitizer runtimes, valgrind, a browser for the trace page,
# tmux for the lecture's rehearsal (tests/lecture_rehearsal.py).
# git: the grader tells a student's work from the starter by the clone's history;
# similarity-tester (sim_c): grade --batch --similarity; python3-yaml: reading a
# Gradescope export (and tests/workflow-selftest's GitHub workflow).
DEBIAN_PACKAGES := make gcc binutils nasm grub-pc-bin grub-common xorriso mtools \
                   qemu-system-x86 qemu-system-gui bochs bochs-x bochsbios vgabios gdb python3 \
                   util-linux git bubblewrap similarity-tester python3-yaml
TEST_PACKAGES   := cppcheck clang-tidy clang-format clang lld llvm libclang-rt-dev valgrind \
                   chromium tmux
# Packages some supported releases lack (Debian 13 has no similarity-tester):
# where apt does not know one, make deps says so and installs the others.
UNPACKAGED_SOMEWHERE := similarity-tester

deps:
	@$(MAKE) --no-print-directory apt-install PACKAGES="$(DEBIAN_PACKAGES)"

test-deps:
	@$(MAKE) --no-print-directory apt-install PACKAGES="$(DEBIAN_PACKAGES) $(TEST_PACKAGES)"

# As root (a fresh Debian has no sudo) apt-get runs as it is; otherwise through sudo.
apt-install:
	@if [ "$$(id -u)" = 0 ]; then SUDO=; \
	elif command -v sudo >/dev/null 2>&1; then SUDO=sudo; \
	else echo "make: installing packages needs root: run this as root, or install sudo" >&2; \
	    exit 1; fi; \
	$$SUDO apt-get update || exit 1; \
	packages=; for package in $(PACKAGES); do \
	    case " $(UNPACKAGED_SOMEWHERE) " in *" $$package "*) \
	        if [ -z "$$(apt-cache --quiet=2 policy $$package 2>/dev/null | grep -v 'Candidate: (none)' \
	                | grep 'Candidate:')" ]; then \
	            echo "make: $$package is not packaged for this system: left out" \
	                "(what needs it says so when it runs)"; continue; fi ;; esac; \
	    packages="$$packages $$package"; done; \
	$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$packages

doctor:
	@tools/doctor

lint:
	@tools/lint

test:
	@tests/selftest

compdb:
	@$(PYTHON) tools/compdb.py $(CC) $(CFLAGS) $(INCLUDES) > compile_commands.json
	@echo "  wrote compile_commands.json"

clean:
	rm -rf $(BUILD) compile_commands.json

help:
	@echo "kernel-memory-lab: lessons $(LESSONS)"
	@echo ""
	@echo "  make lessonN          build build/lessonN.iso and .elf (N = $(NUMBERS))"
	@echo "  make lessonN REFERENCE=1  the same with the reference solution (build/solutionN.*)"
	@echo "  make ... SAN=1        any target with -fsanitize=undefined kernels (build/san/)"
	@echo "  make ... LLVM=1       any target with clang, ld.lld, llvm-objcopy (build/llvm/)"
	@echo "  make ... CROSS_COMPILE=x86_64-elf-   with prefixed GNU tools (build/x86_64-elf/)"
	@echo "  make ... LECTURE=1    any target with kernels for stepping in GDB, -O0 (build/lecture/)"
	@echo "  make run-lessonN      boot the demo in QEMU (serial output on this terminal)"
	@echo "  make test-lessonN     boot the in-kernel tests in QEMU and show their output"
	@echo "                        (ONLY=name[,name] runs just those tests)"
	@echo "  make test-lessonN HOST=1  the same tests in seconds as a Linux program, under"
	@echo "                        AddressSanitizer and UBSan (the kernel run gives the verdict)"
	@echo "  make bochs-lessonN    boot the demo in Bochs (BOCHS_BREAK=kmalloc: stop in its first call)"
	@echo "  make debug-lessonN    start QEMU paused with a GDB server (GDB_PORT=N: its port)"
	@echo "  make gdb-lessonN      attach GDB to it (in a second terminal; GDB_SCRIPT=FILE runs FILE)"
	@echo "  make grade-lessonN    grade lesson N (grader/grade N)"
	@echo "  make grade            grade every lesson"
	@echo "  make all              build every lesson, starter and reference"
	@echo "  make gradescope LESSON=N  build/gradescope-lessonN.zip: the autograder for Gradescope"
	@echo "  make trace-lessonN    the demo with the allocator traced: build/trace-KERNEL-TOOLCHAIN.html"
	@echo "  make test             everything CI runs"
	@echo "  make deps             install the Debian packages a lesson needs (apt-get)"
	@echo "  make test-deps        the same, and what make test needs too (analysers, LLVM, chromium)"
	@echo "  make doctor           check the tools and name what is missing"
	@echo "  make lint             clang-format check, cppcheck, clang-tidy"
	@echo "  make compdb           write compile_commands.json for editors"
	@echo "  make clean            remove build/"
