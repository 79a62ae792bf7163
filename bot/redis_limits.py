"""The per-person limits in Redis, shared by every worker (handlers/limits.LimitStore).

One Lua script per operation, so each is atomic on the server however many workers call at once.
Keys carry a prefix (several bots, or tests, can share one Redis) and the caller's pseudonyms,
never a Telegram id or a text, and a TTL so an idle key vanishes: a bucket once it would be full
again anyway (handlers.limits.idle_after), a repeat counter after REPEAT_TTL_SECONDS. Time comes
from the caller's clock, as with the other stores, not from Redis.
"""

from __future__ import annotations

import math
from datetime import datetime

import redis.asyncio as redis

from handlers.limits import BucketResult, idle_after

REPEAT_TTL_SECONDS = 86_400
"""A repeat counter untouched this long is forgotten: "the same text again" means recently."""

# KEYS[1] the bucket; ARGV: now, burst, per_second, can_flag (1/0), ttl seconds.
# Floats are stored and returned as %.17g text: they round-trip exactly, and a Lua number returned
# as such would be truncated to an integer by Redis.
_TAKE = """
local now = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local rate = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at', 'refused', 'flagged')
local tokens, at, refused, flagged = burst, now, 0, 0
if state[1] then
  tokens = tonumber(state[1])
  at = tonumber(state[2])
  refused = tonumber(state[3])
  flagged = tonumber(state[4])
  local elapsed = now - at
  if elapsed < 0 then elapsed = 0 end
  tokens = tokens + elapsed * rate
  if tokens > burst then tokens = burst end
  if now > at then at = now end
end
local flag = 0
if tokens >= 1 then
  tokens = tokens - 1
  refused = 0
  flagged = 0
else
  refused = refused + 1
  if flagged == 0 and ARGV[4] == '1' and refused >= burst then
    flagged = 1
    flag = 1
  end
end
local text = string.format('%.17g', tokens)
redis.call('HSET', KEYS[1], 'tokens', text, 'at', string.format('%.17g', at),
  'refused', refused, 'flagged', flagged)
redis.call('EXPIRE', KEYS[1], ARGV[5])
return {text, refused, flag}
"""

# KEYS[1] the person's counter; ARGV: digest, ttl seconds.
_REPEAT = """
local count = 1
if redis.call('HGET', KEYS[1], 'digest') == ARGV[1] then
  count = tonumber(redis.call('HGET', KEYS[1], 'count')) + 1
end
redis.call('HSET', KEYS[1], 'digest', ARGV[1], 'count', count)
redis.call('EXPIRE', KEYS[1], ARGV[2])
return count
"""


class RedisLimitStore:
    """handlers.limits.LimitStore on Redis; `close` closes the client if this store made it."""

    shared = True

    def __init__(
        self, client: redis.Redis, *, prefix: str = "amigo:limits:", owns_client: bool = False
    ) -> None:
        self.client = client
        self.prefix = prefix
        self._owns_client = owns_client
        # Script objects only hold the text and its SHA: EVALSHA, loaded on first NOSCRIPT.
        self._take = client.register_script(_TAKE)
        self._repeat = client.register_script(_REPEAT)

    @classmethod
    def from_url(cls, url: str, *, prefix: str = "amigo:limits:") -> RedisLimitStore:
        """A store with its own client (connected on first use, not here); close() closes it.
        Short timeouts: a Redis that hangs fails a message quickly instead of holding it."""
        client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        return cls(client, prefix=prefix, owns_client=True)

    async def take(
        self, key: bytes, now: datetime, burst: int, per_second: float, *, can_flag: bool
    ) -> BucketResult:
        ttl = math.ceil(idle_after(burst, per_second))
        tokens, refused, flag = await self._take(
            keys=[f"{self.prefix}b:{key.hex()}"],
            args=[repr(now.timestamp()), burst, repr(per_second), int(can_flag), ttl],
        )
        return BucketResult.of(float(tokens), int(refused), bool(flag))

    async def repeat(self, user_id: int, digest: bytes) -> int:
        count = await self._repeat(
            keys=[f"{self.prefix}r:{user_id}"], args=[digest, REPEAT_TTL_SECONDS]
        )
        return int(count)

    async def ping(self) -> None:
        """Raise now if Redis cannot be reached (a start-up check)."""
        await self.client.ping()

    async def close(self) -> None:
        if self._owns_client:
            await self.client.aclose()
