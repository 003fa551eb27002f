from bot.core.normalize import han_ratio, normalize_text, to_pinyin


def test_full_width_case_and_punctuation_fold_away() -> None:
    assert normalize_text("ＨＥＬＭＥＴ，Ｒｕｌｅｓ！！") == "helmet rules"


def test_traditional_characters_become_simplified() -> None:
    assert normalize_text("騙子說我涉嫌洗錢") == "骗子说我涉嫌洗钱"


def test_emoji_and_symbols_are_dropped() -> None:
    assert normalize_text("被骗了😭😭怎么办？？") == "被骗了 怎么办"


def test_empty_and_symbol_only_text_normalise_to_nothing() -> None:
    assert normalize_text("") == ""
    assert normalize_text("？？？ 😀 ...") == ""


def test_homophone_typos_share_pinyin_with_the_word_meant() -> None:
    assert to_pinyin("返诈") == to_pinyin("反诈") == "fan zha"
    assert to_pinyin("头亏") == to_pinyin("头盔") == "tou kui"


def test_han_ratio() -> None:
    assert han_ratio("反诈") == 1.0
    assert han_ratio("abc") == 0.0
