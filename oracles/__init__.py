"""Trade-document oracles: verify invoices, orders, delivery notes and warehouse receipts.

This package is pure domain logic. It decides whether a signed trade document may back a
receivable and produces the EIP-712 attestation the TradeRegistry contract accepts; it never
talks to the chain or to HTTP itself, so it can run inside any node process and be tested offline.
"""
