"""The deployment files (Dockerfile, docker-compose.yml, .env.example, deploy/) match the code.

No container engine runs here: these read the files. They check that the image runs `python -m bot`
as a non-root user, that the compose file parses and keeps secrets out of itself, and that every
variable the files name is a setting or a secret the bot really reads, so a renamed setting breaks
the build rather than a deployment.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from bot.config import _OPENAI_ENV, Secrets, Settings

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
DEPLOY_FILES = (
    DOCKERFILE,
    COMPOSE,
    ENV_EXAMPLE,
    ROOT / "deploy" / "amigo.service",
    ROOT / "deploy" / "amigo@.service",
    ROOT / "README.md",
)
# Variables the deployment files may name that are not Amigo's: PostgreSQL's and Compose's own.
OTHER_VARIABLES = frozenset(
    {"POSTGRES_PASSWORD", "POSTGRES_USER", "POSTGRES_DB", "PGPASSWORD", "COMPOSE_PROFILES"}
)
VARIABLE = re.compile(
    r"\b(?:(?:AMIGO|TELEGRAM|OPENAI|POSTGRES|COMPOSE)_[A-Z0-9_]*[A-Z0-9]|PGPASSWORD)\b"
)


class _Recorder(Mapping[str, str]):
    """An empty environment that remembers every name it was asked for."""

    def __init__(self) -> None:
        self.asked: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.asked.add(key)
        return default

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def secret_names() -> set[str]:
    """The names `Secrets.from_env` reads, `NAME_FILE` variants included."""
    recorder = _Recorder()
    Secrets.from_env(recorder)
    return recorder.asked


def setting_names() -> set[str]:
    """Every `AMIGO_<SECTION>__<KEY>` that names a real setting, and the other names bot reads."""
    names = {"AMIGO_CONFIG", *_OPENAI_ENV}
    names |= {"AMIGO_TEST_BACKEND", "AMIGO_TEST_PG_URL"}  # read by the tests (tests/postgres.py)
    for section, field in Settings.model_fields.items():
        model = field.annotation
        assert isinstance(model, type)
        for key in getattr(model, "model_fields", {}):
            names.add(f"AMIGO_{section.upper()}__{key.upper()}")
    return names


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions (keyword, arguments), continuation lines joined."""
    joined = re.sub(r"\\\n(?:\s*#.*\n)*", " ", DOCKERFILE.read_text())
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def last(keyword: str) -> str:
    values = [rest for key, rest in instructions() if key == keyword]
    assert values, f"the Dockerfile has no {keyword}"
    return values[-1]


def yaml_module() -> ModuleType | None:
    try:
        return importlib.import_module("yaml")
    except ImportError:  # PyYAML is not a dependency: the text checks below still run
        return None


def test_the_image_runs_python_m_bot_as_a_fixed_non_root_user() -> None:
    froms = [rest for key, rest in instructions() if key == "FROM"]
    assert froms[-1].split()[0] == "python:3.11-slim"
    user = last("USER").split(":")[0]
    assert user.isdigit() and int(user) >= 1000, "USER must be a fixed, non-root uid"
    assert json.loads(last("ENTRYPOINT")) == ["python", "-m", "bot"]
    assert json.loads(last("CMD")) == ["run"]
    assert last("WORKDIR") == "/app"
    assert "/app/data" in last("VOLUME")
    assert "8443" in last("EXPOSE").split()
    assert "PIP_NO_CACHE_DIR=1" in DOCKERFILE.read_text()
    assert not any("[dev]" in rest for key, rest in instructions() if key == "RUN")


def test_the_health_check_asks_healthz_with_urllib() -> None:
    check = last("HEALTHCHECK")
    script = ROOT / "deploy" / "healthcheck.py"
    assert "healthcheck.py" in check and "curl" not in check
    text = script.read_text()
    assert "urllib.request" in text and "/healthz" in text
    # The address it asks must be one the bot serves: webhook_listen, or ops.listen which the
    # image sets so that a polling bot serves /healthz too.
    assert "webhook_listen" in text and "ops.listen" in text
    assert "AMIGO_OPS__LISTEN=" in DOCKERFILE.read_text()


