"""Every result number that README.md and docs/*.md quote matches benchmarks/results.

Two checks:

* **The scan.** In every section of README.md and docs/*.md that cites ``benchmarks/results/...``, each
  number with a unit or decimals (``71.9%``, ``1,426 s``, ``43 min``, ``0.302``, ``3 of 8``,
  ``p = 0.005``) must occur, at the precision quoted, in the result files the paragraph (or, failing
  that, its section) cites; a cited folder means its text files. A number that is derived (a sum, a
  ratio, an estimate) or is not a result (a paper's number, a setting, a goal) must be listed in
  :data:`CLAIMS` or :data:`NOT_RESULTS` with its check or its reason.
* **The claims.** Each entry of :data:`CLAIMS` is a quoted text that must appear in its document and
  a check on the result files that must hold: the derived numbers are recomputed, and quoted
  conclusions ("do not overlap", "worse on 21 runs") are tested on the tables they come from.
  :data:`FORBIDDEN` lists phrases the results contradict, with the evidence.
"""

from __future__ import annotations

import json
import math
import re
import sqlite3
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PAPERS = ROOT / "hpolab" / "benchmark" / "papers" / "seed000.toml"

#: Numbers the scan checks: a value with %, s, min or h; "N of M"; "p = x"; any decimal.
NUM = re.compile(
    r"(?<![\w./])(?:p = (?P<p>\d*\.?\d+(?:e-\d+)?)|(?P<k>\d+) of (?P<n>\d+)\b"
    r"|(?P<v>\d[\d,]*(?:\.\d+)?)(?![\w.]*\d|e[-+])(?P<u>\s?%| s\b| min\b| h\b)?)"
)
#: Numbers in result files (plain, with thousands separators, or in scientific notation).
SRC_NUM = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:e[-+]?\d+)?|-?\.\d+")
#: Larger files (journal storages, raw run dumps) are not sources: nearly any number occurs in them.
MAX_SOURCE_BYTES = 200_000
#: Result files named in a doc.
CITE = re.compile(r"benchmarks/results/[\w./-]*[\w/]")


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


# ------------------------------------------------------------------------------ sources
@cache
def source_numbers(rel: str) -> tuple[float, ...]:
    """Every number in a result file, or in the text files of a result folder."""
    path = ROOT / rel
    files = sorted(path.rglob("*")) if path.is_dir() else [path]
    values: list[float] = []
    for f in files:
        # text results only, and not the raw storages and run dumps: every number occurs somewhere in those
        if f.suffix not in (".md", ".json", ".log", ".txt") or f.stat().st_size > MAX_SOURCE_BYTES:
            continue
        if "smoke" in f.parts and "smoke" not in path.parts:
            continue
        for m in SRC_NUM.finditer(_read(f)):
            try:
                values.append(float(m.group(0).replace(",", "")))
            except ValueError:
                continue
    return tuple(values)


def _decimals(text: str) -> int:
    return len(text.split(".", 1)[1]) if "." in text else 0


def matches(quoted: str, values: tuple[float, ...], percent: bool) -> bool:
    """Whether ``quoted`` (as written in a doc) is some source value at the quoted precision."""
    x = float(quoted.replace(",", ""))
    d = _decimals(quoted)
    tol = 0.5 * 10.0**-d + 1e-9
    for y in values:
        for cand in (y, 100.0 * y) if percent else (y,):
            if abs(abs(cand) - x) <= tol:
                return True
    return False


# ------------------------------------------------------------------------------ docs
def sections(text: str) -> Iterator[str]:
    cur: list[str] = []
    for line in text.splitlines():
        if line.startswith("#") and cur:
            yield "\n".join(cur)
            cur = []
        cur.append(line)
    yield "\n".join(cur)


def blocks(text: str) -> Iterator[str]:
    """Paragraphs, list items and table rows, each squashed to one line (code blocks left out)."""
    cur: list[str] = []
    fence = False
    for line in text.splitlines():
        st = line.strip()
        if st.startswith("```"):
            fence = not fence
            if cur:
                yield " ".join(cur)
                cur = []
            continue
        if fence:
            continue
        if not st or (re.match(r"^([-*] |\| |\d+\. |#)", st) and cur):
            if cur:
                yield " ".join(cur)
            cur = []
        if st:
            cur.append(st)
    if cur:
        yield " ".join(cur)


def cited(text: str) -> list[str]:
    return sorted({m.group(0).rstrip(".") for m in CITE.finditer(text) if (ROOT / m.group(0).rstrip(".")).exists()})


