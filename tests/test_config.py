"""Every setting documented once; bad values stop start-up with one clear line."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from bot.config import ConfigError, Secrets, config_template, load_settings

ROOT = Path(__file__).resolve().parent.parent


def test_config_toml_documents_every_setting_with_its_default() -> None:
    """config.toml is exactly the generated template: a new setting without docs fails here."""
    assert (ROOT / "config.toml").read_text() == config_template()


def test_environment_overrides_file_and_openai_variables(tmp_path: Path) -> None:
    file = tmp_path / "c.toml"
    file.write_text('[llm]\nmodel = "from-file"\nbase_url = "http://file/v1"\n')
    env = {"OPENAI_BASE_URL": "http://openai-env/v1", "AMIGO_LLM__MODEL": "from-env"}
    settings = load_settings(env, path=str(file))
    assert settings.llm.model == "from-env"
    assert settings.llm.base_url == "http://openai-env/v1"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"AMIGO_LLM__TIMEOUT_SECONDS": "-1"}, "llm.timeout_seconds"),
        ({"AMIGO_LLM__TEMPERATURE": "hot"}, "llm.temperature"),
        ({"AMIGO_LLM__NO_SUCH_KEY": "1"}, "llm.no_such_key: unknown setting"),
        ({"AMIGO_LLM__REPLY_TOKENS": "9000"}, "reply_tokens"),
        ({"AMIGO_COMPANION__DEFAULT_TONE": "angry"}, "companion.default_tone"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, env: dict[str, str], message: str) -> None:
    (tmp_path / "c.toml").touch()
    with pytest.raises(ConfigError) as err:
        load_settings(env, path=str(tmp_path / "c.toml"))
    assert message in str(err.value) and "\n" not in str(err.value)


def test_secrets_come_from_environment_or_files_never_from_config(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("123:abc\n")
    secrets = Secrets.from_env({"TELEGRAM_BOT_TOKEN_FILE": str(token_file), "OPENAI_API_KEY": "k"})
    assert secrets.telegram_bot_token == "123:abc" and secrets.openai_api_key == "k"
    assert "abc" not in repr(secrets)
    keys = {key for section in tomllib.loads(config_template()).values() for key in section}
    assert not keys & {"token", "bot_token", "api_key", "master_key"}
    (tmp_path / "c.toml").touch()
    with pytest.raises(ConfigError, match="unknown setting"):
        load_settings({"AMIGO_LLM__API_KEY": "sk-leak"}, path=str(tmp_path / "c.toml"))


def run_cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("AMIGO_", "TELEGRAM_", "OPENAI_"))
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={**clean, "PYTHONPATH": str(ROOT), **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_run_without_token_says_what_to_do_in_one_line(tmp_path: Path) -> None:
    result = run_cli("run", env={}, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "TELEGRAM_BOT_TOKEN" in lines[0] and "console" in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


def test_bad_config_stops_start_up_with_one_line(tmp_path: Path) -> None:
    result = run_cli("run", env={"AMIGO_LLM__MAX_ATTEMPTS": "zero"}, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "llm.max_attempts" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.promise("P12.1")
def test_telegram_and_llm_traffic_use_https_by_default() -> None:
    """P12.1: encryption in transit unless an operator points at a local server on purpose."""
    settings = load_settings({}, path=str(ROOT / "config.toml"))
    assert settings.telegram.api_base_url.startswith("https://")
    assert settings.llm.base_url.startswith("https://")
