"""The insights summary, as an operator reads it."""

from __future__ import annotations

from bot.core.campaign_replies import campaign_lines
from bot.core.records import Insights
from bot.core.responder import Responder


def insights_text(
    responder: Responder,
    insights: Insights,
    lang: str,
    feedback: list[tuple[str, int, int]] | None = None,
) -> str:
    none = responder.ui("insights_none", lang)
    lines = [responder.ui("insights_unanswered", lang, days=insights.days)]
    lines += [f"  {n}× {q}" for q, n in insights.unanswered] or [f"  {none}"]
    lines.append(responder.ui("insights_intents", lang, days=insights.days))
    lines += [f"  {n}× {i}" for i, n in insights.intents] or [f"  {none}"]
    if feedback is not None:
        lines.append(responder.ui("insights_feedback", lang, days=insights.days))
        lines += [f"  {i}: 👍 {up} · 👎 {down}" for i, up, down in feedback] or [f"  {none}"]
    lines += campaign_lines(responder, insights.campaigns, insights.days, lang)
    return "\n".join(lines)
