"""Write `benchmarks/RESULTS.md` from the JSON rows that `clustering_quality.py --json` wrote.

Usage (from the repository root):

    python benchmarks/report.py benchmarks/results/*.json

Each data set gets one table: per method, the median over seeds of ACC / NMI / ARI and of the
seconds a run took (pretraining included), with the seeds' range, and the pretraining's achieved
GFLOP/s; and a plot of ACC and NMI with the seeds' range (`benchmarks/plots/<data>.png`). The
header states the machine, the library versions and the date the rows were written.
"""

import argparse
import datetime
import json
import os
import pathlib
import platform
import statistics
from collections import defaultdict

OUT = pathlib.Path(__file__).resolve().parent / "RESULTS.md"
PLOTS = OUT.parent / "plots"
NAMES = {"pretraining": "AE + k-means (the start)", "pretraining-da": "AE + k-means, augmented"}


def machine():
    cpu = "unknown CPU"
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import keras
    import sklearn
    import tensorflow as tf

    return (
        f"{os.cpu_count()} logical CPUs ({cpu}), no GPU; Python {platform.python_version()}, "
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}, "
        f"scikit-learn {sklearn.__version__}"
    )


def cell(values, digits=3):
    median = statistics.median(values)
    if len(values) == 1:
        return f"{median:.{digits}f}"
    return f"{median:.{digits}f} ({min(values):.{digits}f}–{max(values):.{digits}f})"


def table(rows):
    by_method = defaultdict(list)
    for row in rows:
        by_method[row["method"]].append(row)
    lines = [
        "| method | seeds | ACC | NMI | ARI | seconds a run | pretraining GFLOP/s |",
        "|---|---|---|---|---|---|---|",
    ]
    for method, group in by_method.items():
        seeds = ", ".join(str(row["seed"]) for row in group)
        gflops = [row["gflops"] for row in group if "gflops" in row]
        lines.append(
            f"| {NAMES.get(method, method)} | {seeds} | {cell([r['acc'] for r in group])} | "
            f"{cell([r['nmi'] for r in group])} | {cell([r['ari'] for r in group])} | "
            f"{cell([r['seconds'] for r in group], 0)} | "
            f"{cell(gflops, 0) if gflops else ''} |"
        )
    return "\n".join(lines)


def plot(data, rows, folder):
    """A PNG of each method's ACC and NMI: the median over seeds, the seeds' range as a bar.

    Returns the path written, relative to `RESULTS.md`'s folder.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_method = defaultdict(list)
    for row in rows:
        by_method[row["method"]].append(row)
    methods = list(by_method)
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(methods) + 1.2))
    for offset, (score, colour) in zip((-0.15, 0.15), (("acc", "C0"), ("nmi", "C1")), strict=True):
        values = [[r[score] for r in by_method[m]] for m in methods]
        medians = [statistics.median(v) for v in values]
        low = [m - min(v) for m, v in zip(medians, values, strict=True)]
        high = [max(v) - m for m, v in zip(medians, values, strict=True)]
        positions = [i + offset for i in range(len(methods))]
        ax.errorbar(
            medians,
            positions,
            xerr=[low, high],
            fmt="o",
            color=colour,
            capsize=3,
            label=f"{score.upper()} (median, seeds' range)",
        )
    ax.set_yticks(range(len(methods)), [NAMES.get(m, m) for m in methods])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("score")
    ax.set_title(data)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower left", fontsize="small")
    fig.tight_layout()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{data}.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path.relative_to(OUT.parent)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("files", nargs="+", help="JSON files written by clustering_quality.py")
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument("--no-plots", action="store_true", help="tables only (no matplotlib)")
    args = parser.parse_args()
    rows = []
    written = []
    for path in args.files:
        rows.extend(json.loads(pathlib.Path(path).read_text()))
        written.append(
            datetime.datetime.fromtimestamp(pathlib.Path(path).stat().st_mtime).date().isoformat()
        )
    # One row per (data, seed, method): every run records k-means on the features again.
    unique = {(row["data"], row["seed"], row["method"]): row for row in rows}
    by_data = defaultdict(list)
    for row in unique.values():
        by_data[row["data"]].append(row)
    parts = [
        "# Results",
        "",
        "Generated by `python benchmarks/report.py` from the rows of "
        "`benchmarks/clustering_quality.py`; do not edit by hand.",
        "",
        f"- Machine: {machine()}.",
        f"- Rows written on: {', '.join(sorted(set(written)))}.",
        "- Each cell: the median over the seeds, and their range in brackets. Seconds include the",
        "  pretraining that each run's estimator was started from (shared between the methods of",
        "  one seed); the machine's cores were shared with other jobs, so times are upper bounds.",
        "",
    ]
    for data, data_rows in by_data.items():
        parts += [f"## {data}", "", table(data_rows), ""]
        if not args.no_plots:
            parts += [f"![{data}: ACC and NMI by method]({plot(data, data_rows, PLOTS)})", ""]
    pathlib.Path(args.out).write_text("\n".join(parts))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
