"""Unit tests of the sandbox (grader/gradelib/sandbox.py): a program sees only
what it is given, dies with its group at a timeout, meets its limits, and a
machine without bubblewrap is told so loudly."""

import contextlib
import io
import sys
import tempfile
import time
import unittest
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent / "grader"))
from gradelib import sandbox  # noqa: E402

SMALL = sandbox.Limits(memory=256 * sandbox.MiB, cpu=5, file_size=sandbox.MiB)


@unittest.skipIf(sandbox.probe() is not None, f"no sandbox here: {sandbox.probe()}")
class SandboxTests(unittest.TestCase):
    def setUp(self):
        self.scratch = tempfile.TemporaryDirectory()
        self.folder = Path(self.scratch.name)
        self.secret = Path(tempfile.mkdtemp()) / "secret"
        self.secret.write_text("not for students\n")

    def tearDown(self):
        self.scratch.cleanup()
        self.secret.unlink()
        self.secret.parent.rmdir()

    def test_only_what_it_is_given(self):
        (self.folder / "mine").write_text("mine\n")
        seen = sandbox.run(["cat", str(self.folder / "mine"), str(self.secret)],
                           limits=SMALL, readable=[self.folder])
        self.assertIn("mine", seen.stdout)
        self.assertNotIn("not for students", seen.stdout)
        wrote = sandbox.run(["sh", "-c", f"echo x > {self.folder}/new"], limits=SMALL,
                            readable=[self.folder])
        self.assertNotEqual(wrote.returncode, 0)  # read-only
        self.assertFalse((self.folder / "new").exists())
        home = sandbox.run(["sh", "-c", "echo x > $HOME/x; ls -A $HOME"], limits=SMALL)
        self.assertEqual(home.stdout.split(), ["x"])  # a private, empty /tmp for a home

    def test_a_timeout_kills_the_group(self):
        started = time.monotonic()
        ran = sandbox.run(["sh", "-c", "sleep 60 & sleep 60"], limits=SMALL, timeout=1)
        self.assertIsNone(ran.returncode)
        self.assertLess(time.monotonic() - started, 30)

    def test_limits_hold(self):
        ran = sandbox.run([sys.executable, "-c", "x = bytearray(512 * 1024 * 1024)"],
                          limits=SMALL)
        self.assertIn("MemoryError", ran.stderr)
        ran = sandbox.run(["sh", "-c", f"head -c 2000000 /dev/zero > {self.folder}/big"],
                          limits=SMALL, writable=[self.folder])
        self.assertLessEqual((self.folder / "big").stat().st_size, sandbox.MiB)


class WithoutSandboxTests(unittest.TestCase):
    def test_said_loudly(self):
        reason = "bwrap cannot make a sandbox here: no user namespaces"
        with mock.patch.object(sandbox, "probe", return_value=reason):
            sandbox.warn_once.cache_clear()
            err = io.StringIO()
            with contextlib.redirect_stderr(err):
                self.assertEqual(sandbox.command(["true"]), ["true"])
            self.assertIn("NOT sandboxed", err.getvalue())
            self.assertIn("NOT sandboxed", sandbox.status())
        sandbox.warn_once.cache_clear()


if __name__ == "__main__":
    unittest.main()
