import io
import logging

import pytest

from bot.privacy import configure_logging, mask_personal_data


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
