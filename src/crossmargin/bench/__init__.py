"""Benchmarks that report JSON: the kernel against scipy.sparse and the machine's limits."""
