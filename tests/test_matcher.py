"""The matching core on plain strings: no Telegram anywhere."""

import pytest

from bot.core.responder import Responder


def test_done_when_examples(responder: Responder) -> None:
    hit = responder.match("有人自称公安说我涉嫌洗钱，让我把钱转到安全账户")
    assert hit.intent == "fraud.police_impersonation"
    miss = responder.match("今天天气怎么样")
    assert miss.intent is None


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("返诈知识有哪些", "fraud.tips"),  # 返 typed for 反
        ("坐后座要戴头亏吗", "helmet.rules"),  # 亏 typed for 盔
        ("toukui yao dai ma", "helmet.rules"),  # pinyin
        ("anquanzhanghu", "fraud.police_impersonation"),  # pinyin without spaces
        ("刷單返利是真的嗎", "fraud.task_rebate"),  # Traditional characters
        ("ＨＥＬＭＥＴ rules", "helmet.rules"),  # full-width letters
        ("do I need a helmt on my ebike", "helmet.rules"),  # English typo
        ("96110 called me, is it real", "fraud.dissuasion_call"),
        ("is 96110 real", "fraud.dissuasion_call"),  # digits are words too
    ],
)
def test_typos_pinyin_and_scripts(responder: Responder, text: str, intent: str) -> None:
    assert responder.match(text).intent == intent


def test_language_is_taken_from_the_text(responder: Responder) -> None:
    assert responder.match("骑车要戴头盔吗", "en").lang == "zh"
    assert responder.match("do I need a helmet", "zh").lang == "en"
    assert responder.match("toukui", "en").lang == "zh"  # pinyin reads as Chinese
    assert responder.match("110", "en").lang == "en"  # no words: the hint decides


@pytest.mark.parametrize("text", ["", "   ", "？？？", "😀😀😀", "\u200b\u200f"])
def test_empty_or_wordless_input_falls_back(responder: Responder, text: str) -> None:
    result = responder.match(text)
    assert result.intent is None
    assert result.choices == ()


def test_result_names_the_runner_up(responder: Responder) -> None:
    result = responder.match("头盔佩戴率是多少")
    assert result.intent == "helmet.stats"
    assert result.runner_up is not None and result.runner_up != "helmet.stats"
    assert result.score > result.runner_up_score


def test_close_call_offers_choices_instead_of_guessing(responder: Responder) -> None:
    index = responder.index
    # Two intents neck and neck: the decision must ask, not pick one.
    ranked = [("helmet.rules", 50.0), ("helmet.stats", 49.0), ("fraud.tips", 10.0)]
    decision = index.decide(ranked)
    assert decision.intent is None
    assert decision.choices == ("helmet.rules", "helmet.stats")


def test_plausible_but_weak_match_asks_did_you_mean(responder: Responder) -> None:
    settings = responder.index.settings
    middle = (settings.suggest_floor + settings.threshold) / 2
    decision = responder.index.decide(
        [("fraud.loan", middle), ("fraud.tips", middle - 5), ("bot.help", 1.0)]
    )
    assert decision.intent is None
    assert decision.choices[0] == "fraud.loan"


# Issue 12, finding 17: a call "from the anti-fraud centre" that asks for money or an install
# is the fake-police scam, not a genuine dissuasion call.
@pytest.mark.parametrize(
    "question", ["自称反诈中心的人打电话让我下载一个软件", "96110打电话让我转账"]
)
def test_anti_fraud_centre_asking_for_money_or_an_install_is_a_scam(
    responder: Responder, question: str
) -> None:
    assert responder.match(question).intent == "fraud.police_impersonation"


def test_a_genuine_warning_call_still_gets_the_dissuasion_answer(responder: Responder) -> None:
    assert responder.match("96110打电话给我是真的吗").intent == "fraud.dissuasion_call"
    reply = responder.answer("fraud.dissuasion_call", "zh").text
    first = reply.splitlines()[0]
    assert all(word in first for word in ("从不", "转账", "验证码", "下载安装软件", "屏幕共享"))
    first_en = responder.answer("fraud.dissuasion_call", "en").text.splitlines()[0]
    assert all(
        w in first_en for w in ("never", "pay money", "code", "install", "share your screen")
    )


# Issue 12, finding 16: English words in a Chinese question are read too.
def test_english_borrowed_into_a_chinese_question(responder: Responder) -> None:
    assert responder.match("我被scam了 help 怎么办").intent == "fraud.victim"
