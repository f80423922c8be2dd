"""Document intake over HTTP: ``POST /documents`` hands a JSON batch to the aggregator.

The body is a JSON list of signed documents (as intake reads them from files: ``document``,
``signature``, ``certificate_chain``), or ``{"documents": [...]}``. Every record gets a result
in the same order: the records that cannot be read are ``rejected`` with the field and the
sentence to fix (the rest of the batch goes on), the others are recorded as pending and answered
with their fingerprint, current state and, when refused, each reason's code, field and sentence (a
document sent before keeps the state it reached, except that an attested fingerprint sent again is
refused as ``ALREADY_ATTESTED`` and a refused one is verified again: see ``Aggregator.add``).

Recording is synchronous and durable before the reply (202 Accepted); attestation runs on one
worker thread, so a batch of ten thousand does not hold an HTTP connection open for a minute.
``?wait=true`` holds the reply until a run that started after the batch was recorded finishes,
and answers with the final states (200). ``GET /documents/<fingerprint>`` reads one document's
state, ``GET /health`` the counts per state.

Like the node, this is the standard library's ``ThreadingHTTPServer`` on 127.0.0.1 without
authentication of its own: it is the oracle operator's intake, exposed (if at all) through the
deployment's reverse proxy; participants reach it through ``api/``.
"""

import json
import logging
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ledger.errors import TierchainError
from ledger.jsonlimits import restore_recursion_limit
from oracles.aggregator import Aggregator
from oracles.http import JsonHandler
from oracles.intake import validate_each
from oracles.signatures import SignedDocument
from oracles.store import BatchItem

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 32 * 1024 * 1024  # about 10,000 signed documents; larger batches are split


def _refusals(item: BatchItem) -> list[dict[str, Any]]:
    return [r.model_dump(mode="json") for r in item.reasons()]


def _item_result(index: int, item: BatchItem) -> dict[str, Any]:
    return {
        "index": index,
        "fingerprint": item.fingerprint,
        "status": item.status,
        "reason": item.reason,
        "refusals": _refusals(item),
        "tx_hash": item.tx_hash,
    }


def _item_view(item: BatchItem) -> dict[str, Any]:
    """One document's state: ``refusals`` lists each distinct reason once (code, field, sentence);
    ``node_refusals`` keeps what each node said."""
    view = item.model_dump(mode="json", exclude={"document", "refusals"})
    node_refusals = {n: [r.model_dump(mode="json") for r in rs] for n, rs in item.refusals.items()}
    return {**view, "refusals": _refusals(item), "node_refusals": node_refusals}


class AggregatorWorker:
    """Runs the aggregator on one thread whenever documents arrive; one run at a time."""

    def __init__(self, aggregator: Aggregator) -> None:
        self.aggregator = aggregator
        self._cond = threading.Condition()
        self._requested = 0  # runs asked for
        self._finished = 0  # runs completed, numbered like requests
        self._stop = False
        self._thread = threading.Thread(target=self._loop, name="aggregator-worker", daemon=True)

    def start(self) -> "AggregatorWorker":
        self._thread.start()
        return self

    def request(self) -> int:
        """Ask for a run; returns the ticket a caller can ``wait`` on."""
        with self._cond:
            self._requested += 1
            self._cond.notify_all()
            return self._requested

    def wait(self, ticket: int, timeout: float | None = None) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._finished >= ticket or self._stop, timeout)

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._requested > self._finished or self._stop)
                if self._stop:
                    return
                target = self._requested  # one run serves every request made before it starts
            try:
                report = self.aggregator.run()
                logger.info("aggregator_run_done counts=%s", json.dumps(report.counts))
            except TierchainError as exc:
                logger.error("aggregator_run_failed error=%s", exc)
            except Exception:  # the worker must outlive one bad run; the next request retries
                logger.exception("aggregator_run_crashed")
            with self._cond:
                self._finished = target
                self._cond.notify_all()


def _documents_of(body: Any) -> list[Any] | None:
    if isinstance(body, list):
        return body
    if isinstance(body, dict) and isinstance(body.get("documents"), list):
        return list(body["documents"])
    return None


