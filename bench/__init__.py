"""Benchmarks: each capability timed against a baseline measured in the same run.

Run them with ``make bench`` (``python -m bench``). Every ``bench/bench_*.py`` module exposes
``CASES: list[Case]``; see ``bench/harness.py`` and docs/benchmarks.md. Benchmarks are not
tests: nothing asserts on a time.
"""
