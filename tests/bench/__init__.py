"""Benchmarks (scripts, not pytest tests): ``uv run python -m tests.bench.bench_sync``."""
