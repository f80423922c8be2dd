"""Settings and network configuration: one `Settings` object built once, plus the network TOML files.

`Settings` comes from the environment (prefix `TIERCHAIN_`) and says where things live; a
`NetworkConfig` comes from `chain_config/<name>.toml` and says how to talk to one chain. Both are
validated at the edge so the rest of the code can trust them, and every error names file and field.
"""

from __future__ import annotations

import logging
import tomllib
from pathlib import Path
from typing import Annotated, Literal

from eth_utils.address import to_checksum_address
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from ledger.errors import ConfigError

log = logging.getLogger(__name__)


def _is_project(folder: Path) -> bool:
    return (folder / "chain_config").is_dir() and (folder / "pyproject.toml").is_file()


def _find_project_root() -> Path:
    """The nearest ancestor of the working directory that is a Tierchain project; else the project this
    package was installed from (the editable install `scripts/setup` makes), so the command works from
    any folder; else the working directory."""
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if _is_project(candidate):
            return candidate
    installed = Path(__file__).resolve().parents[1]
    return installed if _is_project(installed) else here


_PATH_SETTINGS = ("chain_config_dir", "build_dir", "data_dir")


class Settings(BaseSettings):
    """Process-wide settings; build once at the entry point and pass down."""

    model_config = SettingsConfigDict(env_prefix="TIERCHAIN_", extra="ignore")

    network: str = Field(default="local", description="the network file to use: chain_config/<network>.toml")
    project_root: Path = Field(
        default_factory=_find_project_root,
        description="the Tierchain checkout; default: the nearest one above the working folder, else the "
        "one the package was installed from",
    )
    chain_config_dir: Path = Field(
        default=Path("chain_config"), description="the network files; relative to the project root"
    )
    build_dir: Path = Field(
        default=Path("build"), description="compiled contracts; relative to the project root"
    )
    data_dir: Path = Field(
        default=Path(".tierchain"),
        description="deployments, the local chain's state, dev-world records; relative to the project root "
        "(a value you set is read from the working folder)",
    )
    database_url: str | None = Field(
        default=None,
        description="the indexer's SQL database (what reports and the API read); "
        "default sqlite:///<data_dir>/tierchain.sqlite",
    )
    log_level: str = Field(default="INFO", description="Python logging level of every command")

    @model_validator(mode="after")
    def _anchor_paths(self) -> Settings:
        # A path someone set (TIERCHAIN_DATA_DIR=run/data, an argument) is read like any command-line
        # path, from the working directory; a default belongs to the project, wherever the process runs.
        self.project_root = self.project_root.resolve()
        given = self.model_fields_set
        for field in _PATH_SETTINGS:
            value: Path = getattr(self, field)
            if not value.is_absolute():
                base = Path.cwd() if field in given else self.project_root
                setattr(self, field, (base / value).resolve())
        if self.database_url is None:
            self.database_url = f"sqlite:///{self.data_dir / 'tierchain.sqlite'}"
        return self


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LegacyGas(_Strict):
    """Pre-EIP-1559 pricing, used by permissioned chains (Besu QBFT often runs at zero gas price)."""

    type: Literal["legacy"]
    gas_price_wei: int | None = Field(default=None, ge=0, description="fixed price; None asks the node")
    gas_limit_multiplier: float = Field(default=1.2, ge=1.0, le=5.0)


class Eip1559Gas(_Strict):
    """EIP-1559 pricing: the node's base fee, capped so a fee spike cannot drain the signer."""

    type: Literal["eip1559"]
    max_fee_per_gas_wei: int | None = Field(default=None, ge=0, description="cap; None means no cap")
    max_priority_fee_per_gas_wei: int = Field(default=1_000_000_000, ge=0)
    gas_limit_multiplier: float = Field(default=1.2, ge=1.0, le=5.0)


GasPolicy = Annotated[LegacyGas | Eip1559Gas, Field(discriminator="type")]


class EnvKeys(_Strict):
    """A raw private key in an environment variable: acceptable only for a throwaway local chain."""

    source: Literal["env"]
    env_var: str = "TIERCHAIN_PRIVATE_KEY"


class KeystoreKeys(_Strict):
    """Encrypted Web3 Secret Storage files, the password in an environment variable."""

    source: Literal["keystore"]
    dir: Path
    password_env: str


SignerSource = Annotated[EnvKeys | KeystoreKeys, Field(discriminator="source")]


