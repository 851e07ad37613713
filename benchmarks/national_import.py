"""Time previewing and importing a whole-England KS2 and KS4 file, today's importer against the one it replaced.

Run ``python benchmarks/national_import.py`` (``--quick`` for a smaller file, ``--ks2-only`` to skip KS4). It

1. builds a national-width KS2 file from the real Hampshire 2018/19 performance tables (the school rows
   repeated with new URNs and LA codes, an LA row per copy and the two England rows once: about 16,000 rows
   x 318 columns, 21 MB, as a user's whole-England download is), and a KS4 file of the national file's
   shape from DfE's own KS4 column list (``ks4_final_meta_2018-2019.csv``: about 5,500 rows x 500 columns,
   independent schools included);
2. extracts the baseline importer (``analytics`` at ``--baseline``, by default the commit before the
   national-scale work) with ``git archive`` into a temporary folder;
3. runs each step (preview into an empty store, import into an empty store, preview again into the store holding
   the file) of each importer in its own Python process, so peak memory is that step's own, and prints the figures
   side by side. Seconds are the preview or import call itself (not Python starting and loading pandas).

Peak memory is the process's maximum resident set size (Python, pandas and DuckDB together). The issue's
targets are a preview under 20 s, an import under 60 s and under 1.5 GB. Figures are printed, not asserted.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
REAL_DATA = REPO_ROOT.parent / "shared" / "real-data"
KS2_FILE = REAL_DATA / "dfe-ks2-hampshire" / "ks2-850-2018-19.csv"
KS4_META = REAL_DATA / "dfe-ks4-meta" / "ks4_final_meta_2018-2019.csv"
# The importer before the national-scale work (issue 15, item 7).
BASELINE_COMMIT = "e3c9250"
TARGETS = {"preview": 20.0, "import": 60.0, "again": 20.0}
PEAK_TARGET_MB = 1500.0
STEPS = {
    "preview": "preview into an empty store",
    "import": "import into an empty store",
    "again": "preview again, into the store that holds it (every row compared)",
}


# -- building the files ----------------------------------------------------------------------------


def build_ks2(path: Path, copies: int = 48, source: Path = KS2_FILE) -> Path:
    """The Hampshire school rows ``copies`` times (copy 0 as published), each copy an LA of its own."""
    with source.open(encoding="utf-8-sig", newline="") as handle:
        records = list(csv.reader(handle))
    headings, body = records[0], records[1:]
    at = {name: i for i, name in enumerate(headings)}
    schools = [r for r in body if r[0] in ("1", "2")]
    la_row = next(r for r in body if r[0] == "3")
    england = [r for r in body if r[0] in ("4", "5")]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headings)
    for copy in range(copies):
        lea = "850" if copy == 0 else str(800 + copy)
        for index, row in enumerate(schools):
            writer.writerow(_ks2_copy(row, at, copy, index, lea))
        la = list(la_row)
        la[at["LEA"]] = lea
        la[at["SCHNAME"]] = "Hampshire" if copy == 0 else f"Local authority {lea}"
        writer.writerow(la)
    writer.writerows(england)
    path.write_bytes(b"\xef\xbb\xbf" + out.getvalue().encode("utf-8"))
    return path


def _ks2_copy(row: list[str], at: dict[str, int], copy: int, index: int, lea: str) -> list[str]:
    if copy == 0:
        return row
    row = list(row)
    row[at["URN"]] = str(400000 + copy * 1000 + index)
    row[at["LEA"]] = lea
    if len(row) > at["URN_AC"] and row[at["URN_AC"]].strip() not in ("", "0"):
        row[at["URN_AC"]] = str(600000 + copy * 1000 + index)
    return row


def build_ks4(path: Path, schools: int = 5400, meta: Path = KS4_META, seed: int = 15) -> Path:
    """A KS4 file with DfE's 2018/19 columns: schools in 150 LAs (one in six independent), LA and England rows."""
    with meta.open(encoding="utf-8-sig", newline="") as handle:
        headings = [row["Metafile heading"].strip() for row in csv.DictReader(handle) if row["Metafile heading"]]
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headings)
    for number in range(schools):
        lea = str(201 + number % 150)
        writer.writerow([_ks4_cell(h, rng, "1", lea, number) for h in headings])
    for lea_number in range(150):
        writer.writerow([_ks4_cell(h, rng, "4", str(201 + lea_number), lea_number) for h in headings])
    for rectype in ("5", "7"):
        writer.writerow([_ks4_cell(h, rng, rectype, "", 0) for h in headings])
    path.write_bytes(b"\xef\xbb\xbf" + out.getvalue().encode("utf-8"))
    return path