def _handler(
    worker: AggregatorWorker, wait_timeout: float, max_body_bytes: int
) -> type[BaseHTTPRequestHandler]:
    aggregator = worker.aggregator

    class Handler(JsonHandler):
        server_version = "TierchainAggregator/1"

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            if path == "/health":
                self._reply(HTTPStatus.OK, {"status": "ok", "counts": aggregator.store.counts()})
                return
            if path.startswith("/documents/"):
                item = aggregator.status(path.removeprefix("/documents/"))
                if item is None:
                    self._problem(HTTPStatus.NOT_FOUND, "no document with this fingerprint was submitted")
                    return
                self._reply(HTTPStatus.OK, _item_view(item))
                return
            self._problem(HTTPStatus.NOT_FOUND, f"no route {path}")

        def do_POST(self) -> None:
            url = urlsplit(self.path)
            if url.path != "/documents":
                self._problem(HTTPStatus.NOT_FOUND, f"no route {url.path}")
                return
            wait = parse_qs(url.query).get("wait", ["false"])[-1].lower() in {"1", "true", "yes"}
            body = self.read_json_body(max_body_bytes, hint="split the batch")
            if body is None:
                return
            try:
                records = _documents_of(json.loads(body))
            except (ValueError, UnicodeDecodeError) as exc:
                self._problem(HTTPStatus.BAD_REQUEST, f"the body is not JSON: {exc}")
                return
            if records is None:
                self._problem(
                    HTTPStatus.BAD_REQUEST,
                    'the body must be a JSON list of documents or {"documents": [...]}',
                )
                return
            parsed = validate_each(records, source="request")
            documents = [p for p in parsed if isinstance(p, SignedDocument)]
            try:
                stored = iter(aggregator.add(documents))
            except TierchainError as exc:
                logger.error("intake_failed error=%s", exc)
                self._problem(HTTPStatus.SERVICE_UNAVAILABLE, str(exc))
                return
            items = [next(stored) if isinstance(p, SignedDocument) else p for p in parsed]
            ticket = worker.request() if documents else 0
            status = HTTPStatus.ACCEPTED
            if wait and documents and worker.wait(ticket, wait_timeout):
                status = HTTPStatus.OK
                now = aggregator.store.get_many([i.fingerprint for i in items if isinstance(i, BatchItem)])
                items = [now.get(i.fingerprint, i) if isinstance(i, BatchItem) else i for i in items]
            results = [
                _item_result(index, item)
                if isinstance(item, BatchItem)
                else {
                    "index": index,
                    "status": "rejected",
                    "errors": [e.model_dump(mode="json", exclude={"source", "row"}) for e in item],
                }
                for index, item in enumerate(items, start=1)
            ]
            logger.info(
                "intake_http documents=%d accepted=%d rejected=%d",
                len(records), len(documents), len(records) - len(documents),
            )  # fmt: skip
            self._reply(
                status,
                {"accepted": len(documents), "rejected": len(records) - len(documents), "results": results},
            )

    return Handler


class AggregatorServer:
    """The intake HTTP server and its worker; ``stop`` closes the port and ends the worker."""

    def __init__(
        self,
        aggregator: Aggregator,
        port: int,
        host: str = "127.0.0.1",
        *,
        wait_timeout: float = 600.0,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        restore_recursion_limit()  # py_ecc raised it to 100,000: deeper than the C stack holds
        self.worker = AggregatorWorker(aggregator)
        self.httpd = ThreadingHTTPServer((host, port), _handler(self.worker, wait_timeout, max_body_bytes))
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> "AggregatorServer":
        self.worker.start()
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="aggregator-http", daemon=True)
        self._thread.start()
        logger.info("aggregator_listening url=%s", self.url)
        return self

    def serve_forever(self) -> None:
        self.worker.start()
        self.worker.request()  # resume whatever the store holds open from before a restart
        logger.info("aggregator_listening url=%s", self.url)
        self.httpd.serve_forever()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.worker.stop()
        if self._thread is not None:
            self._thread.join(timeout=5)
