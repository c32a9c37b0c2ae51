"""Can an event be committed now? Checks of the database's files and filesystem, then a real commit, each bounded."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from notifbot.store.conn import Conn
from notifbot.store.db import transaction
from notifbot.store.dialect import is_database_error

PROBE_TIMEOUT_SECONDS = 2.0  # /readyz answers within this, whatever the disk does
PROBE_CACHE_SECONDS = 1.0  # a result is reused this long, so /readyz cannot be used to hammer the disk
SHM_REGION = 32 * 1024  # SQLite grows the -shm in regions of this size; a smaller -shm was truncated under us
FileId = tuple[int, int]  # (st_dev, st_ino)


def storage_files(db_path: str) -> list[str]:
    """The database's folder, the database and the WAL and shared-memory files beside it."""
    return [str(Path(db_path).parent), db_path, db_path + "-wal", db_path + "-shm"]


def unwritable(db_path: str) -> str | None:
    """Why the first of the database's folder and files that exists cannot be written now, or None.

    `access(W_OK)` sees read-only mounts and the immutable attribute even for root, without opening the file (closing
    a second descriptor of a file SQLite has locked would drop SQLite's POSIX locks on it).
    """
    for path in storage_files(db_path):
        if os.path.exists(path) and not os.access(path, os.W_OK):
            return f"{path} is not writable (read-only filesystem, permissions or the immutable attribute)"
    return None


def free_space_problem(db_path: str, min_free_bytes: int) -> str | None:
    """Why the database's filesystem cannot take more writes (read-only, too little free space), or None."""
    st = os.statvfs(Path(db_path).parent)
    if st.f_flag & os.ST_RDONLY:
        return f"the filesystem holding {db_path} is mounted read-only"
    free = st.f_bavail * st.f_frsize
    if free < min_free_bytes:
        return (
            f"disk full: {free:,} bytes free on the filesystem holding {db_path} "
            f"(storage.min_free_bytes is {min_free_bytes:,})"
        )
    return None


def file_id(path: str) -> FileId | None:
    """The (device, inode) of `path`, None when it does not exist."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino


def shm_problem(db_path: str, expected: FileId | None) -> str | None:
    """Why the -shm SQLite has mapped is no longer the file on disk, or was cut short (the next access is a SIGBUS)."""
    if expected is None:
        return None
    shm = db_path + "-shm"
    try:
        st = os.stat(shm)
    except FileNotFoundError:
        return f"{shm} was deleted under the running process; restart notifbot before anything else opens the database"
    if (st.st_dev, st.st_ino) != expected:
        return f"{shm} was replaced under the running process; restart notifbot before anything else opens the database"
    if st.st_size < SHM_REGION:
        return f"{shm} was truncated under the running process (SQLite's next access to it is a SIGBUS)"
    return None


def mount_options(path: str) -> set[str]:
    """The mount's and the filesystem's options for the mount holding `path` (empty when /proc is not there)."""
    target = os.path.realpath(path)
    best, options = "", set[str]()
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return options
    for line in lines:
        before, _, after = line.partition(" - ")
        fields, rest = before.split(), after.split()
        if len(fields) < 6 or len(rest) < 3:
            continue
        point = fields[4].replace("\\040", " ")
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, options = point, set(fields[5].split(",")) | set(rest[2].split(","))
    return options


def describe_failure(exc: Exception, db_path: str) -> str:
    """A reason an operator can act on, from the database error of a failed commit (SQLite's names the cause)."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name == "SQLITE_FULL":
        return f"disk full: a commit to {db_path} failed ({exc})"
    if name.startswith("SQLITE_READONLY"):
        return f"the database {db_path} is read-only ({exc})"
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return f"the database {db_path} is locked by another writer ({exc})"
    if name.startswith("SQLITE_IOERR"):
        options = mount_options(str(Path(db_path).parent))
        if options & {"ro", "emergency_ro"}:
            return (
                f"the filesystem holding {db_path} turned read-only ({', '.join(sorted(options & {'ro', 'emergency_ro'}))}"
                f"; see the kernel log): a commit failed with {name}"
            )
        return (
            f"a commit to {db_path} failed with an I/O error ({name}: read-only, failing or full filesystem?)"
        )
    return f"a commit to {db_path} failed ({name or type(exc).__name__}: {exc})"


def file_problem(db_path: str, min_free_bytes: int, shm: FileId | None) -> str | None:
    """The first problem with the database's files or filesystem, or None."""
    return shm_problem(db_path, shm) or unwritable(db_path) or free_space_problem(db_path, min_free_bytes)


def check_and_commit(
    conn: Conn, db_path: str, min_free_bytes: int, shm: FileId | None, now: float
) -> str | None:
    """On the writer's thread: the file checks, then one tiny real commit; None when both pass."""
    if db_path != ":memory:":
        problem = file_problem(db_path, min_free_bytes, shm)
        if problem is not None:
            return problem
    try:
        with transaction(conn):
            conn.execute(
                "INSERT INTO readiness_probe (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at",
                (now,),
            )
    except Exception as exc:
        if not is_database_error(exc):
            raise
        return describe_failure(exc, db_path)
    return None


class WriteProbe:
    """Answers "can an event be committed now?" within `timeout`, from a probe run at most once per `cache` s.

    The probe runs on the writer's thread, behind the commits already queued there, so it sees what an ingest commit
    would see. A probe that hangs (a frozen filesystem) is not repeated: later calls report how long it has been
    stuck, at once.
    """

    def __init__(
        self,
        run: Callable[[], Awaitable[str | None]],
        *,
        timeout: float = PROBE_TIMEOUT_SECONDS,
        cache: float = PROBE_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._run = run
        self._timeout = timeout
        self._cache = cache
        self._clock = clock
        self._task: asyncio.Task[str | None] | None = None
        self._started_at = 0.0
        self._result: str | None = None
        self._result_at: float | None = None

    async def problem(self) -> str | None:
        """None when a commit works now; otherwise why not (within `timeout` seconds)."""
        now = self._clock()
        if self._result_at is not None and now - self._result_at < self._cache:
            return self._result
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._probe(), name="readiness-probe")
            self._started_at = now
        waited = now - self._started_at
        try:
            return await asyncio.wait_for(asyncio.shield(self._task), max(0.0, self._timeout - waited))
        except TimeoutError:
            stuck = self._clock() - self._started_at
            return (
                f"a test commit has not finished after {stuck:.1f} s "
                "(filesystem frozen, storage hung, or the database locked by another process)"
            )

    async def _probe(self) -> str | None:
        try:
            result = await self._run()
        except Exception as exc:  # the store is closed or broken: not ready, say why
            result = f"the database cannot be used ({type(exc).__name__}: {exc})"
        self._result, self._result_at = result, self._clock()
        return result
