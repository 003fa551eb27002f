"""/broadcast for administrators: preview with the audience size, confirm, send, report.

Every step checks the sender's id against ANTIFRAUD_ADMINS on the server: a button's callback
data can be forged by any client, so pressing "send" proves nothing by itself. An alert typed
after /broadcast waits for its confirmation in the database (Outbox.keep_draft), not in this
process: behind a load balancer the button press may reach another replica. Every outbox
call runs in a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from telegram import Message, Update
from telegram.ext import Application, ContextTypes

from bot.broadcast.alerts import Alert, AlertError, load_alert, quick_alert, typed_audiences
from bot.broadcast.outbox import Outbox
from bot.broadcast.sender import BroadcastReport, BroadcastSender
from bot.broadcast.shared_rate import SharedRateLimiter
from bot.config import Settings
from bot.core.responder import Responder
from bot.core.types import Button, Reply, ReplyKind
from bot.telegram.admin import SETTINGS, admin_command, is_admin
from bot.telegram.handlers import RESPONDER, responder_of, send_reply, user_language
from bot.telegram.subscriptions import SUBSCRIPTIONS

log = logging.getLogger(__name__)

OUTBOX = "outbox"
TASKS = "broadcast_tasks"
RUNNING = "broadcasts_running"  # alert ids this process is sending now
STOP = "broadcasts_stop"  # set on shutdown: senders finish what is in flight and give back
WATCHER = "broadcast_watcher"  # with a shared database: joins broadcasts other replicas start
WATCH_EVERY = 1.0  # seconds between two looks for broadcasts started elsewhere
STOP_WITHIN = 30.0  # seconds a graceful stop waits for the messages in flight


def _settings(context: ContextTypes.DEFAULT_TYPE) -> Settings:
    return context.bot_data[SETTINGS]


def _outbox(context: ContextTypes.DEFAULT_TYPE) -> Outbox:
    return context.bot_data[OUTBOX]


def alert_files(settings: Settings, responder: Responder) -> tuple[list[Alert], list[str]]:
    """Alerts waiting in the alerts folder, and the errors of the files that do not load."""
    alerts, errors = [], []
    folder = Path(settings.alerts_dir)
    for path in sorted(folder.glob("*.y*ml")) if folder.is_dir() else []:
        try:
            content = responder.content
            alerts.append(load_alert(path, set(content.areas), set(content.audiences)))
        except AlertError as exc:
            errors.append(str(exc))
    return alerts, errors


async def _find_alert(context: ContextTypes.DEFAULT_TYPE, alert_id: str) -> Alert | None:
    """A typed alert waiting for confirmation, or one queued already (a button pressed again:
    told so, not "cancelled"), else the alert file of that id."""
    outbox = _outbox(context)
    stored = await asyncio.to_thread(outbox.draft, alert_id) or await asyncio.to_thread(
        outbox.alert, alert_id
    )
    if stored is not None:
        return stored
    alerts, _ = alert_files(_settings(context), responder_of(context))
    return next((a for a in alerts if a.id == alert_id), None)


def audience_lines(responder: Responder, outbox: Outbox, alert: Alert, lang: str) -> str:
    """For an alert to audience groups: a heading and one line per group with its size (a
    query per group: call it in a thread from the event loop)."""
    sizes = outbox.audience_sizes(alert)
    if not sizes:
        return ""
    known = responder.content.audiences
    lines = [f"• {known[g].name[lang] if g in known else g} ({g}): {n}" for g, n in sizes.items()]
    return "\n".join([responder.ui("bc_audiences", lang), *lines])


async def _preview(context: ContextTypes.DEFAULT_TYPE, alert: Alert, lang: str) -> Reply:
    responder, outbox = responder_of(context), _outbox(context)
    audience = await asyncio.to_thread(outbox.audience_size, alert)
    text = responder.ui(
        "bc_preview", lang, audience=audience, text=f"{alert.render('zh')}\n\n{alert.render('en')}"
    )
    groups = await asyncio.to_thread(audience_lines, responder, outbox, alert, lang)
    if groups:
        text = f"{groups}\n\n{text}"
    buttons = (
        Button(responder.ui("bc_confirm_button", lang), f"bc:send:{alert.id}"),
        Button(responder.ui("bc_cancel_button", lang), f"bc:cancel:{alert.id}"),
    )
    return Reply(text=text, lang=lang, kind=ReplyKind.NOTICE, buttons=buttons)


async def on_broadcast(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    allowed = await admin_command(update, context, "/broadcast")
    if allowed is None:
        return
    message, lang = allowed
    responder = responder_of(context)
    text = (message.text or "").partition(" ")[2].strip() or "\n".join(
        (message.text or "").splitlines()[1:]
    ).strip()
    if text:
        audiences, text = typed_audiences(text)
        unknown = [a for a in audiences if a not in responder.content.audiences]
        if unknown:
            known = ", ".join(responder.content.audiences)
            wrong = responder.ui(
                "bc_audiences_unknown", lang, unknown=", ".join(unknown), known=known
            )
            await send_reply(message, Reply(wrong, lang, ReplyKind.NOTICE))
            return
        if not text.strip():  # only the audiences line
            await send_reply(message, responder.notice("bc_audiences_no_text", lang))
            return
        alert = quick_alert(text, audiences=audiences)
        await asyncio.to_thread(_outbox(context).keep_draft, alert)
        await send_reply(message, await _preview(context, alert, lang))
        return
    alerts, errors = alert_files(_settings(context), responder)
    waiting = [a for a in alerts if not a.expired() and not await _queued_before(context, a)]
    notes = "\n".join(errors)
    if not waiting:
        reply = responder.notice("bc_none", lang)
        await send_reply(message, Reply(f"{reply.text}\n{notes}".strip(), lang, reply.kind))
        return
    buttons = tuple(Button(f"{a.id}: {a.title[lang]}"[:60], f"bc:preview:{a.id}") for a in waiting)
    text = f"{responder.ui('bc_choose', lang)}\n{notes}".strip()
    await send_reply(message, Reply(text, lang, ReplyKind.MENU, buttons=buttons))


async def _queued_before(context: ContextTypes.DEFAULT_TYPE, alert: Alert) -> bool:
    return await asyncio.to_thread(_outbox(context).status, alert.id) is not None


async def on_broadcast_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None or not isinstance(query.message, Message):
        return
    await query.answer()
    responder = responder_of(context)
    lang = responder.language(await user_language(update, context))
    parts = (query.data or "").split(":", 2)
    step = parts[1] if len(parts) > 1 else ""
    alert_id = parts[2] if len(parts) > 2 else ""
    if not is_admin(update, context, f"broadcast button {step}"):
        await send_reply(query.message, responder.notice("admin_refused", lang))
        return
    alert = await _find_alert(context, alert_id)
    if step == "cancel" or alert is None:
        await asyncio.to_thread(_outbox(context).drop_draft, alert_id)
        await send_reply(query.message, responder.notice("bc_cancelled", lang))
        return
    if step == "preview":
        await send_reply(query.message, await _preview(context, alert, lang))
        return
    if step != "send":
        return
    if alert.expired():
        await send_reply(
            query.message,
            Reply(responder.ui("bc_expired", lang, id=alert.id), lang, ReplyKind.NOTICE),
        )
        return
    user = update.effective_user
    outbox = _outbox(context)
    queued = await asyncio.to_thread(outbox.enqueue, alert, user.id if user else None)
    await asyncio.to_thread(outbox.drop_draft, alert_id)
    if queued is None:
        text = responder.ui("bc_already", lang, id=alert.id)
    else:
        text = responder.ui("bc_started", lang, id=alert.id, audience=queued)
        log.info("broadcast %s queued for %d subscribers", alert.id, queued)
        start_sending(context.application, alert.id)
    await send_reply(query.message, Reply(text, lang, ReplyKind.NOTICE))


def report_text(responder: Responder, report: BroadcastReport, lang: str) -> str:
    return responder.ui(
        "bc_report",
        lang,
        id=report.alert_id,
        sent=report.sent,
        blocked=report.blocked,
        failed=report.failed,
        pending=report.pending,
        seconds=f"{report.seconds:.1f}",
        rate=f"{report.rate:.1f}",
    )


def _shared(application: Application) -> bool:
    """Several replicas may share this database (PostgreSQL): they send together."""
    return application.bot_data[OUTBOX].db.dialect == "postgresql"


def start_sending(application: Application, alert_id: str) -> asyncio.Task | None:
    """Send in the background; report to the admin who started it when done. None when this
    process is sending it already."""
    data = application.bot_data
    running: set[str] = data.setdefault(RUNNING, set())
    if alert_id in running:
        return None
    running.add(alert_id)
    stop: asyncio.Event = data.setdefault(STOP, asyncio.Event())

    async def send_and_report() -> BroadcastReport:
        settings: Settings = data[SETTINGS]
        outbox: Outbox = data[OUTBOX]
        shared = _shared(application)
        limiter = (
            await asyncio.to_thread(SharedRateLimiter, outbox.db, settings.broadcast_rate)
            if shared
            else None
        )
        sender = BroadcastSender(
            application.bot,
            outbox,
            data[SUBSCRIPTIONS],
            rate=settings.broadcast_rate,
            limiter=limiter,
            lease=settings.broadcast_lease,
        )
        try:
            report = await sender.run(alert_id, stop)
        finally:
            running.discard(alert_id)
        if shared and not report.finished:
            return report  # another replica sends the last rows, and the report
        log.info(
            "broadcast %s: %d sent, %d blocked, %d failed in %.1f s",
            alert_id,
            report.sent,
            report.blocked,
            report.failed,
            report.seconds,
        )
        status = await asyncio.to_thread(outbox.status, alert_id)
        if status is not None and status.started_by:
            responder: Responder = data[RESPONDER]
            text = report_text(responder, report, responder.default_lang)
            try:
                await application.bot.send_message(status.started_by, text)
            except Exception:  # the report is a courtesy; the broadcast itself is done
                log.warning("could not send the broadcast report", exc_info=True)
        return report

    task = application.create_task(send_and_report(), name=f"broadcast {alert_id}")
    application.bot_data.setdefault(TASKS, []).append(task)
    return task


async def resume_broadcasts(application: Application) -> None:
    """After a restart (or a crash), finish every broadcast that was still sending. With a
    shared database, keep looking: a broadcast another replica started is sent by this one
    too."""
    for alert_id in await asyncio.to_thread(application.bot_data[OUTBOX].unfinished):
        log.info("resuming broadcast %s", alert_id)
        start_sending(application, alert_id)
    if _shared(application):
        application.bot_data[WATCHER] = asyncio.create_task(
            _join_broadcasts(application), name="broadcast-watcher"
        )


async def _join_broadcasts(application: Application) -> None:
    outbox: Outbox = application.bot_data[OUTBOX]
    while True:
        await asyncio.sleep(WATCH_EVERY)
        try:
            for alert_id in await asyncio.to_thread(outbox.unfinished):
                if start_sending(application, alert_id) is not None:
                    log.info("sending broadcast %s with the other replicas", alert_id)
        except Exception:  # the database away for a moment: look again next time
            log.warning("could not look for broadcasts to join", exc_info=True)


def request_stop(application: Application) -> None:
    """Tell every sender here to stop after the messages in flight (a graceful stop), and
    join no more broadcasts."""
    application.bot_data.setdefault(STOP, asyncio.Event()).set()
    watcher: asyncio.Task | None = application.bot_data.get(WATCHER)
    if watcher is not None:
        watcher.cancel()


async def stop_sending(application: Application) -> None:
    """A graceful stop (SIGTERM): messages in flight are finished and marked, the rows this
    process claimed are given back at once for the other replicas (or the next start)."""
    data = application.bot_data
    request_stop(application)
    watcher: asyncio.Task | None = data.pop(WATCHER, None)
    if watcher is not None:
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
    tasks = [t for t in data.get(TASKS, []) if not t.done()]
    if tasks:
        await asyncio.wait(tasks, timeout=STOP_WITHIN)
