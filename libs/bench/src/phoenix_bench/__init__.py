"""Benchmarks, run by hand or through ``just bench-*``; never part of the test suite."""
