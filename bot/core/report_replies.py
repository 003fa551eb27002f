"""What the review chat and the resident see of a submitted report: the officers' summary with
its decision buttons, the outcome notice, and /myreports. Pure functions over content."""

from __future__ import annotations

from collections.abc import Callable

from bot.core.records import Report
from bot.core.report_flow import ReportFlow, china_time
from bot.core.telegram_limits import TEXT_LIMIT, telegram_length, telegram_prefix
from bot.core.types import Button, Reply, ReplyKind

REVIEW_ACTION = "review:"  # review:accept:<report id> | review:reject:<report id>
# What a resident typed, in the order it gives way when a summary would be too long.
SHORTENED_FIELDS = ("description", "place", "time")


def review_message(
    flow: ReportFlow, report: Report, lang: str, media_lost: bool = False, limit: int = TEXT_LIMIT
) -> Reply:
    """The summary posted in the review chat, with accept and reject buttons: one message of
    at most `limit` (as `telegram_length` counts), so the buttons and the decision stay on it."""
    ui = flow.responder.ui
    fields = {
        "reference": report.reference,
        "submitted": china_time(report.created_at, with_date=True),
        **flow.summary_fields(report, lang, report.created_at),
    }
    notes = "\n" + ui("review_media_lost", lang) if media_lost else ""
    text = _fitted(flow, lang, fields, limit - telegram_length(notes)) + notes
    buttons = (
        Button(ui("review_accept_button", lang), f"{REVIEW_ACTION}accept:{report.id}"),
        Button(ui("review_reject_button", lang), f"{REVIEW_ACTION}reject:{report.id}"),
    )
    return Reply(text=text, lang=lang, kind=ReplyKind.NOTICE, buttons=buttons)


def decided_message(flow: ReportFlow, report: Report, lang: str) -> Reply:
    """The review summary once decided: the buttons give way to who decided what, and when.
    The summary gives up room for that line, so the edited message fits too."""
    decided = flow.responder.ui(
        "review_decided",
        lang,
        status=status_name(flow, report.status, lang),
        reviewer=report.decided_by or "?",
        at=china_time(report.decided_at or report.created_at, with_date=True),
    )[: TEXT_LIMIT // 2]  # a reviewer's name is short, but never let it crowd out the report
    room = TEXT_LIMIT - telegram_length(decided) - 2
    summary = review_message(flow, report, lang, limit=room).text
    return Reply(text=f"{summary}\n\n{decided}", lang=lang, kind=ReplyKind.NOTICE)


def _fitted(flow: ReportFlow, lang: str, fields: dict[str, str], limit: int) -> str:
    """The review summary within `limit` (as `telegram_length` counts): what the resident
    typed is shortened, description first, each cut marked with how much is not shown."""
    ui = flow.responder.ui
    text = ui("review_summary", lang, **fields)
    for name in SHORTENED_FIELDS:
        over = telegram_length(text) - limit
        if over <= 0:
            return text
        shortened = _shortened(fields[name], over, _marker(flow, lang))
        if telegram_length(shortened) < telegram_length(fields[name]):  # else keep it whole
            fields = {**fields, name: shortened}
            text = ui("review_summary", lang, **fields)
    return telegram_prefix(text, limit)  # content with a template this long: cut hard


def _marker(flow: ReportFlow, lang: str) -> Callable[[int], str]:
    return lambda count: flow.responder.ui("review_cut", lang, count=count)


def _shortened(value: str, over: int, marker: Callable[[int], str]) -> str:
    """`value` at least `over` shorter, its end replaced by the marker (or all of it, when
    that is not enough: the next field gives way too)."""
    longest_marker = telegram_length(marker(len(value)))  # a count can only have fewer digits
    kept = telegram_prefix(value, telegram_length(value) - over - longest_marker)
    return kept + marker(len(value) - len(kept))


def outcome_notice(flow: ReportFlow, report: Report) -> Reply:
    """What the resident is told once officers have decided."""
    key = "report_accepted" if report.status == "accepted" else "report_rejected"
    return flow.notice(key, report.lang, reference=report.reference)


def report_list(flow: ReportFlow, reports: list[Report], lang: str) -> Reply:
    """/myreports: the resident's reports, newest first."""
    lang = flow.responder.language(lang)
    if not reports:
        return flow.notice("report_list_none", lang)
    ui = flow.responder.ui
    lines = [ui("report_list_heading", lang)]
    for report in reports:
        kind = flow.kind_label(report.kind, lang) or report.kind
        lines.append(
            ui(
                "report_list_item",
                lang,
                reference=report.reference,
                kind=kind,
                date=china_time(report.created_at, with_date=True),
                status=status_name(flow, report.status, lang),
            )
        )
    return Reply(text="\n".join(lines), lang=lang, kind=ReplyKind.NOTICE)


def awaiting_list(flow: ReportFlow, reports: list[Report], review_chat: int, lang: str) -> Reply:
    """/pending in the review chat: undecided reports, oldest first, each with a link to its
    summary (Telegram links messages of supergroups only)."""
    ui = flow.responder.ui
    if not reports:
        return flow.notice("review_pending_none", lang)
    lines = [ui("review_pending_heading", lang, count=len(reports))]
    for report in reports:
        kind = flow.kind_label(report.kind, lang) or report.kind
        when = china_time(report.created_at, with_date=True)
        line = f"{report.reference} · {kind} · {when}"
        if str(review_chat).startswith("-100") and report.review_messages:
            line += f"\nhttps://t.me/c/{str(review_chat)[4:]}/{report.review_messages[-1]}"
        lines.append(line)
    return Reply(text="\n".join(lines), lang=lang, kind=ReplyKind.NOTICE)


def status_name(flow: ReportFlow, status: str, lang: str) -> str:
    return flow.responder.ui(f"report_status_{status}", lang)
