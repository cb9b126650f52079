#!/usr/bin/env python3
"""lecture_rehearsal - an instructor's page (solutions/NN-name/LECTURE.md),
rehearsed in tmux as the instructor would follow it (selftest check "lecture").

    tests/lecture_rehearsal.py [PAGE]           rehearse it; exits 1 on the first screen that differs
    tests/lecture_rehearsal.py --record [PAGE]  rehearse it and print what each terminal showed

The page's screens are its fenced blocks that follow a comment
`<!-- rehearsal: terminal N -->`. In a block, a line starting with "$ " (a
shell) or "(gdb) " is typed into terminal N; "[Ctrl-A X]" is those keys
pressed there; every other line is what must appear next, line for line
(blank lines aside); "..." stands for any lines. Code addresses
(0xffffffff801xxxxx) and port numbers differ from one machine to the next,
so they match any value. Each terminal is a tmux window of 100 columns, a
projector's width: a line longer than that wraps and fails the match.

After `finish`, a headless Chromium screenshot of the live page (the URL
`kheap live` printed) must show the new block: the page's DOM names it at
the address `finish` returned, and the screenshot has its colour.
The Russian page (LECTURE.ru.md) must show the very same screens."""

import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLUMNS, ROWS = 100, 50  # a projector's width
MARK = re.compile(r"^<!-- rehearsal: terminal (\d+) -->$")
INPUT = re.compile(r"^(\$|\(gdb\)) (.*)$")
KEYS = {"[Ctrl-A X]": ["C-a", "x"]}
SCREEN_TIMEOUT = 90  # seconds for one screen (the first `continue` boots the kernel under TCG)
NEW_BLOCK_COLOUR = (0xFF, 0x8C, 0x00)  # live.html's NEW
MIN_NEW_BLOCK_PIXELS = 400


class Mismatch(Exception):
    pass


def blocks(page):
    """[(terminal, [line, ...])] for each rehearsal block of the page."""
    found, terminal, inside, lines = [], None, False, []
    for line in page.read_text().splitlines():
        if inside:
            if line.startswith("```"):
                found.append((terminal, lines))
                terminal, inside, lines = None, False, []
            else:
                lines.append(line.rstrip())
        elif MARK.match(line.strip()):
            terminal = int(MARK.match(line.strip()).group(1))
        elif line.startswith("```") and terminal is not None:
            inside = True
    return found


def pattern(line):
    """What an expected line matches: itself, with code addresses and ports free."""
    text = re.escape(line)
    text = re.sub(r"0xffffffff801[0-9a-f]{5}", r"0xffffffff801[0-9a-f]{5}", text)
    text = re.sub(r"127\\\.0\\\.0\\\.1:\d+", r"127\\.0\\.0\\.1:\\d+", text)
    text = re.sub(r"port(\\ |\\ \\-\\-port\\ )\d+", lambda m: "port" + m.group(1) + r"\d+", text)
    text = re.sub(r"(\\-\\-port\\ )\d+", lambda m: m.group(1) + r"\d+", text)
    return re.compile(text + r"$")


class Terminals:
    """tmux windows on a server of their own, each a shell with the prompt '$ '."""

    def __init__(self, count):
        self.socket = f"lecture-{os.getpid()}"
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("MAKEFLAGS", "MAKELEVEL", "GDB_PORT", "GDB_SCRIPT", "DISPLAY",
                                 "TMUX")}
        self.env.update(TERM="xterm")
        shell = "bash --norc --noprofile"
        self.tmux("new-session", "-d", "-s", "lecture", "-x", str(COLUMNS), "-y", str(ROWS),
                  "-c", str(ROOT), shell)
        self.tmux("set-option", "-g", "history-limit", "5000")
        for _ in range(count - 1):
            self.tmux("new-window", "-t", "lecture", "-c", str(ROOT), shell)
        self.read = {n: 0 for n in range(1, count + 1)}  # lines of each already matched
        # bash sets its own prompt: the page's is "$ ".
        for terminal in self.read:
            self.type(terminal, "PS1='$ '; clear")
        deadline = time.monotonic() + SCREEN_TIMEOUT
        while any(self.lines(n)[:1] != ["$"] for n in self.read):
            if time.monotonic() > deadline:
                raise Mismatch("the terminals' shells did not start")
            time.sleep(0.1)
            for terminal in self.read:
                self.tmux("clear-history", "-t", f"lecture:{terminal - 1}")

    def tmux(self, *args):
        return subprocess.run(["tmux", "-L", self.socket, "-f", "/dev/null", *args], env=self.env,
                              capture_output=True, text=True, timeout=20).stdout

    def lines(self, terminal):
        text = self.tmux("capture-pane", "-p", "-S", "-", "-t", f"lecture:{terminal - 1}")
        lines = [line.rstrip() for line in text.splitlines()]
        while lines and not lines[-1]:  # the screen's rows below the cursor
            lines.pop()
        return lines

    def type(self, terminal, text):
        self.tmux("send-keys", "-t", f"lecture:{terminal - 1}", "-l", text)
        self.tmux("send-keys", "-t", f"lecture:{terminal - 1}", "Enter")

    def keys(self, terminal, keys):
        self.tmux("send-keys", "-t", f"lecture:{terminal - 1}", *keys)

    def close(self):
        self.tmux("kill-server")


