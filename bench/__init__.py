"""Reproducible benchmarks of the deposit portal: ``make bench`` (``python -m bench.run``)."""
