"""An in-process stand-in for the Telegram Bot API, for tests, scripted conversations and
benchmarks. It plugs into python-telegram-bot as its HTTP transport (a BaseRequest), so the
real Bot, Application and handlers run unchanged while nothing leaves the process.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from bot.core.telegram_limits import CAPTION_LIMIT, TEXT_LIMIT, telegram_length

# Telegram's own limits, counted the strictest way Telegram may count them (UTF-16 code
# units): a bot that passes here fits the real Bot API too.
_TEXT_METHODS = ("sendMessage", "editMessageText")

FILE_PATH = "files/"  # where the fake keeps residents' files, as getFile names them

BOT_USER = {
    "id": 7000000001,
    "is_bot": True,
    "first_name": "AntiFraud",
    "username": "antifraud_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}


def over_limit(method: str, params: dict[str, Any]) -> str | None:
    """Telegram's answer to a text or caption longer than it takes, else None."""
    if method in _TEXT_METHODS and telegram_length(str(params.get("text") or "")) > TEXT_LIMIT:
        return "Bad Request: message is too long"
    media = params.get("media") or []
    items = json.loads(media) if isinstance(media, str) else media
    captions = [params.get("caption")] + [i.get("caption") for i in items if isinstance(i, dict)]
    if any(telegram_length(str(c or "")) > CAPTION_LIMIT for c in captions):
        return "Bad Request: message caption is too long"
    return None


@dataclass
class ApiCall:
    method: str
    params: dict[str, Any]
    result: Any = None  # what the fake answered

    @property
    def chat_id(self) -> int:
        return int(self.params.get("chat_id", 0) or 0)

    @property
    def shows_message(self) -> bool:
        """A message a chat shows: one the bot sent (text, photo, album...) or edited."""
        return self.method.startswith("send") or self.method == "editMessageText"


@dataclass
class _Fault:
    method: str
    kind: str  # "network", "timeout", "http"
    status: int = 500
    description: str = "Internal Server Error"
    retry_after: int | None = None


