"""The one compile pass over each submitted file, before it is built: what
the file reads, and what it is made of.

First, what it reads (Refused, the submission is not graded): the file must
preprocess, the preprocessor's full listing (-MD) must name only headers it
may include (includable: common/*.h, its lesson's and earlier lessons'), its
line markers only files it read, and its assembly no directive that reads a
file (.incbin, .include) or could build one (.macro, .irp, .rept), wherever
it stands. Every compiler and binutils run is sandboxed (sandbox.py).

Then what it is made of. Student code runs in ring 0 beside the test
harness, so what it could do is judged from its object:

- every symbol it uses from elsewhere must belong to the lesson's API: a name
  declared in a header of common/ or of the lesson (or an earlier one), other
  than the harness's headers, or one that the file's reference or starter
  twin uses. The harness's own symbols (HARNESS_SYMBOL) cost the kernel its
  points; the image's linker symbols (_text_end, ...) are flagged unless the
  twin uses them;
- no port I/O, even through x86.h's helpers (the kernel's points again); no
  privileged instruction written in the file's own assembly, and no call
  through a register, unless the reference or starter version of the same
  file does the same. The lab's helpers (read_cr3(), invlpg()) used as they
  are written are not the file's own;
- no inline or top-level assembly of its own, no machine code written as
  data (.byte and friends), no sections of its own, no casts to function
  pointers, no reading of its callers' frames (__builtin_return_address):
  the ways to reach code and data of the harness without naming them.

Allowances are derived from the lab's headers and reference files, so they
follow the lessons as they change. A finding never stops the grading: it is
listed for the instructor ("review") and, where `zero` is set, the kernels
built from that file score 0."""

import functools
import hashlib
import json
import os
import re
import shlex
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from . import lab, sandbox, sanitize, toolchain
from .runner import ROOT

# Headers that belong to the test harness and the boot path, not to a lesson.
HARNESS_HEADERS = {"ktest.h", "kjmp.h", "emulator.h", "serial.h", "fw_cfg.h", "lesson.h",
                   "cmdline.h"}
HARNESS_SYMBOL = re.compile(r"^(ktest_\w*|__start_\w*|__stop_\w*|emulator_\w*|serial_\w*|"
                            r"fw_cfg_\w*|kjmp_\w*|crash_hook|expected_fault_hook)$")
PORT_IO = re.compile(r"^(rep\s+)?(in|out)(s?[bwl]|sd)?$")
PRIVILEGED = {"cli", "sti", "hlt", "lgdt", "lidt", "lldt", "ltr", "lmsw", "clts", "invd",
              "wbinvd", "invlpg", "invpcid", "wrmsr", "rdmsr", "swapgs", "sysret", "sysretq",
              "iret", "iretq", "popf", "popfq", "int", "int3", "xsetbv", "wrpkru"}
CONTROL_REGISTER = re.compile(r"%(cr\d|db\d|dr\d)")
ALLOWED_SECTION = re.compile(r"^\.(text|rodata|data|bss|comment|note\.GNU-stack|"
                             r"note\.gnu\.property|rela?\.\S+|symtab|strtab|shstrtab|"
                             r"debug_\w+|group)(\.\S*)?$")
IDENTIFIER = re.compile(r"\b[A-Za-z_]\w*\b")
ASM_TEMPLATE = re.compile(r"__asm__\s*(?:volatile\s*|__volatile__\s*)?\(\s*"
                          r"((?:\"(?:[^\"\\]|\\.)*\"\s*)+)")
