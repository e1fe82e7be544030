"""``python -m bot.healthcheck``: exit 0 when the running bot's ``/healthz`` answers 200, else 1.

For the container's HEALTHCHECK: standard library only (no pandas, discord or settings import),
so a check costs a bare interpreter start. The port is ``$CAPBRIEF_HEALTH__PORT`` (default
8080) on 127.0.0.1; the reason for a failure is printed on one line.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request


def check(port: int, timeout: float = 4.0) -> tuple[bool, str]:
    """(healthy, one-line reason) from ``GET http://127.0.0.1:port/healthz``."""
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status == 200, f"{resp.status} ok"
    except urllib.error.HTTPError as exc:  # 503: the body says which checks fail
        try:
            failing = json.loads(exc.read() or b"{}").get("failing", [])
        except ValueError:
            failing = []
        return False, f"{exc.code} failing: {', '.join(failing) or 'unknown'}"
    except (OSError, ValueError) as exc:
        return False, f"no answer from {url}: {exc}"


def main() -> int:
    port = int(os.environ.get("CAPBRIEF_HEALTH__PORT", "8080"))
    ok, reason = check(port)
    print(reason)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