@dataclass(frozen=True)
class Quote:
    doc: str
    token: str
    block: str
    sources: tuple[str, ...]


def quotes() -> Iterator[Quote]:
    for path in DOCS:
        doc = path.relative_to(ROOT).as_posix()
        for sec in sections(_read(path)):
            sec_sources = cited(sec)
            if not sec_sources:
                continue
            for block in blocks(sec):
                own = cited(block)
                for m in NUM.finditer(block):
                    if m.group("v") and not m.group("u") and "." not in m.group("v"):
                        continue  # a plain integer: a count or a setting, not a quoted measurement
                    yield Quote(doc, m.group(0), block, tuple(own or sec_sources))


def _found(q: Quote) -> bool:
    m = NUM.fullmatch(q.token)
    assert m is not None
    values = tuple(v for s in q.sources for v in source_numbers(s))
    if m.group("p"):
        return matches(m.group("p"), values, False)
    if m.group("k"):
        return matches(m.group("k"), values, False) and matches(m.group("n"), values, False)
    return matches(m.group("v"), values, (m.group("u") or "").strip() == "%")


# ------------------------------------------------------------------------------ registry
@dataclass(frozen=True)
class Claim:
    """A quoted text in a doc and the check on benchmarks/results that backs it."""

    doc: str
    quote: str
    check: Callable[[], bool]
    why: str


def _md(rel: str) -> str:
    return _read(RESULTS / rel)


def _json(rel: str) -> dict:
    return json.loads(_read(RESULTS / rel))


def _log_seconds(rel: str) -> float:
    m = re.search(r"runs finished in ([\d.]+) s", _md(rel))
    assert m is not None, rel
    return float(m.group(1))


def _row(rel: str, label: str, after: str = "") -> list[str]:
    """The cells of the first table row whose first cell is ``label`` (after the text ``after``)."""
    text = _md(rel)
    if after:
        assert after in text, f"{rel}: no {after!r}"
        text = text.split(after, 1)[1]
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0] == label:
            return cells
    raise AssertionError(f"{rel}: no row {label!r}")


def _interval(cell: str) -> tuple[float, float]:
    m = re.search(r"\[([-\d.]+), ([-\d.]+)\]", cell)
    assert m is not None, cell
    return float(m.group(1)), float(m.group(2))


def _hybrid(comparison: str, evals: int) -> list[str]:
    for line in _md("llm_hybrid.md").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 8 and cells[0].startswith(comparison) and cells[1] == str(evals):
            return cells
    raise AssertionError(f"llm_hybrid.md: no row {comparison!r} at {evals}")


def _regret(label: str, table: int) -> float:
    text = _md("llm_hybrid.md").split(f"### Table 1 at {table} evaluations", 1)[1]
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0] == f"`{label}`":
            return float(cells[-1])
    raise AssertionError(label)


@cache
def _seed002_seconds() -> dict[tuple[str, str], float]:
    """Worker-seconds per (model family, optimizer) recorded in seed 002's storage."""
    con = sqlite3.connect(f"file:{RESULTS / 'seed002' / 'results.db'}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "SELECT s.study_name, a.value_json FROM studies s JOIN study_system_attributes a "
            "ON a.study_id = s.study_id WHERE a.key = 'hpolab:attrs'"
        ).fetchall()
    finally:
        con.close()
    out: dict[tuple[str, str], float] = {}
    for name, value in rows:
        meta = json.loads(value).get("benchmark") or {}
        opt, obj, _ = name.split("|")
        fam = "nn" if obj.startswith("hpobench/") else obj.split("/")[1]
        out[(fam, opt)] = out.get((fam, opt), 0.0) + float(meta.get("seconds", 0.0))
    return out


@cache
def _seed004_seconds() -> dict[tuple[str, str], float]:
    """Worker-seconds per (objective, optimizer) recorded in seed 004's journal."""
    names: dict[int, str] = {}
    secs: dict[str, float] = {}
    for line in _md("seed004/results.log").splitlines():
        op = json.loads(line)
        if op["op_code"] == 0:
            names[len(names)] = op["study_name"]
        elif op["op_code"] == 3:
            meta = (op.get("system_attr") or {}).get("hpolab:attrs", {}).get("benchmark") or {}
            if "seconds" in meta:
                secs[names[op["study_id"]]] = float(meta["seconds"])
    out: dict[tuple[str, str], float] = {}
    for name, s in secs.items():
        opt, obj, _ = name.split("|")
        out[(obj, opt)] = out.get((obj, opt), 0.0) + s
    return out


