"""Custodial keys: the service signs for a participant with that participant's encrypted keystore.

Keystores are Web3 Secret Storage files (scrypt, 0600) written by `ledger.keys`; the table
`custodial_keys` says which file belongs to which address. Decrypted signers are cached in memory for
the life of the process, since scrypt is deliberately slow. A participant without a row here holds
its own key (self-custody) and uses `/v1/tx/prepare` + `/v1/tx/submit`.
"""

from __future__ import annotations

import logging
import os
import threading
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, delete, insert, select

from api.errors import SelfCustody, SigningSettingMissing
from api.tables import custodial_keys
from ledger.keys import Signer, create_keystore, load_keystore

log = logging.getLogger(__name__)


class KeyStore:
    def __init__(self, engine: Engine, directory: Path, password_env: str, scrypt_n: int) -> None:
        self.engine = engine
        self.directory = directory
        self.password_env = password_env
        self.scrypt_n = scrypt_n
        self._cache: dict[str, Signer] = {}
        self._lock = threading.Lock()

    def _password(self) -> str:
        password = os.environ.get(self.password_env)
        if not password:
            raise SigningSettingMissing(self.password_env, "the password of the custodial keystores")
        return password

    def create(self, request_key: str | None = None) -> Signer:
        """A new custodial account, encrypted at rest and recorded. Under `request_key` (the
        onboarding's idempotency key) a second call returns the account the first one created: its
        registration may already have been sent when the first attempt failed."""
        if request_key is not None:
            with self.engine.connect() as conn:
                made = conn.execute(
                    select(custodial_keys.c.address).where(custodial_keys.c.request_key == request_key)
                ).scalar_one_or_none()
            if made is not None:
                log.info("custodial key reused address=%s request=%s", made, request_key)
                return self.signer(made)
        signer, path = create_keystore(self.directory, self._password(), scrypt_n=self.scrypt_n)
        with self.engine.begin() as conn:
            conn.execute(
                insert(custodial_keys).values(
                    address=signer.address.lower(),
                    keystore=str(path),
                    created_at=datetime.now(UTC),
                    request_key=request_key,
                )
            )
        with self._lock:
            self._cache[signer.address.lower()] = signer
        log.info("custodial key created address=%s", signer.address)
        return signer

    def discard(self, address: str) -> None:
        """Forget a key whose onboarding failed (the file is removed: it never held anything)."""
        path = self.path(address)
        with self.engine.begin() as conn:
            conn.execute(delete(custodial_keys).where(custodial_keys.c.address == address.lower()))
        if path is not None:
            path.unlink(missing_ok=True)
        with self._lock:
            self._cache.pop(address.lower(), None)

    def path(self, address: str) -> Path | None:
        with self.engine.connect() as conn:
            found = conn.execute(
                select(custodial_keys.c.keystore).where(custodial_keys.c.address == address.lower())
            ).scalar_one_or_none()
        return Path(found) if found else None

    def is_custodial(self, address: str) -> bool:
        return self.path(address) is not None

    def signer(self, address: str) -> Signer:
        """The participant's signer; `SelfCustody` when the service holds no key for it."""
        key = address.lower()
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        path = self.path(key)
        if path is None:
            raise SelfCustody(
                f"{address} holds its own key: build the transaction with /v1/tx/prepare and send it "
                "signed to /v1/tx/submit"
            )
        signer = load_keystore(path, self._password())
        with self._lock:
            self._cache[key] = signer
        return signer
