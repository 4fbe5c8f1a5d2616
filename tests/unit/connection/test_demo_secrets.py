"""Demo mode makes its keys once into the state folder; a restart reads the same ones."""

import stat

from addon.config import load_settings
from addon.demosecrets import with_demo_secrets
from addon.vault import Vault, generate_key


def test_demo_keys_are_generated_once_and_reused_after_a_restart(tmp_path):
    settings = load_settings({"AUTOBILL_STATE_DIR": str(tmp_path)})
    first = with_demo_secrets(settings)
    sealed = Vault(first.encryption_keys).encrypt("AT-northwind")
    again = with_demo_secrets(load_settings({"AUTOBILL_STATE_DIR": str(tmp_path)}))
    assert again.secret_key == first.secret_key and again.encryption_keys == first.encryption_keys
    assert Vault(again.encryption_keys).decrypt(sealed) == "AT-northwind"
    mode = stat.S_IMODE((tmp_path / "secrets.json").stat().st_mode)
    assert mode == 0o600


def test_configured_keys_win_over_generated_ones(tmp_path):
    key = generate_key()
    settings = with_demo_secrets(load_settings({"AUTOBILL_STATE_DIR": str(tmp_path),
                                                "AUTOBILL_ENCRYPTION_KEYS": key, "SECRET_KEY": "mine"}))
    assert settings.encryption_keys == (key,) and settings.secret_key == "mine"
    assert not (tmp_path / "secrets.json").exists()
