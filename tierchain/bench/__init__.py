"""Benchmarks behind `tierchain bench`: `gas` (gas per operation), `throughput` (ledger writes per second
against a local chain), `api` (the HTTP service under load) and `oracles` (document verification and
signing). They sit above the product packages and import them; nothing in the product imports them.
"""
