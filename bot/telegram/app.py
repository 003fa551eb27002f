"""Build the python-telegram-bot Application: every handler is registered here, in one place."""

from __future__ import annotations

import asyncio
import logging

from telegram import BotCommand, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.broadcast.outbox import Outbox
from bot.config import Settings
from bot.content.model import LANGUAGES
from bot.core.responder import Responder
from bot.models.ocr import available as ocr_available
from bot.store.campaigns import SqliteCampaignStore
from bot.store.conversations import SqliteConversationStore, SqliteFeedbackStore
from bot.store.database import Database
from bot.store.group_guard import SqliteGuardStore
from bot.store.insights import SqliteInsightsStore
from bot.store.preferences import SqlitePreferenceStore
from bot.store.reports import SqliteReportStore
from bot.store.subscriptions import SqliteSubscriptionStore
from bot.store.suggestions import SqliteSuggestionStore
from bot.telegram import (
    admin,
    broadcasts,
    campaigns,
    delivery,
    flow,
    handlers,
    insights,
    reload,
    reports,
    review,
    scam_guard,
    screenshots,
    subscriptions,
    suggestions,
)
from bot.workers.ocr import OcrWorker

log = logging.getLogger(__name__)
_OWN_OCR = "ocr_worker_owned"  # bot_data key: the worker build_application made, to close

COMMANDS = ("start", "help", "tips", "stats", "lang")
CHECK_COMMANDS = ("check",)
REPORT_COMMANDS = ("report", "myreports", "cancel")
SUBSCRIPTION_COMMANDS = ("subscribe", "unsubscribe", "mysettings", "forget")
SUGGESTION_COMMANDS = ("suggest", "mysuggestions")


async def _on_start_up(application: Application) -> None:
    # Telegram's command menu, per the resident's app language; /broadcast is left out:
    # residents need not see it, and administrators know it.
    responder = application.bot_data[handlers.RESPONDER]
    names = COMMANDS + CHECK_COMMANDS + REPORT_COMMANDS + SUBSCRIPTION_COMMANDS
    if application.bot_data[admin.SETTINGS].suggestions_chat is not None:
        names += SUGGESTION_COMMANDS

    def menu(lang: str) -> list[BotCommand]:
        return [BotCommand(name, responder.ui(f"command_{name}", lang)) for name in names]

    for lang in LANGUAGES:
        await application.bot.set_my_commands(menu(lang), language_code=lang)
    await application.bot.set_my_commands(menu(responder.default_lang))
    await broadcasts.resume_broadcasts(application)
    for queue in (review.DELIVERY, suggestions.DELIVERY):  # queued before a restart: go now
        await delivery.start_delivery(application, queue)
    reload.reload_on_sighup(application)


async def _on_stop(application: Application) -> None:
    await broadcasts.stop_sending(application)
    for queue in (review.DELIVERY, suggestions.DELIVERY):
        await delivery.stop_delivery(application, queue)
    worker = application.bot_data.get(_OWN_OCR)
    if worker is not None:
        await asyncio.to_thread(worker.close)


def _ocr_worker(settings: Settings) -> OcrWorker | None:
    """The screenshot reader, unless it is off or not installed (said once, in the log)."""
    if not settings.ocr:
        log.info("image checking is off (ANTIFRAUD_OCR=off): photos get the text-only hint")
        return None
    missing = ocr_available()
    if missing is not None:
        log.warning("image checking is unavailable (%s): photos get the text-only hint", missing)
        return None
    return OcrWorker(timeout=settings.ocr_timeout, queue_size=settings.ocr_queue)