class AnvilConfig(_Strict):
    """How `LocalChain` runs anvil. Omit `block_time_seconds` for automine (a block per tx), and
    `state_file` to keep the chain's state in the data dir (`<data_dir>/local/anvil-state.json`)."""

    chain_id: int = 31337
    block_time_seconds: float | None = Field(default=None, gt=0)
    mnemonic: str = "test test test test test test test test test test test junk"
    accounts: int = Field(default=10, ge=1, le=1000)
    balance_eth: int = Field(default=10_000, ge=0)
    hardfork: str = "prague"
    state_file: Path | None = None
    state_interval_seconds: int = Field(default=5, ge=1)
    gas_price_wei: int | None = Field(
        default=None, ge=0, description="anvil's --gas-price; 0 with base_fee_wei 0: free gas, as on Besu"
    )
    base_fee_wei: int | None = Field(default=None, ge=0, description="anvil's --base-fee (genesis base fee)")
    fault_proxies: bool = Field(
        default=False,
        description="each of the network's rpc_urls is a fault proxy (ledger.faultproxy) in front of this "
        "one anvil, which then runs on a free port; `chain up` starts them all",
    )


class SettlementTokenSpec(_Strict):
    """A settlement ERC-20 that `deploy` creates itself: for local chains and demos, never production."""

    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. CNY")
    name: str
    symbol: str
    decimals: int = Field(default=2, ge=0, le=18)


DAY = 86_400


class PolicySpec(_Strict):
    """The compliance policy a deployment starts with (`[deploy.policy]`; docs/compliance.md). The
    defaults are the registry's own: the 2025 rules as written (PBoC notice Yinfa [2025] No. 77,
    State Council Decree No. 802)."""

    max_tenor_days: int = Field(default=365, ge=1, le=365, description="longest term from issue to maturity")
    long_tenor_days: int = Field(default=180, ge=1, le=365, description="above it, a justification code")
    sme_payment_term_days: int = Field(default=60, ge=1, le=365, description="SME term after delivery")
    max_depth: int = Field(default=32, ge=1, le=65_535, description="deepest piece below its root")
    min_unit: int = Field(default=1, ge=1, le=2**48 - 1, description="smallest minimum unit (minor units)")
    trade_background: bool = Field(default=True, description="onward moves to non-banks cite a document")

    @model_validator(mode="after")
    def _ordered(self) -> PolicySpec:
        if self.long_tenor_days > self.max_tenor_days:
            raise ValueError("long_tenor_days may not exceed max_tenor_days")
        if self.sme_payment_term_days > self.max_tenor_days:
            raise ValueError("sme_payment_term_days may not exceed max_tenor_days")
        return self

    @classmethod
    def mechanics(cls) -> PolicySpec:
        """The policy the benchmarks and the mechanics test suites deploy with: any term up to the law's
        year without a justification code, any depth, and no trade document for onward moves — so plain
        splits and transfers between suppliers measure and test the token itself."""
        return cls(long_tenor_days=365, max_depth=65_535, trade_background=False)

    def as_abi(self) -> tuple[int, int, int, int, int, bool, bool]:
        """`IParticipantRegistry.Policy` as a tuple (durations in seconds; `isSet` true)."""
        return (
            self.max_tenor_days * DAY,
            self.long_tenor_days * DAY,
            self.sme_payment_term_days * DAY,
            self.max_depth,
            self.min_unit,
            self.trade_background,
            True,
        )


class BillSpec(_Strict):
    """Bill mode at deployment (`[deploy.bill]`; docs/contracts.md, "Bill mode"): whether moves pend until
    the receiver accepts (签收) by default, and the acceptance window. Each core enterprise may still
    choose for its own obligations; governance changes the default later (`setBillPolicy`)."""

    enabled: bool = Field(default=False, description="moves pend until the receiver accepts (签收)")
    acceptance_window_seconds: int = Field(
        default=7 * DAY, ge=1, le=365 * DAY, description="an unaccepted move expires after this"
    )

    def as_abi(self) -> tuple[bool, int]:
        return (self.enabled, self.acceptance_window_seconds)


