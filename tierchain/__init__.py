"""The top layer: the `tierchain` command line (`tierchain.cli`) and the benchmarks (`tierchain.bench`).

Imports point down only: `tierchain` may import `api`, `oracles` and `ledger`; `api` imports `oracles`
and `ledger`; `oracles` imports `ledger`; `ledger` (chain access, compile/deploy, indexer) imports none
of them. `tests/ledger/test_layers.py` holds the project to it.
"""
