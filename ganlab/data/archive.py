"""Uploaded zip archives: extracted safely (no escapes, size and count limits), then read as a folder."""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import re
import shutil
import stat
import tempfile
import unicodedata
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

from ganlab import paths
from ganlab.data.budget import budget_bytes, evict, touch
from ganlab.data.dataset import ImageDataset
from ganlab.data.folder import load_scanned, scan_folder
from ganlab.data.registry import DataRequest, register_dataset
from ganlab.files import pid_alive

MAX_BYTES = 2 * 1024**3  # uncompressed total an archive may unpack to
MAX_FILES = 200_000  # files and the folders their paths imply, together
MAX_NAME_BYTES = 200  # per path component: file systems allow 255 bytes, and "-1" suffixes need room
NOTES_FILE = ".ganlab-extract.json"  # members skipped while extracting, with why (hidden: not scanned as data)
_CHUNK = 1 << 20
_UNSAFE_CHARS = re.compile(r'[\x00-\x1f\x7f<>:"|?*\\]')
_TEMP_DIR = re.compile(r"\.extract-(\d+)-.+")


def sanitise_name(name: str, fallback: str = "upload") -> str:
    """One safe path component: no separators, control or shell-special characters, no leading dot, and at most
    MAX_NAME_BYTES bytes of UTF-8 (90 CJK characters are 270 bytes: too long for most file systems)."""
    name = unicodedata.normalize("NFC", name)
    name = _UNSAFE_CHARS.sub("_", name.replace("/", "_")).strip().strip(".").strip()
    name = re.sub(r"\s+", " ", name)
    encoded = name.encode("utf-8")
    if len(encoded) > MAX_NAME_BYTES:  # keep the extension; cut the stem at a character boundary
        stem, dot, ext = name.rpartition(".")
        ext = f".{ext}" if dot and len(ext.encode()) <= 16 else ""
        room = MAX_NAME_BYTES - len(ext.encode())
        name = (stem if ext else name).encode("utf-8")[:room].decode("utf-8", errors="ignore") + ext
    name = name.rstrip(". ")
    return name or fallback


def _member_parts(info: zipfile.ZipInfo) -> list[str]:
    """The entry's path components, or a ValueError for names that could escape the target."""
    raw = info.filename.replace("\\", "/")  # archives made on Windows may use backslashes
    if raw.startswith("/") or re.match(r"^[A-Za-z]:", raw):
        raise ValueError(f"zip refused: entry {info.filename!r} has an absolute path")
    parts = [p for p in raw.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ValueError(f"zip refused: entry {info.filename!r} points outside the archive folder ('..')")
    return parts


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def _check_archive(zf: zipfile.ZipFile, max_bytes: int, max_files: int) -> list[tuple[zipfile.ZipInfo, list[str]]]:
    """Validate every entry from the central directory BEFORE anything is written."""
    members, total, count = [], 0, 0
    folders: set[tuple[str, ...]] = set()  # the folders member paths imply count against the limit too
    for info in zf.infolist():
        parts = _member_parts(info)
        if _is_symlink(info):
            raise ValueError(f"zip refused: entry {info.filename!r} is a symbolic link")
        if info.flag_bits & 0x1:
            raise ValueError(f"zip refused: entry {info.filename!r} is password-protected")
        is_folder = info.is_dir() or info.filename.endswith("\\")  # "photos\\": a folder zipped on Windows
        if is_folder or not parts or parts[0] == "__MACOSX" or any(p.startswith(".") for p in parts):
            continue  # folders are made as needed; macOS metadata and hidden files are not data
        folders.update(tuple(parts[:i]) for i in range(1, len(parts)))
        count += 1
        total += info.file_size
        if count + len(folders) > max_files:
            raise ValueError(f"zip refused: more than {max_files:,} files and folders "
                             f"(the limit is max_files={max_files:,})")
        if total > max_bytes:
            raise ValueError(
                f"zip refused: it would unpack to more than {max_bytes:,} bytes (the limit is max_bytes={max_bytes:,})"
            )
        members.append((info, parts))
    return members


def _open(src: str | os.PathLike | bytes | BinaryIO) -> tuple[BinaryIO, str]:
    """A seekable binary stream and a display name for a path, bytes or uploaded file object."""
    if isinstance(src, (bytes, bytearray, memoryview)):
        return io.BytesIO(bytes(src)), "upload"
    if isinstance(src, (str, os.PathLike)):
        path = Path(src).expanduser()
        if not path.exists():
            raise ValueError(f"zip file {str(path)!r} does not exist")
        if path.is_dir():
            raise ValueError(f"{str(path)!r} is a folder, not a zip archive (use the 'folder' dataset)")
        return path.open("rb"), path.stem
    if hasattr(src, "read"):
        stream = src if hasattr(src, "seek") else io.BytesIO(src.read())
        return stream, Path(str(getattr(src, "name", "upload") or "upload")).stem
    raise ValueError(f"cannot read a zip from a {type(src).__name__}: give a path, bytes or a file object")


def _digest(stream: BinaryIO) -> str:
    stream.seek(0)
    h = hashlib.sha256()
    for block in iter(lambda: stream.read(_CHUNK), b""):
        h.update(block)
    stream.seek(0)
    return h.hexdigest()[:10]


def _copy_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path, budget: int) -> int:
    """Stream one entry to dest, stopping as soon as it writes more than declared or than budget."""
    written = 0
    with zf.open(info) as src, open(dest, "xb") as out:
        for block in iter(lambda: src.read(_CHUNK), b""):
            written += len(block)
            if written > info.file_size or written > budget:
                raise ValueError(f"zip refused: entry {info.filename!r} unpacks to more than its header declares")
            out.write(block)
    return written


