"""Checks of each submitted file's compiled code, before it is booted.

Student code runs in ring 0 beside the test harness, so what it could do is
judged from what it is made of:

- every symbol it uses from elsewhere must belong to the lesson's API: a name
  declared in a header of common/ or of the lesson (or an earlier one), other
  than the harness's headers, or one that the file's reference or starter
  twin uses. The harness's own symbols (HARNESS_SYMBOL) cost the kernel its
  points;
- no port I/O (the kernel's points again), and no other privileged
  instruction unless the reference or starter version of the same file uses
  it (vmm.c: invlpg and CR3; kheap.c: cli, sti);
- no inline assembly of its own, no machine code written as data (.byte and
  friends), no sections of its own, no casts to function pointers, no reading
  of its callers' frames (__builtin_return_address): the ways to reach code
  and data of the harness without naming them.

Allowances are derived from the lab's headers and reference files, so they
follow the lessons as they change. A finding never stops the grading: it is
listed for the instructor ("review") and, where `zero` is set, the kernels
built from that file score 0."""

import json
import re
import shlex
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

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
ASM_START, ASM_END = re.compile(r'^# \d+ "([^"]*)" 1$'), '# 0 "" 2'
TIMEOUT = 60  # seconds for one compiler or binutils run


@dataclass
class Finding:
    file: str     # the submitted file, e.g. kheap.c
    reason: str
    zero: bool    # the kernels built from the file score 0

    def __str__(self):
        return f"{self.file}: {self.reason}" + (" (its kernel scores 0)" if self.zero else "")


def run(command, cwd):
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT)


def compiler_flags(root):
    """The lab's flags; warnings stay warnings, as for a student's file in the
    build (-Werror would leave a file with one warning unchecked)."""
    return shlex.split(run(["make", "-s", "-C", str(root), "print-cflags"], root).stdout) + [
        "-Wno-error"]


def lesson_headers(root, lesson):
    """The headers a lesson's files may use: common/ and the lessons up to this
    one, the harness's and the tests' own left out."""
    folders = [root / "common"] + [folder for folder in sorted((root / "lessons").iterdir())
                                   if folder.is_dir() and folder.name <= lesson]
    return [header for folder in folders for header in sorted(folder.glob("*.h"))
            if header.name not in HARNESS_HEADERS and not header.name.startswith("tests")]


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


@dataclass
class Compiled:
    undefined: set      # symbols the object uses from elsewhere
    privileged: set     # privileged instructions, as "cli", "mov %cr3", "out"
    sections: set
    asm_blocks: list    # (source file, text) of every inline assembly block
    own_lines: str      # the preprocessed text of the file's own lines
    preprocessed: str   # the whole translation unit


def compile_file(source, root, flags, workdir):
    """Compiles `source` (relative to `root`) and takes it apart."""
    stem = Path(workdir) / Path(source).stem
    assembly = run(["gcc", *flags, "-S", "-o", f"{stem}.s", str(source)], root)
    if assembly.returncode != 0:
        return None
    run(["gcc", "-c", "-o", f"{stem}.o", f"{stem}.s"], root)
    symbols = run(["nm", "-u", f"{stem}.o"], root).stdout.split()
    undefined = {word for word in symbols if word != "U"}
    privileged = set()
    for line in run(["objdump", "-d", "--no-show-raw-insn", f"{stem}.o"], root).stdout.splitlines():
        fields = line.split("\t")
        if len(fields) < 2 or not fields[1].strip():
            continue
        instruction = fields[1].strip()
        mnemonic = instruction.split()[0]
        if PORT_IO.match(mnemonic) or mnemonic in ("rep", "repz", "repnz") and \
                PORT_IO.match(" ".join(instruction.split()[:2])):
            privileged.add("port I/O")
        elif mnemonic in PRIVILEGED:
            privileged.add(mnemonic)
        elif mnemonic.startswith("mov") and (register := CONTROL_REGISTER.search(instruction)):
            privileged.add(f"mov %{register.group(1)}")
    headers = run(["objdump", "-h", "-w", f"{stem}.o"], root).stdout.splitlines()
    sections = {fields[1] for fields in (line.split() for line in headers)
                if len(fields) > 2 and fields[0].isdigit()}
    # gcc -S brackets each asm statement's text with '# LINE "FILE" 1' and
    # '# 0 "" 2': FILE says where the statement was written.
    blocks, block, origin = [], None, ""
    for line in Path(f"{stem}.s").read_text(errors="replace").splitlines():
        if (marker := ASM_START.match(line)) is not None:
            block, origin = [], marker.group(1)
        elif line.startswith(ASM_END) and block is not None:
            blocks.append((origin, asm_statements("\n".join(block))))
            block = None
        elif block is not None:
            block.append(line)
    preprocessed = run(["gcc", *flags, "-E", str(source)], root).stdout
    own, current = [], str(source)
    for line in preprocessed.splitlines():
        if marker := LINE_MARKER.match(line):
            current = marker.group(2)
        elif current == str(source):
            own.append(line)
    return Compiled(undefined, privileged, sections, blocks, "\n".join(own), preprocessed)


