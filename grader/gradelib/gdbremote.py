"""A client of GDB's remote serial protocol, as much of it as the witness
needs to drive QEMU's gdbstub: hardware breakpoints, registers, memory
(virtual and physical), continue, interrupt and kill. Talking the protocol
directly costs far less than starting GDB for every boot.

The protocol: packets `$DATA#CHECKSUM`; after QStartNoAckMode neither side
sends the `+` acknowledgements. A stop is reported as `T05...` or `S05`; a
guest that powered off as `W..` or `X..`, or by the connection closing."""

import os
import re
import socket
import time

PACKET_DATA = 2048  # bytes of memory per `m` request: 4 KiB of hex, QEMU's PacketSize


REPLY_TIMEOUT = 30.0  # seconds for a paused emulator to answer, however loaded the machine
INTERRUPT_SECONDS = 1.0  # for a stop after a bare ^C, before trying QEMU 7.2's way


class Disconnected(Exception):
    """The emulator closed the connection, exited (the guest powered off)
    or stopped answering."""


class RemoteError(Exception):
    pass


def checksum(data):
    return sum(data) & 0xFF


# Seconds for a starting emulator to open its gdbstub: a loaded machine
# (a CI runner grading a class) can take many seconds to start one.
CONNECT_TIMEOUT = 60.0


