"""Load generators for the search benchmark: wrk when it is installed, else a small asyncio client.

Both keep `connections` connections busy for `duration` seconds; connection i walks the list of paths
from its own starting point (i * len(paths) / connections), so together they send the sequence as a log
would. The asyncio client speaks HTTP/1.1 with keep-alive and reconnects when the server closes the
connection (gunicorn's sync workers close after every answer, as they do for wrk). A request's latency
runs from the moment it is written (or its connection opened) to the last byte of its answer.
"""
from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class LoadResult:
    requests: int
    seconds: float
    latencies_ms: list[float]
    errors: int            # answers other than 200, and failed connections
    p50: float = 0.0
    p99: float = 0.0
    statuses: Counter = field(default_factory=Counter)   # what the errors were (status code or "connection")

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def summarize(requests: int, seconds: float, latencies: list[float], statuses: Counter) -> LoadResult:
    return LoadResult(requests, seconds, latencies, sum(statuses.values()), percentile(latencies, 0.50),
                      percentile(latencies, 0.99), statuses)


def tool() -> str:
    return "wrk" if shutil.which("wrk") else "asyncio"


# -- asyncio ---------------------------------------------------------------------------------------


async def _connection(host: str, port: int, paths: list[str], start: int, deadline: float,
                      latencies: list[float], counts: list[int], statuses: Counter) -> None:
    reader = writer = None
    index = start
    while time.perf_counter() < deadline:
        path = paths[index % len(paths)]
        index += 1
        began = time.perf_counter()
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(host, port)
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
            close = re.search(rb"(?im)^connection:\s*close", head) is not None
            if length:
                await reader.readexactly(int(length.group(1)))
            else:
                await reader.read()
                close = True
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, IndexError):
            statuses["connection"] += 1
            if writer is not None:
                writer.close()
            reader = writer = None
            await asyncio.sleep(0.01)
            continue
        finished = time.perf_counter()
        if finished <= deadline:
            latencies.append((finished - began) * 1000)
            counts[0] += 1
            if status != 200:
                statuses[status] += 1
        if close:
            writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


async def _drive(host: str, port: int, paths: list[str], duration: float, connections: int) -> LoadResult:
    latencies: list[float] = []
    counts = [0]   # answers
    statuses: Counter = Counter()
    started = time.perf_counter()
    deadline = started + duration
    await asyncio.gather(*(_connection(host, port, paths, i * len(paths) // connections, deadline, latencies, counts,
                                       statuses) for i in range(connections)))
    return summarize(counts[0], duration, latencies, statuses)


def drive_asyncio(host: str, port: int, paths: list[str], duration: float, connections: int) -> LoadResult:
    return asyncio.run(_drive(host, port, paths, duration, connections))


# -- wrk -------------------------------------------------------------------------------------------


def _wrk_latency(output: str, label: str) -> float:
    match = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def _lua(paths: list[str], connections: int, directory: Path) -> Path:
    """A wrk script: each thread walks the paths from its own starting point."""
    quoted = ", ".join('"' + p.replace("\\", "\\\\").replace('"', '\\"') + '"' for p in paths)
    body = (f"paths = {{{quoted}}}\n"
            "local threads = 0\n"
            "setup = function(thread) thread:set(\"offset\", threads) threads = threads + 1 end\n"
            "init = function(args) counter = offset * math.floor(#paths / 2) end\n"
            "request = function()\n  counter = counter + 1\n"
            "  return wrk.format(\"GET\", paths[(counter % #paths) + 1])\nend\n")
    path = directory / "paths.lua"
    path.write_text(body)
    return path


def drive_wrk(host: str, port: int, paths: list[str], duration: float, connections: int,
              directory: Path) -> LoadResult:
    args = ["wrk", "-t2", f"-c{connections}", f"-d{int(duration)}s", "--latency", "--timeout", "5s"]
    if len(paths) > 1:
        args += ["-s", str(_lua(paths, connections, directory))]
    output = subprocess.run(args + [f"http://{host}:{port}{paths[0]}"], capture_output=True, text=True,
                            check=True).stdout
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = int(non2xx.group(1)) if non2xx else 0
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    return LoadResult(requests, requests / rps if rps else duration, [], errors, _wrk_latency(output, "50"),
                      _wrk_latency(output, "99"), Counter({"non-2xx": errors} if errors else {}))


def drive(host: str, port: int, paths: list[str], duration: float, connections: int, directory: Path) -> LoadResult:
    if tool() == "wrk":
        return drive_wrk(host, port, paths, duration, connections, directory)
    return drive_asyncio(host, port, paths, duration, connections)


def sequential(host: str, port: int, paths: list[str]) -> LoadResult:
    """Each path once, one request after another on one connection (latency without queueing)."""
    latencies: list[float] = []
    statuses: Counter = Counter()

    async def walk() -> None:
        for path in paths:
            began = time.perf_counter()
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode())
            answer = await reader.read()
            writer.close()
            latencies.append((time.perf_counter() - began) * 1000)
            status = answer.split(b" ", 2)[1].decode() if answer else "connection"
            if status != "200":
                statuses[status] += 1

    started = time.perf_counter()
    asyncio.run(walk())
    return summarize(len(latencies), time.perf_counter() - started, latencies, statuses)
