"""Webhook mode, the front door for several replicas behind a load balancer: a small ASGI app
(starlette, served by uvicorn) wrapping the Application, as python-telegram-bot's
customwebhookbot example does.

Chosen over PTB's built-in webhook server (tornado) because a load balancer needs a health
route, an update must be handled before it is answered (below), and a graceful stop needs an
order PTB's `run_webhook` does not give: on SIGTERM the HTTP server stops taking updates and
finishes the requests it has (each one an update handled to its end), then broadcasts stop
(messages in flight are marked, claimed outbox rows given back), then the tasks the handlers
started finish, then the usual stop hooks run.

* `POST /<last part of ANTIFRAUD_WEBHOOK_URL>`: an update, answered 200 once it is handled.
  Telegram resends an update it got no 2xx for, so a replica killed (-9) mid-update loses
  none: updates are handled at least once (a replica killed after its handler replied, but
  before the 200 left, has the update handled again by whichever replica gets it next). A
  handler that raised is still 200: PTB's error handler has logged it and told the
  resident, and a resend would fail the same way. The secret token header must match
  ANTIFRAUD_WEBHOOK_SECRET (compared in constant time), else 403; a body that is not an
  update is 400 and is logged without its content.
* `GET /healthz`: 200 while the database answers, else 503 (the balancer stops sending here).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import signal
from collections.abc import Iterator
from urllib.parse import urlsplit

from telegram import Update
from telegram.ext import Application

from bot.config import Settings
from bot.store.database import Database
from bot.telegram import broadcasts

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
HEALTH_PATH = "/healthz"


def url_path(webhook_url: str) -> str:
    """The route updates arrive at: the URL's path (a load balancer passes it on)."""
    return urlsplit(webhook_url).path.rstrip("/") or "/"


def asgi_app(application: Application, settings: Settings, database: Database):
    """The starlette app: the update route and the health route."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse, Response
    from starlette.routing import Route

    secret = (settings.webhook_secret or "").encode()

    async def on_update(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, secret):
            log.warning("refused a webhook call without the right secret token")
            return Response(status_code=403)
        try:
            data = json.loads(await request.body())
            update = Update.de_json(data, application.bot) if isinstance(data, dict) else None
        except Exception:  # not JSON, or not an update: say so, never crash
            update = None
        if update is None:
            log.warning("refused a webhook call whose body is not an update")
            return Response(status_code=400)
        # Through the update processor, as PTB's own update fetcher does: its limit on updates
        # at once and each chat's order (flow.PerChatUpdateProcessor) hold for webhooks too.
        await application.update_processor.process_update(
            update, application.process_update(update)
        )
        return Response()

    async def health(_: Request) -> Response:
        try:
            await asyncio.to_thread(database.execute, "SELECT 1")
        except Exception:
            log.warning("health check: the database does not answer", exc_info=True)
            return PlainTextResponse("database unreachable\n", status_code=503)
        return PlainTextResponse("ok\n")

    return Starlette(
        routes=[
            Route(url_path(settings.webhook_url or "/"), on_update, methods=["POST"]),
            Route(HEALTH_PATH, health, methods=["GET"]),
        ]
    )


async def serve(application: Application, settings: Settings, database: Database) -> None:
    """Run the bot in webhook mode until SIGTERM or SIGINT, then stop gracefully."""
    import uvicorn

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:  # ours, below: no re-raise at the end
            yield

    config = uvicorn.Config(
        asgi_app(application, settings, database),
        host=settings.webhook_listen,
        port=settings.webhook_port,
        log_level="warning",
        lifespan="off",
        access_log=False,
    )
    server = Server(config)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: setattr(server, "should_exit", True))
    async with application:  # initialize … shutdown
        if application.post_init:
            await application.post_init(application)
        await application.bot.set_webhook(
            url=settings.webhook_url or "",
            secret_token=settings.webhook_secret,
            allowed_updates=Update.ALL_TYPES,
        )
        await application.start()
        log.info("webhook mode: listening on %s:%d", settings.webhook_listen, settings.webhook_port)
        try:
            await server.serve()  # returns once the updates it took are handled and answered
        finally:
            broadcasts.request_stop(application)  # before stop(): it waits for the senders
            await application.stop()  # waits for the tasks handlers started
            if application.post_stop:
                await application.post_stop(application)
