"""Regulatory exports over the indexed ledger: the participant directory (legal names and unified
social credit codes kept off-chain), 中登网 registration records of financings, and the periodic
report (数据报送) with its reconciliation against the chain."""
