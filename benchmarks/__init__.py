"""The benchmarks of keras_cluster, grouped by purpose, and the one command that runs them.

- `benchmarks.quality`: clustering quality against wall time (DEC, IDEC, N2D, DCN over seeds),
  DCN and SNNL on MNIST, DEC's self-training settings.
- `benchmarks.speed`: the losses' and metrics' cost, repeated `fit` calls, memory.
- `benchmarks.peers`: Levenberg-Marquardt side by side with tf-levenberg-marquardt,
  torch-levenberg-marquardt, SciPy and Adam (the peers are optional: see
  `benchmarks/requirements-peers.txt`).

Every benchmark is a module with a `main()`, run from the repository root as
`python -m benchmarks.<group>.<name> [arguments]`, and writes JSON rows (`benchmarks.rows`) to
`benchmarks/results/<name>.json`. `python -m benchmarks --suite quick|full [--only NAME ...]`
runs a suite and then `benchmarks.report`, which writes `benchmarks/RESULTS.md` and its plots.
Importing a module runs nothing.
"""
