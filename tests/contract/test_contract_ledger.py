"""The contract run changes only what it created: pre-existing webhook registrations and a configured endpoint
survive it (issue 8 item 4, issue 11 item 2).

Each test sets something up at the embedded sandbox the way paycert's own suites do (a webhook registration,
a configured endpoint), runs the real contract engine against that gateway, and reads it back afterwards.
"""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

from paycert.gateways.client import GatewayClient
from paycert.gateways.http import Recorder
from paycert.plugin.contract_engine import ContractRun, ContractSettings, run_contract
from paycert.plugin.contract_ledger import Ledger, fresh_like
from paycert.plugin.contract_scope import SINGLETON_REASON
from paycert.redaction import Redactor
from paycert.sandbox import SandboxServer
from paycert.sandbox.gateways import GATEWAYS
from paycert.sandbox.store import Store
from paycert.targets.target import GatewayTarget, target_from_data
from tests.certification.runs import REPO

BUDGET_S = 120.0  # the sandbox gateways finish well within it


def _gateway(sandbox: SandboxServer, gid: str) -> tuple[GatewayTarget, GatewayClient]:
    module = next(m for m in GATEWAYS if m.PREFIX.strip("/") == gid)
    env = {f"LEDGER_{name.upper()}": value for name, value in module.CREDENTIALS.items()}
    raw = {
        "gateways": {
            gid: {
                "base_url": f"{sandbox.base_url}{module.PREFIX}",
                "control_url": f"{sandbox.base_url}/_sandbox",
                "credentials": {name: f"LEDGER_{name.upper()}" for name in module.CREDENTIALS},
            }
        }
    }
    gateway = target_from_data(raw, base_dir=REPO, environ=env).gateways[gid]
    return gateway, GatewayClient(gateway, Recorder(Redactor([])))


def _contract(gateway: GatewayTarget, client: GatewayClient, document: dict[str, Any]) -> ContractRun:
    assert gateway.profile is not None
    never = frozenset({str((gateway.profile.auth.get("operation") or {}).get("operation_id"))})
    return run_contract(
        document,
        gateway.base_url,
        client.auth_headers(),
        ContractSettings(examples=10, seed=0),
        deadline=time.monotonic() + BUDGET_S,
        never=never,
    )


def _log(sandbox: SandboxServer) -> list[dict[str, Any]]:
    lines = sandbox.config.request_log.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_a_webhook_registered_before_the_contract_run_survives_it(sandbox: SandboxServer) -> None:
    gateway, client = _gateway(sandbox, "gustaffo")
    registered = client.call("register_webhook", {"notification_url": "http://127.0.0.1:9/paycert-sink"})
    assert registered.status == 201, registered.error_text()
    webhook_id = registered.body["webhookId"]

    run = _contract(gateway, client, gateway.spec.document)

    listed = client.call("list_webhooks", {})
    assert listed.ok, listed.error_text()
    assert webhook_id in {w["webhookId"] for w in listed.body["webhooks"]}, "the contract run deleted it"
    # Fuzzing did aim DELETEs at ids it had not created (listed ones, examples): they went to fresh ids.
    assert run.redirected.get("DELETE /api/v1/webhooks/{webhookId}", 0) > 0, run.redirected
    deletes = [
        e
        for e in _log(sandbox)
        if e["method"] == "DELETE" and e["path"].startswith("/gustaffo/api/v1/webhooks/")
    ]
    assert not [e for e in deletes if e["path"].endswith(webhook_id)]
    # What the run created itself it may still delete: DELETE is really tested, not just avoided.
    assert any(e["status"] == 204 for e in deletes), deletes
    assert "DELETE /api/v1/webhooks/{webhookId}" in run.tested


