"""Benchmarks that print their figures (docs/benchmarks.md). Run each as a module from the
checkout, e.g. ``.venv/bin/python -m bench.search --articles 100000``; ``--tiny`` runs any
of them in seconds (the suite does, so none rots: tests/test_bench.py)."""
