"""Unit tests of archive extraction (grader/gradelib/submission.py): honest
archives unpack on every supported Python, hostile ones are refused, and no
link, device, owner or special mode of an archive reaches the disk."""

import gzip
import io
import os
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

    def test_tar_refuses_links_and_devices_by_name(self):
        link = tarfile.TarInfo("kheap.c")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        device = tarfile.TarInfo("tty")
        device.type = tarfile.CHRTYPE
        odd = tarfile.TarInfo("odd.c")
        odd.type = b"Z"
        for member, said in ((link, "kheap.c is a symbolic link"), (device, "tty is a device"),
                             (odd, "odd.c is of an unknown type")):
            with self.subTest(said=said):
                archive = tar_with(self.folder, "work.tgz", (member, None))
                with self.assertRaisesRegex(SubmissionError, said):
                    extract(archive, self.out)

    def test_tar_bytes_are_counted_as_they_are_decompressed(self):
        # A member that declares little and holds 65 MiB (a header's size is
        # not trusted): every byte that comes out of the decompressor counts.
        path = self.folder / "bomb.tar.gz"
        with gzip.open(path, "wb", compresslevel=1) as packed:
            info = tarfile.TarInfo("notes.txt")
            info.size = 65 << 20
            packed.write(info.tobuf(format=tarfile.GNU_FORMAT))
            zeros = bytes(1 << 20)
            for _ in range(65):
                packed.write(zeros)
        self.assertLess(path.stat().st_size, 1 << 20)
        with self.assertRaisesRegex(SubmissionError, "unpacks to more than 64 MiB"):
            extract(path, self.out)

    def test_archives_open_as_their_suffix_says(self):
        path = self.folder / "work.tar"
        with tarfile.open(path, "w:bz2") as tarred:
            info, data = file_member("kheap.c")
            info.size = len(data)
            tarred.addfile(info, io.BytesIO(data))
        with self.assertRaisesRegex(SubmissionError, "cannot unpack"):
            extract(path, self.out)

    def test_member_count_depth_and_name_limits(self):
        many = [(tarfile.TarInfo(f"d{i}"), None) for i in range(3000)]
        for info, _ in many:
            info.type = tarfile.DIRTYPE
        deep = "/".join(["d"] * 40) + "/kheap.c"
        for members, said in ((many, "more than 2000 members"),
                              ([file_member(deep)], "nested more than 32 folders"),
                              ([file_member("x" * 300)], "longer than")):
            with self.subTest(said=said):
                archive = tar_with(self.folder, "many.tgz", *members)
                with self.assertRaisesRegex(SubmissionError, said):
                    extract(archive, self.out)

    def test_bad_zips_are_refused_clearly(self):
        corrupt = self.folder / "corrupt.zip"
        corrupt.write_bytes(b"PK\x03\x04 not really a zip")
        encrypted = self.folder / "encrypted.zip"
        with zipfile.ZipFile(encrypted, "w") as zipped:
            zipped.writestr("kheap.c", SOURCE)
        data = bytearray(encrypted.read_bytes())
        for offset in (6, data.rfind(b"PK\x01\x02") + 8):  # the encrypted flag, both headers
            data[offset] |= 1
        encrypted.write_bytes(bytes(data))
        method = self.folder / "method.zip"
        with zipfile.ZipFile(method, "w", compression=zipfile.ZIP_LZMA) as zipped:
            zipped.writestr("kheap.c", SOURCE)
        link = self.folder / "link.zip"
        with zipfile.ZipFile(link, "w") as zipped:
            info = zipfile.ZipInfo("kheap.c")
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zipped.writestr(info, "/etc/passwd")
        for archive, said in ((corrupt, "cannot unpack"), (encrypted, "encrypted"),
                              (method, "compressed with method"),
                              (link, "kheap.c is a symbolic link")):
            with self.subTest(archive=archive.name):
                with self.assertRaisesRegex(SubmissionError, said):
                    extract(archive, self.out)

    def test_names_that_are_not_utf8_unpack(self):
        name = os.fsdecode(b"caf\xe9/kheap.c")
        archive = tar_with(self.folder, "work.tar.gz", file_member(name))
        extract(archive, self.out)
        self.assertEqual((self.out / name).read_bytes(), SOURCE)

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
