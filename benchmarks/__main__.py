"""Run a benchmark suite, then write the report.

Usage (from the repository root):

    python -m benchmarks --suite quick                 # a few minutes on 2 CPU cores
    python -m benchmarks --suite full                  # the figures of RESULTS.md: hours
    python -m benchmarks --suite full --only lm_rosenbrock_6d lm_digits
    python -m benchmarks --suite quick --list          # what would run, and how

Each benchmark runs in its own process (`python -m benchmarks.<group>.<name> ... --json FILE`)
with this checkout first on `PYTHONPATH`. `--suite full` writes its rows to
`benchmarks/results/<name>.json` and the report to `benchmarks/RESULTS.md`, which reads every
`benchmarks/results/*.json` (so rows of earlier runs stay, newer ones override them); `--suite
quick` (small data, few epochs, one seed: it proves the commands work, its figures are not
results) writes both under `benchmarks/results/quick/`. The LM benchmarks against the peers
(tf-levenberg-marquardt, torch-levenberg-marquardt) leave a peer out, with a notice, where it is
not importable: run the suite with the peers venv's Python to include them
(`benchmarks/requirements-peers.txt`). A benchmark that fails is reported and the others still
run; the exit status is then 1.
"""

import argparse
import dataclasses
import pathlib
import shlex
import subprocess
import sys
import time

from benchmarks import report
from benchmarks.rows import RESULTS, ROOT, child_env


@dataclasses.dataclass(frozen=True)
class Entry:
    """One run of a suite: `python -m benchmarks.<module> <args> --json <results>/<name>.json`.

    `{results}` in an argument stands for the results folder.
    """

    name: str
    module: str
    args: tuple = ()

    @property
    def benchmark(self):
        return self.module.rsplit(".", 1)[-1]

    def command(self, results):
        return [
            sys.executable,
            "-m",
            f"benchmarks.{self.module}",
            *(arg.replace("{results}", str(results)) for arg in self.args),
            "--json",
            str(results / f"{self.name}.json"),
        ]


