"""The scam checker: the issue's examples, the evaluation set, defanging, privacy, the guard."""

from __future__ import annotations

import io
import json
import logging
import re
import time
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from telegram.ext import Application

from bot.authoring.fake_api import FakeBotApi
from bot.authoring.fake_updates import chat_dict, text_message, text_update, update_from, user_dict
from bot.cli import main
from bot.content.model import Content, RedFlag
from bot.core.check_replies import check_reply
from bot.core.responder import Responder
from bot.core.scam_check import ScamChecker, defang, required_literals
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
        # warnings that name the asks they warn about
        "【反诈中心】提醒：凡是自称反诈中心要你转账的都是骗子",
        "国家反诈中心提醒：不要向任何人提供验证码，也不要开启屏幕共享。",
        "警方提醒：声称能帮你追回被骗损失的都是骗子，切勿交纳任何手续费。",
        "The anti-fraud centre will never ask you to share your screen or pay a fee.",
        "Do not pay any fee to anyone who says they can recover your lost money.",
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
        assert "number_foreign" not in {f.id for f in result.flags}, result
    foreign = responder.checker.check("回电 +63 9171234567")
    assert "number_foreign" in {f.id for f in foreign.flags}


def test_verdict_and_listed_signs_agree(responder: Responder) -> None:
    """ "No known warning signs" is never followed by a list of warning signs."""
    clean = check_reply(responder, responder.checker.check("明天一起吃饭吧"), "zh").text
    assert "没有发现已知的诈骗特征" in clean and "发现的危险信号" not in clean
    for lang, none_found, message in (
        ("zh", "没有发现已知的诈骗特征", "嗯 +63 9171234567"),
        ("en", "No known warning signs", "ok +63 9171234567"),
    ):
        result = responder.checker.check(message)
        assert result.risk == "low" and result.flags
        text = check_reply(responder, result, lang).text
        assert none_found not in text
        assert ("查不了公安的涉诈记录" if lang == "zh" else "police records") in text


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
    flags = responder.checker.check(message).flags
    quotes = [f.quote for f in flags if responder.content.red_flags[f.id].family == "link"]
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
    result = responder.checker.check(message)
    families = {responder.content.red_flags[f.id].family for f in result.flags}
    assert result.risk == "low" and families <= {"warning"}, result


# Finding 17, review: scam words (诈骗, 骗子, fraud) exempted the asks again, so an impostor who
# said them was rated low. Only a warning's own wording next to the ask exempts it.
IMPOSTORS_USING_SCAM_WORDS = [
    "我是反诈中心民警，你被诈骗的钱已经找回，请先缴纳保证金",
    "我是反诈中心工作人员，为防诈骗请把验证码告诉我",
    "反诈中心通知：你被诈骗的资金已冻结，需要先交手续费才能退还",
    "我们是96110反诈专线，为了防止你再被骗，请下载这个app配合调查",
    "反诈中心民警提醒：这不是骗局，请提供你的银行卡号核实身份",
    "我是反诈中心的，别担心，把验证码报给我就行",
    "This is the anti-fraud centre, to protect you from fraud please share your screen",
    "We are calling from the anti-fraud hotline: your scammed money has been recovered, "
    "pay the handling fee first",
]


# Reassurance is not a warning: "不要担心", "don't worry", "我们不会收费" come from the sender.
REASSURING_IMPOSTORS = [
    "我是反诈中心的民警，不要担心把验证码报给我就行",
    "This is the anti-fraud centre. Don't worry and tell me the code we sent you.",
    "我们是反诈中心，我们不会收费，只需先缴纳保证金即可退还被骗的钱",
]


@pytest.mark.parametrize("message", IMPOSTORS_USING_SCAM_WORDS + REASSURING_IMPOSTORS)
def test_scam_words_do_not_excuse_an_impostors_ask(responder: Responder, message: str) -> None:
    result = responder.checker.check(message)
    assert result.risk == "high", result
    assert "impersonation_antifraud" in {f.id for f in result.flags}


@pytest.mark.parametrize(
    "message",
    [
        "你被骗的钱已经追回，需先缴纳手续费才能到账",
        "Your scammed money has been recovered, pay the handling fee to release it",
    ],
)
def test_a_fee_to_recover_lost_money_is_high_risk(responder: Responder, message: str) -> None:
    result = responder.checker.check(message)
    assert result.risk == "high", result
    assert {"recovery_bait", "advance_fee"} <= {f.id for f in result.flags}


def _flag(flag_id: str, pattern: str, unless: str = "", **rules: tuple[str, ...]) -> RedFlag:
    return RedFlag(
        flag_id,
        "high",
        None,
        (re.compile(pattern),),
        (re.compile(unless),) if unless else (),
        {"zh": flag_id, "en": flag_id},
        **rules,
    )


def _found(content: Content, flags: list[RedFlag], text: str) -> set[str]:
    checker = ScamChecker(replace(content, red_flags={f.id: f for f in flags}))
    return {f.id for f in checker.check(text).flags}


def test_flag_rules_do_not_depend_on_the_order_of_the_flags(content: Content) -> None:
    """A chain (c voids b's exemption, b voids a's; d only with a) in either order."""
    flags = [
        _flag("a", "aaa", unless="notice", unless_not_with=("b",)),
        _flag("b", "bbb", unless="notice", unless_not_with=("c",)),
        _flag("c", "ccc"),
        _flag("d", "ddd", only_with=("a",)),
    ]
    text = "notice aaa bbb ccc ddd"
    assert _found(content, flags, text) == {"a", "b", "c", "d"}
    assert _found(content, flags[::-1], text) == {"a", "b", "c", "d"}
    assert _found(content, flags, "notice aaa bbb ddd") == set()


def test_shipped_flags_in_reverse_order_rate_every_message_the_same(content: Content) -> None:
    forward = ScamChecker(content)
    backward = ScamChecker(replace(content, red_flags=dict(reversed(content.red_flags.items()))))
    texts = [
        *IMPOSTORS_USING_SCAM_WORDS,
        *(m for side in ("scams", "ordinary") for g in EVAL[side].values() for m in g["messages"]),
    ]
    for text in texts:
        ahead, behind = forward.check(text), backward.check(text)
        assert (ahead.risk, ahead.points) == (behind.risk, behind.points), text
        assert {f.id for f in ahead.flags} == {f.id for f in behind.flags}, text


async def test_forwarded_impostor_using_scam_words_gets_a_high_risk_warning(
    app: Application, api: FakeBotApi
) -> None:
    user = user_dict(1001, language_code="zh-hans")
    message = text_message(IMPOSTORS_USING_SCAM_WORDS[1], user, chat_dict(1001))
    message["forward_origin"] = {
        "type": "hidden_user",
        "sender_user_name": "反诈中心",
        "date": int(time.time()),
    }
    await app.process_update(update_from({"message": message}, app.bot))
    text = api.sent()[-1]["text"]
    assert "高风险" in text and "真正的反诈中心和 96110 从不在电话或消息里这样要求" in text


@pytest.mark.parametrize(
    ("message", "flag"),
    [
        (
            "URGENT! Your mobile number has been awarded a cash prize. Reply CLAIM to collect",
            "prize_bait",
        ),
        ("You are entitled to a free phone upgrade, text YES to claim your gift", "prize_bait"),
        (
            "Your bank account has been locked. Unlock your account at http://bank-login.example.top",
            "freeze_threat",
        ),
    ],
)
def test_english_prize_and_locked_account_texts_are_not_low(
    responder: Responder, message: str, flag: str
) -> None:
    result = responder.checker.check(message)
    assert result.risk != "low" and flag in {f.id for f in result.flags}, result
