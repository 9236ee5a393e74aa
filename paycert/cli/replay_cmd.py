"""`paycert replay RUN_DIR EVENT_ID --to URL [--resign]`: send a captured webhook again to a merchant."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated

import typer

from paycert.core.errors import PaycertError
from paycert.report.captures import find_webhook
from paycert.report.run import RunInfo
from paycert.report.writer import load_run
from paycert.targets.profile import load_profile
from paycert.webhooks.replay import prepare, send
from paycert.webhooks.signatures import get_scheme

EXIT_ACCEPTED = 0
EXIT_REFUSED = 1
EXIT_HARNESS = 2
SHARED_SECRET_VARIABLE = "PAYCERT_WEBHOOK_SECRET"


def secret_variables(gateway: str) -> tuple[str, str]:
    """Where --resign reads the secret: `PAYCERT_<GATEWAY>_WEBHOOK_SECRET`, then PAYCERT_WEBHOOK_SECRET."""
    return f"PAYCERT_{re.sub(r'[^A-Za-z0-9]', '_', gateway).upper()}_WEBHOOK_SECRET", SHARED_SECRET_VARIABLE


def replay(
    run_dir: Annotated[Path, typer.Argument(help="The run folder that captured the webhook.")],
    event_id: Annotated[str, typer.Argument(help="The capture's id, as the HTML report shows it (wh_...).")],
    to: Annotated[str, typer.Option("--to", help="The merchant's webhook URL to send it to.")],
    resign: Annotated[
        bool,
        typer.Option(
            "--resign",
            help="Sign it again with the merchant's secret under the gateway's scheme; the secret is read from "
            "PAYCERT_<GATEWAY>_WEBHOOK_SECRET, else PAYCERT_WEBHOOK_SECRET (or --secret-env).",
        ),
    ] = False,
    secret_env: Annotated[
        str | None, typer.Option("--secret-env", help="Read the --resign secret from this variable instead.")
    ] = None,
    ca_file: Annotated[
        str | None, typer.Option(help="CA certificate of an https:// receiver with a private CA.")
    ] = None,
) -> None:
    """Send a captured webhook again: the captured body and headers, or re-signed with --resign.

    A body the report redacted (a masked card number, say) is refused without --resign: its captured
    signature cannot match it. Prints the receiver's HTTP status, never the secret. Exit 0 when the receiver
    answered 2xx, 1 when it answered otherwise, 2 when it could not be sent (bad run folder, unknown id, no
    secret, nothing answering at --to).
    """
    try:
        if not re.match(r"^https?://", to):
            raise PaycertError(f"--to {to!r}: an http:// or https:// URL")
        document = load_run(run_dir.resolve())
        capture = find_webhook(document, event_id)
        run = RunInfo.from_dict(document["run"])
        target = Path(run.target_file) if run.target_file else None
        profile = load_profile(capture.gateway, relative_to=target.parent if target else None)
        scheme = get_scheme(profile.signature_scheme)
        secret: str | None = None
        if resign:
            # An unsigned gateway's webhook is "re-signed" with nothing: no secret is needed for it.
            secret = "" if scheme.name == "none" else _secret(capture.gateway, secret_env)
        prepared = prepare(capture.body, capture.headers, scheme, secret=secret)
        sent = send(to, prepared, verify=ca_file or True)
    except (PaycertError, KeyError) as exc:
        typer.echo(f"paycert replay: {str(exc).splitlines()[0]}", err=True)
        raise typer.Exit(EXIT_HARNESS) from None
    if prepared.redacted:
        typer.echo(f"note: sent with what the report redacted still masked: {', '.join(prepared.redacted)}")
    how = f"re-signed ({scheme.name})" if prepared.resigned else "as captured"
    typer.echo(
        f"{capture.id} ({capture.gateway}, {capture.evidence.get('label') or 'webhook'}) {how} -> {to}: HTTP {sent.status}"
    )
    raise typer.Exit(EXIT_ACCEPTED if sent.ok else EXIT_REFUSED)


def _secret(gateway: str, variable: str | None) -> str:
    names = (variable,) if variable else secret_variables(gateway)
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    raise PaycertError(f"--resign needs the merchant's webhook secret in {' or '.join(names)} (not set)")
