"""A real HTTP server on 127.0.0.1 that answers like the Bot API, for tests that run the
bot in another process (TELEGRAM_BASE_URL points here). Records what the bot sends, and
serves updates pushed by the test through getUpdates, as Telegram does for long polling."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

from bot.authoring.fake_api import over_limit


class BotApiServer:
    def __init__(self, delay: float = 0.0, reject_token: bool = False) -> None:
        self.delay = delay
        self.reject_token = reject_token  # answer 401 Unauthorized to every method
        self.sent: list[int] = []  # chat ids, in the order messages were accepted
        self.sent_at: list[float] = []  # when each was accepted (time.monotonic)
        self.messages: list[tuple[str, dict]] = []  # every send* call: (method, params)
        self._updates: list[dict] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output clean
                return

            def do_POST(self) -> None:
                method = self.path.rsplit("/", 1)[-1]
                body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
                params = server._params(body, self.headers.get("Content-Type", ""))
                refusal = over_limit(method, params)  # Telegram's length limits
                if server.reject_token:
                    status = 401
                    answer = {"ok": False, "error_code": 401, "description": "Unauthorized"}
                elif refusal is not None:
                    status = 400
                    answer = {"ok": False, "error_code": 400, "description": refusal}
                else:
                    status = 200
                    answer = {"ok": True, "result": server._answer(method, params)}
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self._http.server_address[1]}/bot"
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)

    @staticmethod
    def _params(body: bytes, content_type: str) -> dict:
        if "json" in content_type:
            return json.loads(body or b"{}")
        return {k: v[0] for k, v in parse_qs(body.decode()).items()}

    def push(self, update: dict) -> None:
        """Queue an update for the bot's next getUpdates."""
        with self._lock:
            self._updates.append(update)

    def texts_to(self, chat_id: int) -> list[str]:
        with self._lock:
            calls = list(self.messages)
        return [
            str(p.get("text") or p.get("caption") or m)
            for m, p in calls
            if int(p.get("chat_id", 0)) == chat_id
        ]

    def _get_updates(self, params: dict) -> list[dict]:
        offset = int(params.get("offset") or 0)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 0.5)
        while True:
            with self._lock:
                # An offset confirms every update below it, as on Telegram.
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
                if self._updates or time.monotonic() >= deadline:
                    return list(self._updates)
            time.sleep(0.02)

    def _answer(self, method: str, params: dict) -> object:
        if method == "getMe":
            return {"id": 1, "is_bot": True, "first_name": "Test", "username": "test_bot"}
        if method == "getUpdates":
            return self._get_updates(params)
        if method.startswith("send"):
            if self.delay:
                time.sleep(self.delay)
            chat_id = int(params["chat_id"])
            with self._lock:
                self.sent.append(chat_id)
                self.sent_at.append(time.monotonic())
                self.messages.append((method, params))
                message_id = len(self.sent)
            message = {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
                "text": params.get("text", ""),
            }
            return [message] if method == "sendMediaGroup" else message
        return True

    def __enter__(self) -> BotApiServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.shutdown()
        self._http.server_close()
