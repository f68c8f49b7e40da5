"""Zip uploads: safe extraction, limits checked before writing, and loading as a folder."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from ganlab import paths
from ganlab.data import extract_zip, open_dataset
from ganlab.data.archive import sanitise_name


def _png(colour=(200, 50, 50)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), colour).save(buf, "PNG")
    return buf.getvalue()


def _zip(entries: dict[str, bytes], path: Path | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    if path is not None:
        path.write_bytes(buf.getvalue())
    return buf.getvalue()


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


@pytest.fixture
def sandbox(tmp_path):
    """A dest root inside a watched tree: tests assert nothing appears beside or above it."""
    dest = tmp_path / "box" / "uploads"
    dest.mkdir(parents=True)
    return tmp_path, dest


def _assert_nothing_written(tmp_root: Path, dest: Path, before: set[str]) -> None:
    assert _files(tmp_root) == before, "files appeared outside or inside the target"
    assert list(dest.iterdir()) == []  # no partial extraction, no temp folder left behind


def test_zip_loads_as_labelled_folder(tmp_path):
    archive = tmp_path / "My Pets.zip"
    _zip({"pets/cats/a.png": _png(), "pets/cats/b.png": _png(), "pets/dogs/c.png": _png((0, 0, 255))}, archive)
    ds = open_dataset("zip", size=8, path=str(archive))
    assert ds.images.shape == (3, 3, 8, 8)
    assert ds.class_names == ("cats", "dogs") and sorted(ds.labels.tolist()) == [0, 0, 1]
    extracted = list((paths.data_dir() / "uploads").iterdir())
    assert len(extracted) == 1 and extracted[0].name.startswith("My Pets-")


def test_zip_same_archive_is_extracted_once(tmp_path):
    data = _zip({"a.png": _png(), "b.png": _png()})
    first = extract_zip(data, tmp_path / "up")
    marker = first / "a.png"
    mtime = marker.stat().st_mtime_ns
    second = extract_zip(io.BytesIO(data), tmp_path / "up")
    assert first == second and marker.stat().st_mtime_ns == mtime


def test_zip_accepts_uploaded_file_object_with_name(tmp_path):
    upload = io.BytesIO(_zip({"x.png": _png()}))
    upload.name = "../../evil name?.zip"
    target = extract_zip(upload, tmp_path / "up")
    assert target.parent == tmp_path / "up" and target.name.startswith("evil name_-")
    assert (target / "x.png").is_file()


@pytest.mark.parametrize(
    "bad_name, message",
    [
        ("../escape.png", r"outside the archive folder \('..'\)"),
        ("ok/../../escape.png", r"\('..'\)"),
        ("..\\escape.png", r"\('..'\)"),
        ("/abs/escape.png", "absolute path"),
        ("C:/windows/escape.png", "absolute path"),
    ],
)
def test_zip_refuses_escaping_names_writing_nothing(sandbox, bad_name, message):
    root, dest = sandbox
    data = _zip({"good.png": _png(), bad_name: _png()})
    before = _files(root)
    with pytest.raises(ValueError, match=message):
        extract_zip(data, dest)
    _assert_nothing_written(root, dest, before)


def test_zip_refuses_symlink_entry(sandbox):
    root, dest = sandbox
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("good.png", _png())
        link = zipfile.ZipInfo("link.png")
        link.external_attr = 0o120777 << 16  # S_IFLNK: a symlink pointing at /etc/passwd
        zf.writestr(link, "/etc/passwd")
    before = _files(root)
    with pytest.raises(ValueError, match="'link.png' is a symbolic link"):
        extract_zip(buf.getvalue(), dest)
    _assert_nothing_written(root, dest, before)


def test_zip_refuses_too_many_files_before_extracting(sandbox):
    root, dest = sandbox
    data = _zip({f"{i}.png": _png() for i in range(5)})
    before = _files(root)
    with pytest.raises(ValueError, match="more than 3 files.*max_files=3"):
        extract_zip(data, dest, max_files=3)
    _assert_nothing_written(root, dest, before)


def test_zip_refuses_too_many_bytes_before_extracting(sandbox):
    root, dest = sandbox
    data = _zip({"zeros.bin": b"\0" * 100_000, "a.png": _png()})  # compresses to ~100 bytes
    before = _files(root)
    with pytest.raises(ValueError, match="unpack to more than 50,000 bytes.*max_bytes=50,000"):
        extract_zip(data, dest, max_bytes=50_000)
    _assert_nothing_written(root, dest, before)


def test_zip_whose_header_understates_its_size_never_writes_more_and_is_refused(sandbox, monkeypatch):
    # What protects here: zipfile reads a member only up to its declared size (so the size checks made on the
    # declared sizes before extracting hold), and the CRC of the cut data then fails.
    read = []
    original = zipfile.ZipExtFile.read
    monkeypatch.setattr(zipfile.ZipExtFile, "read", lambda self, n=-1: read.append(len(b := original(self, n))) or b)
    root, dest = sandbox
    data = bytearray(_zip({"zeros.bin": b"\0" * 100_000}))
    # Rewrite the declared uncompressed size (local and central headers) to 10 bytes.
    local, central = data.find(b"PK\x03\x04"), data.find(b"PK\x01\x02")
    data[local + 22 : local + 26] = (10).to_bytes(4, "little")
    data[central + 24 : central + 28] = (10).to_bytes(4, "little")
    before = _files(root)
    with pytest.raises(ValueError, match="zip could not be extracted.*CRC"):
        extract_zip(bytes(data), dest, max_bytes=1000)
    _assert_nothing_written(root, dest, before)
    assert sum(read) <= 10


def test_non_zip_upload_is_refused(sandbox):
    root, dest = sandbox
    before = _files(root)
    with pytest.raises(ValueError, match="not a zip archive"):
        extract_zip(_png(), dest)
    _assert_nothing_written(root, dest, before)


def test_zip_path_errors_are_clear(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        open_dataset("zip", size=8, path=str(tmp_path / "missing.zip"))
    with pytest.raises(ValueError, match="is a folder, not a zip"):
        open_dataset("zip", size=8, path=str(tmp_path))
    with pytest.raises(ValueError, match="no zip file given"):
        open_dataset("zip", size=8, path="")


def test_zip_nested_archives_and_junk_are_left_and_ignored(tmp_path):
    inner = _zip({"inner.png": _png()})
    data = _zip(
        {
            "a.png": _png(),
            "b.png": _png(),
            "more.zip": inner,
            "__MACOSX/._a.png": b"junk",
            ".hidden.png": b"junk",
            "bad:name?.png": _png(),
        }
    )
    target = extract_zip(data, tmp_path / "up")
    assert _files(target) == {"a.png", "b.png", "more.zip", "bad_name_.png"}
    archive = tmp_path / "set.zip"
    archive.write_bytes(data)
    ds = open_dataset("zip", size=8, path=str(archive))
    assert len(ds) == 3 and ds.num_skipped == 0  # the nested zip is neither extracted nor an image


def test_zip_damaged_member_is_refused_without_leftovers(sandbox):
    root, dest = sandbox
    data = bytearray(_zip({"a.bin": bytes(range(256)) * 400}))
    start = data.find(b"PK\x03\x04") + 30 + len("a.bin")
    data[start + 10 : start + 60] = b"\xff" * 50  # corrupt the deflate stream
    before = _files(root)
    with pytest.raises(ValueError, match="zip could not be extracted"):
        extract_zip(bytes(data), dest)
    _assert_nothing_written(root, dest, before)


def test_sanitise_name_strips_separators_and_control_chars():
    assert sanitise_name("../a/b\\c") == "_a_b_c"
    assert sanitise_name("x\x00y<>z") == "x_y__z"
    assert sanitise_name("...") == "upload"


def test_folders_implied_by_member_paths_count_against_the_limit(sandbox):
    # 40 files in 40 nested folder chains of 5: 240 entries created for a "40-file" archive.
    root, dest = sandbox
    data = _zip({f"{i}/a/b/c/d/x.png": _png() for i in range(40)})
    before = _files(root)
    with pytest.raises(ValueError, match="more than 100 files and folders"):
        extract_zip(data, dest, max_files=100)
    _assert_nothing_written(root, dest, before)
    assert extract_zip(data, dest, max_files=240).is_dir()


def test_a_windows_folder_entry_with_a_backslash_is_a_folder_not_a_file(tmp_path):
    data = _zip({"photos\\": b"", "photos\\cat.png": _png(), "photos\\dog.png": _png((10, 200, 10))})
    target = extract_zip(data, tmp_path / "up")
    assert _files(target) == {"photos", "photos/cat.png", "photos/dog.png"}


def test_long_unicode_names_are_capped_in_bytes_not_characters(tmp_path):
    name = "猫" * 90 + ".png"  # 270 bytes of UTF-8 + 4: more than the 255 most file systems allow
    target = extract_zip(_zip({name: _png(), "b.png": _png()}), tmp_path / "up")
    names = [p.name for p in target.iterdir()]
    assert len(names) == 2 and all(len(n.encode()) <= 200 for n in names)
    assert any(n.startswith("猫") and n.endswith(".png") for n in names)
    assert len(sanitise_name("é" * 300).encode()) <= 200


def test_a_member_the_file_system_refuses_is_skipped_with_a_reason_not_the_archive(tmp_path):
    deep = "/".join(["d" * 180] * 25) + "/x.png"  # about 4,500 bytes of path: longer than PATH_MAX
    archive = tmp_path / "set.zip"
    _zip({deep: _png(), "a.png": _png(), "b.png": _png()}, archive)
    ds = open_dataset("zip", size=8, path=str(archive))
    assert len(ds) == 2 and ds.num_skipped == 1
    assert "the file system refuses its name" in ds.skipped[0]


def test_leftover_extraction_folders_of_dead_processes_are_removed(tmp_path):
    root = tmp_path / "up"
    stale = root / ".extract-999999999-abcd"  # no such pid: its extraction was killed
    stale.mkdir(parents=True)
    (stale / "half.png").write_bytes(b"x")
    extract_zip(_zip({"a.png": _png()}), root)
    assert not stale.exists()


def test_old_uploads_are_evicted_least_recently_used_first(monkeypatch):
    import os
    import time

    monkeypatch.setenv("GANLAB_CACHE_BUDGET_MB", str(3 * 5_000 / 1024**2))  # room for about 3 archives
    made = []
    for i in range(5):
        made.append(extract_zip(_zip({"a.bin": os.urandom(5_000)}), name=f"set{i}"))
        old = time.time() - 100 + i
        os.utime(made[-1], (old, old))
    assert made[-1].is_dir() and not made[0].exists()
    assert sum(p.is_dir() for p in made) <= 3