OPERAND = re.compile(r"%(?:[a-zA-Z]?\d|\[\w+\]|[a-zA-Z]\[\w+\])")
FUNCTION_POINTER_CAST = re.compile(r"\(\s*[\w\s\*]+\(\s*\*\s*\)\s*\([^()]*\)\s*\)\s*[\w(]")
FUNCTION_POINTER_TYPEDEF = re.compile(r"typedef\s[^;{}]*?\(\s*\*\s*(\w+)\s*\)\s*\(")
STACK_WALK = re.compile(r"__builtin_(?:return|frame)_address|__builtin_extract_return_addr")
LINE_MARKER = re.compile(r'^# (\d+) "([^"]*)"')
LINE_MARKER_FLAGS = re.compile(r'^# (\d+) "((?:[^"\\]|\\.)*)"((?: \d+)*)\s*$', re.M)
# Assembler directives that read a file, and those that could build one
# (macros and repetitions paste text into directive names): anywhere.
FILE_DIRECTIVE = re.compile(r"\.\s*(incbin|include|macro|irpc?|rept|altmacro)\b", re.I)
# A message of the compiler about itself, naming no file.
COMPILER_SAYS = re.compile(r"^(cc1\w*|gcc[-\w.]*|clang[-\w.]*|as|collect2|x86_64-\S*): ")
# The origin of assembly outside any asm statement's brackets: the file's own.
TOP_LEVEL = "<top level>"
# What gcc -g writes between the asm statements of one #APP block.
DEBUG_LABEL = re.compile(r"^(\.L(VL|VU|BB|BE|FB|FE)\d+:|\.loc\s.*|\.cfi_\w+.*)?$")
# A call or jump through a register, not through a jump table of the compiler's.
INDIRECT = re.compile(r"^(?:notrack\s+)?(?:call|jmp)q?\s+\*%")
ASM_START, ASM_END = re.compile(r'^# \d+ "([^"]*)" 1$'), '# 0 "" 2'
TIMEOUT = 60  # seconds for one compiler or binutils run


@dataclass
class Finding:
    file: str     # the submitted file, e.g. kheap.c
    reason: str
    zero: bool    # the kernels built from the file score 0

    def __str__(self):
        return f"{self.file}: {self.reason}" + (" (its kernel scores 0)" if self.zero else "")


def run(command, root, workdir=None):
    """`command` in the sandbox: the lab copy at `root` read-only, `workdir`
    (where the outputs go) writable."""
    return sandbox.run(command, limits=sandbox.COMPILE, timeout=TIMEOUT, readable=[root],
                       writable=[workdir] if workdir else [], cwd=root)


def compiler_flags(root):
    """The lab's flags; warnings stay warnings, as for a student's file in the
    build (-Werror would leave a file with one warning unchecked). Only the
    compiler's own folder of freestanding headers (<stdint.h> and the like)
    stands for the system's: nothing of /usr/include is read."""
    return shlex.split(lab.ask_make(root, "print-cflags")) + ["-Wno-error", "-nostdinc",
                                       *[f"-isystem{folder}" for folder in
                                         toolchain.include_folders()]]


def lesson_headers(root, lesson):
    """The headers a lesson's files may use: common/ and the lessons up to this
    one, the harness's and the tests' own left out."""
    return [header for header in includable(root, lesson) if header.name not in HARNESS_HEADERS]


def includable(root, lesson):
    """The headers a submitted file may include: common/*.h and the headers of
    the lessons up to this one, never a test file."""
    folders = [root / "common"] + [folder for folder in sorted((root / "lessons").iterdir())
                                   if folder.is_dir() and folder.name <= lesson]
    return [header for folder in folders for header in sorted(folder.glob("*.h"))
            if not header.name.startswith("tests")]


def strip_comments(text):
    return re.sub(r"/\*.*?\*/|//[^\n]*", " ", text, flags=re.S)


def declared_names(headers):
    return {name for header in headers
            for name in IDENTIFIER.findall(strip_comments(header.read_text(errors="replace")))}


def asm_statements(text):
    """Assembly text as its statements, one spacing, joined by ';'."""
    return ";".join(re.sub(r"\s+", " ", part.strip()) for part in re.split(r"[;\n]", text)
                    if part.strip())


