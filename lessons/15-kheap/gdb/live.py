"""live.py - the heap picture, live in a browser beside GDB (`kheap live`).

    kheap live         serve the picture at http://127.0.0.1:PORT/ and redraw it at every stop
    kheap live off     stop serving it

At every stop (a breakpoint, a step, a watchpoint, `finish`) GDB reads the
heap as `kheap` does (kheap.py: the bump heap's four pointers, or any
design's `heap_stats` and the page tables) and keeps it as JSON; a small
HTTP server on 127.0.0.1, a thread of this GDB, serves it with the page
(live.html, beside this file), which asks for it a few times a second and
redraws when it changes. Nothing is rebuilt or replayed: it is the running
kernel's state. What changed since the heap call the kernel is in (or
has just left) began is drawn as new: the bytes handed out, the pages
mapped, the counters that moved. So the block shows up in the watchpoint's
stop, and stays after `finish`, until the next call's stop. Without a stop
in a heap call, "new" is since the previous stop.

The port is the debug session's plus 10000 (20000 + uid gives 30000 + uid),
so that two sessions never share one; `kheap live PORT` picks another.
The server ends with GDB. tools/gdb sources this file after kheap.py, whose
heap readers it uses.
"""

import http.server
import json
import threading
from pathlib import Path

import gdb

LIVE_PAGE = Path(__file__).resolve().parent / "live.html"
LIVE_PORT_OFFSET = 10000  # from the debug session's port
LIVE_FALLBACK_PORT = 30000  # when GDB is not attached to a port
HEAP_CALLS = ("kmalloc", "kcalloc", "kmalloc_aligned", "kfree", "kheap_init")


class LiveView:
    """The state the page shows, and the server that hands it out."""

    def __init__(self):
        self.server = None
        self.state = {"seq": 0, "stop": "no stop yet"}
        self.previous = None  # the state at the last stop
        self.baseline = None  # the state when the current heap call began
        self.lock = threading.Lock()

    def url(self):
        return "http://127.0.0.1:%d/" % self.server.server_address[1]

    def start(self, port):
        if self.server is not None:
            print("kheap live: already at %s" % self.url())
            return
        view = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path.split("?")[0] == "/state.json":
                    with view.lock:
                        body, kind = json.dumps(view.state).encode(), "application/json"
                elif self.path.split("?")[0] in ("/", "/index.html"):
                    body, kind = LIVE_PAGE.read_bytes(), "text/html; charset=utf-8"
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Cache-Control", "no-store")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):  # GDB's terminal is the lecture's: keep it quiet
                pass

        try:
            self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        except OSError as error:
            raise gdb.GdbError("kheap live: cannot serve on 127.0.0.1:%d (%s): "
                               "`kheap live PORT` picks another port" % (port, error.strerror))
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        gdb.events.stop.connect(self.on_stop)
        print("kheap live: the heap picture is at %s (it redraws at every stop)" % self.url())
        if gdb.selected_thread() is not None and not gdb.selected_thread().is_running():
            self.on_stop(None)

    def stop(self):
        if self.server is None:
            print("kheap live: not running")
            return
        gdb.events.stop.disconnect(self.on_stop)
        self.server.shutdown()
        self.server.server_close()
        self.server = None
        print("kheap live: stopped")

    def on_stop(self, event):
        try:
            self.publish(where())
        except (gdb.error, gdb.MemoryError) as error:  # never break the stop itself
            # (before the kernel has set up its page tables, say: still in the BIOS)
            with self.lock:
                self.state = {"seq": self.state["seq"] + 1, "kind": "none",
                              "stop": where(), "why": "cannot read the heap yet: %s" % error}

    def publish(self, stop):
        state = heap_state()
        state["stop"] = stop
        with self.lock:
            state["seq"] = self.state["seq"] + 1
        call = outermost_heap_call()
        if call is not None and call[1] == 0:  # stopped in the call itself: it begins here
            self.baseline = dict(state, call=call[0])
        since = self.baseline or self.previous
        state["new"] = changes(since, state)
        state["since"] = ("the call of %s at stop %d" % (since["call"], since["seq"])
                          if "call" in since else "the last stop") if since else ""
        self.previous = state
        with self.lock:
            self.state = state


