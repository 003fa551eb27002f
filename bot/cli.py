"""`antifraud-bot`: run on Telegram, chat offline, match questions, validate content."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TextIO

from bot.config import ConfigError, Settings
from bot.content.reader import ContentError, InvalidContent
from bot.core.command_replies import lang_command
from bot.core.conversation import ConversationState
from bot.core.responder import Responder
from bot.core.types import Reply, Turn
from bot.numbers import ascii_whole_number
from bot.startup import load_responder
from bot.store.insights import MAX_SUMMARY_DAYS

if TYPE_CHECKING:  # imported lazily at run time: `chat` and `match` need no Telegram stack
    from telegram.request import BaseRequest

    from bot.broadcast.sender import BroadcastReport
    from bot.models.ocr import RapidTextReader
    from bot.store.database import Database

log = logging.getLogger(__name__)


# -- match ---------------------------------------------------------------------------------


def _match_result(responder: Responder, text: str, lang: str | None) -> dict[str, object]:
    result = responder.match(text, lang)
    return {
        "intent": result.intent,
        "score": result.score,
        "runner_up": result.runner_up,
        "choices": list(result.choices),
        "lang": result.lang,
        "stage": result.stage,
        "semantic_score": result.semantic_score,
    }


def _jsonl_text(line: str) -> str | None:
    """The "text" string of one --jsonl line, or None if the line is anything else."""
    try:
        value = json.loads(line)
    except ValueError:
        return None
    text = value.get("text") if isinstance(value, dict) else None
    return text if isinstance(text, str) else None


def _answer_texts(
    args: argparse.Namespace,
    out: TextIO,
    inp: TextIO,
    name: str,
    answer: Callable[[str], dict[str, object]],
    plain: Callable[[str], str],
) -> int:
    """TEXT as plain text or --json, or --jsonl: one {"text": ...} per input line, one JSON
    result per output line, so authors can run a whole file of messages at once."""
    if args.jsonl:
        for number, line in enumerate(inp, 1):
            if not line.strip():
                continue
            text = _jsonl_text(line)
            if text is None:
                print(
                    f'stdin:{number}: expected a JSON object like {{"text": "..."}} '
                    "with the message as a string",
                    file=sys.stderr,
                )
                return 2
            print(json.dumps(answer(text), ensure_ascii=False), file=out)
        return 0
    if not args.text:
        print(f"{name}: give a TEXT, or --jsonl to read lines from standard input", file=sys.stderr)
        return 2
    text = " ".join(args.text)
    print(json.dumps(answer(text), ensure_ascii=False) if args.json else plain(text), file=out)
    return 0


def cmd_match(args: argparse.Namespace, responder: Responder, out: TextIO, inp: TextIO) -> int:
    def plain(text: str) -> str:
        result = responder.match(text, args.lang)
        if result.choices:
            return f"did you mean: {', '.join(result.choices)}  score={result.score}"
        return f"{result.intent or 'fallback'}  score={result.score}"

    return _answer_texts(
        args, out, inp, "match", lambda text: _match_result(responder, text, args.lang), plain
    )


# -- chat ----------------------------------------------------------------------------------


def _print_reply(reply: Reply, out: TextIO) -> None:
    print(reply.text, file=out)
    for number, button in enumerate(reply.buttons, 1):
        print(f"  [{number}] {button.label}", file=out)


def cmd_chat(args: argparse.Namespace, responder: Responder, out: TextIO, inp: TextIO) -> int:
    """An offline conversation through the same core and the same replies as on Telegram."""
    lang = args.lang or responder.default_lang
    interactive = inp.isatty()
    print(
        "Offline chat. Type a question, a button number, /start, /lang zh|en, or /quit.", file=out
    )
    reply = responder.command("start", lang) or responder.fallback(lang)
    _print_reply(reply, out)
    conversation = ConversationState()
    while True:
        if interactive:
            print("> ", end="", file=out, flush=True)
        line = inp.readline()
        if not line:
            return 0
        text = line.strip()
        if not text:
            continue
        if text in ("/quit", "/exit"):
            return 0
        next_reply: Reply | None
        button = ascii_whole_number(text)
        command = text[1:].split()[:1] if text.startswith("/") else []
        if button is not None and 1 <= button <= len(reply.buttons):
            action = reply.buttons[button - 1].action
            if action.startswith("lang:"):
                lang = action.partition(":")[2]
            next_reply = responder.press(action, lang)
        elif command and command[0].lower() == "lang" and len(text.split()) > 1:
            chosen, next_reply = lang_command(responder, text.split(maxsplit=1)[1], lang)
            lang = chosen or lang
        elif command:  # a lone "/" is no command, on Telegram neither: it is just text
            next_reply = responder.command(command[0].lower(), lang)
            if next_reply is None:  # /subscribe, /report...: they keep data, on Telegram
                next_reply = responder.notice("telegram_only", lang, with_menu=True)
        else:  # read in the light of the conversation so far, as on Telegram
            exchange = responder.converse(conversation, Turn(text, lang_hint=lang), time.time())
            next_reply, conversation = exchange.reply, exchange.state
        if next_reply is None:
            next_reply = responder.fallback(lang)
        reply = next_reply
        print(file=out)
        _print_reply(reply, out)


# -- check ---------------------------------------------------------------------------------


def cmd_check(args: argparse.Namespace, responder: Responder, out: TextIO, inp: TextIO) -> int:
    """Rate messages for scam risk: the verdict as the bot words it, or JSON."""
    from bot.core.check_replies import check_reply

    lang = args.lang or responder.default_lang
    if args.image:
        return cmd_check_images(args, responder, out, lang)
    return _answer_texts(
        args,
        out,
        inp,
        "check",
        lambda text: responder.checker.check(text).as_json(),
        lambda text: check_reply(responder, responder.checker.check(text), lang).text,
    )


def cmd_check_images(args: argparse.Namespace, responder: Responder, out: TextIO, lang: str) -> int:
    """`check --image FILE...`: each screenshot read and rated as on Telegram, the model
    loaded once; 1 when a file could not be read (missing, not a picture, too big)."""
    from bot.models.ocr import RapidTextReader

    if args.text:
        print("check: give TEXT or --image FILE..., not both", file=sys.stderr)
        return 2
    settings, reader = Settings.from_env(), RapidTextReader()
    results = [_image_result(path, reader, responder, settings) for path in args.image]
    if args.json:
        print(json.dumps([r for r, _ in results], ensure_ascii=False), file=out)
    for result, reply in results:
        if args.jsonl:
            print(json.dumps(result, ensure_ascii=False), file=out)
        elif not args.json:
            print(f"== {result['file']}", file=out)
            print(reply(lang) if reply else result["error"], file=out)
    return 1 if any(r.get("error") not in (None, "no text found") for r, _ in results) else 0


def _image_result(
    path: str, reader: RapidTextReader, responder: Responder, settings: Settings
) -> tuple[dict[str, object], Callable[[str], str] | None]:
    """One file's JSON result and, when it was read, how to word its verdict."""
    from pathlib import Path

    from bot.core.image_replies import image_check_reply
    from bot.models.ocr import NotAnImage, image_size

    result: dict[str, object] = {"file": path, "text": "", "risk": None, "type": None, "flags": []}
    try:
        image = Path(path).read_bytes()
        if len(image) > settings.ocr_max_mb * 1024 * 1024:
            return {**result, "error": f"larger than {settings.ocr_max_mb} MB"}, None
        if image_size(image).pixels > settings.ocr_max_megapixels * 1_000_000:
            return {**result, "error": f"over {settings.ocr_max_megapixels} megapixels"}, None
        text = reader.read_text(image)
    except OSError as exc:
        return {**result, "error": exc.strerror or type(exc).__name__}, None
    except NotAnImage:
        return {**result, "error": "not a picture this bot can open"}, None
    if not text.strip():
        return {**result, "error": "no text found"}, None
    check = responder.checker.check(text)
    return {
        **result,
        "text": text,
        **check.as_json(),
    }, lambda lang: image_check_reply(responder, check, text, lang).text


