"""The vault: Fernet under several keys, errors that reveal nothing."""

import pytest

from addon.errors import ConfigError
from addon.vault import Vault, VaultError, generate_key


def test_a_secret_round_trips_and_the_ciphertext_does_not_contain_it():
    vault = Vault([generate_key()])
    sealed = vault.encrypt("AB11-refresh-token-value")
    assert "AB11" not in sealed
    assert vault.decrypt(sealed) == "AB11-refresh-token-value"


def test_any_configured_key_decrypts_and_the_first_one_encrypts():
    old, new = generate_key(), generate_key()
    under_old = Vault([old]).encrypt("s")
    both = Vault([new, old])
    assert both.decrypt(under_old) == "s"
    assert not both.is_current(under_old)
    assert both.is_current(both.encrypt("s"))
    assert Vault([new]).decrypt(both.rotate(under_old)) == "s"


def test_a_value_no_key_opens_raises_a_vault_error_without_content():
    sealed = Vault([generate_key()]).encrypt("RT-very-secret")
    with pytest.raises(VaultError) as caught:
        Vault([generate_key()]).decrypt(sealed)
    assert "RT-very-secret" not in str(caught.value) and sealed not in str(caught.value)


def test_a_vault_needs_at_least_one_wellformed_key_and_never_shows_keys():
    with pytest.raises(ConfigError, match="AUTOBILL_ENCRYPTION_KEYS is required"):
        Vault([])
    with pytest.raises(ConfigError, match="key 2 is not a Fernet key"):
        Vault([generate_key(), "short"])
    key = generate_key()
    assert key not in repr(Vault([key]))