def _s002(per: str) -> float:
    secs = _seed002_seconds()
    pools = sum(v for (fam, o), v in secs.items() if o == "random-pool")
    live_pools = sum(v for (fam, o), v in secs.items() if o == "random-pool" and fam != "nn")
    methods = sum(v for (fam, o), v in secs.items() if o != "random-pool")
    return {"methods": methods, "pools": pools, "live_pools": live_pools, "all": methods + pools}[per]


def _s004(kind: str) -> float:
    secs = _seed004_seconds()
    if kind == "digits":
        return sum(v for (obj, _), v in secs.items() if obj == "cnn/digits-seed004") / 3
    if kind == "transfer":
        return sum(v for (obj, _), v in secs.items() if obj.startswith("cnn/digits-seed004/")) / 2
    if kind == "mnist":
        return sum(v for (obj, _), v in secs.items() if obj == "cnn/mnist-seed004")
    return sum(v for (obj, _), v in secs.items() if obj == "cnn/digits-seed004-initial")


def _pilot() -> dict[int, list[str]]:
    """seed004_pilot.md's summary: training images -> the row's cells (best, 2nd best, median, worst, >= 99%, s)."""
    rows = {}
    for line in _md("seed004_pilot.md").split("| training images |", 1)[1].splitlines()[2:]:
        if not line.startswith("| "):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        rows[int(cells[0])] = cells[1:]
    return rows


def _pilot_ratio() -> float:
    """Time per training at 199 images over that at the whole split (1151), from the pilot."""
    rows = _pilot()
    return float(rows[199][5]) / float(rows[1151][5])


def _toy_seconds(optimizer: str | None = None, scheme: int = 1) -> float:
    """Seconds recorded in toy_regret_runs.csv for one seed scheme's runs (one optimizer's, or all)."""
    import csv

    with (RESULTS / "toy_regret_runs.csv").open() as fh:
        return sum(
            float(r["seconds"])
            for r in csv.DictReader(fh)
            if optimizer in (None, r["optimizer"]) and int(r.get("seed_scheme") or 1) == scheme
        )


def _transfer_gap() -> tuple[float, float, float, float]:
    """Seed 004's Table 7: test accuracy tuned on the balanced and the imbalanced subset, here and in the paper."""
    text = _md("seed004/report.md").split("## Seed 004, Table 7", 1)[1]
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 6:
            rows[cells[1]] = cells
    bal, imb = rows["Balanced"], rows["imbalanced"]
    lo, hi = _interval(imb[4])
    assert hi - lo > 9.0  # the interval is wider than the paper's whole effect
    return (
        float(bal[4].split("%")[0]),
        float(imb[4].split("%")[0]),
        float(bal[5].rsplit(": ", 1)[1].rstrip("%")),
        float(imb[5].rsplit(": ", 1)[1].rstrip("%")),
    )


def _about(x: float, y: float, rel: float = 0.05) -> bool:
    return abs(x - y) <= rel * abs(y)


#: Where seed 004's Table 6 starts in its report.
T6 = "## Seed 004, Table 6"


S004 = "seed004-small/report.md"
_S004_METHODS = ("asha", "grid", "random", "smac-gp", "tpe")


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def _s004_table6() -> dict[str, tuple[float, tuple[float, float]]]:
    """Seed 004 off its ceiling, Table 6: each method's mean best accuracy and its interval."""
    cells = {m: _row(S004, f"`{m}`", T6)[1] for m in _S004_METHODS}
    return {m: (float(c.split("%")[0]), _interval(c)) for m, c in cells.items()}


def _s004_fanova(label: str) -> dict[str, tuple[float, float]]:
    """The raw-scale intervals of one row of seed 004's Table 4 (rows of random trainings), by hyperparameter."""
    text = _md(S004).split("## Seed 004, Table 4", 1)[1]
    header = next(ln for ln in text.splitlines() if ln.startswith("| objective | trials of"))
    names = [c.strip().strip("`") for c in header.strip().strip("|").split("|")][4:]
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) > 4 and cells[1] == label and cells[3] == "raw [95% CI]":
            return {n: _interval(c) for n, c in zip(names, cells[4:], strict=True) if c != "-"}
    raise AssertionError(f"{S004}: no raw row of {label!r}")


def _s004_transfer() -> dict[str, tuple[float, tuple[float, float]]]:
    text = _md(S004).split("## Seed 004, Table 7", 1)[1]
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[4].endswith(")") and "%" in cells[4]:
            rows[cells[1]] = (float(cells[4].split("%")[0]), _interval(cells[4]))
    return rows


_S002_LOGS = ("seed002/compare_classic.log", "seed002/compare_llm.log")

