"""Container health check: GET /healthz on the address this bot serves it on, with urllib only.

The address follows the settings the bot itself reads (config file and AMIGO_* variables):
telegram.webhook_listen in webhook mode, else ops.listen. The image sets AMIGO_OPS__LISTEN so a
polling bot serves it too; with ops.listen cleared in polling mode there is nothing to ask, and the
check fails saying so rather than report a health it cannot see. Exit 0 = healthy, 1 = not.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request

TIMEOUT_SECONDS = 4.0


def health_url() -> str | None:
    from bot.config import load_settings

    settings = load_settings()
    if settings.telegram.mode == "webhook":
        listen = settings.telegram.webhook_listen
    else:
        listen = settings.ops.listen
    if not listen:
        return None
    host, _, port = listen.rpartition(":")
    host = host.strip("[]")
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/healthz"


def main() -> int:
    try:
        url = health_url()
    except Exception as exc:  # a bad setting: the bot will not be healthy either
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1
    if url is None:
        print(
            "unhealthy: no /healthz is served (polling mode with ops.listen empty): "
            "set AMIGO_OPS__LISTEN, e.g. 0.0.0.0:8080",
            file=sys.stderr,
        )
        return 1
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
            ok = 200 <= response.status < 300
            print(f"{url}: {response.status}")
            return 0 if ok else 1
    except urllib.error.HTTPError as exc:
        print(f"unhealthy: {url}: {exc.code}", file=sys.stderr)
    except (urllib.error.URLError, OSError) as exc:
        print(f"unhealthy: {url}: {exc}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
