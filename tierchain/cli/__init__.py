"""The `tierchain` command line: every operation a participant or an operator does, in one command.

Each module holds one group and stays thin over the ledger modules: `chain` (local anvil), `deploy`
(compile, deploy), `lifecycle` (participant, obligation, token, finance, repay), `recovery`
(`participant recover…`: lost-key recovery), `market` (financing requests through the API: `finance
request…`), `settlement` (test cash, balances), `gov` (governance: proposals, settings, pause), `reports`
(indexer reads), `serve` (the API), `bench`, `dev` (the whole local network, detached). Errors and exit
codes are handled once, in `common.guarded`.
"""

from __future__ import annotations

import typer

from ledger.indexer.cli import app as indexer_app
from oracles.cli import app as oracle_app
from tierchain.cli.bench import bench_app
from tierchain.cli.chain import chain_app
from tierchain.cli.deploy import compile_cmd, deploy_cmd
from tierchain.cli.dev import dev_app
from tierchain.cli.gov import gov_app
from tierchain.cli.lifecycle import finance_app, obligation_app, participant_app, repay_app, token_app
from tierchain.cli.market import finance_request  # registers `finance request…` on finance_app
from tierchain.cli.policy import policy_app
from tierchain.cli.recovery import recover_app
from tierchain.cli.reports import report_app
from tierchain.cli.serve import serve_cmd
from tierchain.cli.settlement import settlement_app

app = typer.Typer(help="Tierchain: multi-tier supply-chain receivables ledger.", no_args_is_help=True)
app.add_typer(chain_app, name="chain")
app.command("compile")(compile_cmd)
app.command("deploy")(deploy_cmd)
participant_app.add_typer(recover_app, name="recover")
app.add_typer(participant_app, name="participant")
app.add_typer(obligation_app, name="obligation")
app.add_typer(token_app, name="token")
app.add_typer(finance_app, name="finance")
app.add_typer(repay_app, name="repay")
app.add_typer(settlement_app, name="settlement")
app.add_typer(gov_app, name="gov")
app.add_typer(policy_app, name="policy")
app.add_typer(report_app, name="report")
app.add_typer(indexer_app, name="index")
app.add_typer(oracle_app, name="oracle")
app.command("serve")(serve_cmd)
app.add_typer(bench_app, name="bench")
app.add_typer(dev_app, name="dev")

__all__ = ["app", "finance_request"]
