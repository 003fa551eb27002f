"""Screenshot OCR off the event loop: one child process reads one picture at a time.

Why a process and not a thread: recognition holds the GIL for much of its work (image
preparation, box post-processing) and uses both cores, so in a thread it would slow every text
answer; in its own lower-priority process the bot keeps answering at its usual speed, the
model's ~700 MB stay out of the bot, a picture that takes too long is abandoned by ending
the process (a thread cannot be stopped), and a crash in native code loses one picture, not
the bot. The process starts on the first picture and loads the model once; it is started
again after a time-out or a crash.

The queue is bounded: at most `queue_size` pictures wait behind the one being read; one more
raises Busy at once, so the resident can be told to try again shortly.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from multiprocessing.connection import Connection
from typing import Any

from bot.models.ocr import NotAnImage, RapidTextReader, TextReader

log = logging.getLogger(__name__)
READY_TIMEOUT = 120.0  # seconds for the child to import and load the model, on a slow start
NICENESS = 10  # the child gives way to the bot's own process when both want the CPU


class Busy(Exception):
    """The queue is full: try again shortly."""


class ReadTimedOut(Exception):
    """The picture took longer than the time-out; it was abandoned."""


class Unavailable(Exception):
    """The OCR model cannot be loaded here (not installed, a file missing)."""


class ReadFailed(Exception):
    """The worker crashed on this picture."""


def rapid_reader() -> TextReader:
    reader = RapidTextReader()
    reader.load()
    return reader


RAPID_READER = "bot.workers.ocr:rapid_reader"


def _loader(spec: str) -> Callable[[], TextReader]:
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def _serve(conn: Connection, reader_spec: str) -> None:
    """The child: load the reader, then read one picture per message until told to stop."""
    with contextlib.suppress(OSError):  # not allowed here: run at the same priority
        os.nice(NICENESS)
    try:
        reader = _loader(reader_spec)()
    except Exception as exc:  # ImportError, a model file missing...: the bot carries on
        conn.send(("unavailable", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("ready", ""))
    while True:
        image = conn.recv_bytes()
        if not image:
            return
        try:
            conn.send(("text", reader.read_text(image)))
        except NotAnImage:
            conn.send(("not_an_image", ""))
        except Exception as exc:  # one bad picture must not end the worker
            conn.send(("failed", type(exc).__name__))


class OcrWorker:
    """`await read_text(image_bytes)` from any event loop; one picture at a time."""

    def __init__(
        self,
        timeout: float = 20.0,
        queue_size: int = 3,
        reader: str = RAPID_READER,
    ) -> None:
        """`reader`: "module:function" that the child calls to get its TextReader."""
        self.timeout, self.queue_size, self.reader = timeout, queue_size, reader
        self.unavailable: str | None = None  # why, once loading failed
        self.pictures_read = 0
        self._pending = 0
        self._lock = threading.Lock()
        # One thread talks to the child: it serializes the pictures, and waiting on the
        # child's answer never blocks an event loop.
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ocr")
        self._process: Any = None
        self._conn: Connection | None = None

    def has_room(self, wait: bool = True) -> bool:
        """Whether a picture would be taken now (`wait`: behind others in the queue)."""
        with self._lock:
            return self._pending < (1 + self.queue_size if wait else 1)

    async def read_text(self, image_bytes: bytes, wait: bool = True) -> str:
        """The picture's text. `wait=False` takes it only if nothing else is being read.
        Raises Busy, ReadTimedOut, Unavailable, NotAnImage or ReadFailed."""
        if self.unavailable is not None:
            raise Unavailable(self.unavailable)
        with self._lock:
            if self._pending >= (1 + self.queue_size if wait else 1):
                raise Busy
            self._pending += 1
        future: Future[str] = self._thread.submit(self._read, image_bytes)
        future.add_done_callback(self._done)
        return await asyncio.wrap_future(future)

    def _done(self, _: Future[str]) -> None:
        with self._lock:
            self._pending -= 1

    def _read(self, image_bytes: bytes) -> str:
        conn = self._started()
        started = time.perf_counter()
        try:
            conn.send_bytes(image_bytes)
            if not conn.poll(self.timeout):
                log.warning("a picture took over %.0f s: abandoned, worker restarted", self.timeout)
                self._stop(force=True)
                raise ReadTimedOut
            status, value = conn.recv()
        except (EOFError, OSError) as exc:
            log.error("the OCR worker ended unexpectedly (%s); restarting", type(exc).__name__)
            self._stop(force=True)
            raise ReadFailed from exc
        self.pictures_read += 1
        log.info("read a picture in %.2f s: %s", time.perf_counter() - started, status)
        if status == "not_an_image":
            raise NotAnImage("the worker could not open the picture")
        if status != "text":
            raise ReadFailed(value)
        return value

    def _started(self) -> Connection:
        if self._conn is not None and self._process is not None and self._process.poll() is None:
            return self._conn
        self._stop(force=True)
        # A fresh interpreter (not fork, not multiprocessing's spawn, which re-runs the
        # parent's main script), talking over its own socket: the model's imports and
        # prints never touch the bot, and stdout stays free.
        ours, theirs = socket.socketpair()
        command = [sys.executable, "-m", "bot.workers.ocr", str(theirs.fileno()), self.reader]
        started = time.perf_counter()
        # Our own interpreter and module; `reader` comes from the code, never from input.
        process = subprocess.Popen(  # noqa: S603
            command, pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL
        )
        theirs.close()
        parent = Connection(ours.detach())
        status, value = ("unavailable", "the worker did not start in time")
        if parent.poll(READY_TIMEOUT):
            try:
                status, value = parent.recv()
            except EOFError:
                status, value = ("unavailable", "the worker ended while loading")
        if status != "ready":
            process.kill()
            process.wait()
            parent.close()
            self.unavailable = value
            log.warning("image checking is unavailable: %s; photos get the text-only hint", value)
            raise Unavailable(value)
        log.info("OCR worker ready in %.1f s", time.perf_counter() - started)
        self._process, self._conn = process, parent
        return parent

    def peak_memory_mb(self) -> float | None:
        """The child's peak resident memory so far (Linux), for the benchmark."""
        if self._process is None or self._process.poll() is not None:
            return None
        try:
            with open(f"/proc/{self._process.pid}/status", encoding="ascii") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            return None
        return None

    def _stop(self, force: bool = False) -> None:
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if conn is not None and not force:
            with contextlib.suppress(OSError):
                conn.send_bytes(b"")  # please stop
        if process is not None:
            try:
                process.wait(timeout=0.01 if force else 5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if conn is not None:
            conn.close()

    def close(self) -> None:
        """End the child process; the worker starts it again if asked to read after this."""
        if self._process is not None:
            self._thread.submit(self._stop).result()


def main() -> None:
    """The child's entry point: `python -m bot.workers.ocr FD READER`."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("fd", type=int)
    parser.add_argument("reader")
    args = parser.parse_args()
    conn = Connection(args.fd)
    with contextlib.suppress(EOFError, OSError):  # the bot went away
        _serve(conn, args.reader)


if __name__ == "__main__":
    main()
