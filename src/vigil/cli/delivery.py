"""``vigil delivery dead-letters|redrive``: notifications that will not be retried."""

from __future__ import annotations

from typing import Annotated

import typer

from vigil.alerts.notify import make_outbox
from vigil.cli.common import DataDirOpt, OutputFormat, OutputOpt, emit_json, fail, iso, line
from vigil.cli.remote import selected
from vigil.errors import VigilError

app = typer.Typer(name="delivery", help="Notification delivery: dead letters and redrive.")


@app.command("dead-letters")
def delivery_dead_letters(
    subscription: Annotated[str | None, typer.Option()] = None,
    data_dir: DataDirOpt = None,
    output: OutputOpt = OutputFormat.text,
) -> None:
    """Messages that will not be retried, with their last error."""
    server = selected()
    if server is not None:  # the API's document (fewer fields than the local one)
        try:
            doc = server.get("/dead-letters", {"subscription": subscription})
        except VigilError as exc:
            raise fail(exc.message) from None
        if output is OutputFormat.json:
            emit_json(doc)
            return
        for d in doc["dead_letters"]:
            line(
                f"{d['id']}  {d['subscription']}  {d['message_id']}  attempts {d['attempts']}  "
                f"{d['last_error']}"
            )
        return
    # lazy: loaded only when this command runs (a light CLI start)
    from vigil.cli.local import open_local

    db = open_local(data_dir, command="delivery dead-letters").db
    dead = make_outbox(db).list_dead_letters(subscription)
    if output is OutputFormat.json:
        emit_json(
            {
                "dead_letters": [
                    {
                        "id": r.id,
                        "subscription": r.subscription,
                        "topic": r.topic,
                        "protocol": r.protocol,
                        "message_id": r.message_id,
                        "attempts": r.attempt,
                        "last_error": r.last_error,
                        "last_status": r.last_status,
                        "created_at": iso(r.created_at),
                    }
                    for r in dead
                ]
            }
        )
        return
    for r in dead:
        line(f"{r.id}  {r.subscription}  {r.message_id}  attempts {r.attempt}  {r.last_error}")


@app.command("redrive")
def delivery_redrive(
    ids: Annotated[list[int] | None, typer.Option("--id", help="Repeatable.")] = None,
    subscription: Annotated[str | None, typer.Option()] = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Queue dead letters again (by id, or every one of a subscription)."""
    if not ids and not subscription:
        raise fail("give --id (repeatable) or --subscription")
    server = selected()
    if server is not None:
        try:
            done = server.post("/dead-letters/redrive", {"ids": ids, "subscription": subscription})
        except VigilError as exc:
            raise fail(exc.message) from None
        count = int(done["redriven"])
    else:
        # lazy: loaded only when this command runs (a light CLI start)
        from vigil.cli.local import open_local

        db = open_local(data_dir, command="delivery redrive").db
        count = make_outbox(db).redrive(ids, subscription=subscription)
    if not count:  # an unknown id or subscription, or nothing dead there: say so
        asked = [f"--id {i}" for i in ids or []] + (
            [f"--subscription {subscription}"] if subscription else []
        )
        raise fail(f"no dead letter to redrive for {', '.join(asked)}")
    line(f"redriven {count}")
