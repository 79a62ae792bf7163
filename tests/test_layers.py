"""The import rules hold for the real tree, and the check would catch a break (tests/layers.py)."""

from __future__ import annotations

from pathlib import Path

from tests.layers import check


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_the_code_base_has_no_import_cycle_and_keeps_its_layers() -> None:
    assert check() == []


def test_a_deliberate_cycle_is_caught_also_when_hidden_in_a_function(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "handlers/__init__.py": "",
            "handlers/admin.py": "from handlers.broadcasts import Broadcasts\n",
            "handlers/broadcasts.py": "def start():\n    from handlers.admin import BadArguments\n",
        },
    )
    assert check(root) == ["import cycle: handlers.admin -> handlers.broadcasts -> handlers.admin"]


def test_type_checking_and_relative_imports_count(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "storage/__init__.py": "",
            "storage/a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .b import X\n",
            "storage/b.py": "from . import a\n",
        },
    )
    assert check(root) == ["import cycle: storage.a -> storage.b -> storage.a"]


def test_each_layer_rule_is_enforced(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "core/__init__.py": "import storage\n",
            "storage/__init__.py": "",
            "storage/base.py": "",
            "storage/sqlite.py": "from handlers import chat\n",
            "handlers/__init__.py": "",
            "handlers/chat.py": "import telegram\nfrom storage.base import Repository\n",
            "handlers/export.py": "from storage.sqlite import SqliteRepository\n",
            "jobs/__init__.py": "",
            "jobs/retention.py": "from bot.app import master_key\n",
            "bot/__init__.py": "",
            "bot/app.py": "import jobs.retention\nimport handlers.chat\nimport telegram\n",
        },
    )
    assert check(root) == [
        "import cycle: bot.app -> jobs.retention -> bot.app",
        "core/__init__.py:1 imports storage: core/ may not import storage/",
        "storage/sqlite.py:1 imports handlers.chat: storage/ may not import handlers/",
        "handlers/chat.py:1 imports telegram: handlers/ never imports telegram",
        "handlers/export.py:1 imports storage.sqlite: handlers/ sees storage/ only as"
        " storage.base, storage.models",
        "jobs/retention.py:1 imports bot.app: jobs/ may not import bot/",
    ]