@dataclass
class FakeBotApi(BaseRequest):
    """Records every Bot API call and answers like Telegram would."""

    calls: list[ApiCall] = field(default_factory=list)
    faults: list[_Fault] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    chat_faults: dict[int, list[tuple[int, str, dict[str, Any]]]] = field(default_factory=dict)
    # Called before each sendMessage is answered: tests use it to stop or slow a broadcast.
    before_send: Callable[[dict[str, Any]], Awaitable[None]] | None = None
    chat_member_status: str = "administrator"  # what getChatMember says of anyone asked
    keep_calls: bool = True  # benchmarks turn this off so 100,000 sends cost no memory here
    # Files residents "sent": file_id -> bytes, served by getFile and the file download.
    files: dict[str, bytes] = field(default_factory=dict)
    sent_count: int = 0
    _message_ids: itertools.count = field(default_factory=lambda: itertools.count(1000))

    # -- BaseRequest interface ----------------------------------------------------------------

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        if FILE_PATH in url:  # a file download: the bytes themselves, not a JSON answer
            return self._download(url)
        api_method = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        fault = self._take_fault(api_method)
        if fault is not None:
            return self._raise_or_answer(fault)
        chat_fault = self._take_chat_fault(api_method, params)
        if chat_fault is not None:
            return chat_fault
        refusal = over_limit(api_method, params)
        if api_method == "getFile" and self._file(params) is None:
            refusal = "Bad Request: invalid file_id"
        if refusal is not None:
            body = {"ok": False, "error_code": 400, "description": refusal}
            return 400, json.dumps(body).encode()
        if self.before_send is not None and api_method == "sendMessage":
            await self.before_send(params)
        if api_method == "sendMessage":
            self.sent_count += 1
        result = self._answer(api_method, params)
        if self.keep_calls:
            self.calls.append(ApiCall(api_method, params, result))
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def fail_chat(
        self,
        chat_id: int,
        status: int,
        description: str,
        times: int = 1,
        retry_after: int | None = None,
        migrate_to: int | None = None,
    ) -> None:
        """Make the next `times` sends to one chat fail as Telegram would answer them."""
        parameters: dict[str, Any] = {}
        if retry_after is not None:
            parameters["retry_after"] = retry_after
        if migrate_to is not None:
            parameters["migrate_to_chat_id"] = migrate_to
        self.chat_faults.setdefault(chat_id, []).extend([(status, description, parameters)] * times)

    # -- fault injection ----------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        kind: str = "http",
        status: int = 500,
        description: str = "Internal Server Error",
        retry_after: int | None = None,
    ) -> None:
        """Make the next call of `method` fail once (network error, time-out or HTTP error)."""
        self.faults.append(_Fault(method, kind, status, description, retry_after))

    def _take_chat_fault(self, method: str, params: dict[str, Any]) -> tuple[int, bytes] | None:
        queued = (
            self.chat_faults.get(int(params.get("chat_id", 0) or 0))
            if method.startswith("send")
            else None
        )
        if not queued:
            return None
        status, description, parameters = queued.pop(0)
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        return status, json.dumps(body).encode()

    def _take_fault(self, method: str) -> _Fault | None:
        for index, fault in enumerate(self.faults):
            if fault.method in (method, "*"):
                return self.faults.pop(index)
        return None

    @staticmethod
    def _raise_or_answer(fault: _Fault) -> tuple[int, bytes]:
        if fault.kind == "network":
            raise NetworkError("fake network failure")
        if fault.kind == "timeout":
            raise TimedOut("fake time-out")
        body: dict[str, Any] = {
            "ok": False,
            "error_code": fault.status,
            "description": fault.description,
        }
        if fault.retry_after is not None:
            body["parameters"] = {"retry_after": fault.retry_after}
        return fault.status, json.dumps(body).encode()

    # -- files --------------------------------------------------------------------------------

    def add_file(self, file_id: str, content: bytes) -> None:
        self.files[file_id] = content

    def _file(self, params: dict[str, Any]) -> Any:
        file_id = str(params.get("file_id", ""))
        if file_id not in self.files:
            return None
        return {
            "file_id": file_id,
            "file_unique_id": f"unique-{file_id}",
            "file_size": len(self.files[file_id]),
            "file_path": f"{FILE_PATH}{file_id}",
        }

    def _download(self, url: str) -> tuple[int, bytes]:
        file_id = url.rsplit(FILE_PATH, 1)[-1]
        if self.keep_calls:
            self.calls.append(ApiCall("downloadFile", {"file_id": file_id}))
        if file_id not in self.files:
            return 404, json.dumps(
                {"ok": False, "error_code": 404, "description": "Not Found"}
            ).encode()
        return 200, self.files[file_id]

    # -- answers ------------------------------------------------------------------------------

    def _answer(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT_USER
        if method == "getUpdates":
            pending, self.updates = self.updates, []
            return pending
        if method in (
            "sendMessage",
            "editMessageText",
            "sendPhoto",
            "sendVideo",
            "sendDocument",
            "sendLocation",
        ):
            return self._message(params)
        if method == "sendMediaGroup":
            media = params.get("media") or []
            items = json.loads(media) if isinstance(media, str) else media
            return [self._message({**params, "caption": i.get("caption")}) for i in items]
        if method == "getFile":
            return self._file(params)
        if method == "getChatMember":
            user = {"id": int(params.get("user_id", 0)), "is_bot": False, "first_name": "Member"}
            return {
                "status": self.chat_member_status,
                "user": user,
                **(
                    {
                        "can_be_edited": False,
                        "is_anonymous": False,
                        "can_manage_chat": True,
                        "can_delete_messages": True,
                        "can_manage_video_chats": True,
                        "can_restrict_members": True,
                        "can_promote_members": False,
                        "can_change_info": True,
                        "can_invite_users": True,
                        "can_post_stories": False,
                        "can_edit_stories": False,
                        "can_delete_stories": False,
                    }
                    if self.chat_member_status == "administrator"
                    else {}
                ),
            }
        return True

    def _message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = params.get("chat_id", 0)
        message: dict[str, Any] = {
            "message_id": params.get("message_id") or next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if int(chat_id) > 0 else "group"},
            "from": BOT_USER,
        }
        for key in ("text", "caption"):
            if params.get(key):
                message[key] = params[key]
        if "reply_markup" in params:
            markup = params["reply_markup"]
            message["reply_markup"] = json.loads(markup) if isinstance(markup, str) else markup
        return message

    # -- reading what the bot did -------------------------------------------------------------

    def sent(self, method: str = "sendMessage") -> list[dict[str, Any]]:
        return [c.params for c in self.calls if c.method == method]

    def shown_in(self, chat_id: int) -> list[ApiCall]:
        """Every message the bot sent to or edited in one chat, in order."""
        return [c for c in self.calls if c.shows_message and c.chat_id == chat_id]

    def clear(self) -> None:
        self.calls.clear()
