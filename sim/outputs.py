"""Write a run directory atomically: build it in a temporary directory, then rename.

Nothing that was there before is lost or left half-written: if the simulation or a table
fails, the temporary directory is removed and the old output stays as it was. A failure while
drawing the report does not cost the run: its tables are kept, the error is saved beside them
and :class:`ReportError` says where.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import json
import os
import re
import shutil
import stat
import tempfile
import traceback
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq


class OutputError(Exception):
    """An output directory that cannot be used without losing files (the command line exits 2)."""


RUN_MARKERS = ("summary.json",)  # what a run's directory holds
REPLAY_MARKERS = ("replay.json",)  # a replay's
SWEEP_MARKERS = ("sweep.json", "points")  # a sweep's, finished or not
KINDS = {"run": RUN_MARKERS, "replay": REPLAY_MARKERS, "sweep": SWEEP_MARKERS}
# What an output written before run_info.json listed its files may hold.
OLD_OUTPUT_SUFFIXES = (".parquet", ".png", ".json", ".html", ".pdf", ".toml", ".txt")
REPORT_FILES = {"index.html", "report.pdf", "report_error.txt"}  # `fraudsim report` may add them (and PNGs) later
REPORT_ERROR = "report_error.txt"  # the traceback of a report that failed, beside the kept tables


class ReportError(Exception):
    """The run's tables were written but its report failed (the command line exits 1)."""

    def __init__(self, directory: Path, reason: str) -> None:
        super().__init__(
            f"the run finished and its tables are in {directory}, but its report failed ({reason}); "
            f"the details are in {Path(directory) / REPORT_ERROR}. Rebuild the report with "
            f"`fraudsim report {directory}` once the cause is fixed."
        )
        self.directory = Path(directory)


def check_output_dir(target: Path, markers: tuple[str, ...] = RUN_MARKERS) -> None:
    """Refuse an output directory whose files the output would replace or that cannot be made:
    it must be new, empty, or an earlier fraudsim output of the same kind (holding one of
    ``markers``), and no part of its path may be a file. The working directory (or one holding
    it) is refused too."""
    target = Path(target)
    for part in (target, *target.parents):
        if part.exists() and not part.is_dir():
            raise OutputError(f"{target}: {part} is a file, not a directory; choose another output directory")
    existing = next(part for part in (target, *target.parents, Path(".")) if part.exists())
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(f"{target}: {existing} is not writable; choose another output directory")
    resolved, here = target.resolve(), Path.cwd().resolve()
    if resolved == here or resolved in here.parents:
        raise OutputError(
            f"{target}: the output would replace the working directory (or one holding it); "
            "choose a new directory, e.g. reports/NAME"
        )
    if not target.is_dir() or not any(target.iterdir()):
        return
    if not any((target / m).exists() for m in markers):
        kind = next((k for k, ms in KINDS.items() if any((target / m).exists() for m in ms)), None)
        wanted = next((k for k, ms in KINDS.items() if ms == markers), "this command")
        if kind is not None:
            raise OutputError(
                f"{target}: it holds a fraudsim {kind}'s output, which a {wanted} would replace; "
                "choose another directory (--out DIR)"
            )
        raise OutputError(
            f"{target}: the directory has files and is not an earlier fraudsim output (no "
            f"{' or '.join(markers)}); its files would be replaced: "
            "choose a new or empty directory"
        )
    if markers != SWEEP_MARKERS:  # a run's or replay's directory is replaced whole: nothing else may be in it
        foreign = _foreign_files(target)
        if foreign:
            shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
            raise OutputError(
                f"{target}: it holds files fraudsim did not write ({shown}), which replacing the "
                "output would delete; move them or choose another directory"
            )


def _foreign_files(target: Path) -> list[str]:
    """The entries of an earlier output that fraudsim did not write: those not listed in its
    ``run_info.json`` (or, for outputs older than that list, not of the kinds fraudsim writes)."""
    try:
        listed = json.loads((target / "run_info.json").read_text(encoding="utf-8")).get("outputs")
    except (OSError, ValueError, AttributeError):
        listed = None
    names = sorted(p.name for p in target.iterdir())
    if isinstance(listed, list):
        ours = set(listed) | REPORT_FILES
        return [name for name in names if name not in ours and not name.endswith(".png")]
    return [name for name in names if not (target / name).is_file() or Path(name).suffix not in OLD_OUTPUT_SUFFIXES]


def output_list(work: Path) -> list[str]:
    """The names a finished output directory holds (``run_info.json`` included): what a rerun may replace."""
    return sorted({p.name for p in work.iterdir()} | {"run_info.json"})


WRITE_ERRORS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG)


