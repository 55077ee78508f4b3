"""Running wrk against one endpoint and reading its report."""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}
_LUA = """
wrk.method = {method!r}
wrk.body = {body!r}
{headers}
"""


@dataclass(frozen=True)
class Result:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # socket errors plus non-2xx/3xx answers


def _milliseconds(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def parse(report: str) -> Result:
    latency = dict(re.findall(r"^\s+(50|99)(?:\.000)?%\s+(\S+)\s*$", report, re.MULTILINE))
    if set(latency) != {"50", "99"}:
        raise ValueError(f"cannot read this wrk report:\n{report}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", report).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", report).group(1))  # type: ignore[union-attr]
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", report))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", report)
    return Result(
        requests_per_second=rps,
        p50_ms=_milliseconds(latency["50"]),
        p99_ms=_milliseconds(latency["99"]),
        requests=total,
        errors=errors + (int(non_2xx.group(1)) if non_2xx else 0),
    )


def run(
    url: str,
    *,
    seconds: int,
    connections: int,
    threads: int = 2,
    method: str = "GET",
    body: str = "",
    headers: dict[str, str] | None = None,
) -> Result:
    """Load `url` for `seconds` with `connections` keep-alive connections."""
    lines = "\n".join(f"wrk.headers[{k!r}] = {v!r}" for k, v in (headers or {}).items())
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "request.lua"
        script.write_text(_LUA.format(method=method, body=body, headers=lines))
        report = subprocess.run(
            [
                "wrk",
                "--latency",
                "-t",
                str(threads),
                "-c",
                str(connections),
                "-d",
                f"{seconds}s",
                "-s",
                str(script),
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 60,
        ).stdout
    return parse(report)
