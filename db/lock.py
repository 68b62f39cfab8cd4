"""The running bot's claim on its database: an exclusive ``flock`` on ``<database>.lock``, held for
the bot's lifetime. A second bot on the same file refuses to start, and ``restore`` refuses while
a bot runs. The kernel drops the lock when the process ends, however it ends, so a crash leaves
nothing stale behind; the file itself stays (removing it would race with the next bot)."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType


class DatabaseInUse(Exception):
    """Another process holds the database's lock."""

    def __init__(self, path: Path, holder: str) -> None:
        self.path = path
        self.holder = holder  # what the holder wrote into the lock file: its pid, or ""
        who = f"process {holder}" if holder else "another process"
        super().__init__(f"a Sauciens bot ({who}) is running on {path}")


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


class DatabaseLock:
    """``with DatabaseLock(db_path):`` ... or ``acquire()`` / ``release()``; never waits."""

    def __init__(self, database: Path) -> None:
        self.database = Path(database)
        self.path = lock_path(self.database)
        self._fd: int | None = None

    def acquire(self) -> DatabaseLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            os.close(fd)
            raise DatabaseInUse(self.database, holder) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing the descriptor releases the lock
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> DatabaseLock:
        return self.acquire()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
