"""`python -m bot run|console|config-template`: the entry points. Errors are one line, never a traceback."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from bot.config import ConfigError, Secrets, config_template, load_settings
from bot.logs import configure_logging
from bot.process_lock import DatabaseInUse, sole_process
from storage.backup import BackupError
from storage.crypto import MasterKeyError

NO_TOKEN = (
    "TELEGRAM_BOT_TOKEN is not set: get a token from @BotFather and run "
    "`TELEGRAM_BOT_TOKEN=... make run`, or try Amigo in the terminal with `make console`."
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Amigo, an AI companion.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "run", help="run the Telegram bot (long polling, or webhook: telegram.mode)"
    )
    commands.add_parser("console", help="chat in the terminal, no Telegram needed")
    commands.add_parser("config-template", help="print config.toml with every default")
    commands.add_parser("backup", help="write a backup of the database now (safe while running)")
    restore = commands.add_parser("restore", help="restore a backup into a stopped instance")
    restore.add_argument("file", type=Path, help="a backup written by `backup`")
    purge = commands.add_parser("purge", help="run the retention purge once, now")
    purge.add_argument("--dry-run", action="store_true", help="only count what would go")
    training = commands.add_parser(
        "training-export",
        help="write the de-identified conversations of users who consent to model improvement",
    )
    training.add_argument(
        "--output", type=Path, help="where (default: data/training-export-<date>.jsonl)"
    )
    commands.add_parser(
        "migrate-to-postgres",
        help="copy the SQLite database (and its keys) into the empty PostgreSQL of storage.url",
    )
    args = parser.parse_args(argv)

    if args.command == "config-template":
        sys.stdout.write(config_template())
        return 0
    try:
        settings = load_settings()
        secrets = Secrets.from_env(os.environ)
        if args.command == "run":
            if not secrets.telegram_bot_token:
                print(NO_TOKEN, file=sys.stderr)
                return 2
            from bot.app import build_bot

            configure_logging(settings.logging.level, settings.logging.format)
            with sole_process(settings.storage.database_path, settings.storage.url):
                bot = build_bot(settings, secrets)
                if settings.telegram.mode == "webhook":
                    bot.run_webhook()
                else:
                    bot.run_polling()
        elif args.command == "console":
            from bot.console import chat_in_terminal

            configure_logging("WARNING", "text")
            with sole_process(settings.storage.database_path, settings.storage.url):
                asyncio.run(chat_in_terminal(settings, secrets))
        elif args.command == "backup":
            from bot import maintenance

            configure_logging("WARNING", "text")
            print(f"backup written: {asyncio.run(maintenance.backup(settings, secrets))}")
        elif args.command == "restore":
            from bot import maintenance

            configure_logging("WARNING", "text")
            removed = asyncio.run(maintenance.restore(settings, secrets, args.file))
            print(
                f"restored {args.file.name}; accounts deleted since then removed again: {removed}"
            )
        elif args.command == "purge":
            from bot import maintenance
            from jobs.retention import report

            configure_logging("WARNING", "text")
            counts = asyncio.run(maintenance.purge(settings, secrets, dry_run=args.dry_run))
            print(report(counts, dry_run=args.dry_run))
        elif args.command == "training-export":
            from bot import maintenance

            configure_logging("WARNING", "text")
            try:
                done = asyncio.run(maintenance.training_export(settings, secrets, args.output))
            except OSError as exc:
                print(
                    f"amigo: cannot write {args.output or 'the export'}: {exc.strerror}",
                    file=sys.stderr,
                )
                return 2
            print(done.summary())
        elif args.command == "migrate-to-postgres":
            from bot import maintenance
            from storage.pg_import import MigrationFailed, MigrationRefused

            configure_logging("WARNING", "text")
            try:
                migrated = asyncio.run(maintenance.migrate_to_postgres(settings, secrets))
            except (MigrationRefused, MigrationFailed) as exc:
                print(f"amigo: {exc}", file=sys.stderr)
                return 2 if isinstance(exc, MigrationRefused) else 1
            print(migrated.summary())
    except (ConfigError, MasterKeyError, DatabaseInUse, BackupError) as exc:
        print(f"amigo: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
