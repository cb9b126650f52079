"""Every program that touches a submission (the compiler, assembler and
linker, nm and objdump, make, QEMU and Bochs) runs here: in a bubblewrap
sandbox (Debian's `bubblewrap`), within resource limits, in a process group
of its own.

The sandbox shows the program /usr (the tools) and the folders it is given
(the lab copy), with a private /tmp, no home, no network and no
capabilities, in its own PID namespace: it dies with its parent, and killing
it kills everything it started. What a student's code could name at compile
time (an instructor's files, another student's, the grader's own) is simply
not there.

The grader reaches QEMU's gdbstub through a unix socket in the boot's
folder, which is shared with the sandbox. A TCP gdbstub on 127.0.0.1 would
need `network=True` (the machine's network namespace): for QEMU alone,
whose guest has no network device, so the student's code gains nothing.
Bochs, whose display server listens on every interface, always gets a
private network.

Where bubblewrap cannot run (not installed, or no namespaces: an old
kernel, a container that forbids them), programs run unsandboxed, with the
same limits, and the grader says so loudly: once on stderr when it first
happens, and in status() for the report. It never falls back silently.

Limits apply to every process (so to each compiler a make starts): its
address space, its CPU time and the size of any file it writes. A timeout
kills the whole process group."""

import functools
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    memory: int     # bytes of address space for each process
    cpu: int        # seconds of CPU time for each process
    file_size: int  # bytes of any one file it writes


# gcc and clang need under 40 MiB of memory and a second of CPU for any file
# of the lab (measured with /usr/bin/time): a preprocessor bomb ends here, in
# a few seconds, not in the machine's swap.
COMPILE = Limits(memory=512 * MiB, cpu=30, file_size=64 * MiB)
# QEMU reserves 1 GiB of address space for its translated code, plus the
# guest's RAM; the CPU budgets of a boot are the runner's, this is a backstop.
EMULATOR = Limits(memory=4096 * MiB, cpu=900, file_size=256 * MiB)

# What the tools need besides /usr on a merged-/usr system (Debian 12, 13):
# these are then links into /usr; on an older layout, folders.
SYSTEM_FOLDERS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# Read-only system files the tools look at: the dynamic linker's cache, and
# the alternatives that /usr/bin/cc and friends link to.
SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/alternatives")


def base_arguments(network=False):
    arguments = ["bwrap", "--die-with-parent", "--new-session", "--unshare-all"]
    if network:
        arguments.append("--share-net")
    if os.geteuid() == 0:
        arguments += ["--cap-drop", "ALL"]  # root keeps its capabilities otherwise
    arguments += ["--ro-bind", "/usr", "/usr"]
    for folder in SYSTEM_FOLDERS:
        if os.path.islink(folder):
            arguments += ["--symlink", os.readlink(folder), folder]
        elif os.path.isdir(folder):
            arguments += ["--ro-bind", folder, folder]
    for path in SYSTEM_FILES:
        arguments += ["--ro-bind-try", path, path]
    return arguments + ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
                        "--setenv", "HOME", "/tmp", "--setenv", "TMPDIR", "/tmp"]


@functools.lru_cache(maxsize=None)
def probe():
    """None if bubblewrap runs here, or why it does not."""
    if shutil.which("bwrap") is None:
        return "bubblewrap (bwrap) is not installed: `make apt-install` installs it"
    try:
        tried = subprocess.run([*base_arguments(), "--", "true"], capture_output=True, text=True,
                               timeout=30)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"bwrap does not run: {error}"
    if tried.returncode != 0:
        return f"bwrap cannot make a sandbox here: {tried.stderr.strip() or tried.returncode}"
    return None


@functools.lru_cache(maxsize=None)
def warn_once(reason):
    print(f"grader: WARNING: submissions are NOT sandboxed ({reason}); their compilers and "
          "emulators run with the grader's view of the files, within resource limits only",
          file=sys.stderr, flush=True)


def status():
    """One line for a report or log: how submissions' programs run."""
    reason = probe()
    return "sandboxed with bubblewrap" if reason is None else f"NOT sandboxed: {reason}"


