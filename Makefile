# kernel-memory-lab - build, boot, debug and grade the lessons' kernels.
# `make help` lists the targets.

# ---- toolchain and flags ----------------------------------------------------
CC      := gcc
LD      := ld
NASM    := nasm
OBJCOPY := objcopy
PYTHON  := python3

WARNINGS := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wno-unused-parameter
CFLAGS   := -std=c2x -O2 -g -ffreestanding -fno-pic -fno-pie -mcmodel=kernel \
            -mno-red-zone -mno-mmx -mno-sse -mno-sse2 -fno-stack-protector \
            -fno-asynchronous-unwind-tables -fno-omit-frame-pointer \
            -fno-tree-loop-distribute-patterns $(WARNINGS) $(EXTRA_CFLAGS)
# The boot code runs before paging, so its segment is RWX by design (binutils
# older than 2.39 neither warns nor knows the option).
NO_RWX_WARNING := $(shell $(LD) --help 2>/dev/null | grep -o -m1 -- --no-warn-rwx-segments)
LDFLAGS  := -nostdlib -static -no-pie -z max-page-size=0x1000 --build-id=none \
            $(NO_RWX_WARNING) -T common/linker.ld
LIBGCC   := $(shell $(CC) -print-libgcc-file-name)
# Bytes of padding before the tests' code and the test harness's code, data
# and bss (linker.ld): the grader picks them at random for each run
# (grader/gradelib/layout.py).
HARNESS_PADDINGS := TESTS TEXT DATA BSS
$(foreach P,$(HARNESS_PADDINGS),$(eval HARNESS_$(P)_PADDING ?= 0))
LDFLAGS  += $(foreach P,$(HARNESS_PADDINGS),--defsym=HARNESS_$(P)_PADDING=$(HARNESS_$(P)_PADDING))
NASMFLAGS := -f elf64

# ---- what a lesson's kernel is made of ---------------------------------------
# lessons/NN-name holds the lesson's headers, its own files (main.c: init and
# demo; tests*.c: in-kernel tests; any other .c: code later lessons reuse) and
# the starter versions of the files a student edits. solutions/NN-name holds
# the reference versions of exactly those files, so its listing is also the
# list of files a student edits. A lesson's kernel = common/ + every earlier
# lesson's reusable code and reference solutions + this lesson's files.
LESSONS := $(sort $(notdir $(wildcard lessons/[0-9][0-9]-*)))
NUMBERS := $(foreach L,$(LESSONS),$(firstword $(subst -, ,$(L))))