class DeployConfig(_Strict):
    """What `tierchain deploy` sets up on a network (`[deploy]` in the network file)."""

    oracle_threshold: int = Field(default=2, ge=1, le=255)
    grace_period_seconds: int = Field(default=30 * 86_400, ge=0)
    token_name: str = "Tierchain Receivable"
    token_symbol: str = "TRCV"
    value_decimals: int = Field(default=2, ge=0, le=18)
    settlement_tokens: list[SettlementTokenSpec] = Field(default_factory=list)
    currencies: dict[str, str] = Field(
        default_factory=dict, description="ISO 4217 code to the address of an existing settlement ERC-20"
    )
    policy: PolicySpec = Field(default_factory=PolicySpec, description="the compliance policy at deployment")
    bill: BillSpec = Field(default_factory=BillSpec, description="bill mode (签收) at deployment")

    @field_validator("currencies")
    @classmethod
    def _currency_addresses(cls, currencies: dict[str, str]) -> dict[str, str]:
        for code, address in currencies.items():
            if len(code) != 3 or not code.isascii() or not code.isupper():
                raise ValueError(f"{code!r} is not an ISO 4217 code")
            if not (address.startswith("0x") and len(address) == 42):
                raise ValueError(f"{code}: {address!r} is not an address")
        return currencies

    @model_validator(mode="after")
    def _one_source_per_currency(self) -> DeployConfig:
        both = {s.currency for s in self.settlement_tokens} & set(self.currencies)
        if both:
            raise ValueError(f"currency {sorted(both)} is both deployed and given by address")
        return self


DEPLOYER = "deployer"
"""In `[governance]`, stands for the key that runs `tierchain deploy` (the local network's default)."""

_MAX_UINT32 = 2**32 - 1


def _governance_address(value: str, field: str) -> str:
    if value == DEPLOYER:
        return value
    if not (value.startswith("0x") and len(value) == 42):
        raise ValueError(f"{field}: {value!r} is not an address (0x and 40 hex digits) nor {DEPLOYER!r}")
    try:
        number = int(value[2:], 16)
    except ValueError as exc:
        raise ValueError(f"{field}: {value!r} is not an address (0x and 40 hex digits)") from exc
    if number == 0:
        raise ValueError(f"{field}: the zero address cannot hold a seat or a key")
    return value


class GovernanceConfig(_Strict):
    """Who governs a network (`[governance]` in the network file): M-of-N operator seats over a timelock.

    Admin changes (roles, upgrades, seats) wait `admin_delay_seconds` once approved, policy changes
    (threshold, currencies, base URI, unpause) `policy_delay_seconds`; onboarding and pause are
    immediate keys. An address may be written as "deployer": the key that runs `tierchain deploy`.
    """

    operators: list[str] = Field(min_length=1, description="one seat per operator key")
    approvals: int = Field(ge=1, description="seats that must approve a proposal (M of N)")
    voting_period_blocks: int = Field(ge=1, le=_MAX_UINT32, description="blocks a proposal stays open")
    admin_delay_seconds: int = Field(ge=0, description="timelock delay of the admin class")
    policy_delay_seconds: int = Field(ge=0, description="timelock delay of the policy class (the minimum)")
    guardian: str = Field(description="pauses operations and cancels proposals, at once")
    onboarding: str = Field(description="registers participants and sets their status, at once")

    @field_validator("operators")
    @classmethod
    def _operator_addresses(cls, operators: list[str]) -> list[str]:
        for i, value in enumerate(operators):
            _governance_address(value, f"operators[{i}]")
        seen: set[str] = set()
        for value in operators:
            if value.lower() in seen:
                raise ValueError(f"operator {value} is listed twice; each operator has one seat")
            seen.add(value.lower())
        return operators

    @field_validator("guardian", "onboarding")
    @classmethod
    def _key_address(cls, value: str, info: ValidationInfo) -> str:
        return _governance_address(value, str(info.field_name))

    @model_validator(mode="after")
    def _consistent(self) -> GovernanceConfig:
        if self.approvals > len(self.operators):
            raise ValueError(
                f"approvals: {self.approvals} exceeds the {len(self.operators)} operator seat(s); "
                "a proposal could never pass"
            )
        if self.policy_delay_seconds > self.admin_delay_seconds:
            raise ValueError(
                f"policy_delay_seconds ({self.policy_delay_seconds}) exceeds admin_delay_seconds "
                f"({self.admin_delay_seconds}); the policy class is the shorter one"
            )
        return self

    def resolved(self, deployer: str) -> GovernanceConfig:
        """The same table with every "deployer" replaced by the deploying key's address, and every
        address in its checksummed form (how the manifest and the deployment steps name them)."""

        def one(value: str) -> str:
            return str(to_checksum_address(deployer if value == DEPLOYER else value))

        operators = [one(o) for o in self.operators]
        lowered = [o.lower() for o in operators]
        if len(set(lowered)) != len(lowered):
            raise ConfigError(f"governance.operators: the deployer {deployer} is listed twice")
        update = {"operators": operators, "guardian": one(self.guardian), "onboarding": one(self.onboarding)}
        return self.model_copy(update=update)


