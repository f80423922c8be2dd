"""Governance of a deployed system: the catalogue of governable actions, a typed client over the
operator seats, governor and timelock, and the deployment of those contracts.

Import the parts from their modules (`ledger.governance.actions`, `ledger.governance.client`,
`ledger.governance.deploy`); this package imports nothing itself, so `ledger.deploy` can use the
deployment part without loading the client.
"""