def test_a_configured_webhook_endpoint_survives_the_contract_run(sandbox: SandboxServer) -> None:
    """paylican's `PUT /api/v1/webhook-endpoint` as a vendor would write it (not marked sandbox-only)."""
    gateway, client = _gateway(sandbox, "paylican")
    configured = client.call("configure_webhook", {"notification_url": "http://127.0.0.1:9/paycert-sink"})
    assert configured.ok, configured.error_text()
    store = Store(sandbox.config.db_path)
    before = store.get("paylican.webhook-endpoint", "current")
    assert before is not None

    document = copy.deepcopy(gateway.spec.document)
    operation = document["paths"]["/api/v1/webhook-endpoint"]["put"]
    operation.pop("x-sandbox-only", None)
    operation["tags"] = [t for t in operation.get("tags", []) if t != "sandbox-only"]
    run = _contract(gateway, client, document)

    assert run.excluded.get("PUT /api/v1/webhook-endpoint") == SINGLETON_REASON, run.excluded
    assert store.get("paylican.webhook-endpoint", "current") == before
    puts = [e for e in _log(sandbox) if e["method"] == "PUT" and e["path"].endswith("/webhook-endpoint")]
    assert len(puts) == 1, puts  # paycert's own configuration above, and nothing from the contract run
    assert run.tested, "the rest of paylican was not tested"


def test_ledger_keeps_what_create_requests_got_back_and_redirects_the_rest(tmp_path: Path) -> None:
    spec = {
        "paths": {
            "/webhooks": {
                "post": {
                    "responses": {
                        "201": {
                            "links": {"Delete": {"parameters": {"webhookId": "$response.body#/webhookId"}}}
                        }
                    }
                }
            },
            "/webhooks/{webhookId}": {
                "delete": {
                    "parameters": [{"name": "webhookId", "in": "path", "example": "wh_fromthedocs00000"}]
                }
            },
        }
    }
    ledger = Ledger(spec)
    ledger.record("POST", "/webhooks", 201, {"webhookId": "wh_0123456789abcdef", "url": "x"}, {})
    ledger.record("POST", "/webhooks", 400, {"webhookId": "wh_refused00000000"}, {})
    listed = {"webhooks": [{"webhookId": "wh_e5ac17714c41b6d2"}, {"webhookId": "wh_listed000000000"}]}
    ledger.record("GET", "/webhooks", 200, listed, {})
    ledger.record("POST", "/orders", 201, {}, {"location": ["/orders/ord_42"]})
    assert "wh_0123456789abcdef" in ledger
    assert "ord_42" in ledger
    assert "wh_refused00000000" not in ledger
    assert "wh_listed000000000" not in ledger

    ours = {"webhookId": "wh_0123456789abcdef"}
    ledger.guard("DELETE", "DELETE /webhooks/{webhookId}", "/webhooks/{webhookId}", ours)
    assert ours == {"webhookId": "wh_0123456789abcdef"}
    theirs = {"webhookId": "wh_e5ac17714c41b6d2"}
    ledger.guard("DELETE", "DELETE /webhooks/{webhookId}", "/webhooks/{webhookId}", theirs)
    assert theirs["webhookId"] != "wh_e5ac17714c41b6d2"
    assert theirs["webhookId"].startswith("wh_")
    assert len(theirs["webhookId"]) == len("wh_e5ac17714c41b6d2")
    assert all(c in "0123456789abcdef" for c in theirs["webhookId"][3:])  # still hex: as valid as before
    read = {"webhookId": "wh_e5ac17714c41b6d2"}
    ledger.guard("GET", "GET /webhooks/{webhookId}", "/webhooks/{webhookId}", read)
    assert read["webhookId"] == "wh_e5ac17714c41b6d2"  # reads are left alone
    documented = {"webhookId": "wh_fromthedocs00000"}  # the spec's example may be a real id on a live account
    ledger.guard("DELETE", "DELETE /webhooks/{webhookId}", "/webhooks/{webhookId}", documented)
    assert documented["webhookId"] != "wh_fromthedocs00000"
    made_up = {"webhookId": "load_profile"}  # a generated value names nothing: left to the generator
    ledger.guard("DELETE", "DELETE /webhooks/{webhookId}", "/webhooks/{webhookId}", made_up)
    assert made_up["webhookId"] == "load_profile"
    assert ledger.redirected == {"DELETE /webhooks/{webhookId}": 2}
    assert fresh_like("ab%C2%94cd")[2:8] == "%C2%94"  # percent-escapes stay whole
    assert isinstance(fresh_like(12345), int)
    assert len(str(fresh_like(12345))) == 5