def _ks4_cell(heading: str, rng: random.Random, rectype: str, lea: str, number: int) -> str:
    school = rectype == "1"
    identity = {
        "RECTYPE": rectype,
        "LEA": lea,
        "ESTAB": str(4000 + number) if school else "",
        "URN": str(700000 + number) if school else "",
        "SCHNAME": f"Secondary school {number}, {lea}" if school else (f"Local authority {lea}" if lea else ""),
        "NFTYPE": ("IND" if number % 6 == 5 else rng.choice(["AC", "ACC", "CY", "VA", "F"])) if school else "",
        "URN_AC": "0" if school else "",
        "OPEN_AC": "",
        "SCHNAME_AC": "",
    }
    if heading in identity:
        return identity[heading]
    if heading in ("ADDRESS1", "ADDRESS2", "ADDRESS3", "TOWN", "PCODE", "TELNUM", "PCON_NAME", "RELDENOM"):
        return f"{heading.title()} {number}" if school else ""
    draw = rng.random()
    if draw < 0.04:
        return rng.choice(["SUPP", "NE", "NP"])
    if heading.startswith("P8") and "PUP" not in heading:
        return f"{rng.uniform(-1.5, 1.5):.2f}"
    if heading.startswith("PT"):
        return f"{rng.randint(0, 100)}%"
    return str(rng.randint(0, 250)) if draw < 0.6 else f"{rng.uniform(0, 90):.1f}"


# -- running one step in its own process -----------------------------------------------------------


def run_step(step: str, file: Path, db: Path) -> dict[str, object]:
    """Preview or import ``file`` into a new store at ``db`` with whichever ``analytics`` is on the path."""
    from analytics.imports import dfe
    from analytics.store.db import Store

    started = time.perf_counter()
    with Store(db) as store:
        if step == "preview":
            preview = dfe.preview_import(store, file)
            rows = getattr(preview, "results_new", 0)
            problems = len(preview.problems)
        else:
            summary = dfe.run_import(store, file, imported_by="benchmark")
            rows = store.count_rows("results")
            problems = 0
    return {
        "seconds": round(time.perf_counter() - started, 2),
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "results": int(rows),
        "problems": problems,
        "summary": "" if step == "preview" else type(summary).__name__,
    }


def measure(code: Path, step: str, file: Path, folder: Path) -> dict[str, object]:
    """``step`` is ``preview`` or ``import`` into an empty store, or ``again``: a preview into a store that holds the
    file already (imported by the same code in a process of its own), so every row is compared with a stored one."""
    db = folder / f"{code.name}-{step}-{file.stem}.duckdb"
    db.unlink(missing_ok=True)
    if step == "again":
        filled = measure(code, "import", file, folder)
        if "error" in filled:
            return filled
        (folder / f"{code.name}-import-{file.stem}.duckdb").rename(db)
        step = "preview"
    command = [sys.executable, str(Path(__file__).resolve()), "--step", step, str(file), str(db)]
    done = subprocess.run(
        command, capture_output=True, text=True, cwd=code, env={**os.environ, "PYTHONPATH": str(code)}
    )
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def extract_baseline(commit: str, folder: Path) -> Path:
    target = folder / "baseline"
    target.mkdir()
    archive = subprocess.run(["git", "archive", commit, "analytics"], cwd=REPO_ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target


def _line(label: str, figures: dict[str, object], step: str) -> str:
    if "error" in figures:
        return f"    {label:<9} failed: {figures['error']}"
    seconds, peak = float(figures["seconds"]), float(figures["peak_mb"])  # type: ignore[arg-type]
    within = "within" if seconds < TARGETS[step] and peak < PEAK_TARGET_MB else "OUTSIDE"
    return (
        f"    {label:<9} {seconds:>8.2f} s   peak {peak:>7.0f} MB   {int(figures['results']):>9,} results"  # type: ignore[call-overload]
        f"   ({within} the targets: {TARGETS[step]:.0f} s, {PEAK_TARGET_MB:.0f} MB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--step", choices=["preview", "import"], help=argparse.SUPPRESS)
    parser.add_argument("paths", nargs="*", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--baseline", default=BASELINE_COMMIT, help="the commit of the importer to compare with")
    parser.add_argument("--quick", action="store_true", help="a file of 6 LAs (about 2,000 rows), not 48")
    parser.add_argument("--ks2-only", action="store_true", help="skip the KS4 file")
    args = parser.parse_args()
    if args.step:
        print(json.dumps(run_step(args.step, args.paths[0], args.paths[1])))
        return
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        files = [build_ks2(folder / "2018-2019_england_ks2final.csv", 6 if args.quick else 48)]
        if not args.ks2_only and KS4_META.exists():
            files.append(build_ks4(folder / "2018-2019_england_ks4final.csv", 700 if args.quick else 5400))
        codes = {"baseline": extract_baseline(args.baseline, folder), "new": REPO_ROOT}
        for file in files:
            width = len(file.read_text(encoding="utf-8-sig").splitlines()[0].split(","))
            rows = file.read_bytes().count(b"\n") - 1
            size = file.stat().st_size / 1e6
            print(f"{file.name}: {rows:,} rows x {width} columns, {size:.1f} MB")
            for step, said in STEPS.items():
                print(f"  {said}:")
                for label, code in codes.items():
                    print(_line(label, measure(code, step, file, folder), step), flush=True)
    print(f"baseline: analytics at {args.baseline}; new: analytics in {REPO_ROOT}")


if __name__ == "__main__":
    main()
