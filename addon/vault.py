"""The vault: secrets encrypted at rest with Fernet (AES-128-CBC + HMAC-SHA256), several keys at once.

The first configured key encrypts; every key decrypts, so a new key can be put in front, every
process restarted, and ``autobill keys rotate`` re-encrypts the stored values under it while the
application keeps running. Columns holding vault ciphertext are marked
``mapped_column(..., info={"encrypted": True})``; rotation finds them through the metadata.
https://cryptography.io/en/latest/fernet/#cryptography.fernet.MultiFernet
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from addon.errors import AutobillError, ConfigError


class VaultError(AutobillError):
    """A stored secret cannot be decrypted with any configured key."""

    code = "vault"


def generate_key() -> str:
    """A new random Fernet key, as configuration takes it."""
    return Fernet.generate_key().decode("ascii")


class Vault:
    """Encrypts and decrypts secrets with the configured keys (newest first)."""

    def __init__(self, keys: Sequence[str]):
        if not keys:
            raise ConfigError("AUTOBILL_ENCRYPTION_KEYS is required: no key to encrypt secrets with")
        fernets = []
        for n, key in enumerate(keys, 1):
            try:
                fernets.append(Fernet(key.encode("ascii") if isinstance(key, str) else key))
            except (ValueError, TypeError):
                raise ConfigError(f"AUTOBILL_ENCRYPTION_KEYS is malformed: key {n} is not a Fernet key") from None
        self._newest = fernets[0]
        self._all = MultiFernet(fernets)
        self.key_count = len(fernets)

    def __repr__(self) -> str:  # never show keys
        return f"Vault(keys={self.key_count})"

    def encrypt(self, plaintext: str) -> str:
        """Ciphertext of ``plaintext`` under the newest key."""
        return self._newest.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, ciphertext: str) -> str:
        """The plaintext of ``ciphertext``; ``VaultError`` (without any content) if no key opens it."""
        try:
            return self._all.decrypt(ciphertext.encode("ascii")).decode("utf-8")
        except (InvalidToken, ValueError, UnicodeError):
            raise VaultError("a stored secret cannot be decrypted with the configured keys") from None

    def is_current(self, ciphertext: str) -> bool:
        """True when ``ciphertext`` is already encrypted under the newest key."""
        try:
            self._newest.decrypt(ciphertext.encode("ascii"))
            return True
        except (InvalidToken, ValueError):
            return False

    def rotate(self, ciphertext: str) -> str:
        """``ciphertext`` re-encrypted under the newest key (its original timestamp kept)."""
        try:
            return self._all.rotate(ciphertext.encode("ascii")).decode("ascii")
        except (InvalidToken, ValueError):
            raise VaultError("a stored secret cannot be decrypted with the configured keys") from None