@contextlib.contextmanager
def atomic_directory(target: Path, markers: tuple[str, ...] = RUN_MARKERS) -> Iterator[Path]:
    """Yield a fresh temporary directory beside ``target``; on success it replaces ``target``
    (which :func:`check_output_dir` must accept), with the permissions a new directory gets."""
    target = Path(target)
    check_output_dir(target, markers)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale(target)
        work = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-{os.getpid()}-", dir=target.parent))
    except OSError as error:
        raise OutputError(f"{target}: cannot be created ({error.strerror}); choose another output directory") from None
    os.chmod(work, stat.S_IMODE(target.stat().st_mode) if target.exists() else 0o777 & ~_umask())
    try:
        yield work
    except OSError as error:
        shutil.rmtree(work, ignore_errors=True)
        if error.errno not in WRITE_ERRORS:
            raise
        kept = "the previous output is unchanged" if target.exists() else "nothing was written"
        raise OutputError(f"{target}: could not be written ({error.strerror}); {kept}") from None
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        shutil.rmtree(old, ignore_errors=True)
        target.rename(old)
    try:
        work.rename(target)
    except BaseException:
        if old is not None:
            old.rename(target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def remove_stale(target: Path) -> list[Path]:
    """Remove the temporary directories that killed fraudsim processes left beside ``target``
    (``.NAME.tmp-PID-*`` and ``.NAME.old-PID`` whose process is gone); returns them."""
    pattern = rf"\.{re.escape(target.name)}\.(?:tmp-(\d+)-.+|old-(\d+))"
    return _remove_dead(target.parent.glob(f".{glob.escape(target.name)}.*"), pattern)


def _remove_dead(paths: Iterable[Path], pattern: str) -> list[Path]:
    """Remove the directories among ``paths`` whose name matches ``pattern`` with the pid (its
    first group that matched) of a process that is gone; returns them."""
    removed = []
    for path in paths:
        match = re.fullmatch(pattern, path.name)
        if match and path.is_dir() and not _alive(int(next(g for g in match.groups() if g))):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


SCRATCH = "fraudsim-"  # the system temp folder's working directories: fraudsim-PID-*


def scratch_directory() -> tempfile.TemporaryDirectory:
    """A working directory in the system temp folder, named by this process, after removing
    those that killed fraudsim processes left there."""
    _remove_dead(Path(tempfile.gettempdir()).glob(f"{SCRATCH}*"), rf"{SCRATCH}(\d+)-.+")
    return tempfile.TemporaryDirectory(prefix=f"{SCRATCH}{os.getpid()}-")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(target: Path, write: Callable[[Path], None]) -> None:
    """Write ``target`` through ``write(temporary path)`` in the same directory, flush it to disk,
    then rename it into place: readers (or a crash) see the old file or the new one, never half
    of one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(handle)
    temporary = Path(name)
    try:
        write(temporary)
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes it private; give it a normal file's mode
        with open(temporary, "rb+") as file:
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable where the platform allows
        directory = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def replace_file(path: Path, data: bytes | str) -> None:
    """:func:`atomic_write` of ``data`` (text as UTF-8)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    atomic_write(Path(path), lambda temporary: temporary.write_bytes(raw))


def write_json(path: Path, data: object) -> None:
    """Stable JSON: sorted keys are not used (order is meaningful), but layout is fixed."""
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_parquet(path: Path, frame: pl.DataFrame) -> None:
    """Parquet with fixed settings so the same frame gives the same bytes."""
    frame.write_parquet(path, compression="zstd", compression_level=3, statistics=True)


def parquet_writer(path: Path, schema: pa.Schema) -> pq.ParquetWriter:
    """A Parquet writer for the ledger's tables and streams: dictionary encoding for text columns
    only (with it, numbers take about three times as long to write, for a tenth less disk)."""
    text = [field.name for field in schema if pa.types.is_string(field.type)]
    return pq.ParquetWriter(path, schema, use_dictionary=text)


def merge_parquet(parts: list[Path], target: Path, keep: bool = False) -> None:
    """Concatenate part files (same schema) into one, row group by row group, then delete them
    (unless ``keep``)."""
    parts = [p for p in parts if p.exists()]
    if not parts:
        return
    if len(parts) == 1:  # the part is the table already (same writer, same row groups)
        (shutil.copyfile if keep else shutil.move)(parts[0], target)
        return
    schema = pq.read_schema(parts[0])
    with parquet_writer(target, schema) as writer:
        for part in parts:
            file = pq.ParquetFile(part)
            for group in range(file.num_row_groups):
                writer.write_table(file.read_row_group(group))
    if not keep:
        for part in parts:
            part.unlink()


def build_kept(work: Path, build: Callable[[Path], object]) -> tuple[float, str | None]:
    """Build the report of the tables in ``work``; a failure is saved beside them rather than
    raised, so that the tables survive it. Returns the seconds taken and the error, if any."""
    import time

    started = time.perf_counter()
    try:
        build(work)
    except Exception as error:  # a bug in the report must not cost the run its tables
        (work / REPORT_ERROR).write_text(traceback.format_exc(), encoding="utf-8")
        return time.perf_counter() - started, f"{type(error).__name__}: {error}"
    return time.perf_counter() - started, None


def library_versions() -> dict[str, str]:
    """The versions of the libraries whose arithmetic the outputs depend on."""
    from importlib.metadata import version

    names = ("simpy", "numpy", "river", "polars", "pyarrow", "scikit-learn", "pydantic", "matplotlib")
    return {name: version(name) for name in names}
