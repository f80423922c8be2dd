"""`python -m tierchain.cli`: the same app as the `tierchain` console script."""

from tierchain.cli import app

app()
