"""`python -m ledger.cli`: the same app as the `tierchain` console script."""

from ledger.cli import app

app()
