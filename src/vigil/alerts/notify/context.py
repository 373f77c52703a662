"""What a notification says beyond the transition itself: links into the dashboard, a short
summary of the finding and what changed on the platform before it.

The application builds a :class:`NoticeContext` (it reads executions, their outputs and the
event store: :mod:`vigil.app.notice_context`) and hands it down as an :data:`Explainer`;
:func:`with_context` puts it into a :class:`~vigil.alerts.delivery.Message`: payload fields
``links`` (``alarm``, ``execution``, ``report``; only with a public URL), ``generator_url``
(the alarm's page, which Teams, PagerDuty and Alertmanager link to), ``summary``,
``findings``, ``execution`` and ``changes``, and the same as text in the body.

>>> from vigil.alerts.delivery import Message
>>> c = NoticeContext(links={"alarm": "https://v.example/alarms/d"}, summary="Drift in 1 of 2",
...                   changes=({"time": "2024-05-01T02:40:00+00:00", "source": "ci.deploy",
...                             "summary": "Deployment: model m version 2"},))
>>> m = with_context(Message(topic="t", subject="s", body="Alarm d changed."), c)
>>> m.payload["links"], m.payload["generator_url"]
({'alarm': 'https://v.example/alarms/d'}, 'https://v.example/alarms/d')
>>> print(m.body)
Alarm d changed.
<BLANKLINE>
Drift in 1 of 2
<BLANKLINE>
Alarm: https://v.example/alarms/d
<BLANKLINE>
What changed in the 6 hours before:
- 2024-05-01 02:40 UTC ci.deploy: Deployment: model m version 2
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from vigil.alerts.delivery import Message
from vigil.alerts.service import Transition

__all__ = ["LINK_TITLES", "EventExplainer", "Explainer", "NoticeContext", "with_context"]

#: the links a notification may carry, in the order shown, with their titles
LINK_TITLES = {"alarm": "Alarm", "execution": "Execution", "report": "Report"}


@dataclass(frozen=True)
class NoticeContext:
    """Links, summary and surrounding changes of one notification (every field optional)."""

    links: Mapping[str, str] = field(default_factory=dict)
    summary: str = ""
    findings: Sequence[Mapping[str, Any]] = ()  # one per drifting feature
    execution: Mapping[str, Any] | None = None  # id, status, window of the execution
    changes: Sequence[Mapping[str, Any]] = ()  # Change.as_dict(), newest first
    hours: float = 6.0  # how far back ``changes`` looked

    def payload(self) -> dict[str, Any]:
        """The payload fields (``links`` and ``generator_url`` only when there are links)."""
        out: dict[str, Any] = {}
        if self.links:
            out["links"] = dict(self.links)
            first = self.links.get("alarm") or self.links.get("execution")
            if first:
                out["generator_url"] = first
        if self.summary:
            out["summary"] = self.summary
        if self.findings:
            out["findings"] = [dict(f) for f in self.findings]
        if self.execution is not None:
            out["execution"] = dict(self.execution)
        out["changes"] = [dict(c) for c in self.changes]
        return out

    def link_lines(self) -> list[str]:
        """``Alarm: https://...`` lines, one per link."""
        return [f"{LINK_TITLES.get(k, k.title())}: {url}" for k, url in self.links.items()]

    def change_lines(self) -> list[str]:
        """The changes as ``- 2024-05-01 02:40 UTC source: summary`` lines."""
        lines = []
        for c in self.changes:
            lines.append(f"- {_when(c.get('time'))} {c.get('source')}: {c.get('summary')}")
        return lines


def _when(value: Any) -> str:
    try:
        t = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return f"{t:%Y-%m-%d %H:%M} UTC"


def _hours(hours: float) -> str:
    return f"{hours:g} hour" + ("" if hours == 1 else "s")


def with_context(message: Message, context: NoticeContext | None, *, lead: int = 1) -> Message:
    """``message`` with the context's payload fields and text: the summary and the links
    after the first ``lead`` paragraphs of the body (the rest, e.g. an alarm's reason,
    follows them), then what changed. ``None`` leaves the message as it is."""
    if context is None:
        return message
    paragraphs = [p for p in message.body.split("\n\n")] if message.body else []
    head, tail = paragraphs[:lead], paragraphs[lead:]
    middle = [p for p in (context.summary, "\n".join(context.link_lines())) if p]
    blocks = head + middle + tail
    if context.changes:
        blocks.append(f"What changed in the {_hours(context.hours)} before:\n"
                      + "\n".join(context.change_lines()))
    return dataclasses.replace(
        message, body="\n\n".join(blocks), payload={**message.payload, **context.payload()}
    )


Explainer = Callable[[Transition], "NoticeContext | None"]
"""The context of an alarm transition's notification (the application's
:class:`vigil.app.notice_context.NoticeBuilder`)."""

EventExplainer = Callable[[Mapping[str, Any]], "NoticeContext | None"]
"""The context of an event's notification (an execution's finding), or ``None``."""
