"""Campaign landing points: the greeting a campaign's link opens with, and its line in the
insights summary. Pure functions over the Responder's content."""

from __future__ import annotations

from bot.content.model import Campaign
from bot.core.responder import Responder
from bot.core.types import Reply


def campaign_greeting(responder: Responder, campaign: Campaign, lang: str) -> Reply:
    """The campaign's own short message, then the topic menu (as /start shows it)."""
    lang = responder.language(lang)
    return responder.menu("main", lang, preface=responder.render(campaign.greeting[lang], lang))


def campaign_lines(
    responder: Responder, visits: list[tuple[str, int]], days: int, lang: str
) -> list[str]:
    """Visits per campaign for the insights summary; nothing when no campaign is defined."""
    campaigns = responder.content.campaigns
    if not campaigns:
        return []
    lang = responder.language(lang)
    lines = [responder.ui("insights_campaigns", lang, days=days)]
    for code, count in visits:
        campaign = campaigns.get(code)
        name = f" {campaign.name[lang]}" if campaign else ""
        lines.append(f"  {count}× {code}{name}")
    if not visits:
        lines.append(f"  {responder.ui('insights_none', lang)}")
    return lines