SMALL_AE = "dims=(64, 32, 10)"
QUICK_NOTE = (
    "**Quick suite** (`python -m benchmarks --suite quick`): small data, few epochs, one seed. "
    "It shows that every benchmark runs; its figures are not results."
)
SUITES = {
    # Small data, few epochs, one seed: every benchmark's code path in a few minutes.
    "quick": (
        Entry("clustering_quality", "quality.clustering_quality",
              ("--data", "wine-std", "--methods", "dec", "idec", "--seeds", "0",
               "--param", SMALL_AE, "--param", "finetune_epochs=10", "--param", "max_iter=50")),
        Entry("dcn_mnist", "quality.dcn_mnist",
              ("--samples", "1000", "--pretrain-epochs", "1", "--epochs", "1")),
        Entry("snnl_mnist", "quality.snnl_mnist",
              ("--samples", "1000", "--labelled", "200", "--epochs", "1", "--runs", "1",
               "--dims", "64,32,10")),
        Entry("dec_self_training_sweep", "quality.dec_self_training_sweep",
              ("--data", "digits", "--seeds", "0", "--variant", "update_interval=35",
               "--variant", "update_interval=70", "--variant", "idec:", "--param", SMALL_AE,
               "--param", "finetune_epochs=5", "--param", "max_iter=70",
               "--start", "kmeans", "whitened-kmeans")),
        Entry("dec_self_training_sweep-pretrain-dropout", "quality.dec_self_training_sweep",
              ("--data", "digits", "--seeds", "0", "--pretrain-dropout", "0.2",
               "--variant", "", "--param", SMALL_AE, "--param", "finetune_epochs=5",
               "--param", "max_iter=70")),
        Entry("dec_self_training_sweep-pretrain-corruption", "quality.dec_self_training_sweep",
              ("--data", "digits", "--seeds", "0", "--pretrain-dropout", "0.1",
               "--pretrain-corruption", "mean", "--variant", "", "--variant", "n2d:",
               "--param", SMALL_AE, "--param", "finetune_epochs=5")),
        Entry("kmeans_loss_speed", "speed.kmeans_loss_speed",
              ("--shapes", "2000x10x10", "--repeats-small", "20")),
        Entry("snnl_speed", "speed.snnl_speed",
              ("--batch", "256", "--width", "32", "--repeats", "3")),
        Entry("clustering_metrics_overhead", "speed.clustering_metrics_overhead",
              ("--steps", "20", "--repeats", "1")),
        Entry("lm_refit", "speed.lm_refit", ("--fits", "3")),
        Entry("lm_first_step", "speed.lm_first_step", ("--repeats", "1", "--runs", "2")),
        Entry("lm_memory", "speed.lm_memory", ("--rows", "1000", "4000")),
        Entry("streaming_memory", "speed.streaming_memory",
              ("--streamed-rows", "20000", "--memory-rows", "10000", "--max-iter", "10")),
        Entry("lm_tutorial_2d", "peers.lm_tutorial_2d",
              ("--epochs", "20", "--seeds", "1", "--adam-seconds", "5")),
        Entry("lm_rosenbrock_6d", "peers.lm_rosenbrock_6d",
              ("--epochs", "5", "--seeds", "0", "--adam-seconds", "5")),
        Entry("lm_digits", "peers.lm_digits", ("--max-seconds", "5", "--seeds", "0", "1", "2")),
    ),
    # The commands the figures of the issues and of RESULTS.md are measured with.
    "full": (
        Entry("clustering_quality-digits", "quality.clustering_quality",
              ("--data", "digits", "--methods", "dec", "idec", "n2d", "--seeds", "0", "1", "2",
               "--weights-dir", "{results}/weights")),
        # DEC and IDEC started from N2D's partition on digits (the README's "better start").
        Entry("clustering_quality-digits-manifold", "quality.clustering_quality",
              ("--data", "digits", "--methods", "dec-manifold", "idec-manifold",
               "--seeds", "0", "1", "2", "--weights-dir", "{results}/weights")),
        Entry("clustering_quality-mnist-test", "quality.clustering_quality",
              ("--data", "mnist-test", "--methods", "dec", "idec", "n2d", "dec-manifold", "dcn",
               "dcn-manifold", "--seeds", "0", "1", "2", "--weights-dir", "{results}/weights")),
        # DEC and DCN with init="gmm" (not the default yet: keras_cluster/defaults.py).
        Entry("clustering_quality-mnist-test-gmm", "quality.clustering_quality",
              ("--data", "mnist-test", "--methods", "dec-gmm", "dcn-gmm", "--seeds", "0", "1",
               "2", "--weights-dir", "{results}/weights")),
        Entry("clustering_quality-mnist-test-da", "quality.clustering_quality",
              ("--data", "mnist-test", "--methods", "dec-da", "--seeds", "0", "1", "2",
               "--weights-dir", "{results}/weights")),
        # MNIST's 70,000 images, five seeds: about 8 minutes of pretraining a seed on 2 CPU cores.
        Entry("clustering_quality-mnist-all", "quality.clustering_quality",
              ("--data", "mnist-all", "--methods", "n2d", "dec", "idec",
               "--seeds", "0", "1", "2", "3", "4", "--weights-dir", "{results}/weights")),
        Entry("clustering_quality-tabular", "quality.clustering_quality",
              ("--data", "wine-std", "breast-cancer-std", "digits-std",
               "--methods", "dec", "idec", "n2d", "dcn", "--seeds", "0",
               "--weights-dir", "{results}/weights")),
        Entry("dcn_mnist", "quality.dcn_mnist",
              ("--samples", "10000", "--pretrain-epochs", "10", "--epochs", "10")),
        Entry("snnl_mnist", "quality.snnl_mnist",
              ("--samples", "10000", "--labelled", "1000", "--epochs", "10", "--runs", "5")),
        # DEC's update interval, and IDEC's defaults against the reference code's settings and
        # a heavier reconstruction (keras_cluster/defaults.py, UPDATE_INTERVAL and IDEC_GAMMA),
        # with P over the whole data set as those were measured, then the current defaults.
        Entry("dec_self_training_sweep", "quality.dec_self_training_sweep",
              ("--data", "digits", "--seeds", "0", "1", "2",
               "--variant", "target='full',update_interval=35",
               "--variant", "target='full',update_interval=70",
               "--variant", "target='full',update_interval=140",
               "--variant", "idec:target='full'",
               "--variant", "idec:target='full',adam_lr=0.001,gamma=0.1",
               "--variant", "idec:target='full',optimizer_lr=0.003,gamma=3.0",
               "--variant", "", "--variant", "idec:")),
        # DEC and IDEC from a pretraining on inputs corrupted by dropout at 0.2 (files without
        # the rate) and 0.1: a candidate default, not adopted yet (keras_cluster/defaults.py).
        *(Entry(f"dec_self_training_sweep-pretrain-dropout-{label}{data}",
                "quality.dec_self_training_sweep",
                ("--data", data, "--seeds", "0", "1", "2", "--pretrain-dropout", rate,
                 "--variant", "", "--variant", "idec:"))
          for rate, label in (("0.2", ""), ("0.1", "0.1-")) for data in ("digits", "mnist-test")),
        Entry("dec_self_training_sweep-pretrain-dropout-0.1-mnist-all",
              "quality.dec_self_training_sweep",
              ("--data", "mnist-all", "--seeds", "0", "1", "2", "3", "4", "--pretrain-dropout",
               "0.1", "--variant", "", "--variant", "idec:", "--variant", "n2d:")),
        *(Entry(f"dec_self_training_sweep-pretrain-corruption-0.1-{data}",
                "quality.dec_self_training_sweep",
                ("--data", data, "--seeds", "0", "1", "2", "--pretrain-dropout", "0.1",
                 "--pretrain-corruption", "mean", "--variant", "", "--variant", "idec:",
                 "--variant", "n2d:"))
          for data in ("digits", "mnist-test")),
        # DEC's self-training learning rate (SGD, momentum 0.9) at 0.003 / 0.01 (the default)
        # / 0.03, and IDEC's at 0.001 (the default, gamma 10) / 0.003, from one pretraining
        # per seed (MNIST 70k: seed 0, DEC only): not adopted (keras_cluster/defaults.py).
        Entry("dec_self_training_sweep-lr-digits", "quality.dec_self_training_sweep",
              ("--data", "digits", "--seeds", "0", "1", "2", "--variant", "",
               "--variant", "optimizer_lr=0.003", "--variant", "optimizer_lr=0.03",
               "--variant", "idec:", "--variant", "idec:adam_lr=0.001,gamma=1.0")),
        Entry("dec_self_training_sweep-lr-mnist-test", "quality.dec_self_training_sweep",
              ("--data", "mnist-test", "--seeds", "0", "1", "2", "--variant", "",
               "--variant", "optimizer_lr=0.03", "--variant", "idec:",
               "--variant", "idec:optimizer_lr=0.003")),
        Entry("dec_self_training_sweep-lr-mnist-all", "quality.dec_self_training_sweep",
              ("--data", "mnist-all", "--mnist-path", "../shared/data/mnist.npz",
               "--seeds", "0", "--variant", "", "--variant", "optimizer_lr=0.03")),
        # DEC, IDEC and N2D from a pretraining with Adam(3e-3) decayed to 0 along a cosine:
        # not adopted (keras_cluster/defaults.py).
        *(Entry(f"dec_self_training_sweep-pretrain-adam-3e-3-cosine-{data}",
                "quality.dec_self_training_sweep",
                ("--data", data, "--seeds", "0", "1", "2", "--pretrain-lr", "0.003",
                 "--pretrain-cosine", "--variant", "", "--variant", "idec:", "--variant", "n2d:"))
          for data in ("mnist-test", "digits")),
        # DEC, IDEC and N2D on digits after 75 and 100 pretraining epochs in place of "auto"'s
        # 150 (PRETRAIN_STEPS; the MNIST sets' "auto" epochs come from MIN_PRETRAIN_EPOCHS, so
        # only small sets would change): not adopted (keras_cluster/defaults.py).
        *(Entry(f"dec_self_training_sweep-pretrain-epochs-{epochs}-digits",
                "quality.dec_self_training_sweep",
                ("--data", "digits", "--seeds", "0", "1", "2", "--param",
                 f"finetune_epochs={epochs}", "--variant", "", "--variant", "idec:",
                 "--variant", "n2d:"))
          for epochs in (75, 100)),
        # DEC from other partitions of each seed's pretrained embedding than k-means's
        # (whitened and cosine k-means, a Gaussian mixture): not adopted
        # (keras_cluster/defaults.py, KMEANS_N_INIT).
        *(Entry(f"dec_self_training_sweep-starts-{data}", "quality.dec_self_training_sweep",
                ("--data", data, "--seeds", "0", "1", "2", "--variant", "",
                 "--start", "kmeans", "whitened-kmeans", "cosine-kmeans", "gmm"))
          for data in ("digits", "mnist-test")),
        # DEC and IDEC from k-means's and the Gaussian mixture's starts: the MNIST test split
        # and MNIST 70k (seed 0).
        Entry("dec_self_training_sweep-starts-gmm-mnist-test", "quality.dec_self_training_sweep",
              ("--data", "mnist-test", "--seeds", "0", "1", "2", "--variant", "",
               "--variant", "idec:", "--start", "kmeans", "gmm")),
        Entry("dec_self_training_sweep-starts-gmm-mnist-all", "quality.dec_self_training_sweep",
              ("--data", "mnist-all", "--seeds", "0", "--variant", "", "--variant", "idec:",
               "--start", "kmeans", "gmm")),
        Entry("kmeans_loss_speed", "speed.kmeans_loss_speed"),
        Entry("snnl_speed", "speed.snnl_speed"),
        Entry("clustering_metrics_overhead", "speed.clustering_metrics_overhead",
              ("--steps", "200")),
        Entry("lm_refit", "speed.lm_refit", ("--fits", "5")),
        Entry("lm_first_step", "speed.lm_first_step"),
        Entry("lm_memory", "speed.lm_memory", ("--rows", "20000", "100000", "400000")),
        Entry("streaming_memory", "speed.streaming_memory"),
        Entry("lm_tutorial_2d", "peers.lm_tutorial_2d"),
        Entry("lm_rosenbrock_6d", "peers.lm_rosenbrock_6d"),
        Entry("lm_digits", "peers.lm_digits"),
    ),
}  # fmt: skip