def build_application(
    settings: Settings,
    responder: Responder,
    database: Database,
    request: BaseRequest | None = None,
    ocr_worker: OcrWorker | None = None,
) -> Application:
    """The whole bot. `request` replaces the HTTP transport (the fake Bot API in tests);
    `ocr_worker` one shared screenshot reader (tests), which the application then leaves
    running when it stops."""
    if not settings.token:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    builder = (
        ApplicationBuilder()
        .token(settings.token)
        .base_url(settings.base_url)
        .post_init(_on_start_up)
        .post_stop(_on_stop)
        .concurrent_updates(flow.PerChatUpdateProcessor())
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    application = builder.build()
    report_store = SqliteReportStore(database)
    if ocr_worker is None:
        ocr_worker = application.bot_data[_OWN_OCR] = _ocr_worker(settings)
    if ocr_worker is not None and settings.ocr:
        application.bot_data[screenshots.OCR] = ocr_worker
    if settings.review_chat is not None:
        application.bot_data[review.DELIVERY] = review.ReviewDelivery(
            application, report_store, settings.review_chat
        )
    suggestion_store = SqliteSuggestionStore(database)
    if settings.suggestions_chat is not None:
        application.bot_data[suggestions.DELIVERY] = suggestions.SuggestionDelivery(
            application, suggestion_store, settings.suggestions_chat
        )
    application.bot_data.update(
        {
            handlers.RESPONDER: responder,
            handlers.STORE: SqlitePreferenceStore(database),
            handlers.CONVERSATIONS: SqliteConversationStore(database),
            handlers.FEEDBACK: SqliteFeedbackStore(database),
            subscriptions.SUBSCRIPTIONS: SqliteSubscriptionStore(database),
            broadcasts.OUTBOX: Outbox(database),
            admin.SETTINGS: settings,
            scam_guard.GUARD: SqliteGuardStore(database),
            scam_guard.WARNED: scam_guard.WarnedMessages(),
            flow.FLOOD_GUARD: flow.FloodGuard(settings.flood_messages, settings.flood_window),
            handlers.INSIGHTS: SqliteInsightsStore(database, settings.insights_days),
            review.REPORTS: report_store,
            campaigns.CAMPAIGNS: SqliteCampaignStore(database, settings.insights_days),
            suggestions.SUGGESTIONS: suggestion_store,
            handlers.PASTE_CHECK: (scam_guard.looks_received, scam_guard.reply_with_check),
            # Intents that act rather than answer: "我要订阅" subscribes, "怎么举报" starts one.
            handlers.INTENT_ACTIONS: {
                "bot.subscribe": subscriptions.subscribe,
                "bot.unsubscribe": subscriptions.confirm_unsubscribe,  # asks first
                "helmet.report": reports.on_report_question,
                suggestions.PETITION: suggestions.on_petition,  # with "write a suggestion"
            },
        }
    )
    edited = filters.UpdateType.EDITED
    # Filters whose answer is in the database: on_any_update looks them up, in a thread.
    open_report = reports.OpenReport(report_store)
    waiting = suggestions.WaitingForSuggestion(suggestion_store)
    answer = None
    if settings.suggestions_chat is not None:
        answer = suggestions.ReplyToSuggestion(suggestion_store, settings.suggestions_chat)
    prepared = (open_report, waiting) if answer is None else (open_report, waiting, answer)
    application.bot_data[flow.PREPARED] = prepared

    application.add_handler(TypeHandler(Update, flow.on_any_update), group=-1)
    # A resident asked for a suggestion who sends another command or presses another button
    # has moved on (before everything else, then the update goes on as usual).
    commands, buttons = suggestions.MOVING_ON
    application.add_handler(MessageHandler(commands, suggestions.on_moving_on), group=-2)
    application.add_handler(
        CallbackQueryHandler(suggestions.on_moving_on, pattern=buttons), group=-2
    )
    # First: a resident writing a report is answering its questions, not asking ours.
    application.add_handler(
        MessageHandler(open_report & ~filters.COMMAND & ~edited, reports.on_report_message)
    )
    # Then a resident the bot asked for a suggestion; an officer answering one.
    application.add_handler(
        MessageHandler(waiting & ~filters.COMMAND & ~edited, suggestions.on_suggestion_message)
    )
    if answer is not None:
        application.add_handler(
            MessageHandler(answer & ~filters.COMMAND & ~edited, suggestions.on_officer_reply)
        )
    application.add_handler(CommandHandler("suggest", suggestions.on_suggest))
    application.add_handler(CommandHandler("mysuggestions", suggestions.on_mysuggestions))
    application.add_handler(CommandHandler("cancel", suggestions.on_cancel, filters=waiting))
    application.add_handler(CommandHandler("report", reports.on_report))
    application.add_handler(CommandHandler("cancel", reports.on_cancel))
    application.add_handler(CommandHandler("myreports", reports.on_myreports))
    application.add_handler(CommandHandler("pending", review.on_pending))
    # /start <code> from a campaign's link; a bare /start is one of the COMMANDS below.
    application.add_handler(CommandHandler("start", campaigns.on_start_with_code, has_args=True))
    application.add_handler(CommandHandler(list(COMMANDS), handlers.on_command))
    application.add_handler(CommandHandler("subscribe", subscriptions.on_subscribe))
    application.add_handler(CommandHandler("unsubscribe", subscriptions.on_unsubscribe))
    application.add_handler(CommandHandler("mysettings", subscriptions.on_mysettings))
    application.add_handler(CommandHandler("forget", subscriptions.on_forget))
    application.add_handler(CommandHandler("broadcast", broadcasts.on_broadcast))
    application.add_handler(CommandHandler("check", scam_guard.on_check))
    application.add_handler(CommandHandler("guard", scam_guard.on_guard))
    application.add_handler(CommandHandler("reload", reload.on_reload))
    application.add_handler(CommandHandler("insights", insights.on_insights))
    # Last of the commands: one no handler above took gets a hint instead of silence.
    application.add_handler(MessageHandler(filters.COMMAND & ~edited, handlers.on_unknown_command))
    application.add_handler(
        CallbackQueryHandler(subscriptions.on_subscription_button, pattern=r"^sub:")
    )
    application.add_handler(CallbackQueryHandler(broadcasts.on_broadcast_button, pattern=r"^bc:"))
    application.add_handler(CallbackQueryHandler(reports.on_report_button, pattern=r"^report:"))
    application.add_handler(CallbackQueryHandler(review.on_review_button, pattern=r"^review:"))
    application.add_handler(
        CallbackQueryHandler(suggestions.on_suggestion_button, pattern=r"^sugg:")
    )
    application.add_handler(CallbackQueryHandler(handlers.on_feedback_button, pattern=r"^fb:"))
    application.add_handler(CallbackQueryHandler(handlers.on_button))
    application.add_handler(
        MessageHandler(
            filters.FORWARDED & filters.ChatType.PRIVATE & ~edited, scam_guard.on_forward
        )
    )
    application.add_handler(
        MessageHandler(
            screenshots.PICTURES & filters.ChatType.PRIVATE & ~edited, screenshots.on_picture
        )
    )
    application.add_handler(
        MessageHandler(filters.TEXT & ~filters.COMMAND & ~edited, handlers.on_text)
    )
    application.add_handler(
        MessageHandler(~filters.TEXT & ~filters.StatusUpdate.ALL & ~edited, handlers.on_non_text)
    )
    # A second handler group: the guard reads every group message, whatever group 0 did, and
    # edits too: a harmless message can be edited into a scam after the fact.
    application.add_handler(
        MessageHandler(
            (filters.TEXT | filters.CAPTION | screenshots.PICTURES)
            & filters.ChatType.GROUPS
            & ~filters.COMMAND,
            scam_guard.on_group_message,
        ),
        group=1,
    )
    application.add_error_handler(handlers.on_error)
    return application
