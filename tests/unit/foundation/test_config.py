import pytest

from addon.config import SETTINGS, load_settings
from addon.errors import ConfigError

# Two well-formed Fernet keys (32 url-safe base64 bytes each), fixed so the tests are repeatable.
KEY_ONE = "bm9ydGh3aW5kLWl0LWtleS1vbmUtMzItYnl0ZXMhISE="
KEY_TWO = "bm9ydGh3aW5kLWl0LWtleS10d28tMzItYnl0ZXMhISE="

PRODUCTION = {
    "QBO_CLIENT_ID": "ABcd",
    "QBO_CLIENT_SECRET": "s3cret",
    "QBO_REDIRECT_URI": "https://billing.example.com/qbo/callback",
    "QBO_WEBHOOK_VERIFIER_TOKEN": "vt-8842",
    "DATABASE_URL": "postgresql+psycopg://db/autobill",
    "REDIS_URL": "rediss://cache.example.com:6380/0",
    "SECRET_KEY": "k",
    "AUTOBILL_ENCRYPTION_KEYS": f"{KEY_ONE},{KEY_TWO}",
}


def test_no_client_id_means_demo_mode_with_defaults():
    settings = load_settings({})
    assert settings.demo_mode
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert settings.tick_seconds == 60


def test_time_constants_are_scaled_by_the_time_scale():
    settings = load_settings({"AUTOBILL_TIME_SCALE": "0.01", "AUTOBILL_JOB_TIMEOUT": "200"})
    assert settings.job_timeout == pytest.approx(2.0)
    assert settings.tick_seconds == pytest.approx(0.6)


def test_production_mode_accepts_a_complete_configuration():
    settings = load_settings(PRODUCTION)
    assert not settings.demo_mode
    assert settings.encryption_keys == (KEY_ONE, KEY_TWO)


@pytest.mark.parametrize("missing", [k for k in PRODUCTION if k != "QBO_CLIENT_ID"])
def test_production_mode_names_a_missing_setting(missing):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    with pytest.raises(ConfigError, match=missing):
        load_settings(env)


def test_a_malformed_setting_is_named():
    with pytest.raises(ConfigError, match="AUTOBILL_WEB_PORT is malformed"):
        load_settings({"AUTOBILL_WEB_PORT": "eighty"})


def test_a_url_environment_needs_an_api_base():
    with pytest.raises(ConfigError, match="QBO_API_BASE_URL"):
        load_settings({**PRODUCTION, "QBO_ENVIRONMENT": "http://127.0.0.1:9/.well-known/openid_configuration"})


def test_secrets_do_not_appear_in_the_settings_repr():
    text = repr(load_settings(PRODUCTION))
    assert "s3cret" not in text and "vt-8842" not in text


def test_every_setting_is_documented_in_the_readme(readme):
    for setting in SETTINGS:
        assert f"| `{setting.env}` |" in readme, f"{setting.env} missing from the README's settings table"


def test_a_malformed_encryption_key_is_named_by_position_without_echoing_it():
    with pytest.raises(ConfigError, match="AUTOBILL_ENCRYPTION_KEYS is malformed: key 2 of 2") as caught:
        load_settings({**PRODUCTION, "AUTOBILL_ENCRYPTION_KEYS": f"{KEY_ONE},not-a-key-at-all"})
    assert "not-a-key-at-all" not in str(caught.value)


@pytest.mark.parametrize("name, value, message", [
    ("DATABASE_URL", "not a url", "DATABASE_URL is malformed"),
    ("REDIS_URL", "localhost:6379", "REDIS_URL is malformed"),
    ("QBO_API_BASE_URL", "quickbooks.api.intuit.com/v3", "QBO_API_BASE_URL must be an http"),
    ("QBO_API_BASE_URL", "https://quickbooks.api.intuit.com", "QBO_API_BASE_URL must be an http.* ending in /v3"),
    ("QBO_API_BASE_URL", "https://quickbooks.api.intuit.com/v3/company", "ending in /v3"),
    ("QBO_REQUESTS_PER_MINUTE", "0", "QBO_REQUESTS_PER_MINUTE is malformed: must be at least 1"),
])
def test_production_mode_names_a_malformed_setting(name, value, message):
    with pytest.raises(ConfigError, match=message):
        load_settings({**PRODUCTION, name: value})


@pytest.mark.parametrize("value", ["https://quickbooks.api.intuit.com/v3", "http://127.0.0.1:8765/v3/"])
def test_an_api_base_ending_in_v3_is_taken_with_or_without_its_trailing_slash(value):
    settings = load_settings({**PRODUCTION, "QBO_API_BASE_URL": value})
    assert settings.qbo_api_url == value.rstrip("/")
