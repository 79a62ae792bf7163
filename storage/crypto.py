"""Envelope encryption: per-user data keys, wrapped by one master key that never enters the database.

Each user's message text and personal fields are sealed with AES-256-GCM under that user's own data key.
The data key is stored only wrapped (encrypted) by a key derived from the master key. Destroying a user's
wrapped key makes everything of theirs unreadable, in the live database and in every old backup alike.
Each ciphertext is bound to its place (table, column, user) through GCM's associated data, so a sealed
value copied into another row or another user's record fails to open.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_VERSION = b"\x01"
_NONCE = 12


class MasterKeyError(Exception):
    """The master key is missing, malformed, or does not open this database's keys."""


class DecryptionError(Exception):
    """A sealed value did not open: wrong key, wrong place, or tampered bytes."""


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"amigo/" + purpose).derive(
        master
    )


def parse_master_key(text: str) -> bytes:
    """Accept a 32-byte key as URL-safe or standard base64, or 64 hex digits."""
    text = text.strip()
    for decode in (base64.urlsafe_b64decode, base64.b64decode, bytes.fromhex):
        try:
            raw = decode(text + "=" * (-len(text) % 4) if decode is not bytes.fromhex else text)
        except (ValueError, binascii.Error):
            continue
        if len(raw) == 32:
            return raw
    raise MasterKeyError("AMIGO_MASTER_KEY must be 32 bytes as base64 or 64 hex digits")


def new_master_key_text() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def load_or_create_key_file(path: Path) -> tuple[bytes, bool]:
    """Read the key file, or create it owner-only. Returns (key, created)."""
    if path.exists():
        return parse_master_key(path.read_text()), False
    path.parent.mkdir(parents=True, exist_ok=True)
    text = new_master_key_text()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text + "\n")
    return parse_master_key(text), True


class Vault:
    """Seals and opens values; wraps per-user data keys with the master key."""

    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != 32:
            raise MasterKeyError("master key must be 32 bytes")
        self._wrap = AESGCM(_derive(master_key, b"wrap"))
        self._hash_key = _derive(master_key, b"hash")
        self.fingerprint = hashlib.sha256(_derive(master_key, b"check")).hexdigest()[:16]

    def pseudonym(self, kind: str, value: int | str) -> bytes:
        """Keyed hash of an identifier: lets us find a record without storing the identifier."""
        return hmac.new(self._hash_key, f"{kind}:{value}".encode(), hashlib.sha256).digest()

    def new_data_key(self) -> bytes:
        return AESGCM.generate_key(bit_length=256)

    def wrap(self, data_key: bytes, user_id: int) -> bytes:
        nonce = secrets.token_bytes(_NONCE)
        return _VERSION + nonce + self._wrap.encrypt(nonce, data_key, _aad("key", user_id))

    def unwrap(self, wrapped: bytes, user_id: int) -> bytes:
        return self._open(self._wrap, wrapped, _aad("key", user_id))

    def seal(self, data_key: bytes, plaintext: str, place: str, user_id: int) -> bytes:
        nonce = secrets.token_bytes(_NONCE)
        aead = AESGCM(data_key)
        return _VERSION + nonce + aead.encrypt(nonce, plaintext.encode(), _aad(place, user_id))

    def open(self, data_key: bytes, sealed: bytes, place: str, user_id: int) -> str:
        return self._open(AESGCM(data_key), sealed, _aad(place, user_id)).decode()

    @staticmethod
    def _open(aead: AESGCM, sealed: bytes, aad: bytes) -> bytes:
        if sealed[:1] != _VERSION:
            raise DecryptionError("unknown format")
        try:
            return aead.decrypt(sealed[1 : 1 + _NONCE], sealed[1 + _NONCE :], aad)
        except InvalidTag:
            raise DecryptionError("value did not open") from None


def _aad(place: str, user_id: int) -> bytes:
    return f"amigo:{place}:{user_id}".encode()
