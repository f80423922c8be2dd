"""The multi-tier demo: one real scenario on an embedded anvil, from trade documents to redemption.

Rooms: `cast` (who takes part), `chain` (anvil, compile, deploy, client), `paper` (the test CA and the
signed documents, read back through intake), `quorum` (three oracle nodes and the aggregator),
`scenario` (the story, step by step), `checks` (every unit accounted for), `indexed` (the SQL mirror
agrees), `report` (the summary as data) and `render` (the summary on a terminal).
"""
