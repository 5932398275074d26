"""Write `benchmarks/RESULTS.md` and its plots from the benchmarks' JSON rows (`benchmarks.rows`).

Usage (from the repository root):

    python -m benchmarks.report                              # every benchmarks/results/*.json
    python -m benchmarks.report benchmarks/results/digits.json benchmarks/results/tabular.json

Files are read in the order given (without FILES: by name); a later file's row overrides an
earlier one for the same (benchmark, data or problem, seed, method). The report holds:

- a header with the machine(s) and the dates the rows were written;
- clustering quality (`benchmarks.quality.clustering_quality`): per data set, per method, the
  median over seeds of ACC / NMI / ARI and of the seconds a run took (pretraining included), with
  the seeds' range, and the pretraining's achieved GFLOP/s; and a plot of ACC and NMI with the
  seeds' range (`plots/<data>.png`);
- Levenberg-Marquardt against the peers (`benchmarks.peers`): a table per problem and the
  validation loss against wall time of every run on the same axes (`plots/lm-<problem>.png`);
- speed ratios: every row with a `baseline`, ours / theirs, median over seeds, as a table and a
  plot (`plots/speed-ratios.png`);
- the other benchmarks' rows, a table per benchmark and problem, with the commands that made them.

Plots go to `plots/` beside the output file.
"""

import argparse
import ast
import datetime
import json
import pathlib
import re
import statistics
from collections import defaultdict

from benchmarks.rows import RESULTS, ROOT, machine

OUT = ROOT / "RESULTS.md"
NAMES = {"pretraining": "AE + k-means (the start)", "pretraining-da": "AE + k-means, augmented"}
# Keys of the schema, not figures (`benchmarks.rows`).
SCHEMA = {
    "benchmark",
    "data",
    "problem",
    "method",
    "seed",
    "baseline",
    "curve",
    "plot",
    "seconds_unit",
    "machine",
    "date",
    "command",
}
GROUPS = ("quality", "speed", "peers")
TITLES = {
    "peers": "Levenberg-Marquardt against the peers",
    "quality": "Other quality benchmarks",
    "speed": "Speed and memory",
}


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


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig, folder, name):
    """Save `fig` as `folder/name.png`; returns the path relative to the report's folder."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    fig.savefig(path, dpi=100)
    pyplot().close(fig)
    return path.relative_to(folder.parent).as_posix()


def plot(data, rows, folder):
    """A PNG of each method's ACC and NMI: the median over seeds, the seeds' range as a bar.

    Returns the path written, relative to the report's folder.
    """
    plt = pyplot()
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
    return save(fig, folder, data)


def slug(text):
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def subject(row):
    """What a row measured: its `data`, else its `problem`."""
    return row.get("data", row.get("problem", ""))


def fmt(value):
    """A figure as table text: 4 significant digits, `–` for none, lists joined."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return ", ".join(fmt(v) for v in value)
    return str(value).replace("|", "\\|")


def figures_table(rows):
    """Markdown table of `rows`: method, seed and every figure any of them has."""
    keys = []
    for row in rows:
        keys += [k for k in row if k not in SCHEMA and k not in keys]
    units = {row.get("seconds_unit") for row in rows if "seconds" in row}
    # The `seconds` column is headed by its unit where the rows share one.
    unit = units.pop() if len(units) == 1 else None
    header = [(unit or "seconds") if k == "seconds" else k.replace("_", " ") for k in keys]
    if len(units) > 1:
        header.append("seconds are")
    lines = [
        "| method | seed | " + " | ".join(header) + " |",
        "|---|---|" + "---|" * len(header),
    ]
    for row in rows:
        values = [fmt(row.get(k)) for k in keys]
        if len(units) > 1:
            values.append(fmt(row.get("seconds_unit")))
        lines.append(f"| {fmt(row['method'])} | {row['seed']} | " + " | ".join(values) + " |")
    return "\n".join(lines)


