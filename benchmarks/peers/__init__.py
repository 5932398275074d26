"""Levenberg-Marquardt side by side with tf-levenberg-marquardt, torch-levenberg-marquardt, Adam.

The peers are optional: where one is not importable its rows are left out with a one-line
notice. `benchmarks/requirements-peers.txt` says how to build a virtual environment with them.
"""