def is_prompt(line):
    return line in ("$", "(gdb)")


def match(expected, actual):
    """The index in `actual` just past the lines `expected` matches from its
    start (blank lines skipped, "..." any lines), or None if they differ;
    `actual` may end before `expected` does (None: not yet)."""
    actual = [(i, line) for i, line in enumerate(actual) if line.strip()]
    expected = [line for line in expected if line.strip()]

    def walk(e, a):
        if e == len(expected):
            return actual[a - 1][0] + 1 if a else 0
        if expected[e] == "...":
            for skip in range(a, len(actual) + 1):
                end = walk(e + 1, skip)
                if end is not None:
                    return end
            return None
        if a < len(actual) and pattern(expected[e]).match(actual[a][1]):
            return walk(e + 1, a + 1)
        return None

    return walk(0, 0)


def wait_screen(terms, terminal, typed, expected, record):
    """Waits until terminal shows `typed` (the input line, if any) and then
    the expected lines and, after a command, its next prompt; returns the
    lines it showed (the prompt left for the next input)."""
    deadline = time.monotonic() + SCREEN_TIMEOUT
    # A screen that ends in a bare prompt ("$" after `quit`) ends there.
    final_prompt = expected[-1] if expected and is_prompt(expected[-1]) else None
    if final_prompt:
        expected = expected[:-1]
    while True:
        lines = terms.lines(terminal)[terms.read[terminal]:]
        start = 0
        if typed is not None:
            start = next((i + 1 for i, line in enumerate(lines) if line == typed), None)
        else:  # output that comes by itself, after the prompt that was waiting
            while start < len(lines) and is_prompt(lines[start]):
                start += 1
        if start is not None:
            body = lines[start:]
            prompt = next((i for i, line in enumerate(body)
                           if is_prompt(line) or INPUT.match(line)), None)
            shown = body if prompt is None else body[:prompt]
            if record:
                if prompt is not None or (typed or "").startswith("$ make debug-") and \
                        any(line.startswith("(no display") for line in shown):
                    terms.read[terminal] += start + len(shown)
                    return shown
            else:
                end = match(expected, shown)
                # A command's screen is complete at its next prompt; a command
                # that goes on running (make debug-...) once its lines are there.
                waits_for_prompt = final_prompt is not None or (
                    typed is not None and not typed.startswith("$ make debug-"))
                if final_prompt and prompt is not None and body[prompt] != final_prompt:
                    raise Mismatch(f"terminal {terminal}: after {typed!r} the prompt is "
                                   f"{body[prompt]!r}, not {final_prompt!r}")
                if end is not None and (prompt is not None or not waits_for_prompt):
                    if prompt is not None and end < len(shown) and any(
                            line.strip() for line in shown[end:]) and expected[-1:] != ["..."]:
                        raise Mismatch(f"terminal {terminal}: after {typed!r} came more than "
                                       f"the page shows:\n" + "\n".join(shown))
                    terms.read[terminal] += start + end
                    return shown[:end]
                if prompt is not None:
                    raise Mismatch(f"terminal {terminal}: {typed!r} showed\n" + "\n".join(shown)
                                   + "\n-- where the page shows --\n" + "\n".join(expected))
        if time.monotonic() > deadline:
            raise Mismatch(f"terminal {terminal}: no {'screen' if typed else 'output'} "
                           f"for {typed!r} within {SCREEN_TIMEOUT} s; it shows:\n"
                           + "\n".join(lines[-30:]))
        time.sleep(0.2)


def rehearse(page, record=False):
    """Runs the page's blocks in order. Returns a list of what was checked."""
    checked, screens = [], []
    plan = blocks(page)
    if not plan:
        raise Mismatch(f"{page.name} has no rehearsal blocks")
    terms = Terminals(max(terminal for terminal, _ in plan))
    returned = live_url = None
    try:
        for terminal, lines in plan:
            screens.append(f"<!-- rehearsal: terminal {terminal} -->")
            items = split_inputs(lines)
            for typed, expected in items:
                if typed in KEYS:
                    terms.keys(terminal, KEYS[typed])
                    shown = wait_screen(terms, terminal, None, expected, record)
                elif typed is not None:
                    terms.type(terminal, INPUT.match(typed).group(2))
                    shown = wait_screen(terms, terminal, typed, expected, record)
                else:
                    shown = wait_screen(terms, terminal, None, expected, record)
                screens += ([typed] if typed else []) + shown
                text = "\n".join(shown)
                found = re.search(r"Value returned is \$\d+ = \(void \*\) (0x[0-9a-f]+)", text)
                live = re.search(r"(http://127\.0\.0\.1:\d+/)", text)
                live_url = live.group(1) if live else live_url
                if typed == "(gdb) finish" and found:
                    returned = found.group(1)
                    if live_url is None:
                        raise Mismatch("`finish` came before `kheap live` printed its URL")
                    checked.append(live_page(live_url, returned))
            checked.append(f"terminal {terminal}: {sum(1 for t, _ in items if t)} inputs")
        if any("Broken pipe" in line for n in terms.read for line in terms.lines(n)):
            raise Mismatch("a terminal shows 'Broken pipe'")
        if not record and returned is None:
            raise Mismatch("the rehearsal has no `finish` that returned a block")
    finally:
        terms.close()
    return screens if record else checked