class Remote:
    def __init__(self, path, timeout=None, alive=lambda: True):
        """Connects to the gdbstub listening on the Unix socket `path`,
        retrying while the emulator starts (and alive() says it runs) for
        `timeout` seconds (CONNECT_TIMEOUT)."""
        deadline = time.monotonic() + (CONNECT_TIMEOUT if timeout is None else timeout)
        # A socket's path holds at most 107 bytes: a deeper one is reached
        # through a descriptor of its folder, /proc/self/fd/N/NAME.
        folder = os.open(os.path.dirname(os.path.abspath(path)), os.O_PATH)
        try:
            while True:
                self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    self.socket.connect(f"/proc/self/fd/{folder}/{os.path.basename(path)}")
                    break
                except OSError:
                    self.socket.close()
                    if time.monotonic() > deadline or not alive():
                        raise
                    time.sleep(0.01)
        finally:
            os.close(folder)
        self.socket.settimeout(REPLY_TIMEOUT)
        self.buffer = b""
        self.closed = False
        self.acks = True
        self.request("QStartNoAckMode")
        self.acks = False
        self.physical = False
        self.registers = self._register_numbers()

    def _read_feature(self, name):
        text, offset = "", 0
        while True:
            reply = self.request(f"qXfer:features:read:{name}:{offset:x},ffb")
            text += reply[1:]
            offset += len(reply) - 1
            if reply[:1] != "m":
                return text

    def _register_numbers(self):
        """{name: number} from the stub's description of its registers
        (which QEMU also wants read before it answers `p`)."""
        numbers, text = {}, self._read_feature("target.xml")
        for part in [text] + [self._read_feature(name) for name in
                              re.findall(r'include href="([^"]+)"', text)]:
            part = re.sub(r"<!--.*?-->", "", part, flags=re.S)
            for register in re.finditer(r"<reg\b[^>]*>", part):
                name = re.search(r'name="(\w+)"', register.group(0)).group(1)
                number = re.search(r'regnum="(\d+)"', register.group(0))
                numbers[name] = int(number.group(1)) if number else len(numbers)
        return numbers

    def fileno(self):
        return self.socket.fileno()

    def close(self):
        self.socket.close()

    def send(self, data):
        data = data.encode() if isinstance(data, str) else data
        self.socket.sendall(b"$" + data + b"#%02x" % checksum(data))

    def _receive_some(self):
        try:
            chunk = self.socket.recv(65536)
        except socket.timeout:
            raise Disconnected(f"the emulator did not answer for {REPLY_TIMEOUT:g} s") from None
        if not chunk:
            self.closed = True
            raise Disconnected("the emulator closed the connection")
        self.buffer += chunk

    def read_available(self):
        """Takes what the socket holds (call when it is readable): QEMU
        also sends bare acknowledgements, which are no packet."""
        self._receive_some()

    def packet_ready(self):
        """A whole packet is buffered (without waiting for one)."""
        start = self.buffer.find(b"$")
        end = self.buffer.find(b"#", start) if start >= 0 else -1
        return end >= 0 and end + 2 < len(self.buffer)

    def receive(self):
        """The next packet's data (acknowledgements skipped)."""
        while True:
            start = self.buffer.find(b"$")
            end = self.buffer.find(b"#", start) if start >= 0 else -1
            if start >= 0 and end >= 0 and end + 2 < len(self.buffer):
                data = self.buffer[start + 1:end]
                self.buffer = self.buffer[end + 3:]
                if self.acks:
                    self.socket.sendall(b"+")
                return data.decode("latin-1")
            self._receive_some()

    def request(self, data):
        self.send(data)
        reply = self.receive()
        if reply.startswith("E") and len(reply) == 3:
            raise RemoteError(f"{data[:40]!r}: error {reply}")
        return reply

    def set_breakpoint(self, address):
        """A hardware breakpoint: under QEMU's TCG it lives in the
        translator, not in guest memory; the guest cannot see or remove it."""
        if self.request(f"Z1,{address:x},1") != "OK":
            raise RemoteError(f"QEMU refused a breakpoint at {address:#x}")

    def register(self, name):
        """A register by its name in the stub's description: rip, rsp, cr3..."""
        reply = self.request(f"p{self.registers[name]:x}")
        return int.from_bytes(bytes.fromhex(reply), "little")

    def use_physical(self, physical):
        """Memory requests address physical memory (QEMU's maintenance
        packet) rather than the guest's virtual memory."""
        if physical != self.physical:
            if self.request(f"Qqemu.PhyMemMode:{int(physical)}") != "OK":
                raise RemoteError("QEMU cannot read physical memory")
            self.physical = physical

    def memory(self, address, size, physical=False):
        self.use_physical(physical)
        data = bytearray()
        while len(data) < size:
            length = min(PACKET_DATA, size - len(data))
            data += bytes.fromhex(self.request(f"m{address + len(data):x},{length:x}"))
        return bytes(data)

    def write_memory(self, address, data, physical=False):
        self.use_physical(physical)
        if self.request(f"M{address:x},{len(data):x}:{bytes(data).hex()}") != "OK":
            raise RemoteError(f"QEMU refused a write at {address:#x}")

    def set_register(self, name, value):
        size = len(self.request(f"p{self.registers[name]:x}")) // 2
        reply = self.request(f"P{self.registers[name]:x}={value.to_bytes(size, 'little').hex()}")
        if reply != "OK":
            raise RemoteError(f"QEMU refused to set {name}")

    def resume(self):
        """Lets the guest run; its next stop comes as a packet (receive).
        From a breakpoint, move RIP past it first: QEMU would stop on it
        again, and lifting it for one step would flush QEMU's whole cache
        of translated code, twice."""
        self.send("c")

    def interrupt(self):
        """Stops a running guest; returns its stop packet. QEMU 10 takes a
        bare ^C, and a `+` before it makes it ignore the ^C. QEMU 7.2 drops
        every byte but `+` and `$` while it keeps its last reply for a
        resend, acknowledgements off or not: so if no stop comes at once,
        a `+` and the ^C again."""
        for attempt in (b"\x03", b"+\x03"):
            self.socket.sendall(attempt)
            self.socket.settimeout(INTERRUPT_SECONDS if attempt == b"\x03" else REPLY_TIMEOUT)
            try:
                while True:
                    reply = self.receive()
                    if reply.startswith(("T", "S")):
                        return reply
            except Disconnected:
                if attempt != b"\x03" or self.closed:
                    raise
            finally:
                self.socket.settimeout(REPLY_TIMEOUT)
        raise Disconnected("the emulator did not stop")

    def kill(self):
        try:
            self.send("k")
        except OSError:
            pass
