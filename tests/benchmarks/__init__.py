"""Benchmarks: run as modules (python -m tests.benchmarks.<name>), never collected by pytest."""