CLAIMS: tuple[Claim, ...] = (
    # ---- seed 002 timing: the earlier NN-table runs are part of the cost
    Claim(
        "README.md",
        "the last 868 of the 1,952 runs took 6,959 s on 2 cores",
        lambda: (
            (w := json.loads((RESULTS / "seed002-10seeds" / "wall_time.json").read_text()))["run_seconds"] == 6959.0
            and w["runs"] == 1952
            and w["jobs"] == 2
        ),
        "seed002-10seeds/wall_time.json",
    ),
    Claim(
        "docs/benchmarks.md",
        "plus 2,591 s (43 min) for the 136 NN-table runs made earlier into the same storage (1,894 s classic, 697 s LLM",
        lambda: (
            round(sum(_log_seconds(x) for x in _S002_LOGS)) == 2591
            and [round(_log_seconds(x)) for x in _S002_LOGS] == [1894, 697]
            and sum(int(re.search(r"(\d+) runs", _md(x)).group(1)) for x in _S002_LOGS) == 136
        ),  # type: ignore[union-attr]
        "the two logs of the earlier session",
    ),
    Claim(
        "docs/benchmarks.md",
        "1,426 s of runs + 30 s of report",
        lambda: (
            round(_json("seed004/wall_time.json")["run_seconds"]) == 1426
            and round(_json("seed004/wall_time.json")["report_seconds"]) == 30
        ),
        "seed004/wall_time.json",
    ),
    Claim(
        "README.md",
        "the comparison took 1 min 21.7 s, 59.0 s of it for the 36 runs",
        lambda: (
            "| this run: compact answers, `-j 2` | 1 min 21.7 s | 59.0 s |" in _md("quick-j2/README.md")
            and "wall time of the runs (the hpolab compare command below): 59.0 s on 2 worker process(es)"
            in _md("quick-j2/report.md")
        ),
        "quick-j2/README.md and its report",
    ),
    # ---- seed 004: what the intervals show
    Claim(
        "docs/benchmarks.md",
        "Not all intervals overlap (random [98.6, 99.6] against SMAC-GP [99.7, 99.7], where SMAC-GP's 3 seeds found "
        "the same error, 1 image in 287)",
        lambda: (
            _interval(_row("seed004/report.md", "`random`", T6)[1])[1]
            < _interval(_row("seed004/report.md", "`smac-gp`", T6)[1])[0]
            and "0.003484 [0.003484, 0.003484]" in _md("seed004/report.md")
            and round(1 / 0.003484) == 287
        ),
        "SMAC-GP's error 0.003484 on every seed is 1 of 287 validation images",
    ),
    Claim(
        "docs/benchmarks.md",
        "the six values sum to 0.587",
        lambda: round(0.187 + 0.171 + 0.138 + 0.037 + 0.029 + 0.025, 3) == 0.587,
        "the paper's Table 4 row, summed",
    ),
    # ---- seed 004 off its ceiling (seed004-small)
    Claim(
        "README.md",
        "83 runs in 3,381 s on 2 cores shared with other work (load average about 10-13), and 78 s of report",
        lambda: (
            _json("seed004-small/wall_time_without_mnist.json")["runs"] == 83
            and round(_json("seed004-small/wall_time_without_mnist.json")["run_seconds"]) == 3381
            and round(_json("seed004-small/wall_time_without_mnist.json")["report_seconds"]) == 78
        ),
        "seed004-small/wall_time_without_mnist.json (the load average is the session's note)",
    ),
    Claim(
        "README.md",
        "The five methods lie within 0.8 points of each other, every pair of intervals overlaps or touches",
        lambda: (
            max(v for v, _ in _s004_table6().values()) - min(v for v, _ in _s004_table6().values()) <= 0.8 + 1e-9
            and all(_overlap(a[1], b[1]) for a in _s004_table6().values() for b in _s004_table6().values())
        ),
        "seed004-small/report.md's Table 6",
    ),
    Claim(
        "README.md",
        "with intervals that overlap for every hyperparameter: 60 trainings do not order them",
        lambda: all(
            _overlap(a, b)
            for a in _s004_fanova("random trainings over Table 2A's space (Study I)").values()
            for b in _s004_fanova("random trainings over Table 2A's space (Study I)").values()
        ),
        "seed004-small/report.md's Table 4, Study I's raw row",
    ),
    Claim(
        "README.md",
        "the learning rate comes first, 0.425 [0.325, 0.478], its interval clear of the others",
        lambda: (
            (row := _s004_fanova("`random`'s trials in the comparison (all seeds)"))["lr"] == (0.325, 0.478)
            and all(row["lr"][0] > hi for name, (_, hi) in row.items() if name != "lr")
        ),
        "seed004-small/report.md's Table 4, random's raw row",
    ),
    Claim(
        "README.md",
        "the paper's imbalance effect (76% against 85%) did not appear here",
        lambda: (
            _overlap((t := _s004_transfer())["Balanced"][1], t["imbalanced"][1])
            and t["Balanced"][0] - t["imbalanced"][0] < 85 - 76
        ),
        "seed004-small/report.md's Table 7: the balanced and imbalanced intervals overlap",
    ),
    Claim(
        "README.md",
        "added 25 runs in 2,890 s: SMAC-GP 96.6% [96.4, 96.9] and TPE\n  96.4% [95.7, 97.0] ahead of ASHA 95.6% [94.7, 96.2]",
        lambda: (
            round(_json("seed004-small/wall_time.json")["run_seconds"]) == 2890
            and "| `smac-gp` | 96.6% [96.4, 96.9] (n=5) |"
            in (r := _md("seed004-small/report.md").split("`cnn/mnist-4block`:", 1)[1])
            and "| `tpe` | 96.4% [95.7, 97.0] (n=5) |" in r
            and "| `asha` | 95.6% [94.7, 96.2] (n=5) |" in r
        ),
        "seed004-small/wall_time.json and report.md's Table 6 on MNIST",
    ),
    Claim(
        "README.md",
        "p = 0.048, which is 0.29 after Holm's adjustment over the file's 20 paired tests",
        lambda: (
            (lambda c: round(float(c[7]), 3) == 0.048 and round(float(c[8]), 2) == 0.29)(
                _hybrid("floor (simulated)", 10)
            )
            and "p (Holm over the 20 tests here)" in _md("llm_hybrid.md")
        ),
        "llm_hybrid.md's paired table",
    ),
    # ---- seed 002: the seeds move the headline
    Claim(
        "README.md",
        "`tpe-startup3` and `smac-gp` beat random search, the local 135M LLM is\n  worse, and SMAC-RF and `tpe`",
        lambda: (
            "`smac-gp`, `tpe-startup3` better than random search; `llm` worse. `smac-rf`, `tpe` do not differ"
            in _md("seed002-10seeds/report.md")
        ),
        "seed002-10seeds/report.md's conclusion",
    ),
    Claim(
        "README.md",
        "`tpe-startup3` beats random on 75% [67.2, 82.8] of tasks (ties count half), SMAC-GP on 75% [56.2, 75]",
        lambda: (
            "| `tpe-startup3` | 32 | 75% [67.2, 82.8] |" in (r := _md("seed002-10seeds/report.md"))
            and "| `smac-gp` | 32 | 75% [56.2, 75] |" in r
        ),
        "seed002-10seeds/report.md's Table 1",
    ),
    Claim(
        "docs/statistics.md",
        "was 64.1% with replacement and is 53.1% without",
        lambda: (
            "| `tpe` | 32 | 53.1% [48.4, 70.3] |" in _md("seed002-10seeds/report.md")
            and "beat random on 64.1% of tasks" in _md("seed002-10seeds/README.md")
        ),
        "seed002-10seeds/report.md's Table 1 and its README's numbers before the rewrite",
    ),
    Claim(
        "README.md",
        "The first 3-seed run (`benchmarks/results/seed002/`, shared seeds) had SMAC-RF beating random search",
        lambda: "`smac-gp`, `smac-rf`, `tpe-startup3` better than random search" in _md("seed002/report.md"),
        "seed002/report.md's conclusion",
    ),
    Claim(
        "docs/benchmarks.md",
        "TPE's 12% on SVM is one unlucky draw repeated",
        lambda: "| SVM (8) | `tpe` | 12% |" in _md("seed002/README.md"),
        "seed002/README.md's per-family table",
    ),
    # ---- the hybrid: it can hurt
    Claim(
        "README.md",
        "+0.00014 regret (worse on 21 runs, better on 4, Wilcoxon p = 0.005, 0.04\n  after Holm over the file's 20 paired tests)",
        lambda: (
            lambda c: (
                round(float(c[3].split()[0]), 5) == 0.00014
                and c[4:6] == ["4", "21"]
                and round(float(c[7]), 3) == 0.005
                and round(float(c[8]), 2) == 0.04
            )
        )(_hybrid("LLM's contribution with records", 10)),
        "llm_hybrid.md's paired table",
    ),
    Claim(
        "README.md",
        "at 30 the difference is -0.00009 (p = 0.25)",
        lambda: (lambda c: round(float(c[3].split()[0]), 5) == -0.00009 and round(float(c[7]), 2) == 0.25)(
            _hybrid("LLM's contribution with records", 30)
        ),
        "llm_hybrid.md's paired table",
    ),
    Claim(
        "README.md",
        "its mean regret is 7% above TPE's at 10 evaluations and 12% at 30",
        lambda: (
            round(100 * (_regret("adversary (simulated)", 10) / _regret("tpe", 10) - 1)) == 7
            and round(100 * (_regret("adversary (simulated)", 30) / _regret("tpe", 30) - 1)) == 12
        ),
        "llm_hybrid.md's mean regret columns",
    ),
    Claim(
        "README.md",
        "up to 12% more regret than TPE alone",
        lambda: round(100 * (_regret("adversary (simulated)", 30) / _regret("tpe", 30) - 1)) == 12,
        "llm_hybrid.md's mean regret columns",
    ),
    Claim(
        "README.md",
        "the oracle gets 78% of trials and beats TPE on 77 of 80 runs",
        lambda: (
            "| `oracle (simulated)` | llm | 78% |" in _md("llm_hybrid.md")
            and _hybrid("ceiling (simulated)", 10)[4] == "77"
        ),
        "llm_hybrid.md",
    ),
    # ---- finetune: the Best rows and the cycles
    Claim(
        "docs/finetune.md",
        "(0.188 against 0.145 and 0.153)",
        lambda: (
            _row("finetune_hpobench.md", "LLM sequential")[2] == "0.302"
            and [r[2] for r in (_row("finetune_hpobench.md", "Optuna TPE"), _row("finetune_hpobench.md", "Random"))]
            == ["0.389", "0.381"]
            and "| LLM sequential | Best | 0.188 |" in _md("finetune_hpobench.md")
            and "| Optuna TPE | Best | 0.145 |" in _md("finetune_hpobench.md")
            and "| Random | Best | 0.153 |" in _md("finetune_hpobench.md")
        ),
        "finetune_hpobench.md's RMSE table: All rows favour the LLM, Best rows do not",
    ),
    Claim(
        "docs/finetune.md",
        "but the intervals overlap ([0.160, 0.289] and [0.122, 0.222]",
        lambda: (
            "| 1 | 320 | 0.224 | [0.1595, 0.2893] |" in _md("finetune_hpobench.md")
            and "| 2 | 344 | 0.172 | [0.1215, 0.2224] |" in _md("finetune_hpobench.md")
            and 0.1595 < 0.2224
        ),
        "finetune_hpobench.md's cycle table",
    ),
    Claim(
        "docs/finetune.md",
        "the paper's second cycle did not lower its RMSE either (0.563, then 0.567)",
        lambda: (
            tomllib.loads(_read(PAPERS))["tables"]["table1"]["LLM"]["Fine-tuning 1"][0] == 0.563
            and tomllib.loads(_read(PAPERS))["tables"]["table1"]["LLM"]["Fine-tuning 2"][0] == 0.567
        ),
        "seed 000's Table 1 as hpolab/benchmark/papers/seed000.toml records it (PAPER_TABLE1_SEED000)",
    ),
    # ---- harness speed: the current numbers, not the superseded ones
    Claim(
        "docs/benchmarks.md",
        "400 runs and 4000 trials, in 65.7 s (with SQLite instead: 134.9 s)",
        lambda: (
            "4000 trials in 65.7 s wall" in _md("harness_speed.md")
            and "4000 trials in 134.9 s wall" in _md("harness_speed.md")
        ),
        "harness_speed.md",
    ),
    Claim(
        "docs/benchmarks.md",
        "9.9 worker-seconds per run of 10 trials",
        lambda: "smac-gp 9.93" in _md("harness_speed.md"),
        "harness_speed.md's 'Before' section",
    ),
    # ---- rerun estimates, recomputed from the recorded worker-seconds
    Claim(
        "docs/benchmarks.md",
        "about 3.8 h: 2,600 worker-seconds per seed for the 6 methods on 32 tasks (7,788 over the 3 recorded seeds), "
        "1,569 for the pools, over 2 workers",
        lambda: (
            round(_s002("methods")) == 7788
            and round(_s002("pools")) == 1569
            and _about(_s002("methods") / 3, 2600, 0.01)
            and round((10 * _s002("methods") / 3 + _s002("pools")) / 2 / 3600, 1) == 3.8
        ),
        "seed002/results.db's recorded seconds",
    ),
    Claim(
        "docs/benchmarks.md",
        "about 4.7 h (the live tasks' pools, 1,561 worker-seconds at 100, grow fivefold)",
        lambda: (
            round(_s002("live_pools")) == 1561
            and round(
                (10 * _s002("methods") / 3 + 5 * _s002("live_pools") + _s002("pools") - _s002("live_pools")) / 7200, 1
            )
            == 4.7
        ),
        "seed002/results.db's recorded seconds",
    ),
    Claim(
        "docs/benchmarks.md",
        "the estimate was about 36 min: 874 worker-seconds per seed recorded",
        lambda: round(_s004("mnist")) == 874 and round(5 * _s004("mnist") / 120) == 36,
        "seed004/results.log's recorded seconds, 5 seeds over 2 workers",
    ),
    Claim(
        "docs/benchmarks.md",
        "about 3.0 h in one process, an estimate: the seconds recorded with the scheme-1 runs (10,630 s, of which "
        "SMAC-GP 6,411 s and SMAC-RF 4,158 s",
        lambda: (
            [round(_toy_seconds(o)) for o in (None, "smac-gp", "smac-rf")] == [10630, 6411, 4158]
            and round(_toy_seconds() / 3600, 1) == 3.0
        ),
        "toy_regret_runs.csv's seconds column",
    ),
    Claim(
        "docs/benchmarks.md",
        "its best random configurations sit about 15 of 287 validation images below 100%",
        lambda: round((100.0 - float(_pilot()[199][0].rstrip("%"))) / 100 * 287) == 15,
        "seed004_pilot.md: the best at 199 images, 94.8%, is 15 of 287 images below 100%",
    ),
    Claim(
        "docs/benchmarks.md",
        "a training costs about a fifth of one on the whole split",
        lambda: 0.15 <= _pilot_ratio() <= 0.25,
        "seed004_pilot.md's seconds per training at 199 and 1151 images",
    ),
    Claim(
        "benchmarks/results/seed002/README.md",
        "(9,358 over 2 workers)",
        lambda: round(_s002("all")) == 9358,
        "seed002/results.db's recorded seconds",
    ),
)

