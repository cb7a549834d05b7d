"""What the benchmarks that start a server share."""
from __future__ import annotations

import time
import urllib.request


def wait_for(url: str, timeout: float = 30) -> None:
    """Return once `url` answers; exit the benchmark if it does not within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server did not answer at {url}")
