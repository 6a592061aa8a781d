"""Benchmarks (developer tooling, never packaged): python -m bench [name ...]; see bench/__main__.py."""