def curves_plot(name, rows, folder):
    """The validation loss (and accuracy, where recorded) of every run against wall time.

    One line per method, from the lowest seed; returns the path relative to the report's folder.
    """
    plt = pyplot()
    runs = {}
    several = len({subject(row) for row in rows}) > 1
    for row in sorted(rows, key=lambda r: r["seed"]):
        # Runs of one problem with another stopping rule ("..., to val MSE <= 0.02") say so.
        label = row["method"] + (subject(row).removeprefix(name) if several else "")
        runs.setdefault(label, row)
    panels = ["val_loss"] + (
        ["val_accuracy"] if any("val_accuracy" in r["curve"] for r in runs.values()) else []
    )
    fig, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 4.2), squeeze=False)
    for ax, key in zip(axes[0], panels, strict=True):
        for label, row in runs.items():
            points = [
                (t, v)
                for t, v in zip(row["curve"]["seconds"], row["curve"].get(key, []), strict=False)
                if v is not None
            ]
            if points:
                ax.plot(*zip(*points, strict=True), marker=".", markersize=3, label=label)
        ax.set_xscale("log")
        if key == "val_loss":
            ax.set_yscale("log")
        ax.set_xlabel("wall time of training, s (tracing included, validation not)")
        ax.set_ylabel(key.replace("_", " "))
        ax.grid(alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    columns = 2 if len(labels) > 3 else 1
    fig.legend(handles, labels, loc="lower center", ncol=columns, fontsize="small")
    seeds = sorted({row["seed"] for row in runs.values()})
    fig.suptitle(f"{name}: validation against wall time (seed {', '.join(map(str, seeds))})")
    fig.tight_layout(rect=(0, 0.04 + 0.045 * -(-len(labels) // columns), 1, 1))
    return save(fig, folder, f"lm-{slug(name)}")


def ratios(rows):
    """`(benchmark, subject, method, baseline, unit, ours, theirs)` per baseline, over seeds."""
    index = {(r["benchmark"], subject(r), r["seed"], r["method"]): r for r in rows}
    pairs = defaultdict(lambda: ([], []))
    units = {}
    for row in rows:
        baselines = row.get("baseline") or []
        for baseline in [baselines] if isinstance(baselines, str) else baselines:
            other = index.get((row["benchmark"], subject(row), row["seed"], baseline))
            if other is None:
                continue
            key = (row["benchmark"], subject(row), row["method"], baseline)
            pairs[key][0].append(row.get("seconds"))
            pairs[key][1].append(other.get("seconds"))
            units[key] = row.get("seconds_unit", "s")
    return [(*key, units[key], ours, theirs) for key, (ours, theirs) in pairs.items()]


def times(values):
    reached = [v for v in values if v is not None]
    if not reached:
        return "not reached"
    text = f"{statistics.median(reached):.4g}"
    if len(reached) < len(values):
        text += f" ({len(values) - len(reached)} of {len(values)} not reached)"
    return text


def ratio_value(ours, theirs):
    """Median over seeds of ours / theirs, over the seeds where both have a time; else None."""
    values = [o / t for o, t in zip(ours, theirs, strict=True) if o is not None and t]
    return statistics.median(values) if values else None


def ratio_table(entries):
    lines = [
        "| benchmark | problem | ours | against | unit | ours' time | theirs | ours / theirs |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for benchmark, what, method, baseline, unit, ours, theirs in entries:
        value = ratio_value(ours, theirs)
        text = "–" if value is None else f"{value:.3g}"
        if value is None and any(o is not None for o in ours):
            text = "theirs not reached"
        lines.append(
            f"| {benchmark} | {fmt(what)} | {fmt(method)} | {fmt(baseline)} | {fmt(unit)} | "
            f"{times(ours)} | {times(theirs)} | {text} |"
        )
    return "\n".join(lines)


def ratio_plot(entries, folder):
    """Horizontal bars of ours / theirs on a log scale, 1 marked; returns the relative path."""
    plt = pyplot()
    shown = [(e, ratio_value(e[5], e[6])) for e in entries]
    shown = [(e, v) for e, v in shown if v is not None]
    fig, ax = plt.subplots(figsize=(9, 0.3 * len(shown) + 1.5))
    labels = [f"{e[0]}: {e[1]}\n{e[2]} / {e[3]}" for e, _ in shown]
    values = [v for _, v in shown]
    # Bars from 1 (a tie) to the ratio: left and green where ours takes less time.
    ax.barh(
        range(len(values)),
        [abs(v - 1.0) for v in values],
        left=[min(v, 1.0) for v in values],
        color=["C2" if v <= 1 else "C3" for v in values],
    )
    ax.set_yticks(range(len(values)), labels, fontsize=6)
    ax.invert_yaxis()
    ax.set_xscale("log")
    if values:
        ax.set_xlim(min(*values, 1.0) / 2, max(*values, 1.0) * 2)
    for position, value in enumerate(values):
        ax.annotate(f"{value:.2g}", (value, position), fontsize=6, va="center",
                    ha="right" if value <= 1 else "left")  # fmt: skip
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xlabel("ours / theirs (time; below 1: ours faster), median over seeds")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return save(fig, folder, "speed-ratios")


def group_of(benchmark):
    """The subpackage (`quality`, `speed`, `peers`) holding the module `benchmark`, or None."""
    for group in GROUPS:
        if (ROOT / group / f"{benchmark}.py").exists():
            return group
    return None


def summary(benchmark):
    """The first line of the benchmark module's docstring (read, not imported)."""
    group = group_of(benchmark)
    if group is None:
        return ""
    doc = ast.get_docstring(ast.parse((ROOT / group / f"{benchmark}.py").read_text()))
    return (doc or "").splitlines()[0] if doc else ""


def load(files):
    """Every row of `files`, in order, with `benchmark` and `date` filled in where missing."""
    rows = []
    for path in files:
        path = pathlib.Path(path)
        written = datetime.datetime.fromtimestamp(path.stat().st_mtime).date().isoformat()
        for row in json.loads(path.read_text()):
            rows.append({"benchmark": "clustering_quality", "date": written, **row})
    return rows


def unique(rows):
    """One row per (benchmark, data or problem, seed, method): the last one read."""
    kept = {(r["benchmark"], subject(r), r["seed"], r["method"]): r for r in rows}
    return list(kept.values())


def header(rows, note=None):
    machines = sorted({row["machine"] for row in rows if "machine" in row})
    if any("machine" not in row for row in rows):
        machines.append(machine())
    return [
        "# Results",
        "",
        "Generated by `python -m benchmarks.report` from the benchmarks' JSON rows "
        "(`python -m benchmarks --suite full` runs every benchmark, then this); "
        "do not edit by hand.",
        "",
        *([note, ""] if note else []),
        *[f"- Machine: {name}." for name in dict.fromkeys(machines)],
        f"- Rows written on: {', '.join(sorted({row['date'] for row in rows}))}.",
        "",
    ]


def benchmark_section(benchmark, rows, folder, plots):
    """Markdown lines of one benchmark: what it is, its commands, a table per problem, curves."""
    parts = [f"### {benchmark}", ""]
    if summary(benchmark):
        parts += [summary(benchmark), ""]
    commands = sorted({row["command"] for row in rows if "command" in row})
    parts += [f"    {command}" for command in commands] + ([""] if commands else [])
    by_subject = defaultdict(list)
    for row in rows:
        by_subject[subject(row)].append(row)
    for what, subject_rows in by_subject.items():
        parts += [f"**{fmt(what)}**", "", figures_table(subject_rows), ""]
    curves = defaultdict(list)
    for row in rows:
        if row.get("curve"):
            curves[row.get("plot", subject(row))].append(row)
    for name, curve_rows in curves.items():
        if plots:
            path = curves_plot(name, curve_rows, folder)
            parts += [f"![{name}: validation against wall time]({path})", ""]
    return parts


def build(rows, out, plots=True, note=None):
    """Write the report of `rows` to `out`, its plots to `plots/` beside it (unless not `plots`).

    `note`, if given, is a paragraph put under the title. Returns `out` as a `pathlib.Path`.
    """
    out = pathlib.Path(out)
    folder = out.parent / "plots"
    rows = unique(rows)
    by_benchmark = defaultdict(list)
    for row in rows:
        by_benchmark[row["benchmark"]].append(row)
    parts = header(rows, note)

    clustering = defaultdict(list)
    for row in by_benchmark.pop("clustering_quality", []):
        clustering[row["data"]].append(row)
    if clustering:
        parts += [
            "## Clustering quality",
            "",
            "Each cell: the median over the seeds, and their range in brackets. Seconds include",
            "the pretraining that each run's estimator was started from (shared between the",
            "methods of one seed). Times are wall-clock seconds on the machine above; another job",
            "on its cores while a benchmark runs makes them longer.",
            "",
        ]
    for data, data_rows in clustering.items():
        parts += [f"### {data}", "", table(data_rows), ""]
        if plots:
            parts += [f"![{data}: ACC and NMI by method]({plot(data, data_rows, folder)})", ""]

    entries = ratios(rows)
    for group in ("peers", "ratios", "speed", "quality", None):
        if group == "ratios":
            if entries:
                parts += [
                    "## Speed ratios",
                    "",
                    "Ours against a peer or a baseline measured in the same run: the median over",
                    "seeds of each time, and of their ratio (below 1: ours takes less time).",
                    "",
                    ratio_table(entries),
                    "",
                ]
                if plots:
                    parts += [f"![ours / theirs]({ratio_plot(entries, folder)})", ""]
            continue
        names = [b for b in by_benchmark if group_of(b) == group]
        if names:
            parts += [f"## {TITLES.get(group, 'Other benchmarks')}", ""]
        for benchmark in names:
            parts += benchmark_section(benchmark, by_benchmark[benchmark], folder, plots)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(parts))
    return out


def default_files(folder=None):
    """Every `*.json` of `folder` (default `benchmarks/results/`; not its subfolders), by name.

    By name, not by modification time: a fresh clone gives every file the checkout's time, so
    the report's sections (in the order the rows are read) and which of two rows for the same
    (benchmark, subject, seed, method) is kept (the later file's) would depend on the checkout.
    """
    folder = pathlib.Path(RESULTS if folder is None else folder)
    return sorted(folder.glob("*.json"), key=lambda p: p.name)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "files", nargs="*", help="JSON files of rows (default: benchmarks/results/*.json)"
    )
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument("--no-plots", action="store_true", help="tables only (no matplotlib)")
    parser.add_argument("--note", default=None, help="a paragraph put under the title")
    args = parser.parse_args(argv)
    files = args.files or default_files()
    if not files:
        parser.error("no JSON files given and none in benchmarks/results/")
    out = build(load(files), args.out, plots=not args.no_plots, note=args.note)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