# SAN=1: every kernel built with -fsanitize=undefined into build/san/, the
# checks reported by common/ubsan.c (compiled without the flag itself).
SAN ?= 0
SANITIZE := $(if $(filter 1,$(SAN)),-fsanitize=undefined)
COMMON_C   := $(filter-out common/main.c $(if $(SANITIZE),,common/ubsan.c),$(wildcard common/*.c))
COMMON_ASM := $(wildcard common/*.asm)

INCLUDES := -Icommon $(addprefix -Ilessons/,$(LESSONS))

BUILD := build$(if $(SANITIZE),/san)
SOLUTION ?= 0
VARIANT := $(if $(filter 1 yes true,$(SOLUTION)),solution,lesson)

# Flavours: a lesson may build alternative kernels (lesson 15: KHEAP=freelist).
# lessons/NN-name/lesson.mk lists them in FLAVOURS_NN. In flavour F, a file
# X_F.c replaces X.c (the student's kheap_freelist.c for kheap.c, its
# tests_freelist.c for tests.c); files named *_F.c are left out otherwise.
-include $(wildcard lessons/*/lesson.mk)
FLAVOUR ?=

student_files = $(notdir $(wildcard solutions/$(1)/*.c))
own_files     = $(addprefix lessons/$(1)/,main.c) $(wildcard lessons/$(1)/tests*.c)
library_files = $(filter-out $(call own_files,$(1)) \
                  $(addprefix lessons/$(1)/,$(call student_files,$(1))), \
                  $(wildcard lessons/$(1)/*.c))
object        = $(addsuffix .o,$(addprefix $(BUILD)/obj/,$(basename $(1))))

# $(call pick,FILES,NUMBER,FLAVOUR): FILES as the kernel of that flavour sees them.
flavour_files = $(foreach F,$(FLAVOURS_$(2)),$(filter %_$(F).c,$(1)))
plain_files   = $(filter-out $(call flavour_files,$(1),$(2)),$(1))
pick = $(foreach X,$(call plain_files,$(1),$(2)),$(if $(and $(3),$(filter \
         $(basename $(X))_$(3).c,$(1))),$(basename $(X))_$(3).c,$(X)))

# $(1): lesson folder, $(2): its number, $(3): variant (lesson = starter,
# solution = reference), $(4): flavour or empty. PREVIOUS: the earlier lessons.
define KERNEL_RULES
KERNEL := $(3)$(2)$(if $(4),-$(4))
SRCS_$$(KERNEL) := $(COMMON_C) $(COMMON_ASM) \
    $(foreach E,$(PREVIOUS),$(call pick,$(call library_files,$(E)) \
        $(wildcard solutions/$(E)/*.c),$(firstword $(subst -, ,$(E))),)) \
    $(call pick,$(call own_files,$(1)) $(call library_files,$(1)) \
        $(if $(filter solution,$(3)),$(wildcard solutions/$(1)/*.c), \
            $(addprefix lessons/$(1)/,$(call student_files,$(1)))),$(2),$(4))

$(BUILD)/$$(KERNEL).elf: $$(call object,$$(SRCS_$$(KERNEL))) $(BUILD)/obj/$$(KERNEL)/main.o common/linker.ld \
    $(LAYOUT_STAMP)
	@echo "  LD      $$@"
	@$(LD) $(LDFLAGS) -o $$@ $$(filter %.o,$$^) $(LIBGCC)

$(BUILD)/obj/$$(KERNEL)/main.o: common/main.c
	@mkdir -p $$(@D)
	@echo "  CC      $$@"
	@$(CC) $(CFLAGS) $(SANITIZE) $(INCLUDES) -DLESSON_NAME='"$(1)"' -DLESSON_FLAVOUR='"$(4)"' \
	    -DLESSON_BUILD='"$(if $(filter solution,$(3)),reference,starter)"' -MMD -MP -c $$< -o $$@
endef

# A kernel is linked again when the harness's padding changes.
LAYOUT_STAMP := $(BUILD)/harness-layout
LAYOUT := $(foreach P,$(HARNESS_PADDINGS),$(HARNESS_$(P)_PADDING))
ifneq ($(LAYOUT),$(shell cat $(LAYOUT_STAMP) 2>/dev/null))
$(shell mkdir -p $(BUILD) && echo "$(LAYOUT)" > $(LAYOUT_STAMP))
endif

PREVIOUS :=
$(foreach L,$(LESSONS),$(foreach V,lesson solution,$(foreach F,- $(FLAVOURS_$(firstword \
    $(subst -, ,$(L)))),$(eval $(call KERNEL_RULES,$(L),$(firstword $(subst -, ,$(L))),$(V),$(F:-=)))))\
    $(eval PREVIOUS += $(L)))

# The kernel `make lessonN` means: starter or reference, and the flavour asked for.
kernel_name = $(VARIANT)$(1)$(if $(and $(FLAVOUR),$(filter $(FLAVOUR),$(FLAVOURS_$(1)))),-$(FLAVOUR))

# The files students edit (lessons/NN/ twins of solutions/NN/) keep their
# warnings but not -Werror: a warning must not cost a student every point.
$(foreach L,$(LESSONS),$(eval $(call object,$(addprefix lessons/$(L)/,\
    $(call student_files,$(L)))): WERROR := -Wno-error))

# Every file compiles once, whichever kernels use it. Header names are unique
# across lessons, so one include path serves all of them.
$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) $(WERROR) $(if $(filter common/ubsan.c,$<),,$(SANITIZE)) $(INCLUDES) \
	    -MMD -MP -c $< -o $@

$(BUILD)/obj/%.o: %.asm
	@mkdir -p $(@D)
	@echo "  NASM    $<"
	@$(NASM) $(NASMFLAGS) -MD $(@:.o=.d) -MP $< -o $@

# Demo ISOs boot the default mode; test ISOs the in-kernel tests (ONLY=NAME[,NAME]
# picks tests). The grader makes its own test ISOs, each with a fresh nonce.
ONLY ?=
TEST_COMMAND_LINE := mode=test$(if $(ONLY), ktest.only=$(ONLY))

$(BUILD)/%.iso: $(BUILD)/%.elf tools/mkiso
	@echo "  ISO     $@"
	@tools/mkiso $< $@ "mode=demo"

$(BUILD)/%-test.iso: $(BUILD)/%.elf tools/mkiso FORCE
	@echo "  ISO     $@ ($(TEST_COMMAND_LINE))"
	@tools/mkiso $< $@ "$(TEST_COMMAND_LINE)"

FORCE:

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# Host builds of the allocators: make check-host, fuzz, bench (host/host.mk).
-include host/host.mk

# ---- user-facing targets --------------------------------------------------------
.PHONY: all help deps doctor lint clean test compdb grade
.DEFAULT_GOAL := help

KERNELS := $(foreach N,$(NUMBERS),$(foreach V,lesson solution,$(foreach F,- $(FLAVOURS_$(N)),\
               $(V)$(N)$(if $(F:-=),-$(F)))))
all: $(addprefix $(BUILD)/,$(addsuffix .iso,$(KERNELS)))

# For the grader's checks of submitted files: how the lab compiles C.
print-cflags:
	@echo $(CFLAGS) $(INCLUDES)


$(foreach N,$(NUMBERS),$(eval .PHONY: lesson$(N) run-lesson$(N) bochs-lesson$(N) \
    test-lesson$(N) debug-lesson$(N) gdb-lesson$(N) grade-lesson$(N)))

# make lessonN [SOLUTION=1]: build/lessonN.{elf,iso} (or build/solutionN.*)
$(foreach N,$(NUMBERS),$(eval lesson$(N): $(BUILD)/$(call kernel_name,$(N)).iso))

# make run-lessonN: QEMU, windowed if there is a display, serial on the terminal
$(foreach N,$(NUMBERS),$(eval run-lesson$(N): $(BUILD)/$(call kernel_name,$(N)).iso ; \
    @tools/boot --emu qemu $$<))

# make test-lessonN: boot the in-kernel tests and show the raw protocol
$(foreach N,$(NUMBERS),$(eval test-lesson$(N): $(BUILD)/$(call kernel_name,$(N))-test.iso ; \
    @tools/boot --emu qemu $$<))

# make bochs-lessonN: Bochs (magic breakpoints and port 0xE9 on)
$(foreach N,$(NUMBERS),$(eval bochs-lesson$(N): $(BUILD)/$(call kernel_name,$(N)).iso ; \
    @tools/boot --emu bochs $$<))

# make debug-lessonN: QEMU paused, waiting for GDB (make gdb-lessonN in another
# terminal); with ONLY=TEST it boots that test instead of the demo
$(foreach N,$(NUMBERS),$(eval debug-lesson$(N): \
    $(BUILD)/$(call kernel_name,$(N))$(if $(ONLY),-test).iso ; @tools/boot --emu qemu --debug $$<))

$(foreach N,$(NUMBERS),$(eval gdb-lesson$(N): $(BUILD)/$(call kernel_name,$(N)).elf ; \
    @tools/gdb $$<))

# make grade-lessonN [SOLUTION=1]
$(foreach N,$(NUMBERS),$(eval grade-lesson$(N): ; \
    @$(PYTHON) grader/grade $(if $(filter solution,$(VARIANT)),--solution) $(N)))

grade:
	@$(PYTHON) grader/grade $(if $(filter solution,$(VARIANT)),--solution)

# The lab's tools; qemu-system-gui gives QEMU its window at a desktop.
# make gradescope LESSON=N [EXTRA_TESTS=DIR]: build/gradescope-lessonN.zip for Gradescope
.PHONY: gradescope
gradescope:
	@tools/gradescope $(or $(LESSON),$(error say which lesson: make gradescope LESSON=N)) \
	    $(if $(EXTRA_TESTS),--extra-tests $(EXTRA_TESTS))

DEBIAN_PACKAGES := make gcc binutils nasm grub-pc-bin grub-common xorriso mtools \
                   qemu-system-x86 qemu-system-gui bochs bochs-x bochsbios vgabios gdb python3 \
                   util-linux

deps:
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	$$SUDO apt-get update && $$SUDO env DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y --no-install-recommends $(DEBIAN_PACKAGES)

doctor:
	@tools/doctor

lint:
	@tools/lint

test:
	@tools/selftest

compdb:
	@$(PYTHON) tools/compdb.py $(CC) $(CFLAGS) $(INCLUDES) > compile_commands.json
	@echo "  wrote compile_commands.json"

clean:
	rm -rf $(BUILD) compile_commands.json

help:
	@echo "kernel-memory-lab: lessons $(LESSONS)"
	@echo ""
	@echo "  make lessonN          build build/lessonN.iso and .elf (N = $(NUMBERS))"
	@echo "  make lessonN SOLUTION=1   the same with the reference solution (build/solutionN.*)"
	@echo "  make ... SAN=1        any target with -fsanitize=undefined kernels (build/san/)"
	@echo "  make run-lessonN      boot the demo in QEMU (serial output on this terminal)"
	@echo "  make test-lessonN     boot the in-kernel tests in QEMU and show their output"
	@echo "                        (ONLY=name[,name] runs just those tests)"
	@echo "  make bochs-lessonN    boot the demo in Bochs"
	@echo "  make debug-lessonN    start QEMU paused with a GDB server"
	@echo "  make gdb-lessonN      attach GDB to it (in a second terminal)"
	@echo "  make grade-lessonN    grade lesson N (grader/grade N)"
	@echo "  make grade            grade every lesson"
	@echo "  make all              build every lesson, starter and reference"
	@echo "  make gradescope LESSON=N  build/gradescope-lessonN.zip: the autograder for Gradescope"
	@echo "  make test             everything CI runs"
	@echo "  make deps             install the Debian packages (apt-get)"
	@echo "  make doctor           check the tools and name what is missing"
	@echo "  make lint             clang-format check, cppcheck, clang-tidy"
	@echo "  make compdb           write compile_commands.json for editors"
	@echo "  make clean            remove build/"
