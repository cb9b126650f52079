"""Unit tests of archive extraction (grader/gradelib/submission.py): honest
archives unpack on every supported Python, hostile ones are refused, and no
link, device, owner or special mode of an archive reaches the disk."""

import io
import stat
import sys
import tarfile
import tempfile
import unittest
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent / "grader"))
from gradelib.submission import SubmissionError, extract  # noqa: E402

SOURCE = b"int answer(void) { return 42; }\n"


def tar_with(folder, name, *members):
    """A .tar.gz in `folder` holding `members`: (TarInfo, bytes or None)."""
    path = folder / name
    with tarfile.open(path, "w:gz") as tarred:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tarred.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def file_member(name, data=SOURCE, mode=0o644):
    info = tarfile.TarInfo(name)
    info.mode = mode
    return info, data


class ArchiveTests(unittest.TestCase):
    def setUp(self):
        self.scratch = tempfile.TemporaryDirectory()
        self.folder = Path(self.scratch.name)
        self.out = self.folder / "out"
        self.out.mkdir()

    def tearDown(self):
        self.scratch.cleanup()

    def test_tar_unpacks_files_and_folders(self):
        folder = tarfile.TarInfo("lessons/15-kheap")
        folder.type = tarfile.DIRTYPE
        archive = tar_with(self.folder, "work.tgz", (folder, None),
                           file_member("lessons/15-kheap/kheap.c"))
        extract(archive, self.out)
        self.assertEqual((self.out / "lessons/15-kheap/kheap.c").read_bytes(), SOURCE)

    def test_tar_drops_special_modes(self):
        archive = tar_with(self.folder, "work.tar.gz", file_member("kheap.c", mode=0o6777))
        extract(archive, self.out)
        mode = (self.out / "kheap.c").stat().st_mode
        self.assertFalse(mode & (stat.S_ISUID | stat.S_ISGID | stat.S_IWOTH))

    def test_tar_skips_links_and_devices(self):
        link = tarfile.TarInfo("kheap.c")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        device = tarfile.TarInfo("tty")
        device.type = tarfile.CHRTYPE
        archive = tar_with(self.folder, "work.tgz", (link, None), (device, None))
        extract(archive, self.out)
        self.assertEqual(list(self.out.iterdir()), [])

    def test_tar_refuses_paths_outside(self):
        for name in ("../evil.c", "/tmp/evil.c", "lessons/../../evil.c"):
            with self.subTest(name=name):
                archive = tar_with(self.folder, "bad.tgz", file_member(name))
                with self.assertRaisesRegex(SubmissionError, "unsafe path"):
                    extract(archive, self.out)
        self.assertFalse((self.folder / "evil.c").exists())

    def test_zip_unpacks_and_refuses_paths_outside(self):
        good = self.folder / "work.zip"
        with zipfile.ZipFile(good, "w") as zipped:
            zipped.writestr("lessons/15-kheap/kheap.c", SOURCE)
        extract(good, self.out)
        self.assertEqual((self.out / "lessons/15-kheap/kheap.c").read_bytes(), SOURCE)
        bad = self.folder / "bad.zip"
        with zipfile.ZipFile(bad, "w") as zipped:
            zipped.writestr("../evil.c", SOURCE)
        with self.assertRaisesRegex(SubmissionError, "unsafe path"):
            extract(bad, self.out)


if __name__ == "__main__":
    unittest.main()