def test_the_build_context_keeps_what_pip_install_needs_and_no_data() -> None:
    lines = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*", "an allow-list: nothing enters the context unless named"
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    for needed in ("pyproject.toml", "README.md", "core", "safety", "storage", "handlers", "jobs"):
        assert needed in allowed
    assert "bot" in allowed
    for never in (".venv", "data", ".git", ".env", "tests"):
        assert never not in allowed


def test_compose_parses_with_postgres_webhook_workers_and_a_polling_profile() -> None:
    text = COMPOSE.read_text()
    assert "\t" not in text
    for needed in ("postgres:16", "pg_isready", "env_file: .env", "replicas: 2"):
        assert needed in text
    yaml = yaml_module()
    if yaml is None:
        return
    compose: dict[str, Any] = yaml.safe_load(text)
    services = compose["services"]
    assert services["postgres"]["image"] == "postgres:16"
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert services["redis"]["profiles"] == ["redis"]
    webhook, polling = services["bot"], services["bot-polling"]
    assert webhook["environment"]["AMIGO_TELEGRAM__MODE"] == "webhook"
    assert webhook["deploy"]["replicas"] == 2
    assert polling["environment"]["AMIGO_TELEGRAM__MODE"] == "polling"
    assert polling["profiles"] == ["polling"] and webhook["profiles"] == ["webhook"]
    for bot in (webhook, polling):
        assert bot["env_file"] == ".env"
        assert bot["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_no_secret_value_is_written_in_compose() -> None:
    text = COMPOSE.read_text()
    for name in secret_names() | {"POSTGRES_PASSWORD", "PGPASSWORD"}:
        for match in re.finditer(rf"^\s*-?\s*{name}\s*[:=]\s*(.*)$", text, re.MULTILINE):
            value = match.group(1).strip()
            assert value.startswith("${"), f"{name} is given a value in docker-compose.yml"
    assert not re.search(r"postgres(?:ql)?://[^@\s/]*:[^@\s/]*@", text), "a password in a URL"


def test_env_example_holds_no_value() -> None:
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, sep, value = line.partition("=")
            assert sep and VARIABLE.fullmatch(name), line
            assert value == "", f".env.example gives {name} a value"


@pytest.mark.parametrize("path", DEPLOY_FILES, ids=lambda path: path.name)
def test_every_variable_named_is_a_real_setting_or_secret(path: Path) -> None:
    known = setting_names() | secret_names() | OTHER_VARIABLES
    named = set(VARIABLE.findall(path.read_text()))
    # Prose may name the pattern itself, e.g. AMIGO_<SECTION>__<KEY> is cut to "AMIGO_".
    unknown = {name for name in named if name not in known and not name.endswith("_")}
    assert not unknown, f"{path.name} names variables the bot does not read: {sorted(unknown)}"


def test_env_example_lists_every_secret() -> None:
    text = ENV_EXAMPLE.read_text()
    for name in secret_names():
        assert re.search(rf"^#?\s*{name}=", text, re.MULTILINE), f".env.example lacks {name}"


def test_systemd_units_run_the_venv_as_a_dedicated_user_with_hardening() -> None:
    for name in ("amigo.service", "amigo@.service"):
        unit = (ROOT / "deploy" / name).read_text()
        lines = set(unit.splitlines())
        for needed in (
            "User=amigo",
            "EnvironmentFile=/etc/amigo/amigo.env",
            "ExecStart=/opt/amigo/.venv/bin/python -m bot run",
            "Restart=on-failure",
            "KillSignal=SIGTERM",
            "NoNewPrivileges=yes",
            "ProtectSystem=strict",
            "PrivateTmp=yes",
            "ProtectHome=yes",
        ):
            assert needed in lines, f"{name} lacks {needed}"
        assert any(line.startswith("ReadWritePaths=/var/lib/amigo") for line in lines)
        stop = re.search(r"^TimeoutStopSec=(\d+)s?$", unit, re.MULTILINE)
        assert stop and int(stop.group(1)) > Settings().llm.deadline_seconds
