"""Fitting the parameter files that ship beside the code (bot/**/*.json): one script per file, run
from the repository root as `.venv/bin/python -m fit.<name>` or all in turn with `make fit`; see
fit/README.md. The scripts read the benchmarks' data (bench/jsquad.py, ../shared/benchmarks) and
the `make bench-qa` cache; the engine reaches them only through `Engine.retrieve`.
"""
