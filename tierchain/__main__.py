"""`python -m tierchain`: the same app as the `tierchain` console script."""

from tierchain.cli import app

app()