def asm_templates(headers):
    """Regular expressions for the inline assembly of the lab's headers (x86.h),
    operands replaced by wildcards, as gcc -S prints them."""
    templates = []
    for header in headers:
        for literals in ASM_TEMPLATE.findall(header.read_text(errors="replace")):
            text = "".join(re.findall(r"\"((?:[^\"\\]|\\.)*)\"", literals))
            text = asm_statements(text.replace("\\n", ";").replace("\\t", " "))
            parts = [re.escape(part.replace("%%", "%")) for part in OPERAND.split(text)]
            templates.append(re.compile(r"[^;\s]+".join(parts)))
    return templates


class Refused(Exception):
    """A submitted file that is not graded at all, and why (for the student)."""


@dataclass
class Compiled:
    undefined: set      # symbols the object uses from elsewhere
    port_io: bool       # in/out instructions anywhere in its code (x86.h's helpers too)
    indirect: list      # calls and jumps through a register: "call *%rax"
    sections: set
    asm_blocks: list    # (source file, text) of every inline or top-level assembly block
    own_lines: str      # the preprocessed text of the file's own lines
    preprocessed: str   # the whole translation unit


def own_diagnostics(text, source, limit=20):
    """The compiler's messages about `source` itself and about itself
    ("virtual memory exhausted"), made safe to show: a student sees nothing
    of another file (a header's lines, a test's)."""
    shown, keep = [], False
    for line in text.splitlines():
        if COMPILER_SAYS.match(line):
            keep = True
        elif re.match(r"^(In file included from |\s+from )?[^\s:]+:", line):
            keep = re.match(rf"^(In file included from )?{re.escape(str(source))}:", line) is not None
        elif not line[:1].isspace():
            keep = True  # a message that names no file: "compilation terminated."
        if keep:
            shown.append(sanitize.text(line, keep_tab=True))
    return "\n".join(shown[:limit]) or "(the compiler's messages are about other files)"


def check_dependencies(root, source, dependencies, allowed, name):
    """Every file the preprocessor read is the file itself, a header it may
    include, or one of the compiler's own."""
    compiler_folders = [Path(folder) for folder in toolchain.include_folders()]
    for dependency in dependencies:
        resolved = (root / dependency).resolve()
        if resolved == (root / source).resolve() or resolved in allowed or \
                any(resolved.is_relative_to(folder) for folder in compiler_folders):
            continue
        shown = sanitize.text(dependency)
        raise Refused(f"{name} includes {shown}: a submission may include only the lab's "
                      "headers (common/*.h and its lesson's and earlier lessons' .h files)")


def check_line_markers(preprocessed, root, source, dependencies, name):
    """`#line N "FILE"` (or `# N "FILE"`) in a submitted file would blame its
    errors on another file, the lab's tests.c say, or hide an include
    behind a system header's name: every file a marker names must be one
    the preprocessor really read (a listing with -MD names them all)."""
    # With -g, the first marker names the working folder ("ROOT//").
    known = {str(source), "<built-in>", "<command-line>", f"{root}//", *dependencies}
    for match in LINE_MARKER_FLAGS.finditer(preprocessed):
        if (named := match.group(2)) not in known:
            raise Refused(f"{name}: a line marker names {sanitize.text(named)!r}, a file it "
                          "does not include: a submission may not speak for other files")


def check_directives(assembly, name):
    """No assembler directive that reads a file (or builds one that could):
    wherever it stands in the assembly, after a label or ';', in any case,
    in a section name or attribute string."""
    if (match := FILE_DIRECTIVE.search(assembly)) is not None:
        raise Refused(f"{name}: '.{match.group(1).lower()}' is not allowed: a submission may "
                      "not pull other files in")


def dependencies_of(listing):
    """The files a -MD listing names (after its target's colon)."""
    words = listing.replace("\\\n", " ").split(":", 1)[-1].split()
    return [word for word in words if word]