def command(argv, *, readable=(), writable=(), cwd=None, network=False, info_fd=None):
    """`argv` as the sandbox runs it: `readable` folders and files visible
    read-only, `writable` ones read-write, each at its own path; cwd inside.
    With info_fd, `argv` itself is the namespace's first process, and bwrap
    writes its PID (as the grader sees it) to that file descriptor."""
    if (reason := probe()) is not None:
        warn_once(reason)
        return list(argv)
    arguments = base_arguments(network)
    if info_fd is not None:
        arguments += ["--as-pid-1", "--info-fd", str(info_fd)]
    for path in readable:
        arguments += ["--ro-bind", str(path), str(path)]
    for path in writable:
        arguments += ["--bind", str(path), str(path)]
    if cwd is not None:
        arguments += ["--chdir", str(cwd)]
    return [*arguments, "--", *map(str, argv)]


def limiter(limits):
    """The function that sets `limits` in the child before it runs."""
    def apply_limits():
        for kind, value in ((resource.RLIMIT_AS, limits.memory),
                            (resource.RLIMIT_CPU, limits.cpu),
                            (resource.RLIMIT_FSIZE, limits.file_size),
                            (resource.RLIMIT_CORE, 0)):
            try:
                resource.setrlimit(kind, (value, value))
            except (ValueError, OSError):
                pass  # macOS refuses RLIMIT_AS: grading for credit runs on Linux
    return apply_limits


def limited(argv, limits):
    """`argv` behind prlimit(1), which sets the limits without running Python
    in a forked child of a threaded grader; where prlimit is missing,
    popen_options falls back to a preexec function."""
    if shutil.which("prlimit") is None:
        return list(argv)
    return ["prlimit", f"--as={limits.memory}", f"--cpu={limits.cpu}",
            f"--fsize={limits.file_size}", "--core=0", "--", *argv]


def popen(argv, *, limits, readable=(), writable=(), cwd=None, network=False,
          payload_pid=False, **options):
    """subprocess.Popen of `argv` in the sandbox, within `limits`, leading a
    process group of its own (kill() ends all of it). With payload_pid, the
    result's `payload_pid` is the PID of `argv`'s own process (bwrap's
    child), whose CPU time a runner can read in /proc."""
    info = os.pipe() if payload_pid and probe() is None else None
    wrapped = limited(command(argv, readable=readable, writable=writable, cwd=cwd,
                              network=network, info_fd=info[1] if info else None), limits)
    if wrapped[0] != "prlimit":
        options["preexec_fn"] = limiter(limits)
    if info:
        options["pass_fds"] = (*options.get("pass_fds", ()), info[1])
    try:
        process = subprocess.Popen(wrapped, cwd=cwd, start_new_session=True, **options)
    finally:
        if info:
            os.close(info[1])
    process.payload_pid = process.pid
    if info:
        with os.fdopen(info[0], "rb") as reader:
            data = reader.read()  # bwrap closes it once the sandbox is set up
        try:
            process.payload_pid = int(json.loads(data)["child-pid"])
        except (ValueError, KeyError, TypeError):
            pass  # bwrap failed before it started `argv`: the process ends at once
    return process


def kill(process):
    """Kills `process` and its process group (the sandbox's namespace goes with it)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run(argv, *, limits=COMPILE, timeout=60, readable=(), writable=(), cwd=None,
        network=False, stdin=subprocess.DEVNULL):
    """Runs `argv` to its end like subprocess.run(capture_output=True, text=True);
    past `timeout` seconds its group is killed and the result's returncode is
    None, with the reason in stderr. Output is decoded with backslash escapes
    for what is not UTF-8, so no byte of it can raise."""
    with popen(argv, limits=limits, readable=readable, writable=writable, cwd=cwd,
               network=network, stdin=stdin, stdout=subprocess.PIPE,
               stderr=subprocess.PIPE) as process:
        try:
            out, err = process.communicate(timeout=timeout)
            code = process.returncode
        except subprocess.TimeoutExpired:
            kill(process)
            out, err = process.communicate()
            code, err = None, err + f"\nkilled after {timeout} s".encode()
        except BaseException:
            kill(process)
            raise
    return subprocess.CompletedProcess(argv, code, out.decode("utf-8", "backslashreplace"),
                                       err.decode("utf-8", "backslashreplace"))


def program_folders(*programs):
    """The folders outside /usr that hold `programs` (as PATH finds them, and
    where their links lead): a CROSS_COMPILE toolchain in /opt, say, must
    be visible in the sandbox too."""
    found = []
    for program in programs:
        located = shutil.which(program)
        if located is None:
            continue
        for path in (Path(located), Path(located).resolve()):
            folder = path.parent
            if not folder.is_relative_to("/usr") and folder not in found:
                found.append(folder)
    return found
