"""Benchmarks of Akhbar: ingestion throughput, query latency and the running bot's memory.

Run with `python -m bench.run [--quick]`; never imported by the test suite.
"""