TWINS = {}  # (lesson, file name) -> (symbols, privileged): a batch compiles each twin once
TWINS_LOCK = threading.Lock()


def allowances_file(lesson, root=ROOT):
    """Where an autograder without the reference finds what it allows
    (tools/gradescope writes it with allowances_json)."""
    return Path(root) / "grader" / f"objcheck-{lesson}.json"


def twins(lesson, name, flags):
    """(symbols, privileged instructions) that the reference and starter
    versions of `name` use, compiled in the lab itself (a grading copy holds
    no reference; an autograder may hold allowances_file instead)."""
    with TWINS_LOCK:
        if (lesson, name) not in TWINS:
            symbols, privileged, reference = set(), set(), False
            with tempfile.TemporaryDirectory(prefix="grade-objcheck-") as workdir:
                for folder in ("solutions", "lessons"):
                    source = Path(folder) / lesson / name
                    if (ROOT / source).exists():
                        (Path(workdir) / folder).mkdir()
                        result = compile_file(source, ROOT, flags, Path(workdir) / folder)
                        if result is not None:
                            symbols |= result.undefined
                            privileged |= result.privileged
                            reference = reference or folder == "solutions"
            saved = allowances_file(lesson)
            if not reference and saved.exists():
                entry = json.loads(saved.read_text()).get(name, {})
                symbols |= set(entry.get("symbols", []))
                privileged |= set(entry.get("privileged", []))
            TWINS[(lesson, name)] = (symbols, privileged)
        return TWINS[(lesson, name)]


def allowances_json(lesson, names):
    """What the reference and starter of each file in `names` allow, as JSON
    for allowances_file: an autograder ships without the reference."""
    flags = compiler_flags(ROOT)
    data = {}
    for name in names:
        symbols, privileged = twins(lesson, name, flags)
        data[name] = {"symbols": sorted(symbols), "privileged": sorted(privileged)}
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


def libgcc_symbols(root):
    path = run(["gcc", "-print-libgcc-file-name"], root).stdout.strip()
    listing = run(["nm", "-g", "--defined-only", path], root).stdout if path else ""
    return {line.split()[-1] for line in listing.splitlines() if len(line.split()) >= 3}


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


def check_file(lesson, name, root, flags, api, templates, workdir):
    source = Path("lessons") / lesson / name
    compiled = compile_file(source, root, flags, workdir)
    if compiled is None:
        return []  # the build reports it
    twin_symbols, allowed_privileged = twins(lesson, name, flags)
    allowed_symbols = api | twin_symbols
    findings = []

    harness = sorted(s for s in compiled.undefined if HARNESS_SYMBOL.match(s))
    if harness:
        findings.append(Finding(name, f"uses the test harness: {', '.join(harness)}", True))
    foreign = sorted(s for s in compiled.undefined - allowed_symbols if not HARNESS_SYMBOL.match(s))
    if foreign:
        findings.append(Finding(name, f"uses symbols outside the lesson's API: "
                                      f"{', '.join(foreign)}", False))
    if "port I/O" in compiled.privileged - allowed_privileged:
        findings.append(Finding(name, "does port I/O (in/out instructions)", True))
    other = sorted(compiled.privileged - allowed_privileged - {"port I/O"})
    if other:
        findings.append(Finding(name, f"uses privileged instructions: {', '.join(other)}", False))
    for origin, text in compiled.asm_blocks:
        if (origin and origin != str(source)) or not text:
            continue  # from a lab header: the file is allowed only those (submission.py)
        if any(template.fullmatch(text) for template in templates):
            continue  # a macro of the lab's headers (BOCHS_BREAK) or the same as one
        kind = "machine code as data" if re.search(r"(^|;)\.(byte|word|long|quad|int|short|"
                                                   r"ascii|string|fill|skip|space)\b", text) \
            else "inline assembly"
        findings.append(Finding(name, f"{kind}: {text[:80]!r}", False))
    odd = sorted(s for s in compiled.sections if not ALLOWED_SECTION.match(s))
    if odd:
        findings.append(Finding(name, f"sections of its own: {', '.join(odd)}", False))
    typedefs = set(FUNCTION_POINTER_TYPEDEF.findall(compiled.preprocessed))
    casts = function_pointer_casts(compiled.own_lines, typedefs)
    if casts:
        findings.append(Finding(name, f"casts to a function pointer: {casts[0].strip()[:60]!r}",
                                False))
    walks = sorted(set(STACK_WALK.findall(compiled.own_lines)))
    if walks:
        findings.append(Finding(name, f"reads its callers' frames: {', '.join(walks)}", False))
    return findings


def check(root, lesson, names):
    """Findings for the submitted files `names` of `lesson` in the lab copy at `root`."""
    root = Path(root)
    flags = compiler_flags(root)
    headers = lesson_headers(root, lesson)
    api = declared_names(headers) | libgcc_symbols(root)
    api = {name for name in api if not HARNESS_SYMBOL.match(name)}
    templates = asm_templates(headers)
    findings = []
    with tempfile.TemporaryDirectory(prefix="grade-objcheck-") as workdir:
        for name in sorted(names):
            findings += check_file(lesson, name, root, flags, api, templates, workdir)
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
