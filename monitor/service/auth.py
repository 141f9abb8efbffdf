"""Staff sign-in: PIN hashing, the secret kept outside the database, and lockout.

* A PIN (at least 6 digits) or password is never stored. The database keeps an argon2id
  hash (memory 19 MiB, time cost 2, parallelism 1, a random 16-byte salt per hash) of
  ``HMAC-SHA256(secret, PIN)``: without the secret — which lives outside the database — a
  stolen database gives nothing to guess PINs against.
* The secret (32 random bytes) is kept in the operating system's keyring where a real one
  exists, otherwise in a key file with mode 0600 in the configuration directory
  (:func:`load_secret`). The same secret keys the audit trail's HMAC chain
  (:mod:`monitor.storage.audit`), so it must be backed up with the database (docs/security.md).
* Five wrong PINs in a row lock the account for 15 minutes (:class:`LockState`). The
  failures and the lock's start are stored, so a lock survives a restart; within one
  process the lock is timed on the monotonic clock, so changing the wall clock does not
  shorten or lengthen it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
import sys
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from platformdirs import user_config_dir

from monitor.storage.private_files import make_private_dir

log = logging.getLogger(__name__)

#: Wrong PINs in a row that lock an account.
MAX_FAILURES = 5
#: How long a locked account stays locked.
LOCK_DURATION = timedelta(minutes=15)
#: The shortest PIN, and the shortest password (a secret with a non-digit in it).
MIN_PIN_DIGITS = 6
MIN_PASSWORD_LENGTH = 8
MAX_PIN_LENGTH = 128

#: argon2id parameters: the OWASP minimum (19 MiB, 2 passes, 1 lane) — a PIN is checked
#: on a tablet, several times an hour, and must answer in well under a second.
ARGON2_MEMORY_KIB = 19 * 1024
ARGON2_TIME_COST = 2
ARGON2_PARALLELISM = 1

#: The PIN every person has in a demo database (``--demo``, ``demo-data``) and only there.
DEMO_PIN = "123456"

SECRET_BYTES = 32
KEYRING_SERVICE = "ChairSide"
KEYRING_USERNAME = "database-secret"
KEY_FILE_NAME = "chairside.key"
#: Environment variable naming a key file to use instead of the keyring (clinic IT, tests).
KEY_FILE_ENV = "CHAIRSIDE_KEY_FILE"

_HASHER = PasswordHasher(
    time_cost=ARGON2_TIME_COST, memory_cost=ARGON2_MEMORY_KIB, parallelism=ARGON2_PARALLELISM,
    hash_len=32, salt_len=16, type=Type.ID,
)


@dataclass(frozen=True)
class StaffInfo:
    id: uuid.UUID
    name: str
    role: str
    active: bool
    #: Until when the account is locked after wrong PINs (UTC), or None.
    locked_until: datetime | None = None


class LoginRefused(Exception):  # noqa: N818 - the name is the contract
    """A wrong PIN; ``tries_left`` before the account locks."""

    def __init__(self, tries_left: int, message: str | None = None) -> None:
        self.tries_left = tries_left
        super().__init__(message or (
            f"Wrong PIN — {tries_left} {'try' if tries_left == 1 else 'tries'} left "
            "before a 15-minute lock."))


class AccountLocked(Exception):  # noqa: N818 - the name is the contract
    """Too many wrong PINs: the account is locked ``until`` (UTC)."""

    def __init__(self, until: datetime) -> None:
        self.until = until
        local = until.astimezone().strftime("%H:%M")
        super().__init__(
            f"Locked after {MAX_FAILURES} wrong PINs until {local}; try again then, or ask "
            "an admin to reset the PIN.")


class SignatureRequired(Exception):  # noqa: N818 - the name is the contract
    """The action is an e-signature: the signer must enter their PIN again."""


class InvalidPin(ValueError):  # noqa: N818 - reads as the refusal it is
    """A new PIN or password does not meet the rules; the message says which."""


def check_new_pin(pin: str) -> str:
    """``pin`` if it is an acceptable PIN or password, else :class:`InvalidPin`."""
    if not isinstance(pin, str) or not pin or pin != pin.strip():
        raise InvalidPin("PIN: enter at least 6 digits (or a password of at least 8 characters, "
                         "without leading or trailing spaces)")
    if len(pin) > MAX_PIN_LENGTH:
        raise InvalidPin(f"PIN: at most {MAX_PIN_LENGTH} characters")
    if pin.isdigit():
        if len(pin) < MIN_PIN_DIGITS:
            raise InvalidPin(f"PIN: at least {MIN_PIN_DIGITS} digits (got {len(pin)})")
        if len(set(pin)) == 1:
            raise InvalidPin("PIN: not one digit repeated (e.g. 111111); choose another")
        return pin
    if len(pin) < MIN_PASSWORD_LENGTH:
        raise InvalidPin(
            f"PIN: a PIN is at least {MIN_PIN_DIGITS} digits; a password at least "
            f"{MIN_PASSWORD_LENGTH} characters")
    return pin


def _peppered(pin: str, secret: bytes) -> bytes:
    return hmac.new(secret, b"chairside-pin\x00" + pin.encode("utf-8"), hashlib.sha256).digest()


def hash_pin(pin: str, secret: bytes) -> str:
    """The argon2id hash (PHC string) of the PIN peppered with ``secret``."""
    return _HASHER.hash(_peppered(pin, secret))


def verify_pin(stored: str | None, pin: str, secret: bytes) -> bool:
    """Whether ``pin`` matches the ``stored`` hash (False when there is none)."""
    if not stored or not isinstance(pin, str):
        return False
    try:
        return _HASHER.verify(stored, _peppered(pin, secret))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def audit_key(secret: bytes) -> bytes:
    """The key of the audit trail's HMAC chain, derived from the secret."""
    return hmac.new(secret, b"chairside-audit-chain", hashlib.sha256).digest()


