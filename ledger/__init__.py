"""Tierchain's chain and database room: configuration, compilation, keys, transactions, local chain."""
