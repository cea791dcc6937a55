"""Faithful local stand-ins of the repositories' APIs, for the demo, tests and benchmarks.

Written from ../shared/reference on its own: nothing here imports ``deposits`` (and
``deposits`` never imports this), so a misreading of the contract cannot hide on both sides.
"""