def compile_file(source, root, flags, workdir, allowed=None):
    """Compiles `source` (relative to `root`) once and takes it apart: the
    preprocessor's listing of what it read, the assembly, the object. With
    `allowed` (the headers a submission may include), refuses (Refused) a
    file that does not preprocess or reads anything else. Returns None for
    a file that does not compile (the build reports it)."""
    root, workdir = Path(root), Path(workdir)
    stem = workdir / Path(source).stem
    name = Path(source).name
    compiler = toolchain.compiler()
    preprocessed = run([*compiler, *flags, "-E", "-MD", "-MF", f"{stem}.d", "-MT", "x",
                        "-o", f"{stem}.i", str(source)], root, workdir)
    if preprocessed.returncode != 0:
        if allowed is None:
            return None
        if preprocessed.returncode is None:
            raise Refused(f"{name}: the preprocessor needed more than {TIMEOUT} s or "
                          f"{sandbox.COMPILE.memory >> 20} MiB")
        raise Refused(f"{name} does not preprocess, so what it reads cannot be checked; a "
                      "submission may not be graded unchecked:\n"
                      + own_diagnostics(preprocessed.stderr, source))
    text = Path(f"{stem}.i").read_text(errors="replace")
    dependencies = dependencies_of(Path(f"{stem}.d").read_text(errors="replace"))
    if allowed is not None:
        check_dependencies(root, source, dependencies, allowed, name)
        check_line_markers(text, root, source, dependencies, name)
    assembly = run([*compiler, *flags, *toolchain.listing_flags(), "-S", "-o", f"{stem}.s",
                    f"{stem}.i"], root, workdir)
    if assembly.returncode != 0:
        return None
    listing = Path(f"{stem}.s").read_text(errors="replace")
    if allowed is not None:
        check_directives(listing, name)
    run([*compiler, "-c", "-o", f"{stem}.o", f"{stem}.s"], root, workdir)
    symbols = run([toolchain.tool("nm"), "-u", f"{stem}.o"], root, workdir).stdout.split()
    undefined = {word for word in symbols if word != "U"}
    port_io, indirect = False, []
    disassembly = run([toolchain.tool("objdump"), "-d", "--no-show-raw-insn", f"{stem}.o"],
                      root, workdir).stdout
    for line in disassembly.splitlines():
        fields = line.split("\t")
        if len(fields) < 2 or not fields[-1].strip():
            continue
        instruction = fields[-1].strip()
        words = instruction.split()
        if PORT_IO.match(words[0]) or words[0] in ("rep", "repz", "repnz") and \
                len(words) > 1 and PORT_IO.match(words[1]):
            port_io = True
        elif INDIRECT.match(instruction):
            indirect.append(re.sub(r"\s+", " ", instruction))
    headers = run([toolchain.tool("objdump"), "-h", "-w", f"{stem}.o"], root, workdir).stdout
    sections = {fields[1] for fields in (line.split() for line in headers.splitlines())
                if len(fields) > 2 and fields[0].isdigit()}
    own, current = [], str(source)
    for line in text.splitlines():
        if marker := LINE_MARKER.match(line):
            current = marker.group(2)
        elif current == str(source):
            own.append(line)
    return Compiled(undefined, port_io, indirect, sections, asm_blocks(listing, str(source)),
                    "\n".join(own), text)


def asm_blocks(listing, source):
    """(origin, statements) of each assembly block of a -S listing. gcc
    brackets an asm statement's text with '# LINE "FILE" 1' and '# 0 "" 2'
    inside #APP ... #NO_APP: FILE says where it was written. Any other text
    there is the file's own (top-level asm, or clang's, which marks
    nothing), except the compiler's debug labels between statements; its
    origin is TOP_LEVEL."""
    blocks, block, origin, in_app = [], [], TOP_LEVEL, False

    def close():
        if block:
            blocks.append((origin, asm_statements("\n".join(block))))
        block.clear()

    for line in listing.splitlines():
        stripped = line.strip()
        if stripped == "#APP":
            in_app, origin = True, TOP_LEVEL
        elif not in_app:
            continue
        elif stripped == "#NO_APP":
            close()
            in_app = False
        elif (marker := ASM_START.match(stripped)) is not None:
            close()
            origin = marker.group(1)
        elif stripped.startswith(ASM_END):
            close()
            origin = TOP_LEVEL
        elif origin != TOP_LEVEL or not DEBUG_LABEL.match(stripped):
            block.append(line)
    return blocks


