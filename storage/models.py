"""Plain records that cross the storage boundary, already decrypted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

Role = Literal["user", "assistant"]


class Status(StrEnum):
    ONBOARDING = "onboarding"
    ACTIVE = "active"
    CLOSED = "closed"
    BANNED = "banned"


class Purpose(StrEnum):
    """What a consent-ledger row is about."""

    AGE_18_PLUS = "age_18_plus"
    TERMS = "terms_and_privacy"
    MODEL_IMPROVEMENT = "model_improvement"
    MARKETING = "marketing"


@dataclass(frozen=True)
class Account:
    id: int
    status: Status
    step: str | None
    policy_version: str
    conversation_id: int | None
    created_at: datetime


@dataclass(frozen=True)
class Companion:
    name: str
    gender: str
    tone: str


@dataclass(frozen=True)
class ChatMessage:
    id: int
    role: Role
    text: str
    created_at: datetime


@dataclass(frozen=True)
class ConsentRecord:
    purpose: Purpose
    granted: bool
    policy_version: str
    created_at: datetime
