"""Benchmarks (not imported by the rest of ganlab): trainer vs reference loops, explorer, GIF, polling, folder loads."""

from ganlab.bench.throughput import run_bench

__all__ = ["run_bench"]