def privileged_in(text):
    """The privileged instructions among assembly statements `text`."""
    found = set()
    for statement in text.split(";"):
        statement = re.sub(r"^[\w.$]+:\s*", "", statement.strip())  # a label
        words = statement.split()
        if not words:
            continue
        mnemonic = words[0].lower()
        if mnemonic in PRIVILEGED:
            found.add(mnemonic)
        elif PORT_IO.match(mnemonic):
            found.add("port I/O")
        elif mnemonic.startswith("mov") and (register := CONTROL_REGISTER.search(statement)):
            found.add(f"mov %{register.group(1)}")
    return found


TWINS = {}  # (lesson, file name) -> (symbols, privileged): a batch compiles each twin once
TWINS_LOCK = threading.Lock()


def allowances_file(lesson, root=ROOT):
    """Where an autograder without the reference finds what it allows
    (tools/gradescope writes it with allowances_json)."""
    return Path(root) / "grader" / f"objcheck-{lesson}.json"


def twins(lesson, name, flags):
    """(symbols, privileged instructions) that the reference and starter
    versions of `name` use, compiled in the lab itself (a grading copy holds
    no reference; an autograder may hold allowances_file instead). Kept in
    the lab's build folder for the next grader run, under a key of all they
    depend on: their sources, the lab's headers, the flags, the compiler."""
    with TWINS_LOCK:
        if (lesson, name) not in TWINS:
            sources = [Path(folder) / lesson / name for folder in ("solutions", "lessons")]
            key = cache_key([flags, toolchain.compiler(), lesson, name],
                            [ROOT / source for source in sources] + includable(ROOT, lesson))
            saved = read_cache("twins", key)
            if saved is None:
                saved = [sorted(part) for part in compile_twins(lesson, name, sources, flags)]
                write_cache("twins", key, saved)
            TWINS[(lesson, name)] = tuple(set(part) for part in saved)
        return TWINS[(lesson, name)]


def compile_twins(lesson, name, sources, flags):
    symbols, privileged, reference = set(), set(), False
    with tempfile.TemporaryDirectory(prefix="grade-objcheck-") as workdir:
        for source in sources:
            if (ROOT / source).exists():
                (Path(workdir) / source.parts[0]).mkdir()
                result = compile_file(source, ROOT, flags, Path(workdir) / source.parts[0])
                if result is not None:
                    symbols |= result.undefined
                    privileged |= written_privileged(result, str(source))
                    reference = reference or source.parts[0] == "solutions"
    saved = allowances_file(lesson)
    if not reference and saved.exists():
        entry = json.loads(saved.read_text()).get(name, {})
        symbols |= set(entry.get("symbols", []))
        privileged |= set(entry.get("privileged", []))
    return symbols, privileged


# ---- answers kept between grader runs (build/objcheck/) -----------------------------

def cache_key(values, files):
    digest = hashlib.sha256(json.dumps(values, default=str).encode())
    for path in files:
        digest.update(str(path).encode() + b"\0")
        if Path(path).is_file():
            digest.update(Path(path).read_bytes())
    return digest.hexdigest()[:32]


def cache_path(kind, key):
    return ROOT / toolchain.build_folder() / "objcheck" / f"{kind}-{key}.json"


def read_cache(kind, key):
    try:
        return json.loads(cache_path(kind, key).read_text())
    except (OSError, ValueError):
        return None


def write_cache(kind, key, value):
    """Best effort, and only in a lab that builds in its own folder (not an
    autograder's source, which grading must leave as it is): a lab folder
    that is read-only just recomputes."""
    path = cache_path(kind, key)
    if not path.parent.parent.is_dir():
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(value))
        temporary.replace(path)
    except OSError:
        pass


