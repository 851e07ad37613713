"""Time uploading a large questionnaire, and the peak memory it takes.

Run ``python benchmarks/import_survey.py``. The files are the largest the product accepts in rows:
a long CSV of 200,000 answers (5,000 teachers x 20 items x 2 waves, answers written as labels in
mixed case, one item reverse-worded) and a workbook with a Before and an After sheet of 5,000 rows x
20 items (200,000 answers). Each variant runs in its own Python process (so peak memory is its own)
and writes into a new store:

- ``importer``: :func:`analytics.imports.survey.import_survey` on the CSV (preview and every check,
  pseudonyms, one transaction) and on the workbook;
- ``baseline``: the least any importer must do with the CSV: ``pandas.read_csv``, map the labels
  with a dictionary, and one bulk insert. It checks nothing, so the ratio is the price of the checks.

Figures are printed, not asserted: a benchmark is read beside its baseline, never turned into a
timed unit test. The page's limit is 250,000 rows and 50 MB (``MAX_ROWS``, ``MAX_UPLOAD_MB``).
"""

from __future__ import annotations

import csv
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from analytics.store.db import Store  # noqa: E402

LABELS = ["Strongly disagree", "Disagree", "Neither agree nor disagree", "Agree", "Strongly agree"]
ITEMS = [f"Q{i}" for i in range(1, 21)]
TEACHERS = 5_000


def _answers(seed: int) -> list[list[str]]:
    import numpy as np

    rng = np.random.default_rng(seed)
    picks = rng.integers(0, 5, size=(TEACHERS, len(ITEMS)))
    # Stray capitals and spaces, as people type them.
    return [
        [(" " + LABELS[p].upper() if (r + c) % 7 == 0 else LABELS[p]) for c, p in enumerate(row)]
        for r, row in enumerate(picks)
    ]


def make_files(folder: Path) -> tuple[Path, Path]:
    from openpyxl import Workbook

    long_csv = folder / "coaching-survey.csv"
    with long_csv.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Respondent", "Wave", "Item", "Answer"])
        for wave, seed in (("Before", 1), ("After", 2)):
            for teacher, row in enumerate(_answers(seed)):
                code = f"T{teacher:05d}"
                writer.writerows([code, wave, item, answer] for item, answer in zip(ITEMS, row, strict=True))
    workbook = Workbook(write_only=True)
    for wave, seed in (("Before", 3), ("After", 4)):
        sheet = workbook.create_sheet(wave)
        sheet.append(["Respondent code", *ITEMS])
        for teacher, row in enumerate(_answers(seed)):
            sheet.append([f"T{teacher:05d}", *row])
    wide_xlsx = folder / "coaching-survey.xlsx"
    workbook.save(wide_xlsx)
    return long_csv, wide_xlsx


def importer(store: Store, long_csv: Path, wide_xlsx: Path) -> dict:
    from analytics.imports.survey import SurveyOptions, import_survey

    figures = {}
    for label, path in (("csv", long_csv), ("xlsx", wide_xlsx)):
        started = time.perf_counter()
        summary = import_survey(store, path, options=SurveyOptions(name=f"Coaching ({label})"), imported_by="benchmark")
        figures[f"{label}_seconds"] = round(time.perf_counter() - started, 2)
        figures[f"{label}_rows"] = summary.preview.stored_rows
    return figures


def baseline(store: Store, long_csv: Path, wide_xlsx: Path) -> dict:
    import pandas as pd

    started = time.perf_counter()
    frame = pd.read_csv(long_csv, dtype=str)
    values = {label.lower(): score for score, label in enumerate(LABELS, start=1)}
    frame["value"] = frame.Answer.str.strip().str.lower().map(values).astype(float)
    rows = frame.rename(columns={"Respondent": "respondent", "Item": "item_code"})[["respondent", "item_code", "value"]]
    with store.transaction() as cur:
        cur.register("answers", rows)
        cur.execute(
            "INSERT INTO survey_responses (wave_id, respondent, item_code, value) "
            "SELECT 1, respondent, item_code, value FROM answers"
        )
        cur.unregister("answers")
    return {"csv_seconds": round(time.perf_counter() - started, 2), "csv_rows": len(rows)}


def run_variant(name: str, folder: Path) -> dict:
    """Run one variant in this process and return its figures (called in a child process)."""
    long_csv, wide_xlsx = folder / "coaching-survey.csv", folder / "coaching-survey.xlsx"
    with Store(folder / f"{name}.duckdb") as store:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        figures = {"importer": importer, "baseline": baseline}[name](store, long_csv, wide_xlsx)
    figures["peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    figures["start_mb"] = round(before)
    return figures


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        long_csv, wide_xlsx = make_files(folder)
        print(
            f"files: {long_csv.name} {long_csv.stat().st_size / 1e6:.1f} MB (200,000 answers), "
            f"{wide_xlsx.name} {wide_xlsx.stat().st_size / 1e6:.1f} MB (2 sheets x 5,000 rows x 20 items)"
        )
        results = {}
        for name in ("baseline", "importer"):
            child = subprocess.run(
                [sys.executable, __file__, "--variant", name, str(folder)], capture_output=True, text=True, check=True
            )
            results[name] = json.loads(child.stdout.strip().splitlines()[-1])
            print(f"{name:9s} {results[name]}")
        ratio = results["importer"]["csv_seconds"] / max(results["baseline"]["csv_seconds"], 0.01)
        print(
            f"CSV, 200,000 answers: importer {results['importer']['csv_seconds']} s against the unchecked minimum "
            f"{results['baseline']['csv_seconds']} s ({ratio:.1f}x, the price of every check and the preview); "
            f"workbook: {results['importer']['xlsx_seconds']} s; peak memory {results['importer']['peak_mb']} MB "
            f"(baseline {results['baseline']['peak_mb']} MB)."
        )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--variant":
        print(json.dumps(run_variant(sys.argv[2], Path(sys.argv[3]))))
    else:
        main()