def where():
    """The stop's place, as GDB's own stop line names it."""
    try:
        frame = gdb.selected_frame()
    except gdb.error:
        return "not stopped"
    sal = frame.find_sal()
    name = frame.name() or "%#x" % frame.pc()
    if sal.symtab is None:
        return name
    return "%s at %s:%d" % (name, sal.symtab.filename, sal.line)


def outermost_heap_call():
    """(name, depth) of the oldest frame that is a heap call (depth 0: the
    innermost frame), or None: where kmalloc calls bump, it is kmalloc."""
    found, depth = None, 0
    try:
        frame = gdb.newest_frame()
    except gdb.error:
        return None
    while frame is not None:
        if frame.name() in HEAP_CALLS:
            found = (frame.name(), depth)
        try:
            frame = frame.older()
        except gdb.error:
            break
        depth += 1
    return found


def heap_state():
    """What the page draws, read from the kernel now (kheap.py's readers)."""
    state = {"window": ["%#x" % KHEAP_START, "%#x" % KHEAP_END], "pageSize": PAGE_SIZE}
    try:
        heap = current_heap()
    except gdb.GdbError as error:
        return dict(state, kind="none", why=str(error))
    if not heap.ready():
        return dict(state, kind="none", why="kheap_init has not run yet")
    state["pages"] = "".join(heap.page_chars())
    stats = variable("heap_stats")
    if stats is not None:
        state["stats"] = {f.name: int(stats[f.name]) for f in stats.type.fields()}
    if isinstance(heap, BumpHeap):
        # Addresses as hex text (JavaScript's numbers hold 53 bits), lengths as numbers.
        state.update(kind="bump", start="%#x" % heap.start, curr="%#x" % heap.curr,
                     mapped="%#x" % heap.mapped, end="%#x" % heap.end,
                     used=heap.curr - heap.start, mappedBytes=heap.mapped - heap.start,
                     size=heap.end - heap.start)
        # kheap_get_stats works these out from the pointers; so does `kheap`.
        if "stats" in state:
            state["stats"].update(used=heap.curr - heap.start, peak=heap.curr - heap.start,
                                  pages_mapped=(heap.mapped - heap.start) // PAGE_SIZE)
    else:
        state["kind"] = "pages"
    return state


def changes(before, after):
    """What is new since the previous stop: the bytes the bump pointer
    passed, the pages mapped since (any heap), the counters that moved."""
    if before is None or before.get("kind") != after.get("kind") or "pages" not in after:
        return {}
    new = {"pages": [i for i, (old, now) in enumerate(zip(before["pages"], after["pages"]))
                     if old == UNMAPPED and now != UNMAPPED]}
    if after["kind"] == "bump" and after["used"] > before["used"]:
        new["block"] = {"address": "%#x" % (int(after["start"], 16) + before["used"]),
                        "from": before["used"], "to": after["used"]}
    old, now = before.get("stats", {}), after.get("stats", {})
    new["stats"] = [key for key in now if old.get(key) != now[key]]
    return new


LIVE = LiveView()


def kheap_live(words):
    """`kheap live [PORT | off]`."""
    if words == ["off"]:
        LIVE.stop()
    elif len(words) == 1 and words[0].isdigit():
        LIVE.start(int(words[0]))
    elif not words:
        LIVE.start(default_port())
    else:
        raise gdb.GdbError("usage: kheap live [PORT | off]")


def default_port():
    """The debug session's port + LIVE_PORT_OFFSET (GDB's connection says ":20000")."""
    try:
        details = gdb.selected_inferior().connection.details or ""
        return int(details.rsplit(":", 1)[1]) + LIVE_PORT_OFFSET
    except (AttributeError, IndexError, ValueError):
        return LIVE_FALLBACK_PORT