LOCAL_GOVERNANCE = GovernanceConfig(
    operators=[DEPLOYER],
    approvals=1,
    voting_period_blocks=1_000,
    admin_delay_seconds=0,
    policy_delay_seconds=0,
    guardian=DEPLOYER,
    onboarding=DEPLOYER,
)
"""A local network without a `[governance]` table: the deployer is the one seat and every key."""


class NetworkConfig(_Strict):
    """One chain Tierchain can talk to, as declared in `chain_config/<name>.toml`."""

    name: str
    rpc_urls: list[str] = Field(min_length=1)
    chain_id: int = Field(gt=0)
    confirmations: int = Field(default=1, ge=0)
    gas: GasPolicy
    poll_interval_seconds: float = Field(default=1.0, gt=0)
    receipt_timeout_seconds: float = Field(default=120.0, gt=0)
    keys: SignerSource
    anvil: AnvilConfig | None = None
    deploy: DeployConfig = Field(default_factory=DeployConfig)
    governance: GovernanceConfig | None = None

    def governance_config(self) -> GovernanceConfig:
        """The `[governance]` table; a local network without one gets `LOCAL_GOVERNANCE`, others must
        declare it (raises `ConfigError` naming the table and its fields)."""
        if self.governance is not None:
            return self.governance
        if self.is_local:
            return LOCAL_GOVERNANCE
        raise ConfigError(
            f"network {self.name!r} has no [governance] table; declare operators, approvals, "
            "voting_period_blocks, admin_delay_seconds, policy_delay_seconds, guardian and onboarding "
            "(see chain_config/besu-qbft.toml)"
        )

    @field_validator("rpc_urls")
    @classmethod
    def _urls_are_http(cls, urls: list[str]) -> list[str]:
        for url in urls:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"{url!r} is not an http(s) URL")
        return urls

    @model_validator(mode="after")
    def _local_only_rules(self) -> NetworkConfig:
        if self.keys.source == "env" and self.anvil is None:
            raise ValueError("keys.source = 'env' is allowed only for a local network with an [anvil] table")
        if self.anvil is not None and self.anvil.chain_id != self.chain_id:
            raise ValueError(f"anvil.chain_id {self.anvil.chain_id} differs from chain_id {self.chain_id}")
        return self

    @property
    def is_local(self) -> bool:
        """Local means a throwaway anvil chain that `LocalChain` manages."""
        return self.anvil is not None


def _field_path(loc: tuple[int | str, ...]) -> str:
    # Discriminated unions add the tag to the location ("gas.legacy.gas_price_wei"); keep it, it helps.
    return ".".join(str(p) for p in loc) or "<root>"


def parse_network(path: Path, project_root: Path | None = None) -> NetworkConfig:
    """Parse and validate one network file; relative paths inside it are anchored at `project_root`."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: network file not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    try:
        network = NetworkConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{_field_path(e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"{path}: {problems}") from exc
    if project_root is None:
        return network
    updates: dict[str, object] = {}
    if isinstance(network.keys, KeystoreKeys) and not network.keys.dir.is_absolute():
        updates["keys"] = network.keys.model_copy(update={"dir": project_root / network.keys.dir})
    anvil = network.anvil
    if anvil is not None and anvil.state_file is not None and not anvil.state_file.is_absolute():
        state = project_root / anvil.state_file
        updates["anvil"] = anvil.model_copy(update={"state_file": state})
    return network.model_copy(update=updates) if updates else network


def load_network(settings: Settings, name: str | None = None) -> NetworkConfig:
    """Load `chain_config/<name>.toml` (default: the settings' network)."""
    name = name or settings.network
    path = settings.chain_config_dir / f"{name}.toml"
    if not path.is_file():
        available = sorted(p.stem for p in settings.chain_config_dir.glob("*.toml"))
        raise ConfigError(f"{path}: no such network {name!r}; available: {', '.join(available) or 'none'}")
    network = parse_network(path, settings.project_root)
    if network.name != name:
        raise ConfigError(f"{path}: name: {network.name!r} does not match the file name {name!r}")
    log.debug("network loaded name=%s chain_id=%s file=%s", name, network.chain_id, path)
    return network
