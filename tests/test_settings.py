"""Settings: defaults, TOML, env overrides, one-line errors naming the key, token from env only."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import ConfigError, load_secrets, load_settings

REPO = Path(__file__).resolve().parent.parent


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_the_example_config_loads_and_matches_the_defaults(monkeypatch: pytest.MonkeyPatch,
                                                            tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no ./config.toml here
    example = load_settings(REPO / "config.example.toml")
    assert example == load_settings()


def test_env_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path, '[logging]\nlevel = "WARNING"\n[data]\nretries = 2\n')
    monkeypatch.setenv("CAPBRIEF_DATA__RETRIES", "7")
    settings = load_settings(path)
    assert settings.data.retries == 7
    assert settings.logging.level == "WARNING"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[data]\nretries = 'many'\n", "data.retries"),
        ("[briefing]\ndefault_timezone = 'Mars/Olympus'\n", "briefing.default_timezone"),
        ("[charts]\ntheme = 'neon'\n", "charts.theme"),
        ("[render]\npool_size = 0\n", "render.pool_size"),
        ("[data]\nretires = 3\n", "data.retires"),
    ],
)
def test_a_bad_key_fails_with_one_line_naming_it(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(_write(tmp_path, text))
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"config error: {key}:")


def test_invalid_toml_and_missing_file_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(_write(tmp_path, "[data\n"))
    with pytest.raises(ConfigError, match="file not found"):
        load_settings(tmp_path / "nope.toml")


def test_the_token_is_never_read_from_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="DISCORD_TOKEN"):
        load_settings(_write(tmp_path, "[discord]\ntoken = 'abc'\n"))


def test_the_token_comes_from_env_and_prints_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "super-secret-token-value")
    secrets = load_secrets()
    assert secrets.discord_token is not None
    assert secrets.discord_token.get_secret_value() == "super-secret-token-value"
    assert "super-secret" not in repr(secrets) and "super-secret" not in str(secrets.discord_token)


def test_the_token_can_come_from_a_secret_file(monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    secret = tmp_path / "discord_token"
    secret.write_text("file-secret-token-value\n")
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    monkeypatch.setenv("DISCORD_TOKEN_FILE", str(secret))
    token = load_secrets().token()
    assert token is not None and token.get_secret_value() == "file-secret-token-value"
    # DISCORD_TOKEN wins when both are set; a blank one falls through to the file
    monkeypatch.setenv("DISCORD_TOKEN", "env-token-value")
    assert load_secrets().token().get_secret_value() == "env-token-value"  # type: ignore[union-attr]
    monkeypatch.setenv("DISCORD_TOKEN", "  ")
    assert load_secrets().token().get_secret_value() == "file-secret-token-value"  # type: ignore[union-attr]


def test_an_unreadable_token_file_names_the_file_not_the_token(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    monkeypatch.setenv("DISCORD_TOKEN_FILE", str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match=r"DISCORD_TOKEN_FILE: cannot read .*missing"):
        load_secrets().token()
    empty = tmp_path / "empty"
    empty.write_text("\n")
    monkeypatch.setenv("DISCORD_TOKEN_FILE", str(empty))
    assert load_secrets().token() is None
