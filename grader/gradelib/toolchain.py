"""The toolchain a build uses, as the Makefile resolves it (`make
print-toolchain`): the host's GNU tools, CROSS_COMPILE=PREFIX or LLVM=1, from
the environment as `LLVM=1 grader/grade` sets it. The grader builds into the
same folder, strips and symbolises kernels with the same tools, and its hints
repeat the same make variables."""

import functools
import os
import shlex
import shutil
import subprocess
from pathlib import Path

from . import emulators

ROOT = Path(__file__).resolve().parent.parent.parent
# The make variables that choose how kernels are built, passed on in hints.
MAKE_VARIABLES = ("LLVM", "CROSS_COMPILE", "GRUB_MKRESCUE", "SAN", "LECTURE")
# GRUB's ISO maker is named differently on Debian, Fedora and Homebrew.
MKRESCUE_NAMES = ("grub-mkrescue", "grub2-mkrescue", "x86_64-elf-grub-mkrescue",
                  "i686-elf-grub-mkrescue")


@functools.lru_cache(maxsize=None)
def settings():
    """TOOLCHAIN, BUILD, CC, LD, OBJCOPY, ADDR2LINE and GRUB_MKRESCUE, as make
    sees them here; the host's GNU tools in build/ if make cannot say."""
    try:
        output = subprocess.run(["make", "-s", "--no-print-directory", "-C", str(ROOT),
                                 "print-toolchain"], capture_output=True, text=True,
                                timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        output = ""
    values = dict(line.split("=", 1) for line in output.splitlines() if "=" in line)
    defaults = {"TOOLCHAIN": "gnu", "BUILD": "build", "CC": "gcc", "LD": "ld",
                "OBJCOPY": "objcopy", "ADDR2LINE": "addr2line", "GRUB_MKRESCUE": ""}
    return {key: values.get(key) or default for key, default in defaults.items()}


def build_folder():
    return settings()["BUILD"]


def compiler():
    """The C compiler's command, as a list (clang carries its --target)."""
    return shlex.split(settings()["CC"])


def listing_flags():
    """Flags with which `-S` prints inline assembly as written: clang's
    integrated assembler would carry out an .incbin or .include in its
    listing, hiding it from the check of submitted files."""
    return ["-fno-integrated-as"] if "clang" in Path(compiler()[0]).name else []


def tool(name):
    """A binutils program of this toolchain ("nm", "objdump"), named as its
    objcopy is: nm, x86_64-elf-nm, llvm-nm (-15)."""
    objcopy = settings()["OBJCOPY"]
    if "objcopy" not in objcopy:
        return name
    head, _, tail = objcopy.rpartition("objcopy")
    return f"{head}{name}{tail}"


@functools.lru_cache(maxsize=None)
def include_folders():
    """The compiler's own headers (<stdint.h>, <stddef.h>, ...), which are all
    of the system a freestanding file may include: with -nostdinc, these
    folders alone stand in for /usr/include."""
    command = compiler()
    if "clang" in Path(command[0]).name:
        asked = ["-print-resource-dir"]
        suffix = "include"
    else:
        asked, suffix = ["-print-file-name=include"], ""
    try:
        answer = subprocess.run([*command, *asked], capture_output=True, text=True,
                                timeout=60).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return []
    folder = Path(answer) / suffix if answer else None
    return [str(folder.resolve())] if folder is not None and folder.is_dir() else []


def mkrescue():
    """GRUB_MKRESCUE if set, else the first of GRUB's names that is installed."""
    named = settings()["GRUB_MKRESCUE"]
    for name in [named] if named else MKRESCUE_NAMES:
        if shutil.which(name):
            return name
    raise emulators.MissingTool(
        f"GRUB's ISO maker ({named or ' or '.join(MKRESCUE_NAMES)}) is not installed:"
        " `make doctor` says what to install")


def mkiso_environment():
    """What tools/mkiso needs to use this toolchain's objcopy and GRUB."""
    return dict(os.environ, OBJCOPY=settings()["OBJCOPY"], GRUB_MKRESCUE=mkrescue())


def required_tools():
    """The commands a build runs: make, the compiler, linker, objcopy, NASM."""
    return ["make", compiler()[0], settings()["LD"], settings()["OBJCOPY"], "nasm"]


def make_options():
    """' LLVM=1 SAN=1'-style: the variables of this environment that choose
    the build, for commands the grader suggests."""
    return "".join(f" {name}={shlex.quote(os.environ[name])}" for name in MAKE_VARIABLES
                   if os.environ.get(name))
