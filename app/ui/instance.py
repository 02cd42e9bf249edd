"""One running app per data folder: a lock file in the folder (a lock left by a crashed or
killed instance is noticed and taken over)."""

from __future__ import annotations

from PySide6.QtCore import QLockFile

from app.core.paths import AppPaths


class InstanceLock:
    def __init__(self, paths: AppPaths) -> None:
        self._lock = QLockFile(str(paths.lock_file))
        # Never stale by age (the app may run for days); a dead holder is still detected.
        self._lock.setStaleLockTime(0)

    def acquire(self) -> bool:
        """True if this process now holds the folder; False if another instance does."""
        return bool(self._lock.tryLock(0))

    def holder_pid(self) -> int | None:
        """The process id of the instance holding the folder, when known."""
        pid, _host, _app = self._lock.getLockInfo()
        return int(pid) or None

    def release(self) -> None:
        if self._lock.isLocked():
            self._lock.unlock()
