"""The scam checker: the issue's examples, the evaluation set, defanging, privacy, the guard."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest
import yaml
from telegram.ext import Application

from bot.authoring.fake_api import FakeBotApi
from bot.authoring.fake_updates import text_update
from bot.cli import main
from bot.core.check_replies import check_reply
from bot.core.responder import Responder
from bot.core.scam_check import defang, required_literals
from bot.privacy import configure_logging

EVAL = yaml.safe_load((Path(__file__).parent / "data" / "scam_eval.yaml").read_text("utf-8"))
POLICE = "【XX公安局】您涉嫌一起洗钱案，请立即将资金转入安全账户配合调查，否则将冻结您名下所有账户"
COURIER = "您的快递已到达驿站，请凭取件码 6-2-3041 取件"


def test_fake_police_message(responder: Responder) -> None:
    result = responder.checker.check(POLICE)
    assert result.risk == "high" and result.type == "fraud.police_impersonation"
    assert {"safe_account", "freeze_threat"} <= {f.id for f in result.flags}
    text = check_reply(responder, result, "zh").text
    assert "「安全账户」" in text and "冻结" in text
    assert "不要转账" in text and "96110" in text and "110" in text


def test_courier_pickup_code_is_not_high_risk(responder: Responder) -> None:
    assert responder.checker.check(COURIER).risk != "high"


def test_never_says_safe(responder: Responder) -> None:
    text = check_reply(responder, responder.checker.check("明天一起吃饭吧"), "zh").text
    assert "没有发现已知的诈骗特征" in text and "不代表一定安全" in text
    assert "安全的" not in text


def _rates(responder: Responder) -> tuple[float, float, dict[str, float]]:
    caught, total, per_type = 0, 0, {}
    for scam_type, group in EVAL["scams"].items():
        hits = [responder.checker.check(m).risk in ("high", "medium") for m in group["messages"]]
        per_type[scam_type] = sum(hits) / len(hits)
        caught, total = caught + sum(hits), total + len(hits)
    ordinary = [m for group in EVAL["ordinary"].values() for m in group["messages"]]
    false_alarms = sum(responder.checker.check(m).risk == "high" for m in ordinary)
    return caught / total, false_alarms / len(ordinary), per_type


def test_evaluation_set_is_big_enough_and_sourced() -> None:
    scams = sum(len(g["messages"]) for g in EVAL["scams"].values())
    ordinary = sum(len(g["messages"]) for g in EVAL["ordinary"].values())
    assert scams >= 200 and ordinary >= 200
    assert all(g.get("source") for g in [*EVAL["scams"].values(), *EVAL["ordinary"].values()])


def test_recall_and_false_alarm_rate(responder: Responder) -> None:
    recall, false_alarm, per_type = _rates(responder)
    assert recall >= 0.90, per_type
    assert false_alarm <= 0.05


def test_links_and_numbers_are_defanged() -> None:
    shown = defang("点 http://t.cn/A6x 或 www.example.com，打 13812345678，卡 6222021234567890123")
    assert "http://" not in shown and "t[.]cn" in shown and "www[.]example[.]com" in shown
    assert "13812345678" not in shown and "138****5678" in shown
    assert "6222021234567890123" not in shown


def test_prefilter_never_skips_a_pattern_that_matches(responder: Responder) -> None:
    """The literal pre-check is only an optimisation: it must agree with the regexes."""
    texts = [
        m for side in ("scams", "ordinary") for g in EVAL[side].values() for m in g["messages"]
    ]
    from bot.core.scam_check import fold

    for flag in responder.checker.flags:
        for pattern in flag.patterns:
            literals = required_literals(pattern)
            if literals is None:
                continue
            for text in texts:
                folded = fold(text)
                if pattern.search(folded):
                    assert any(lit in folded for lit in literals), (flag.id, pattern.pattern)


def test_cli_check_json_and_jsonl() -> None:
    out = io.StringIO()
    assert main(["check", "--json", POLICE], out=out) == 0
    assert json.loads(out.getvalue())["risk"] == "high"
    out = io.StringIO()
    lines = "\n".join(json.dumps({"text": t}, ensure_ascii=False) for t in (POLICE, COURIER))
    assert main(["check", "--jsonl"], out=out, inp=io.StringIO(lines)) == 0
    results = [json.loads(line) for line in out.getvalue().splitlines()]
    assert results[0]["risk"] == "high" and results[1]["risk"] != "high"
    assert set(results[0]) == {"risk", "type", "flags"}
    assert {"id", "quote"} == set(results[0]["flags"][0])


async def test_checked_text_is_never_logged(
    app: Application, api: FakeBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "请把验证码发给我，我的电话13812345678，卡号6222021234567890123"
    configure_logging("DEBUG", ["unused-token"])  # the logging `antifraud-bot run` sets up
    with caplog.at_level(logging.DEBUG):
        await app.process_update(text_update(app.bot, f"/check {secret}"))
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "13812345678" not in logged and "6222021234567890123" not in logged
    assert "验证码发给我" not in logged
    assert "risk=" in logged  # what is logged: the verdict and the flag ids
    assert "13812345678" not in api.sent()[0]["text"]


async def test_group_guard_can_be_turned_off_by_admins_only(
    app: Application, api: FakeBotApi
) -> None:
    group = {"chat_id": -700, "chat_type": "group"}
    scam = "兼职刷单日结，动动手指日赚300，先垫付本金做任务返佣金，加微信"
    await app.process_update(text_update(app.bot, scam, **group))
    assert "提醒大家" in api.sent()[-1]["text"]
    api.chat_member_status = "member"
    await app.process_update(text_update(app.bot, "/guard off", **group))
    assert "只有群管理员" in api.sent()[-1]["text"]
    api.chat_member_status = "administrator"
    await app.process_update(text_update(app.bot, "/guard off", **group))
    assert "已关闭" in api.sent()[-1]["text"]
    api.clear()
    await app.process_update(text_update(app.bot, scam, **group))
    assert api.sent() == []
    await app.process_update(text_update(app.bot, "/guard on", **group))
    await app.process_update(text_update(app.bot, scam, **group))
    assert "提醒大家" in api.sent()[-1]["text"]


# Issue 12, finding 17: fraudsters posing as the anti-fraud centre (the issue's own messages).
ANTI_FRAUD_IMPOSTORS = [
    "我是反诈中心民警…请把收到的验证码告诉我",
    "您好我是96110，请开启屏幕共享…",
    "我是反诈中心民警，你被骗的钱已经找回…请先缴纳保证金",
    "反诈中心通知：…需要先交手续费才能退还",
]


@pytest.mark.parametrize("message", ANTI_FRAUD_IMPOSTORS)
def test_posing_as_the_anti_fraud_centre_is_flagged(responder: Responder, message: str) -> None:
    result = responder.checker.check(message)
    assert result.risk in ("high", "medium"), result
    assert "impersonation_antifraud" in {f.id for f in result.flags}
    text = check_reply(responder, result, "zh").text
    assert "真正的反诈中心和 96110 从不在电话或消息里这样要求" in text
    assert "没有发现已知的诈骗特征" not in text


@pytest.mark.parametrize(
    "notice",
    [
        "【96110】您好，我们是反诈中心，监测到您可能正在接触诈骗，请勿向陌生人转账。",
        "【反诈中心】陌生人要验证码的都是骗子，请勿泄露。",
        "反诈中心提醒您：任何人让你开启屏幕共享都不要理会。",
        "您的手续费已退还，请注意查收。",
    ],
)
def test_genuine_anti_fraud_notices_stay_low(responder: Responder, notice: str) -> None:
    assert responder.checker.check(notice).risk == "low"


async def test_impostor_forwarded_in_private_gets_a_high_risk_warning(
    app: Application, api: FakeBotApi
) -> None:
    await app.process_update(text_update(app.bot, f"/check {ANTI_FRAUD_IMPOSTORS[0]}"))
    text = api.sent()[-1]["text"]
    assert "高风险" in text and "「我是反诈中心」" in text


# Issue 12, finding 16.
def test_an_id_number_is_not_a_phone_number(responder: Responder) -> None:
    for message in ("我的身份证号是460003199001011234…", "身份证 46000319900101123X"):
        result = responder.checker.check(message)
        assert "odd_caller" not in {f.id for f in result.flags}, result
    assert "odd_caller" in {f.id for f in responder.checker.check("回电 +63 9171234567").flags}


def test_verdict_and_listed_signs_agree(responder: Responder) -> None:
    """ "No known warning signs" is never followed by a list of warning signs."""
    clean = check_reply(responder, responder.checker.check("明天一起吃饭吧"), "zh").text
    assert "没有发现已知的诈骗特征" in clean and "发现的危险信号" not in clean
    for lang, none_found in (("zh", "没有发现已知的诈骗特征"), ("en", "No known warning signs")):
        result = responder.checker.check("请回电 +63 9171234567")
        assert result.risk == "low" and result.flags
        text = check_reply(responder, result, lang).text
        assert none_found not in text
        assert ("风险较低" if lang == "zh" else "Low risk") in text


@pytest.mark.parametrize(
    ("message", "quote"),
    [
        ("http://bad.example/x'>点击</a>", "hxxp://bad[.]example/x"),
        ("看这个(http://prize.example)，领奖", "hxxp://prize[.]example"),
        ("领奖请进 www.prize.com/a。马上", "www[.]prize[.]com/a"),
        ('<a href="http://t.cn/A6x">领取</a>', "hxxp://t[.]cn/a6x"),
    ],
)
def test_a_quoted_link_ends_where_the_url_ends(
    responder: Responder, message: str, quote: str
) -> None:
    quotes = [f.quote for f in responder.checker.check(message).flags if f.id == "link"]
    assert quotes == [quote]


def test_defanged_links_keep_the_text_after_them() -> None:
    assert defang("见(http://prize.example)，领奖") == "见(hxxp://prize[.]example)，领奖"
    assert defang("https://x.com/wiki/A_(b).") == "hxxps://x[.]com/wiki/A_(b)."


@pytest.mark.parametrize(
    "message",
    [
        "反诈中心通知：本周六在村委会开展反诈宣传",
        "我是96110，你下载的那个APP是诈骗软件，请立即卸载",
        "我们是反诈中心，请你下载国家反诈中心APP",
    ],
)
def test_the_centres_name_alone_is_no_warning_sign(responder: Responder, message: str) -> None:
    assert responder.checker.check(message).flags == ()
