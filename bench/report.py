"""The results as a console table and as BENCHMARKS.md."""

from __future__ import annotations

import platform
import sqlite3
from dataclasses import dataclass
from datetime import date
from pathlib import Path

__all__ = ["ResultsFile", "Row", "machine", "machine_line", "markdown", "table"]


@dataclass(frozen=True, slots=True)
class Row:
    """One measurement against its target."""

    section: str
    name: str
    measured: str
    target: str = ""
    passed: bool | None = None
    note: str = ""

    @property
    def verdict(self) -> str:
        return {True: "PASS", False: "MISS", None: ""}[self.passed]


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _ram_gb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024 / 1024
    return 0.0


def machine() -> dict[str, str]:
    """What the numbers were measured on."""
    import os

    return {
        "CPUs (nproc)": str(os.cpu_count()),
        "CPU": _cpu_model(),
        "RAM": f"{_ram_gb():.1f} GB",
        "Python": platform.python_version(),
        "SQLite": sqlite3.sqlite_version,
        "Date": date.today().isoformat(),
    }


def machine_line() -> str:
    """The machine and time of a run, in one line, for a results file."""
    from datetime import UTC, datetime

    facts = machine()
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"Machine: {facts['CPUs (nproc)']} CPUs ({facts['CPU']}), {facts['RAM']} RAM,"
        f" Python {facts['Python']}, SQLite {facts['SQLite']}; run {when}."
    )


class ResultsFile:
    """Lines printed as they are measured and kept for `bench/<name>_results.md`."""

    def __init__(self, intro: str) -> None:
        self.lines = [intro.strip(), "", machine_line(), ""]

    def add(self, line: str) -> None:
        print(line, flush=True)
        self.lines.append(line)

    def write(self, path: Path) -> None:
        path.write_text("\n".join(self.lines).strip() + "\n", encoding="utf-8")
        print(f"wrote {path}")


def table(rows: list[Row]) -> str:
    """A plain-text table for the console."""
    widths = [max(len(getattr(r, f)) for r in rows) for f in ("name", "measured", "target")]
    lines = []
    for row in rows:
        cells = (
            row.name.ljust(widths[0]),
            row.measured.rjust(widths[1]),
            row.target.ljust(widths[2]),
        )
        lines.append("  ".join((*cells, row.verdict)).rstrip())
    return "\n".join(lines)


def markdown(rows: list[Row], *, intro: str, notes: str) -> str:
    """BENCHMARKS.md: the machine, then one table per section, then the analysis."""
    out = ["# Benchmarks", "", intro, "", "## Machine", ""]
    out += [f"- {key}: {value}" for key, value in machine().items()]
    for section in dict.fromkeys(r.section for r in rows):
        out += ["", f"## {section}", "", "| Measurement | Measured | Target | Result |"]
        out += ["|---|---:|---|---|"]
        out += [
            f"| {r.name} | {r.measured} | {r.target} | {r.verdict} |"
            for r in rows
            if r.section == section
        ]
    return "\n".join([*out, "", notes.strip(), ""])