#: Numbers in result sections that are not results of this repository, with the reason.
NOT_RESULTS: dict[tuple[str, str], str] = {
    ("docs/llm.md", "80%"): "a threshold of tests/llm/test_twin_memorization.py, not a result",
    ("docs/llm.md", "70%"): "a threshold of tests/llm/test_twin_memorization.py, not a result",
    ("docs/llm.md", "40%"): "a threshold of tests/llm/test_twin_memorization.py, not a result",
    ("README.md", "0.187"): "the paper's Table 4 value (hpolab.benchmark.papers.seed004.PAPER_TABLE4)",
    ("README.md", "76%"): "the paper's Table 7 (in seed004/report.md's paper column)",
    ("README.md", "85%"): "the paper's Table 7 (in seed004/report.md's paper column)",
    ("README.md", "1 s"): "a goal (under 1 s per suggestion)",
    ("README.md", "1.10"): "a goal (mean regret ratio at most 1.10)",
    ("README.md", "10%"): "the tolerance the tests hold the adversary to",
    ("README.md", "5%"): "the share of a table the simulations answer from (a setting)",
    ("README.md", "32 + 12 min"): "checked by a claim",
    ("docs/benchmarks.md", "0.187"): "the paper's Table 4 value",
    ("docs/benchmarks.md", "0.171"): "the paper's Table 4 value",
    ("docs/benchmarks.md", "0.138"): "the paper's Table 4 value",
    ("docs/benchmarks.md", "76%"): "the paper's Table 7",
    ("docs/benchmarks.md", "85%"): "the paper's Table 7",
    ("docs/benchmarks.md", "95%"): "the confidence level",
    ("docs/benchmarks.md", "0.1"): "hpolab's version (hpolab 0.1's own SQL storage)",
    ("docs/benchmarks.md", "2.2"): "load average noted during the run (in the run's notes, not a result file)",
    ("docs/benchmarks.md", "1.9"): "load average noted during the run (in the run's notes, not a result file)",
    ("docs/finetune.md", "0.563"): "the paper's Table 1 (a claim checks it against papers/seed000.toml)",
    ("docs/finetune.md", "0.567"): "the paper's Table 1 (a claim checks it against papers/seed000.toml)",
    ("docs/finetune.md", "0.289"): "an interval end rounded from 0.2893 (a claim checks it)",
    ("docs/finetune.md", "0.122"): "an interval end rounded from 0.1215 (a claim checks it)",
    ("docs/finetune.md", "0.222"): "an interval end rounded from 0.2224 (a claim checks it)",
    ("docs/llm.md", "18.8 s"): "UNCHECKED: an earlier measurement under load, not recorded in benchmarks/results",
    ("docs/llm.md", "19 s"): "UNCHECKED: an integration test's time, not recorded in benchmarks/results",
    ("docs/llm.md", "830 s"): "UNCHECKED: an integration test's time under load, not recorded in benchmarks/results",
}