def written_privileged(compiled, source, templates=()):
    """What a file does that its twins must also do for it to pass unflagged:
    privileged instructions written in its own assembly (a lab helper such as
    x86.h's invlpg() is not the file's own), port I/O from anywhere, calls
    through a register."""
    found = set()
    for origin, text in compiled.asm_blocks:
        if origin == source or not any(template.fullmatch(text) for template in templates):
            found |= privileged_in(text)
    if compiled.port_io:
        found.add("port I/O")
    if compiled.indirect:
        found.add("indirect call")
    return found


def linker_symbols(root):
    """The symbols common/linker.ld defines: the image's own layout."""
    script = Path(root) / "common" / "linker.ld"
    text = strip_comments(script.read_text(errors="replace")) if script.exists() else ""
    return set(re.findall(r"(?:^|[\s;{(])([A-Za-z_]\w*)\s*=[^=]", text))


def allowances_json(lesson, names):
    """What the reference and starter of each file in `names` allow, as JSON
    for allowances_file: an autograder ships without the reference."""
    flags = compiler_flags(ROOT)
    data = {}
    for name in names:
        symbols, privileged = twins(lesson, name, flags)
        data[name] = {"symbols": sorted(symbols), "privileged": sorted(privileged)}
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


@functools.lru_cache(maxsize=None)
def libgcc_symbols(root):
    """What libgcc defines (a file may call its helpers): listing it takes
    nm most of a second, so the answer is kept for the same libgcc file."""
    path = run([*toolchain.compiler(), "-print-libgcc-file-name"], root).stdout.strip()
    if not path or not Path(path).exists():
        return set()
    info = Path(path).stat()
    key = cache_key([path, info.st_size, info.st_mtime_ns], [])
    saved = read_cache("libgcc", key)
    if saved is None:
        listing = run([toolchain.tool("nm"), "-g", "--defined-only", path], root).stdout
        saved = sorted({line.split()[-1] for line in listing.splitlines()
                        if len(line.split()) >= 3})
        write_cache("libgcc", key, saved)
    return set(saved)


def function_pointer_casts(text, typedefs):
    """Casts to a function pointer type, spelled out or through a typedef, in
    the file's own lines. `(T)x` after an identifier is a call or sizeof."""
    found = [match.group(0) for match in FUNCTION_POINTER_CAST.finditer(text)]
    for name in typedefs:
        for match in re.finditer(rf"\(\s*{name}\s*\)\s*[\w(&]", text):
            before = text[:match.start()].rstrip()
            if not before or not (before[-1].isalnum() or before[-1] == "_"):
                found.append(match.group(0))
    return found


def check_file(lesson, name, root, flags, lab_view, workdir):
    source = Path("lessons") / lesson / name
    compiled = compile_file(source, root, flags, workdir, lab_view.includable)
    if compiled is None:
        return []  # the build reports it
    twin_symbols, allowed_privileged = twins(lesson, name, flags)
    allowed_symbols = lab_view.api | twin_symbols
    findings = []

    harness = sorted(s for s in compiled.undefined if HARNESS_SYMBOL.match(s))
    if harness:
        findings.append(Finding(name, f"uses the test harness: {', '.join(harness)}", True))
    foreign = sorted(s for s in compiled.undefined - allowed_symbols if not HARNESS_SYMBOL.match(s))
    if foreign:
        findings.append(Finding(name, f"uses symbols outside the lesson's API: "
                                      f"{', '.join(foreign)}", False))
    layout = sorted((compiled.undefined & lab_view.linker_symbols) - twin_symbols)
    if layout:
        findings.append(Finding(name, f"reads the image's layout (linker symbols): "
                                      f"{', '.join(layout)}", False))
    done = written_privileged(compiled, str(source), lab_view.templates) - allowed_privileged
    if "port I/O" in done:
        findings.append(Finding(name, "does port I/O (in/out instructions)", True))
    if "indirect call" in done:
        findings.append(Finding(name, f"calls through a pointer it computes: "
                                      f"{compiled.indirect[0]!r}", False))
    other = sorted(done - {"port I/O", "indirect call"})
    if other:
        findings.append(Finding(name, f"writes privileged instructions: {', '.join(other)}",
                                False))
    for origin, text in compiled.asm_blocks:
        if not text or any(template.fullmatch(text) for template in lab_view.templates):
            continue  # a helper or macro of the lab's headers (BOCHS_BREAK), or the same
        if origin == TOP_LEVEL:
            kind, origin = "top-level assembly", ""
        else:
            kind = "machine code as data" if re.search(r"(^|;)\.(byte|word|long|quad|int|"
                                                       r"short|ascii|string|fill|skip|space)\b",
                                                       text) else "inline assembly"
            origin = "" if origin == str(source) else \
                f" (marked as from {sanitize.text(origin)})"
        findings.append(Finding(name, f"{kind}: {sanitize.text(text[:80])!r}{origin}", False))
    odd = sorted(s for s in compiled.sections if not ALLOWED_SECTION.match(s))
    if odd:
        findings.append(Finding(name, f"sections of its own: {sanitize.text(', '.join(odd))}",
                                False))
    typedefs = set(FUNCTION_POINTER_TYPEDEF.findall(compiled.preprocessed))
    casts = function_pointer_casts(compiled.own_lines, typedefs)
    if casts:
        findings.append(Finding(name, f"casts to a function pointer: "
                                      f"{sanitize.text(casts[0].strip()[:60])!r}", False))
    walks = sorted(set(STACK_WALK.findall(compiled.own_lines)))
    if walks:
        findings.append(Finding(name, f"reads its callers' frames: {', '.join(walks)}", False))
    return findings


