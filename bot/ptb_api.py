"""bot/telegram_api.BotApi through python-telegram-bot's Bot: its errors become ours.

Every call goes through the shared FloodGate (Telegram's flood limits and 429 pauses).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import TypeVar

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    LabeledPrice,
)
from telegram import error as ptb
from telegram.constants import ChatAction, ParseMode

from bot.telegram_api import (
    ALLOWED_UPDATES,
    BadRequest,
    Buttons,
    FloodGate,
    Forbidden,
    NetworkError,
    NotFound,
    RetryAfter,
    TelegramError,
)

T = TypeVar("T")


class PtbApi:
    def __init__(self, bot: Bot, gate: FloodGate) -> None:
        self.bot = bot
        self.gate = gate

    async def _call(
        self, endpoint: str, request: Callable[[], Awaitable[T]], chat_id: int | None = None
    ) -> T:
        async def translated() -> T:
            async with errors():
                return await request()

        return await self.gate.call(translated, chat_id=chat_id, endpoint=endpoint)

    async def send_message(
        self, chat_id: int, text: str, *, html: bool = False, buttons: Buttons = ()
    ) -> int:
        message = await self._call(
            "sendMessage",
            lambda: self.bot.send_message(
                chat_id,
                text,
                parse_mode=ParseMode.HTML if html else None,
                reply_markup=markup(buttons),
                disable_web_page_preview=True,
            ),
            chat_id,
        )
        return message.message_id

    async def edit_message_text(
        self, chat_id: int, message_id: int, text: str, *, html: bool = False, buttons: Buttons = ()
    ) -> None:
        await self._call(
            "editMessageText",
            lambda: self.bot.edit_message_text(
                text,
                chat_id,
                message_id,
                parse_mode=ParseMode.HTML if html else None,
                reply_markup=markup(buttons),
                disable_web_page_preview=True,
            ),
            chat_id,
        )

    async def send_message_draft(
        self, chat_id: int, draft_id: int, text: str, *, html: bool = False
    ) -> None:
        await self._call(
            "sendMessageDraft",
            lambda: self.bot.send_message_draft(
                chat_id, draft_id, text, parse_mode=ParseMode.HTML if html else None
            ),
            chat_id,
        )

    async def delete_message(self, chat_id: int, message_id: int) -> None:
        await self._call(
            "deleteMessage", lambda: self.bot.delete_message(chat_id, message_id), chat_id
        )

    async def send_typing(self, chat_id: int) -> None:
        await self._call(
            "sendChatAction", lambda: self.bot.send_chat_action(chat_id, ChatAction.TYPING), chat_id
        )

    async def send_document(
        self, chat_id: int, filename: str, content: bytes, *, caption: str = ""
    ) -> None:
        await self._call(
            "sendDocument",
            lambda: self.bot.send_document(
                chat_id, InputFile(content, filename=filename), caption=caption or None
            ),
            chat_id,
        )

    async def set_my_commands(
        self,
        commands: Sequence[tuple[str, str]],
        *,
        language_code: str | None = None,
        chat_id: int | None = None,
    ) -> None:
        menu = [BotCommand(name, description) for name, description in commands]
        scope = BotCommandScopeChat(chat_id) if chat_id is not None else None
        await self._call(
            "setMyCommands",
            lambda: self.bot.set_my_commands(menu, scope=scope, language_code=language_code),
        )

    async def create_invoice_link(
        self,
        *,
        title: str,
        description: str,
        payload: str,
        label: str,
        stars: int,
        subscription_period: int,
    ) -> str:
        return await self._call(
            "createInvoiceLink",
            lambda: self.bot.create_invoice_link(
                title=title,
                description=description,
                payload=payload,
                currency="XTR",
                prices=[LabeledPrice(label, stars)],
                subscription_period=timedelta(seconds=subscription_period),
            ),
        )

    async def edit_user_star_subscription(
        self, user_id: int, telegram_charge_id: str, *, canceled: bool
    ) -> None:
        await self._call(
            "editUserStarSubscription",
            lambda: self.bot.edit_user_star_subscription(user_id, telegram_charge_id, canceled),
        )

    async def refund_star_payment(self, user_id: int, telegram_charge_id: str) -> None:
        await self._call(
            "refundStarPayment", lambda: self.bot.refund_star_payment(user_id, telegram_charge_id)
        )

    async def set_webhook(self, url: str, *, secret_token: str, max_connections: int) -> None:
        await self._call(
            "setWebhook",
            lambda: self.bot.set_webhook(
                url=url,
                secret_token=secret_token,
                allowed_updates=ALLOWED_UPDATES,
                max_connections=max_connections,
                drop_pending_updates=False,
            ),
        )


def markup(buttons: Buttons) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(b.label, url=b.url)
                if b.url
                else InlineKeyboardButton(b.label, callback_data=b.data)
                for b in row
            ]
            for row in buttons
        ]
    )


@asynccontextmanager
async def errors() -> AsyncIterator[None]:
    """python-telegram-bot's errors as bot/telegram_api's (most specific first: in PTB a
    BadRequest is a NetworkError)."""
    try:
        yield
    except ptb.RetryAfter as exc:
        seconds = exc.retry_after
        raise RetryAfter(
            seconds.total_seconds() if isinstance(seconds, timedelta) else float(seconds)
        ) from exc
    except ptb.BadRequest as exc:
        raise BadRequest(exc.message) from exc
    except ptb.Forbidden as exc:
        raise Forbidden(exc.message) from exc
    except (ptb.EndPointNotFound, ptb.InvalidToken) as exc:  # PTB says InvalidToken for a 404
        raise NotFound(exc.message) from exc
    except ptb.NetworkError as exc:
        raise NetworkError(exc.message) from exc
    except ptb.TelegramError as exc:
        raise TelegramError(exc.message) from exc
