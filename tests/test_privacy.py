import contextlib
import io
import logging

import pytest

from bot.privacy import (
    LOG_FORMAT,
    LoggedId,
    RedactingFormatter,
    Redactor,
    configure_logging,
    mask_personal_data,
)


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("我的手机13812345678", "我的手机[PHONE]"),
        ("+86 138 1234 5678 call me", "[PHONE] call me"),
        ("卡号6222021234567890123", "卡号[CARD]"),
        ("card 6222 0212 3456 7890", "card [CARD]"),
        ("身份证46900219900101123X", "身份证[ID]"),
    ],
)
def test_personal_numbers_are_masked(raw: str, masked: str) -> None:
    assert mask_personal_data(raw) == masked


@pytest.mark.parametrize("keep", ["打96110或110", "2023年破案58起", "取件码 6-2-3041", "51803"])
def test_ordinary_numbers_are_kept(keep: str) -> None:
    assert mask_personal_data(keep) == keep


def test_log_lines_lose_the_token_and_personal_data_even_in_tracebacks() -> None:
    stream = io.StringIO()
    configure_logging("INFO", ["123:SECRET"], stream=stream)
    log = logging.getLogger("bot.test")
    log.info("POST https://api.telegram.org/bot%s/sendMessage for %s", "123:SECRET", "13812345678")
    try:
        raise RuntimeError("failed calling https://api.telegram.org/bot123:SECRET/getMe")
    except RuntimeError:
        log.exception("request failed")
    written = stream.getvalue()
    assert "SECRET" not in written and "13812345678" not in written
    assert "[TOKEN]" in written and "[PHONE]" in written and "RuntimeError" in written


def test_only_ids_the_bot_marks_are_left_unmasked_in_log_lines() -> None:
    stream = io.StringIO()
    configure_logging("INFO", ["123:SECRET"], stream=stream)
    log = logging.getLogger("bot.test")
    log.info("refused /x from user %s; typed %s", LoggedId(5123456789), "卡号6222021234567890123")
    log.info("count %d", 6222021234567890123)  # %d given a number that looks like a card
    log.info("mapping %(who)s", {"who": "13812345678"})
    written = stream.getvalue()
    assert "user 5123456789; typed 卡号[CARD]" in written
    assert "count [CARD]" in written and "mapping [PHONE]" in written
    assert "6222021234567890123" not in written and "13812345678" not in written


def test_a_quiet_exception_loses_its_traceback_only_in_our_line() -> None:
    """The redacting formatter drops the traceback of a 'quiet' exception (a rejected token,
    whose text quotes it) on its own copy: another handler still sees the whole record."""
    token = "123456:quiet-token-secret"
    ours, theirs = io.StringIO(), io.StringIO()
    handler = logging.StreamHandler(ours)
    handler.setFormatter(RedactingFormatter(Redactor([token]), LOG_FORMAT, (PermissionError,)))
    other = logging.StreamHandler(theirs)
    other.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("test.quiet")
    logger.propagate = False
    logger.addHandler(handler)
    logger.addHandler(other)
    try:
        try:
            raise PermissionError(f"the token {token} was rejected")
        except PermissionError:
            logger.exception("stopped")
    finally:
        logger.removeHandler(handler)
        logger.removeHandler(other)
    assert "stopped" in ours.getvalue() and "Traceback" not in ours.getvalue()
    assert token not in ours.getvalue()
    assert "Traceback" in theirs.getvalue()  # the record itself was left as it was logged


def test_a_malformed_log_call_never_prints_raw_arguments() -> None:
    token = "123456:malformed-secret"
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter(Redactor([token]), LOG_FORMAT))
    logger = logging.getLogger("test.malformed")
    logger.propagate = False
    logger.addHandler(handler)
    errors = io.StringIO()
    try:
        with contextlib.redirect_stderr(errors):  # where logging.handleError would print
            logger.warning("%(missing)s and %s", {"card": f"6222021234567890123 {token}"})
    finally:
        logger.removeHandler(handler)
    written = stream.getvalue() + errors.getvalue()
    assert token not in written and "6222021234567890123" not in written
    assert "[CARD]" in stream.getvalue()