#: Phrases the results contradict: (phrase, the evidence that contradicts it).
FORBIDDEN: tuple[tuple[str, Callable[[], bool], str], ...] = (
    (
        "can only help",
        lambda: _hybrid("LLM's contribution with records", 10)[5] == "21",
        "llm_hybrid.md: with records the LLM made the hybrid worse on 21 runs at 10 evaluations",
    ),
    (
        "cannot hurt",
        lambda: _hybrid("LLM's contribution with records", 10)[5] == "21",
        "llm_hybrid.md: with records the LLM made the hybrid worse on 21 runs at 10 evaluations",
    ),
    (
        "within each other's intervals",
        lambda: (
            _interval(_row("seed004/report.md", "`random`", T6)[1])[1]
            < _interval(_row("seed004/report.md", "`smac-gp`", T6)[1])[0]
        ),
        "seed004/report.md: random's and SMAC-GP's intervals do not overlap",
    ),
    (
        "as seed 000 reports",
        lambda: True,
        "seed 000's second cycle did not lower its RMSE (0.563, then 0.567)",
    ),
    (
        "62 s of report",
        lambda: round(_json("seed004/wall_time.json")["report_seconds"]) == 30,
        "seed004/wall_time.json: 30 s",
    ),
)


# ------------------------------------------------------------------------------ tests
def _covered(q: Quote) -> bool:
    if (q.doc, q.token) in NOT_RESULTS:
        return True
    block = _squash(q.block)
    return any(c.doc == q.doc and _squash(c.quote) in block and q.token in c.quote for c in CLAIMS)


