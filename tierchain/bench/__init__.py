"""Benchmarks behind `tierchain bench`.

- `gas`: gas per operation;
- `throughput`: ledger writes per second against a local chain;
- `api`: the HTTP service under wrk (`wrk`), beside a bare FastAPI endpoint (`anchor`);
- `indexer`: ingest, replay and queries on SQLite and PostgreSQL;
- `oracles`: document verification and signing.

They sit above the product packages and import them; nothing in the product imports them.
"""
