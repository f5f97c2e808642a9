"""Benchmarks: scripts that print figures, never timed assertions.

Run from the repository root as `.venv/bin/python -m bench.<name> [--quick]`; see bench/README.md.
Every script works on a temporary copy of corpus/ and a temporary index folder, talks to
127.0.0.1 only, and starts and stops its own server.
"""