# -- converse ------------------------------------------------------------------------------


def cmd_converse(args: argparse.Namespace, responder: Responder, out: TextIO) -> int:
    """Play conversation scripts; print each result and a summary; non-zero on any failure."""
    from pathlib import Path

    from bot.authoring.runner import run_scripts
    from bot.authoring.script import ScriptError, find_scripts

    paths = [Path(p) for p in args.paths]
    missing = [p for p in paths if not p.exists()]
    if missing or not find_scripts(paths):
        print(
            f"converse: no scripts found in {', '.join(map(str, missing or paths))}",
            file=sys.stderr,
        )
        return 2
    passed = failed = 0
    for result in run_scripts(paths, responder):
        if isinstance(result, ScriptError):
            failed += 1
            print(f"ERROR {result}", file=out)
            continue
        passed += result.passed
        failed += not result.passed
        if not result.passed or args.verbose:
            print(result.describe(), file=out)
    print(f"{passed} passed, {failed} failed", file=out)
    return 0 if failed == 0 else 1


# -- broadcast -----------------------------------------------------------------------------


async def send_alert(
    settings: Settings, database: Database, alert_id: str, request: BaseRequest | None = None
) -> BroadcastReport:
    """Send what is pending for an alert, through TELEGRAM_BASE_URL like the bot."""
    from telegram import Bot

    from bot.broadcast.outbox import Outbox
    from bot.broadcast.sender import BroadcastSender
    from bot.store.subscriptions import SqliteSubscriptionStore

    bot = Bot(settings.token or "", base_url=settings.base_url, request=request)
    async with bot:
        sender = BroadcastSender(
            bot,
            Outbox(database),
            SqliteSubscriptionStore(database),
            rate=settings.broadcast_rate,
        )
        return await sender.run(alert_id)


