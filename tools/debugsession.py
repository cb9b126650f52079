"""debugsession.py - pairs `make debug-lessonN` (tools/boot --debug) with
`make gdb-lessonN` (tools/gdb), so that two debug sessions never cross.

tools/boot picks a free port and writes build/debug-sessions/PORT.json: the
port, the ELF whose kernel that QEMU boots (with a hash of its contents, so
a rebuild is noticed), its own pid, and, once a GDB claims the session, that
GDB's pid. tools/gdb attaches to a session of the same ELF that no live GDB
holds, waits for one if there is none yet, and says why it will not attach
to a session of another kernel. A session whose tools/boot is gone is stale
and removed."""

import contextlib
import fcntl
import hashlib
import json
import os
import socket
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SESSIONS = ROOT / "build" / "debug-sessions"
FIRST_PORT = 20000  # + uid: students sharing a machine start apart
PORTS_TRIED = 100


class SessionError(Exception):
    pass


def default_port():
    return FIRST_PORT + os.getuid() % 10000


def port_is_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def choose_port(requested=None):
    """`requested` if it is free (an error otherwise); else the first free
    port from the user's default on that no session has taken."""
    with locked():
        return free_port(requested)


def free_port(requested):
    """choose_port's answer (call locked)."""
    if requested:
        if not port_is_free(int(requested)):
            raise SessionError(f"port {requested} (GDB_PORT) is in use: choose another, or "
                               "leave GDB_PORT unset for a free one")
        return int(requested)
    taken = {session["port"] for session in live_sessions()}
    for port in range(default_port(), default_port() + PORTS_TRIED):
        if port not in taken and port_is_free(port):
            return port
    raise SessionError(f"no free port in {default_port()}..{default_port() + PORTS_TRIED - 1}")


def elf_of(iso):
    """The ELF an ISO was made from: build/X.iso and build/X-test.iso hold build/X.elf."""
    iso = Path(iso).resolve()
    stem = iso.stem[:-len("-test")] if iso.stem.endswith("-test") else iso.stem
    return iso.with_name(stem + ".elf")


def fingerprint(elf):
    return hashlib.sha256(Path(elf).read_bytes()).hexdigest()


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def locked():
    """Serialises the reading and writing of session files."""
    SESSIONS.mkdir(parents=True, exist_ok=True)
    with open(SESSIONS / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def write(session):
    path = SESSIONS / f"{session['port']}.json"
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(session, indent=1) + "\n")
    temporary.replace(path)


def start(iso, requested_port=None):
    """Chooses a port and records the session tools/boot is about to start
    there, in one step: two sessions starting at once get different ports."""
    elf = elf_of(iso)
    with locked():
        session = {"port": free_port(requested_port), "elf": str(elf),
                   "fingerprint": fingerprint(elf), "boot_pid": os.getpid(), "gdb_pid": None,
                   "started": time.time()}
        write(session)
    return session


def end(session):
    with contextlib.suppress(FileNotFoundError):
        (SESSIONS / f"{session['port']}.json").unlink()


def live_sessions():
    """Every session whose tools/boot still runs, newest first (call locked)."""
    sessions = []
    for path in SESSIONS.glob("*.json"):
        try:
            session = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if alive(session["boot_pid"]):
            sessions.append(session)
        else:
            path.unlink(missing_ok=True)
    return sorted(sessions, key=lambda s: -s["started"])


def held(session):
    return session.get("gdb_pid") is not None and alive(session["gdb_pid"])


def claim(elf, port=None):
    """The session this GDB (this process, which then becomes GDB) attaches
    to: on `port` if given, else a session of `elf` no other GDB holds.
    Returns (session, "") or (None, why there is none yet)."""
    elf = Path(elf).resolve()
    with locked():
        sessions = live_sessions()
        if port is not None:
            session = next((s for s in sessions if s["port"] == port), None)
            if session is None:
                return {"port": port}, ""  # not started by tools/boot: GDB will try
            problem = mismatch(session, elf)
            if problem:
                raise SessionError(problem)
        else:
            mine = [s for s in sessions if not mismatch(s, elf)]
            free = [s for s in mine if not held(s)]
            if not free and mine:
                return None, (f"every QEMU running {relative(elf)} already has a GDB "
                              f"(port {', '.join(str(s['port']) for s in mine)})")
            if not free:
                return None, f"no debug session runs {relative(elf)} yet" + "".join(
                    f"\n  port {s['port']}: {mismatch(s, elf)}" for s in sessions)
            session = free[0]
        session["gdb_pid"] = os.getpid()
        write(session)
        return session, ""


def mismatch(session, elf):
    """Why GDB with `elf` must not attach to `session`, or '' if it may."""
    if Path(session["elf"]) != Path(elf):
        return (f"that QEMU runs {relative(session['elf'])}, not "
                f"{relative(elf)}: give `make gdb-...` the same options as that "
                f"`make debug-...` (REFERENCE=, LECTURE=, SAN=, KHEAP=)")
    try:
        same = fingerprint(elf) == session["fingerprint"]
    except OSError:
        same = False
    if not same:
        return (f"{relative(elf)} was rebuilt after that QEMU started: its symbols would "
                f"not match the running kernel; restart `make debug-...`")
    return ""


def relative(path):
    path = Path(path)
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