def extract_zip(
    src: str | os.PathLike | bytes | BinaryIO,
    dest_root: str | os.PathLike | None = None,
    *,
    max_bytes: int = MAX_BYTES,
    max_files: int = MAX_FILES,
    name: str = "",
) -> Path:
    """Extract into <dest_root or data_dir()/uploads>/<name>-<hash>/; the same archive is extracted once."""
    stream, default_name = _open(src)
    try:
        try:
            if not zipfile.is_zipfile(stream):
                raise ValueError(f"{name or default_name!r} is not a zip archive; upload a .zip of image files")
            stream.seek(0)
            zf = zipfile.ZipFile(stream)
        except zipfile.BadZipFile as exc:
            raise ValueError(f"{name or default_name!r} is a damaged zip archive ({exc})") from None
        with zf:
            members = _check_archive(zf, max_bytes, max_files)
            root = Path(dest_root) if dest_root is not None else paths.data_dir() / "uploads"
            root.mkdir(parents=True, exist_ok=True)
            target = root / f"{sanitise_name(name or default_name)}-{_digest(stream)}"
            if target.is_dir():
                touch(target)
                return target  # same content as an earlier upload: reuse it (and its preprocessing cache)
            _remove_orphaned_extractions(root)
            tmp = Path(tempfile.mkdtemp(prefix=f".extract-{os.getpid()}-", dir=root))
            try:
                try:
                    skipped = _extract_members(zf, members, tmp, max_bytes)
                    if skipped:
                        (tmp / NOTES_FILE).write_text(json.dumps({"skipped": skipped}), encoding="utf-8")
                except (OSError, EOFError, zlib.error, zipfile.BadZipFile, NotImplementedError, RuntimeError) as exc:
                    # Damaged data, CRC errors, unsupported compression, a file where a folder must go.
                    raise ValueError(f"zip could not be extracted: {type(exc).__name__}: {exc}") from None
                try:
                    os.replace(tmp, target)
                except OSError:
                    if not target.is_dir():  # another upload of the same archive won the race
                        raise
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            if dest_root is None:  # the app's own uploads: stay within the disk budget, newest kept
                evict(([p] for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")), budget_bytes(),
                      keep=[target])
            return target
    finally:
        if isinstance(src, (str, os.PathLike)):
            stream.close()  # only what we opened; a caller's file object stays theirs


def _remove_orphaned_extractions(root: Path) -> None:
    """Delete .extract-<pid>-* folders whose extracting process died (killed mid-way): they only take space."""
    for folder in root.glob(".extract-*"):
        match = _TEMP_DIR.fullmatch(folder.name)
        if match and int(match.group(1)) != os.getpid() and not pid_alive(int(match.group(1))):
            shutil.rmtree(folder, ignore_errors=True)


def extraction_notes(folder: Path) -> list[str]:
    """'member: reason' for the members extract_zip skipped (a name too long, a file where a folder is...)."""
    try:
        return [str(n) for n in json.loads((Path(folder) / NOTES_FILE).read_text(encoding="utf-8"))["skipped"]]
    except (OSError, ValueError, KeyError, TypeError):
        return []


def _extract_members(zf: zipfile.ZipFile, members: list, tmp: Path, max_bytes: int) -> list[str]:
    """Write the members; one that cannot be created here (name too long, a file where a folder must go) is
    skipped with its reason instead of refusing the archive. Returns those reasons."""
    tmp_resolved = tmp.resolve()
    used: set[str] = set()
    skipped: list[str] = []
    total = 0
    for info, parts in members:
        safe = [sanitise_name(p, fallback="_") for p in parts]
        rel = "/".join(safe)
        stem, dot, ext = rel.rpartition(".")
        n = 1
        while rel.lower() in used:  # names that differ only in stripped characters stay distinct
            rel = f"{stem}-{n}{dot}{ext}" if dot else f"{ext}-{n}"
            n += 1
        used.add(rel.lower())
        dest = tmp / rel
        if not dest.resolve().is_relative_to(tmp_resolved):  # belt and braces over the checks above
            raise ValueError(f"zip refused: entry {info.filename!r} would be written outside the target folder")
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            total += _copy_member(zf, info, dest, max_bytes - total)
        except (FileExistsError, NotADirectoryError, IsADirectoryError) as exc:
            skipped.append(f"{info.filename}: skipped, it clashes with another entry ({exc.strerror})")
        except OSError as exc:
            if exc.errno not in (errno.ENAMETOOLONG, errno.EINVAL, errno.EILSEQ):
                raise  # a full disk or a permission problem: the archive cannot be extracted here
            skipped.append(f"{info.filename}: skipped, the file system refuses its name ({exc.strerror})")
    return skipped


@register_dataset(
    "zip",
    description="An uploaded .zip of images, extracted safely into the app's data folder, then read as a folder",
    labelled=False,
    default_channels=3,
    needs_path=True,
    order=60,
)
def load_zip_dataset(req: DataRequest) -> ImageDataset:
    folder = extract_zip(req.path)
    return load_scanned(scan_folder(folder), req, name=Path(req.path).stem, notes=extraction_notes(folder))