def test_every_quoted_result_number_is_in_the_results_it_cites() -> None:
    unbacked = [q for q in quotes() if not _covered(q) and not _found(q)]
    assert not unbacked, "numbers quoted from results that the cited files do not hold:\n" + "\n".join(
        f"{q.doc}: {q.token!r} (cites {', '.join(q.sources)}) in: {q.block[:160]}" for q in unbacked
    )


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: f"{c.doc}:{c.quote[:40]}")
def test_claim_is_quoted_and_backed(claim: Claim) -> None:
    assert _squash(claim.quote) in _squash(_read(ROOT / claim.doc)), f"{claim.doc} no longer says: {claim.quote}"
    assert claim.check(), f"{claim.doc}: {claim.quote!r} does not hold ({claim.why})"


@pytest.mark.parametrize("phrase,evidence,why", FORBIDDEN, ids=[f[0] for f in FORBIDDEN])
def test_no_doc_says_what_the_results_contradict(phrase: str, evidence: Callable[[], bool], why: str) -> None:
    assert evidence(), f"the evidence against {phrase!r} is gone: {why}"
    texts = {p.relative_to(ROOT).as_posix(): _squash(_read(p)) for p in DOCS}
    texts.update({p.relative_to(ROOT).as_posix(): _squash(_read(p)) for p in RESULTS.rglob("*.md")})
    said = [name for name, text in texts.items() if phrase.lower() in text.lower()]
    assert not said, f"{said} say {phrase!r}, which the results contradict: {why}"


def test_the_scan_catches_a_wrong_number(tmp_path: Path) -> None:
    q = Quote("README.md", "62 s", "the report took 62 s", ("benchmarks/results/seed004/wall_time.json",))
    assert not _found(q)
    assert _found(Quote("README.md", "30 s", "the report took 30 s", q.sources))
    assert _found(Quote("README.md", "68.8%", "x", ("benchmarks/results/seed002/report.md",)))
    assert not _found(Quote("README.md", "72.9%", "x", ("benchmarks/results/seed002/report.md",)))
    assert math.isclose(float("1,426".replace(",", "")), 1426.0)


def test_the_papers_numbers_quoted_are_the_papers() -> None:
    papers = sorted((ROOT / "hpolab" / "benchmark" / "papers").glob("*.toml"))
    values = tuple(float(m.group(0)) for p in papers for m in re.finditer(r"\d+\.\d+", _read(p)))
    for (doc, token), why in NOT_RESULTS.items():
        if why.startswith("the paper's"):
            number = token.rstrip("%").strip()
            assert matches(number, values, token.endswith("%")), f"{doc}: {token} is not in the paper tables ({why})"
