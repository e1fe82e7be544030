"""Benchmarks: ``make bench`` runs every ``bench/bench_*.py`` in one process, side by side."""