def split_inputs(lines):
    """[(input line or None, [expected lines])]."""
    items = [[None, []]]
    for line in lines:
        if INPUT.match(line) or line in KEYS:
            items.append([line, []])
        else:
            items[-1][1].append(line)
    return [(typed, expected) for typed, expected in items if typed or expected]


def live_page(url, returned):
    """A headless Chromium screenshot of the live page: it must show the new
    block, at the address `finish` returned."""
    chromium = next(filter(None, map(shutil.which, ("chromium", "chromium-browser",
                                                    "google-chrome"))), None)
    if chromium is None:
        raise Mismatch("no Chromium for the live page (apt-get install chromium)")
    out = ROOT / "build" / "selftest"
    out.mkdir(parents=True, exist_ok=True)
    png = out / "lecture-live.png"
    png.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="lecture-chromium-") as profile:
        command = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                   "--hide-scrollbars", f"--user-data-dir={profile}", "--window-size=900,600",
                   "--virtual-time-budget=3000", "--dump-dom", f"--screenshot={png}", url]
        started = time.monotonic()
        result = subprocess.run(command, capture_output=True, text=True, timeout=120,
                                cwd=out)
        seconds = time.monotonic() - started
    block = re.search(r'<rect id="new-block" data-address="(0x[0-9a-f]+)" data-bytes="(\d+)"',
                      result.stdout)
    if block is None or block.group(1) != returned:
        raise Mismatch(f"the live page at {url} shows no new block at {returned} after "
                       f"`finish`: " + (f"it shows {block.group(1)}" if block else "none"))
    pixels = count_colour(png, NEW_BLOCK_COLOUR) if png.exists() else 0
    if pixels < MIN_NEW_BLOCK_PIXELS:
        raise Mismatch(f"the live page's screenshot ({png}) has {pixels} pixels of the new "
                       f"block's colour, fewer than {MIN_NEW_BLOCK_PIXELS}")
    return (f"live page after `finish`: block {returned} ({block.group(2)} bytes), "
            f"{pixels} pixels of it in the screenshot ({seconds:.1f} s in Chromium)")


def count_colour(png, colour):
    """How many pixels of an 8-bit RGB or RGBA PNG (as Chromium writes) have `colour`."""
    data = png.read_bytes()
    chunks, at = {}, 8
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        chunks.setdefault(kind, []).append(data[at + 8:at + 8 + length])
        at += 12 + length
    width, height, depth, colour_type = struct.unpack(">IIBB", chunks[b"IHDR"][0][:10])
    channels = {2: 3, 6: 4}.get(colour_type)
    if depth != 8 or channels is None:
        raise Mismatch(f"{png}: a PNG of colour type {colour_type}, depth {depth}")
    raw, stride = zlib.decompress(b"".join(chunks[b"IDAT"])), width * channels
    previous, count = bytearray(stride), 0
    for row in range(height):
        kind = raw[row * (stride + 1)]
        line = bytearray(raw[row * (stride + 1) + 1:(row + 1) * (stride + 1)])
        for i in range(stride):  # undo the row's filter (PNG spec, 9.2)
            left = line[i - channels] if i >= channels else 0
            up, corner = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                best = min((abs(p - left), 0, left), (abs(p - up), 1, up),
                           (abs(p - corner), 2, corner))[2]
                line[i] = (line[i] + best) & 0xFF
        count += sum(1 for i in range(0, stride, channels)
                     if tuple(line[i:i + 3]) == colour)
        previous = line
    return count


def same_screens(page, translation):
    """The translation's rehearsal blocks are the page's, screen for screen."""
    if blocks(page) != blocks(translation):
        raise Mismatch(f"{translation.name}'s rehearsal screens differ from {page.name}'s")


def main():
    args = sys.argv[1:]
    record = "--record" in args
    args = [a for a in args if a != "--record"]
    page = Path(args[0]) if args else ROOT / "solutions" / "15-kheap" / "LECTURE.md"
    try:
        result = rehearse(page, record)
        if not record:
            translation = page.with_name(page.stem + ".ru.md")
            if translation.exists():
                same_screens(page, translation)
                result.append(f"{translation.name} shows the same screens")
    except Mismatch as error:
        print(f"rehearsal of {page.name} FAILED: {error}")
        return 1
    print("\n".join(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
