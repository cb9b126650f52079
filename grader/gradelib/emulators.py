"""How to start QEMU and Bochs: one place for the command lines that the
grader, `make run-lessonN`, `make bochs-lessonN` and `make debug-lessonN` use."""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from . import channel

MEMORY_MB = 128
QEMU = "qemu-system-x86_64"
BOCHS = "bochs"
BOCHS_PLUGINS = Path("/usr/lib/x86_64-linux-gnu/bochs/plugins")
# QEMU's isa-debug-exit device: the kernel writes 0x10 (pass) or 0x11 (fail)
# to port 0xf4 and QEMU exits with (value << 1) | 1.
QEMU_EXIT_DEVICE = ["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
QEMU_EXIT_PASS, QEMU_EXIT_FAIL = 33, 35

# Debian packages that provide each tool, for error messages.
PACKAGES = {
    QEMU: "qemu-system-x86",
    BOCHS: "bochs bochsbios vgabios",
    "grub-mkrescue": "grub-pc-bin grub-common xorriso mtools",
    "xorriso": "xorriso",
    "nasm": "nasm",
    "gcc": "gcc",
    "clang": "clang",
    "ld.lld": "lld",
    "llvm-objcopy": "llvm",
    "objcopy": "binutils",
    "make": "make",
    "ld": "binutils",
    "gdb": "gdb",
    "addr2line": "binutils",
}


class MissingTool(Exception):
    pass


def require(tool):
    if shutil.which(tool) is None:
        raise MissingTool(
            f"'{tool}' is not installed: apt-get install {PACKAGES.get(tool, tool)}"
            " (or run `make deps`)")


def has_display():
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def qemu_command(iso, *, headless=True, gdb_port=None, exit_device=True, log=None,
                 keys=False, results=None, nonce=None, witness=None):
    """QEMU booting `iso` with the serial port on stdout.

    headless: no window (-display none); otherwise QEMU opens its window and
    keeps it open after the kernel powers off (-no-shutdown), so the student
    can still read the VGA screen. exit_device: let the kernel end QEMU with
    a status. gdb_port: start paused, waiting for GDB there (on this machine
    only). log: a file for QEMU's log of CPU resets and exceptions. keys: a
    person at the terminal: Ctrl-A X quits, Ctrl-A C switches to QEMU's
    monitor, and Ctrl-C still quits (-serial mon:stdio would pass it to the
    kernel). results: a file for COM2, the test results channel; nonce:
    handed to the kernel through fw_cfg (see channel.py). witness: a Unix
    socket path where the gdbstub waits, the guest paused, for the grader's
    witness (witness.py)."""
    require(QEMU)
    command = [QEMU, "-cdrom", str(iso), "-m", f"{MEMORY_MB}M", "-no-reboot", "-nic", "none"]
    if keys:
        command += ["-chardev", "stdio,id=terminal,mux=on,signal=on",
                    "-serial", "chardev:terminal", "-mon", "chardev=terminal"]
    else:
        command += ["-serial", "stdio", "-monitor", "none"]
    command += ["-display", "none"] if headless else ["-no-shutdown"]
    if exit_device:
        command += QEMU_EXIT_DEVICE
    if gdb_port is not None:
        command += ["-S", "-gdb", f"tcp:127.0.0.1:{gdb_port}"]
    if witness is not None:
        command += ["-S", "-chardev", f"socket,id=witness,path={witness},server=on,wait=off",
                    "-gdb", "chardev:witness"]
    if log:
        command += ["-d", "int,cpu_reset", "-D", str(log)]
    if results:
        command += ["-serial", f"file:{results}"]
    if nonce:
        command += ["-fw_cfg", f"name={channel.NONCE_FW_CFG},string={nonce}"]
    return command


def bochs_display():
    """The Bochs display library to use: a window if this machine has one and
    the plugin is installed, otherwise the RFB (VNC) server, headless."""
    if has_display():
        # wx (Debian's default bochs-wx) crashes in GTK on some desktops: not used.
        for library in ("x", "sdl2"):
            if (BOCHS_PLUGINS / f"libbx_{library}_gui.so").exists():
                return library
        print("boot: no Bochs window library: apt-get install bochs-x; running headless")
    return "rfb"


def bochs_config(iso, serial_path, log_path, display, results_path=None):
    display_line = f"display_library: {display}"
    if display == "rfb":
        display_line += ', options="timeout=0"'  # do not wait for a VNC client
    return "\n".join([
        "megs: %d" % MEMORY_MB,
        "cpu: model=corei7_sandy_bridge_2600k",  # a 64-bit CPU with NX
        "romimage: file=/usr/share/bochs/BIOS-bochs-latest",
        "vgaromimage: file=/usr/share/vgabios/vgabios.bin",
        f"ata0-master: type=cdrom, path={iso}, status=inserted",
        "boot: cdrom",
        f"com1: enabled=1, mode=file, dev={serial_path}",
        f"com2: enabled=1, mode=file, dev={results_path}" if results_path else "com2: enabled=0",
        "port_e9_hack: enabled=1",  # the kernel echoes its console to port 0xE9
        "magic_break: enabled=1",   # BOCHS_BREAK() stops in the debugger
        "sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy",
        "speaker: enabled=0",
        "clock: sync=none",
        display_line,
        f"log: {log_path}",
        "panic: action=fatal",
        "error: action=report",
        "cpu: reset_on_triple_fault=0",
        "",
    ])


def network_isolation():
    """A command prefix that runs Bochs without network access: its RFB
    display server listens on every interface, so it gets a private network
    namespace. Returns [] (with a warning) where namespaces are unavailable."""
    if shutil.which("unshare") is None:
        return []
    for prefix in (["unshare", "--net"], ["unshare", "--user", "--map-root-user", "--net"]):
        try:
            if subprocess.run(prefix + ["true"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=10).returncode == 0:
                return prefix
        except (OSError, subprocess.TimeoutExpired):
            continue
    return []


def bochs_files(iso, workdir, interactive, symbols=None, results_path=None):
    """Writes bochsrc and the debugger's rc file into workdir; returns
    (command, serial_path, log_path). Bochs's built-in debugger stops at
    start-up: the rc file loads `symbols` (a file of "ADDRESS NAME" lines)
    if given and continues at once; in a non-interactive run it also quits
    when a magic breakpoint stops the machine. results_path: a file for COM2,
    the test results channel."""
    require(BOCHS)
    workdir = Path(workdir)
    serial_path, log_path = workdir / "serial.log", workdir / "bochs.log"
    display = bochs_display() if interactive else "rfb"
    (workdir / "bochsrc").write_text(bochs_config(iso, serial_path, log_path, display,
                                                  results_path))
    load = f'ldsym global "{Path(symbols).resolve()}"\n' if symbols else ""
    (workdir / "debugger.rc").write_text(load + ("c\n" if interactive else "c\nquit\n"))
    command = [BOCHS, "-q", "-f", str(workdir / "bochsrc"), "-rc", str(workdir / "debugger.rc")]
    if display == "rfb":
        command = network_isolation() + command
    return command, serial_path, log_path


def make_temp_dir(prefix):
    return Path(tempfile.mkdtemp(prefix=prefix))