@dataclass
class LabView:
    """What the checks of one lesson's files compare against."""
    api: set             # names a file may use from elsewhere
    templates: list      # the lab headers' inline assembly
    includable: set      # the headers a file may include (resolved paths)
    linker_symbols: set


def lab_view(root, lesson):
    headers = lesson_headers(root, lesson)
    api = declared_names(headers) | libgcc_symbols(ROOT)  # the toolchain's, for every copy
    return LabView({name for name in api if not HARNESS_SYMBOL.match(name)},
                   asm_templates(headers),
                   {header.resolve() for header in includable(root, lesson)},
                   linker_symbols(root))


def check(root, lesson, names):
    """The one compile pass over the submitted files `names` of `lesson` in
    the lab copy at `root`: raises Refused for a file that reads what it may
    not (a header outside the lab's, a file through the assembler) or hides
    what it reads; returns the findings for the instructor."""
    root = Path(root).resolve()
    flags = compiler_flags(root)
    view = lab_view(root, lesson)
    findings = []
    with tempfile.TemporaryDirectory(prefix="grade-objcheck-") as workdir:
        for name in sorted(names):
            findings += check_file(lesson, name, root, flags, view, workdir)
    return findings


def uses_file(result, name, flavours):
    """Is the submitted file `name` part of this kernel? In flavour F a file
    X_F.c replaces X.c (the Makefile's rule)."""
    stem = Path(name).stem
    own_flavour = next((f for f in flavours if stem.endswith(f"_{f}")), None)
    if own_flavour is not None:
        return result.flavour == own_flavour
    return not (result.flavour and (result.root / "lessons" / result.lesson /
                                    f"{stem}_{result.flavour}.c").exists())


def apply(results, findings):
    """Scores 0 for every kernel built from a file with a `zero` finding."""
    flavours = {result.flavour for result in results if result.flavour}
    for finding in findings:
        if not finding.zero:
            continue
        for result in results:
            if not uses_file(result, finding.file, flavours):
                continue
            result.events.append(f"review: {finding}")
            for test in result.tests.values():
                test.score = 0
                if test.status == "passed":
                    test.status = "review"
                test.output.insert(0, f"scored 0: {finding}")


def review_reasons(results, findings):
    """Why an instructor should read this submission: the checks' findings and
    the grading's own signs of forgery. Empty if there is nothing to see."""
    reasons = [str(finding) for finding in findings]
    for result in results or []:
        reasons += [f"{result.kernel}: {event}" for event in result.events
                    if "forged" in event or "without this run's nonce" in event]
    return reasons