def select(entries, only):
    """The entries named in `only` (an entry's name or its benchmark's); all if `only` is empty."""
    if not only:
        return list(entries)
    known = {e.name for e in entries} | {e.benchmark for e in entries}
    unknown = sorted(set(only) - known)
    if unknown:
        raise SystemExit(f"--only: unknown benchmark(s) {unknown}; known: {sorted(known)}")
    return [e for e in entries if e.name in only or e.benchmark in only]


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--suite", choices=sorted(SUITES), required=True)
    parser.add_argument("--only", nargs="+", default=[], metavar="NAME")
    parser.add_argument(
        "--results-dir",
        default=None,
        help="where the rows go (default: benchmarks/results/, quick: benchmarks/results/quick/)",
    )
    parser.add_argument(
        "--out",
        default=None,
        help="the report (default: benchmarks/RESULTS.md, quick: RESULTS.md in --results-dir)",
    )
    parser.add_argument("--no-report", action="store_true", help="run the benchmarks only")
    parser.add_argument("--list", action="store_true", help="print the commands, run nothing")
    args = parser.parse_args(argv)
    quick = args.suite == "quick"
    if args.results_dir is not None:
        results = pathlib.Path(args.results_dir).resolve()
    else:
        results = RESULTS / "quick" if quick else RESULTS
    out = args.out or (results / "RESULTS.md" if quick else report.OUT)
    entries = select(SUITES[args.suite], args.only)
    if args.list:
        for entry in entries:
            command = ["python", *entry.command(results)[1:]]
            print(shlex.join(command).replace(f"{ROOT.parent}/", ""))
        return 0
    (results / "weights").mkdir(parents=True, exist_ok=True)  # --weights-dir {results}/weights
    failed = []
    for entry in entries:
        print(f"\n=== {entry.name}", flush=True)
        start = time.perf_counter()
        done = subprocess.run(entry.command(results), cwd=ROOT.parent, env=child_env())
        seconds = time.perf_counter() - start
        print(f"=== {entry.name}: {'failed' if done.returncode else 'done'} in {seconds:.0f} s")
        if done.returncode:
            failed.append(entry.name)
    if not args.no_report:
        files = report.default_files(results)
        if files:
            note = QUICK_NOTE if quick else None
            report.main([*map(str, files), "--out", str(out), *(["--note", note] if note else [])])
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