def cmd_broadcast(
    args: argparse.Namespace,
    settings: Settings,
    responder: Responder,
    out: TextIO,
    request: BaseRequest | None = None,
) -> int:
    import asyncio
    from pathlib import Path

    from bot.broadcast.alerts import AlertError, load_alert
    from bot.broadcast.outbox import Outbox
    from bot.store.database import Database

    try:
        content = responder.content
        alert = load_alert(Path(args.alert), set(content.areas), set(content.audiences))
    except AlertError as exc:
        print(exc, file=sys.stderr)
        return 1
    if alert.expired():
        print(f"alert {alert.id} expired at {alert.expires}; nothing sent", file=sys.stderr)
        return 1
    database = Database(settings.db_path, create=not args.dry_run)  # a dry run only reads
    outbox = Outbox(database)
    if args.dry_run:
        print(
            f"alert {alert.id}: {outbox.audience_size(alert)} subscriber(s) would get it", file=out
        )
        from bot.telegram.broadcasts import audience_lines

        if groups := audience_lines(responder, outbox, alert, "en"):
            print(groups, file=out)
        print(f"--- zh ---\n{alert.render('zh')}\n--- en ---\n{alert.render('en')}", file=out)
        return 0
    if not settings.token:
        print("TELEGRAM_BOT_TOKEN is not set", file=sys.stderr)
        return 2
    _configure_logging(settings)
    queued = outbox.enqueue(alert)
    if queued is None:
        print(f"alert {alert.id} was queued before: finishing what is still pending", file=out)
    else:
        print(f"alert {alert.id}: queued for {queued} subscriber(s)", file=out)
    report = asyncio.run(send_alert(settings, database, alert.id, request))
    from bot.telegram.broadcasts import report_text

    print(report_text(responder, report, "en"), file=out)
    return 0


def cmd_insights(
    args: argparse.Namespace, settings: Settings, responder: Responder, out: TextIO
) -> int:
    from dataclasses import replace

    from bot.core.insight_replies import insights_text
    from bot.store.campaigns import SqliteCampaignStore
    from bot.store.database import Database
    from bot.store.insights import SqliteInsightsStore

    database = Database(settings.db_path, create=False)
    store = SqliteInsightsStore(database, settings.insights_days)
    summary = store.summary(args.days, top=args.top)
    visits = SqliteCampaignStore(database, settings.insights_days).summary(args.days)
    summary = replace(summary, campaigns=visits)
    print(insights_text(responder, summary, args.lang or responder.default_lang), file=out)
    return 0


def campaign_link(username: str, code: str) -> str:
    """The Telegram deep link that opens the bot with the campaign's code."""
    return f"https://t.me/{username}?start={code}"