# -- the secret ----------------------------------------------------------------------------


def default_config_dir() -> Path:
    return Path(user_config_dir("ChairSide", appauthor=False))


def key_file_path(config_dir: Path | None = None) -> Path:
    return (config_dir or default_config_dir()) / KEY_FILE_NAME


def _real_keyring() -> object | None:
    """The keyring backend if a real one exists (not the fail or null backend).

    On Linux every real keyring (Secret Service, KWallet) is reached over the session bus,
    so without one there is nothing to find and the slow import of ``keyring`` is skipped.
    """
    if sys.platform.startswith("linux") and not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        return None
    try:
        import keyring  # noqa: PLC0415 - optional at run time, slow to import
        from keyring.backends import fail  # noqa: PLC0415
    except Exception:  # noqa: BLE001 - no keyring at all is a normal case
        return None
    try:
        backend = keyring.get_keyring()
    except Exception:  # noqa: BLE001 - a broken keyring configuration means "none"
        return None
    name = type(backend).__module__ + "." + type(backend).__name__
    if isinstance(backend, fail.Keyring) or "null" in name.lower() or backend.priority <= 0:
        return None
    return backend


def load_secret(config_dir: Path | None = None) -> bytes:
    """The database secret, created on first use.

    With ``config_dir`` given (tests, a clinic's own layout), or ``$CHAIRSIDE_KEY_FILE``
    set, the key file is used. Otherwise the OS keyring is used when a real backend
    exists, and the key file ``chairside.key`` (mode 0600) in the user configuration
    directory when not.
    """
    env_file = os.environ.get(KEY_FILE_ENV)
    if config_dir is None and env_file:
        return _key_file_secret(Path(env_file))
    if config_dir is None:
        backend = _real_keyring()
        if backend is not None:
            try:
                return _keyring_secret(backend)
            except Exception as exc:  # noqa: BLE001 - a locked keyring: fall back to the file
                log.warning("keyring unavailable (%s); using the key file", exc)
    return _key_file_secret(key_file_path(config_dir))


def _keyring_secret(backend: object) -> bytes:
    stored = backend.get_password(KEYRING_SERVICE, KEYRING_USERNAME)  # type: ignore[attr-defined]
    if stored:
        return base64.b64decode(stored)
    secret = secrets.token_bytes(SECRET_BYTES)
    backend.set_password(  # type: ignore[attr-defined]
        KEYRING_SERVICE, KEYRING_USERNAME, base64.b64encode(secret).decode("ascii"))
    return secret


def _key_file_secret(path: Path) -> bytes:
    if path.exists():
        data = base64.b64decode(path.read_text(encoding="ascii").strip())
        if len(data) < SECRET_BYTES:
            raise ValueError(f"the key file {path} is damaged (too short); restore it from backup")
        return data
    make_private_dir(path.parent)
    secret = secrets.token_bytes(SECRET_BYTES)
    encoded = base64.b64encode(secret) + b"\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, encoded)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(path, 0o600)
    return secret


# -- lockout -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LockState:
    """Where a stored lock stands now; see :func:`lock_remaining`."""

    remaining: timedelta
    #: The lock's start to store again when the wall clock was found before it.
    restarted_at: datetime | None = None


def lock_remaining(
    locked_at: datetime,
    wall_now: datetime,
    mono_now: float,
    seen: tuple[datetime, float] | None,
) -> LockState:
    """How long a lock stored as begun at ``locked_at`` still runs.

    ``seen`` is ``(locked_at, monotonic time the lock began)`` as this process recorded
    it: then the monotonic clock decides, whatever the wall clock does. Otherwise (after a
    restart) the wall clock decides; a wall clock earlier than the lock's start cannot be
    trusted, so the 15 minutes start again from now (``restarted_at``).
    """
    if seen is not None and seen[0] == locked_at:
        elapsed = timedelta(seconds=mono_now - seen[1])
        return LockState(max(LOCK_DURATION - elapsed, timedelta(0)))
    elapsed = wall_now - locked_at
    if elapsed < timedelta(0):
        return LockState(LOCK_DURATION, restarted_at=wall_now)
    return LockState(max(LOCK_DURATION - elapsed, timedelta(0)))
