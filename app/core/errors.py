"""Domain errors. Every refusal a user can see is one of these, with one clear sentence."""

from __future__ import annotations


class CareCoordError(Exception):
    """Base class: the CLI turns these into exit code 1 and one line on stderr."""


class ValidationError(CareCoordError):
    """Input that is not acceptable (bad NHS number, impossible date, unknown practice...)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFoundError(CareCoordError):
    """A record the user named does not exist."""


class ConflictError(CareCoordError):
    """The action clashes with existing state (duplicate, illegal transition...)."""


class StorageError(CareCoordError):
    """The database or a file cannot be used (locked, newer version, corrupt, disk full)."""


class KeyError_(CareCoordError):
    """A key is missing, wrong or revoked (trailing underscore: KeyError is a builtin)."""


class BundleError(CareCoordError):
    """A sync bundle is refused (not a bundle, truncated, tampered, wrong key, unknown signer)."""