def cmd_campaign_link(
    args: argparse.Namespace, settings: Settings, responder: Responder, out: TextIO
) -> int:
    """Print a campaign's link and write its QR code as a PNG, for print materials."""
    from pathlib import Path

    import segno

    campaigns = responder.content.campaigns
    campaign = campaigns.get(args.code)
    if campaign is None:
        known = ", ".join(campaigns) or "none (content/campaigns.yaml defines them)"
        print(f"unknown campaign {args.code!r}; known: {known}", file=sys.stderr)
        return 2
    username = args.bot or settings.bot_username
    if not username:
        print(
            "ANTIFRAUD_BOT_USERNAME is not set: set it to the bot's Telegram username "
            "(or pass --bot)",
            file=sys.stderr,
        )
        return 2
    link = campaign_link(username, campaign.code)
    target = Path(args.out or f"{campaign.code}.png")
    qr = segno.make(link, error="m")  # M: about 15% of the code may be damaged or dirty
    try:
        qr.save(target, kind="png", scale=args.scale, border=4)
    except OSError as exc:
        print(f"cannot write {str(target)!r}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    size = (qr.symbol_size(scale=args.scale, border=4))[0]
    print(link, file=out)
    print(
        f"{campaign.name['en']} ({campaign.county}): QR code written to {target} "
        f"({size}x{size} px)",
        file=out,
    )
    return 0


def cmd_broadcast_status(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from bot.broadcast.outbox import Outbox
    from bot.store.database import Database

    status = Outbox(Database(settings.db_path, create=False)).status(args.alert_id)
    if status is None:
        print(f"no broadcast {args.alert_id!r}", file=sys.stderr)
        return 1
    counts = ", ".join(f"{k} {v}" for k, v in status.counts.items())
    print(f"{status.alert_id}: {status.status}; {status.total} queued: {counts}", file=out)
    return 0


def cmd_reports(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    """The report queue for an operator: references, kinds and states, no personal details."""
    from bot.core.report_flow import china_time
    from bot.store.database import Database
    from bot.store.reports import SqliteReportStore

    store = SqliteReportStore(Database(settings.db_path, create=False))
    queued = store.undelivered()
    oldest = ""
    if queued:
        oldest = f" (oldest {queued[0].reference}, {china_time(queued[0].created_at, True)})"
    print(f"waiting for the review chat: {len(queued)}{oldest}", file=out)
    if refused := store.refused():  # never to go out: Telegram refused them, or a bug
        first = f"{refused[0].reference}, {china_time(refused[0].created_at, True)}"
        print(f"set aside for good: {len(refused)} (oldest {first}; the log says why)", file=out)
    for report in store.recent(args.last):
        when = china_time(report.created_at, with_date=True)
        print(
            f"{report.reference}  {report.kind:<7} {when}  {report.status:<9} {report.delivery}",
            file=out,
        )
    return 0


# -- validate ------------------------------------------------------------------------------


def cmd_validate(settings: Settings, out: TextIO) -> int:
    warnings: list[ContentError] = []
    try:
        responder = load_responder(settings, warnings)
    except InvalidContent as exc:
        for error in exc.errors:
            print(error, file=sys.stderr)
        print(f"{len(exc.errors)} problem(s) found", file=sys.stderr)
        return 1
    content = responder.content
    for warning in warnings:
        print(warning, file=sys.stderr)
    stage = "lexical and semantic" if responder.matcher.semantic else "lexical only"
    print(
        f"OK: {len(content.intents)} intents, {len(content.declines)} groups of near misses "
        f"to decline, {len(content.replies)} replies, "
        f"{len(content.figures)} figures, {len(content.menus)} menus; matching: {stage}"
        + (f"; {len(warnings)} warning(s)" if warnings else ""),
        file=out,
    )
    return 0


# -- db copy -------------------------------------------------------------------------------


def cmd_db_copy(args: argparse.Namespace, out: TextIO) -> int:
    """SQLite file → PostgreSQL, for a county moving to several replicas. Exit 2 when the
    copy cannot start (no such file, not a PostgreSQL URL, a target already in use)."""
    from bot.store.copy import CopyRefused, copy_database
    from bot.store.database import Database, is_postgres

    if is_postgres(args.source) or not is_postgres(args.target):
        print("db copy: --from is an SQLite file, --to a postgresql:// URL", file=sys.stderr)
        return 2
    source = Database(args.source, create=False)
    target = Database(args.target)
    try:
        counts = copy_database(source, target, say=lambda line: print(line, file=out))
    except CopyRefused as refused:
        print(f"db copy refused: {refused}", file=sys.stderr)
        return 2
    finally:
        source.close()
        target.close()
    print(f"copied {sum(counts.values())} rows in {len(counts)} tables", file=out)
    return 0


# -- run -----------------------------------------------------------------------------------


def cmd_run(settings: Settings, responder: Responder) -> int:
    from bot.store.database import Database
    from bot.telegram.app import build_application

    if not settings.token:
        print(
            "TELEGRAM_BOT_TOKEN is not set: get a token from @BotFather and export it.",
            file=sys.stderr,
        )
        return 2
    _configure_logging(settings)
    for warning in settings.warnings():
        log.warning("%s", warning)
    database = Database(settings.db_path)
    if database.readable_by_others():
        log.warning(
            "ANTIFRAUD_DB=%r can be read by other users of this machine; it holds residents' "
            "reports: chmod 600 it (and its -wal and -shm files)",
            settings.db_path,
        )
    application = build_application(settings, responder, database)
    if settings.webhook_url:
        from bot.telegram import webhook

        asyncio.run(webhook.serve(application, settings, database))
    else:
        application.run_polling()
    database.close()
    return 0


def _bounded(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number in ASCII digits from low to high; argparse turns the
    ArgumentTypeError into "argument --days: ..." and exit code 2."""

    def whole_number(text: str) -> int:
        number = ascii_whole_number(text)
        if number is None or not low <= number <= high:
            raise argparse.ArgumentTypeError(
                f"must be a whole number from {low} to {high}, not {text!r}"
            )
        return number

    return whole_number


def _bot_username(text: str) -> str:
    """An argparse type: a Telegram bot username, with or without its @."""
    from bot.config import BOT_USERNAME

    name = text.removeprefix("@")
    if not BOT_USERNAME.fullmatch(name) or not name.lower().endswith("bot"):
        raise argparse.ArgumentTypeError(
            f"must be a bot's username (5-32 letters, digits or _, ending in 'bot'), not {text!r}"
        )
    return name


def _text_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("text", nargs="*")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--jsonl", action="store_true", help='read {"text": ...} lines from standard input'
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="antifraud-bot", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the bot on Telegram (needs TELEGRAM_BOT_TOKEN)")
    chat = sub.add_parser("chat", help="talk to the bot offline in this terminal (default)")
    chat.add_argument("--lang", choices=["zh", "en"])
    match = sub.add_parser("match", help="show which intent a question matches")
    _text_arguments(match)
    match.add_argument("--lang", choices=["zh", "en"], help="language hint for textless input")
    sub.add_parser("validate", help="load and check all intents and content")
    check = sub.add_parser("check", help="is this message a scam? red flags and risk")
    _text_arguments(check)
    check.add_argument("--lang", choices=["zh", "en"], help="language of the verdict")
    check.add_argument(
        "--image", nargs="+", metavar="FILE", help="screenshots to read and rate, in order"
    )
    broadcast = sub.add_parser("broadcast", help="send an alert file to its subscribers")
    broadcast.add_argument("alert", help="the alert's YAML file")
    broadcast.add_argument(
        "--dry-run", action="store_true", help="show the audience size and the texts; send nothing"
    )
    insights = sub.add_parser("insights", help="unanswered questions and busiest topics")
    insights.add_argument(
        "--days",
        type=_bounded(1, MAX_SUMMARY_DAYS),
        default=30,
        help=f"look back this many days (1-{MAX_SUMMARY_DAYS})",
    )
    insights.add_argument("--top", type=_bounded(1, 1000), default=10, help="rows per list")
    insights.add_argument("--lang", choices=["zh", "en"])
    link = sub.add_parser(
        "campaign-link", help="a campaign's deep link and its QR code as a PNG, for print"
    )
    link.add_argument("code", help="a campaign code from content/campaigns.yaml")
    link.add_argument(
        "--bot", type=_bot_username, help="the bot's username (or ANTIFRAUD_BOT_USERNAME)"
    )
    link.add_argument("--out", help="the PNG file to write (default: CODE.png)")
    link.add_argument(
        "--scale", type=_bounded(1, 100), default=10, help="pixels per QR module (default 10)"
    )
    status = sub.add_parser("broadcast-status", help="progress of a broadcast")
    status.add_argument("alert_id")
    reports = sub.add_parser("reports", help="citizen reports: the review queue and states")
    reports.add_argument(
        "--last", type=_bounded(0, 10_000), default=20, help="list this many recent reports"
    )
    db = sub.add_parser("db", help="the database: copy an SQLite file into PostgreSQL")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    copy = db_sub.add_parser("copy", help="copy every row of an SQLite file into PostgreSQL")
    copy.add_argument("--from", dest="source", required=True, help="the SQLite file")
    copy.add_argument("--to", dest="target", required=True, help="a postgresql:// URL")
    converse = sub.add_parser("converse", help="play conversation scripts (files or folders)")
    converse.add_argument("paths", nargs="+")
    converse.add_argument("-v", "--verbose", action="store_true", help="list passing scripts too")
    return parser


def _configure_logging(settings: Settings) -> None:
    """The redacting log, without tracebacks of a rejected token: python-telegram-bot logs one
    before raising it, and main() then says in one line what to do."""
    from telegram.error import InvalidToken

    from bot.privacy import configure_logging

    configure_logging(settings.log_level, _secrets(), quiet_exceptions=(InvalidToken,))


def _secrets() -> list[str]:
    """What must never be printed, read from the environment so that even an error before
    (or while) the settings are read is redacted."""
    names = ("TELEGRAM_BOT_TOKEN", "ANTIFRAUD_WEBHOOK_SECRET")
    secrets = [value for name in names if (value := os.environ.get(name, "").strip())]
    database = os.environ.get("ANTIFRAUD_DB", "")
    if "://" in database:  # a PostgreSQL URL may carry a password
        from urllib.parse import unquote, urlsplit

        with contextlib.suppress(ValueError):
            if password := urlsplit(database).password:
                secrets += [password, unquote(password)]
    return secrets


def _dispatch(
    args: argparse.Namespace, out: TextIO, inp: TextIO, request: BaseRequest | None
) -> int:
    command = args.command or "chat"
    settings = Settings.from_env()
    if command == "validate":
        return cmd_validate(settings, out)
    if command == "broadcast-status":
        return cmd_broadcast_status(args, settings, out)
    if command == "db":
        return cmd_db_copy(args, out)
    if command == "reports":
        return cmd_reports(args, settings, out)
    if command == "run":  # before loading: a cold start says in the log what takes so long
        from bot.privacy import configure_logging

        configure_logging(settings.log_level, [settings.token] if settings.token else [])
    try:
        responder = load_responder(settings)
    except InvalidContent as exc:
        print("The content is invalid; fix these and try again:", file=sys.stderr)
        for error in exc.errors:
            print(f"  {error}", file=sys.stderr)
        return 1
    if command == "match":
        return cmd_match(args, responder, out, inp)
    if command == "run":
        return cmd_run(settings, responder)
    if command == "converse":
        return cmd_converse(args, responder, out)
    if command == "check":
        return cmd_check(args, responder, out, inp)
    if command == "insights":
        return cmd_insights(args, settings, responder, out)
    if command == "campaign-link":
        return cmd_campaign_link(args, settings, responder, out)
    if command == "broadcast":
        return cmd_broadcast(args, settings, responder, out, request)
    if not hasattr(args, "lang"):
        args.lang = None
    return cmd_chat(args, responder, out, inp)


def _report_failure(exc: Exception) -> int:
    """One line an operator can act on, and its exit code: 2 for what the operator can fix
    in the configuration, 1 for a fault of the bot (its traceback logged, redacted)."""
    from telegram.error import InvalidToken

    from bot.privacy import Redactor, configure_logging
    from bot.store.database import DatabaseUnusable

    if isinstance(exc, InvalidToken):  # its text holds the token: never print it
        print("the Bot API rejected the token; check TELEGRAM_BOT_TOKEN", file=sys.stderr)
        return 2
    if isinstance(exc, ConfigError):
        print(f"configuration error: {Redactor(_secrets())(str(exc))}", file=sys.stderr)
        return 2
    if isinstance(exc, DatabaseUnusable):
        print(f"ANTIFRAUD_DB={exc.path!r} cannot be used: {exc.reason}", file=sys.stderr)
        return 2
    redacted = Redactor(_secrets())(f"{type(exc).__name__}: {exc}")
    print(f"antifraud-bot stopped on an unexpected error: {redacted}", file=sys.stderr)
    if not any(getattr(h, "antifraud", False) for h in logging.getLogger().handlers):
        configure_logging("ERROR", _secrets())  # the command failed before setting it up
    log.error("the traceback, for a bug report", exc_info=exc)
    return 1


def main(
    argv: Sequence[str] | None = None,
    out: TextIO | None = None,
    inp: TextIO | None = None,
    request: BaseRequest | None = None,
) -> int:
    """The console script. `request` replaces the Bot API transport (tests only).

    Every exception that leaves a command ends here, so none reaches the terminal as a
    traceback with the token in it (python-telegram-bot's InvalidToken quotes the token).
    """
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args, out or sys.stdout, inp or sys.stdin, request)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the one place that turns any error into a line
        return _report_failure(exc)


if __name__ == "__main__":
    sys.exit(main())
