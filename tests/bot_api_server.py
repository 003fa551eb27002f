"""A real HTTP server on 127.0.0.1 that answers like the Bot API, for tests that run the
bot in another process (TELEGRAM_BASE_URL points here). Records every sendMessage."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


class BotApiServer:
    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.sent: list[int] = []  # chat ids, in the order messages were accepted
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output clean
                return

            def do_POST(self) -> None:
                method = self.path.rsplit("/", 1)[-1]
                body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
                params = server._params(body, self.headers.get("Content-Type", ""))
                result = server._answer(method, params)
                payload = json.dumps({"ok": True, "result": result}).encode()
                self.send_response(200)
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

    def _answer(self, method: str, params: dict) -> object:
        if method == "getMe":
            return {"id": 1, "is_bot": True, "first_name": "Test", "username": "test_bot"}
        if method == "sendMessage":
            if self.delay:
                time.sleep(self.delay)
            chat_id = int(params["chat_id"])
            with self._lock:
                self.sent.append(chat_id)
            return {
                "message_id": len(self.sent),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "text": params.get("text", ""),
            }
        return True

    def __enter__(self) -> BotApiServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.shutdown()
        self._http.server_close()
