"""The benchmark's picture: requests/second and p99 latency per endpoint and data size."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def draw(report: dict[str, Any], path: Path) -> None:
    runs = report["runs"]
    names = list(runs[0]["results"])
    figure, (rps_axis, p99_axis) = plt.subplots(2, 1, figsize=(12, 8), sharex=True)
    width = 0.8 / len(runs)
    for index, run in enumerate(runs):
        label = f"{run.get('database', 'postgresql')}, {run['posts']:,} posts"
        positions = [n + index * width for n in range(len(names))]
        rps = [run["results"].get(name, {}).get("requests_per_second", 0) for name in names]
        p99 = [run["results"].get(name, {}).get("p99_ms", 0) for name in names]
        rps_axis.bar(positions, rps, width, label=label)
        p99_axis.bar(positions, p99, width, label=label)
    rps_axis.set_ylabel("requests / second")
    # Logarithmic: token issue (the password KDF, on purpose) is a hundred times the others.
    p99_axis.set_yscale("log")
    p99_axis.set_ylabel("p99 latency (ms, log scale)")
    p99_axis.axhline(50, color="red", linestyle="--", linewidth=1, label="p99 target (50 ms)")
    p99_axis.set_xticks([n + width * (len(runs) - 1) / 2 for n in range(len(names))])
    p99_axis.set_xticklabels(names, rotation=30, ha="right")
    rps_axis.legend()
    p99_axis.legend()
    machine = report["machine"]
    figure.suptitle(
        f"Microblog benchmark {report['date'][:10]}: {machine['cores']} cores, "
        f"{machine['connections']} connections, server and load on one machine; "
        "ceiling: a bare Flask app on the same gunicorn"
    )
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
