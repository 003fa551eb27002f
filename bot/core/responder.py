"""Turn a resident's message (or a button press) into a Reply, in the resident's language.

Everything the bot says comes from content/: this module only chooses and assembles it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace

from bot.content.model import LANGUAGES, Content
from bot.content.replies import PLACEHOLDER
from bot.core.conversation import Conversation, ConversationState, Exchange
from bot.core.decision import BlendSettings, Matcher
from bot.core.matcher import IntentIndex, MatchSettings
from bot.core.scam_check import ScamChecker
from bot.core.semantic import EncodeExamples, Encoder, SemanticIndex, TrainHead
from bot.core.types import Button, MatchResult, Reply, ReplyKind, Turn

MAX_FOLLOW_UPS = 3
# Menu items that do something rather than show a card or a menu: "do:<name>" -> its ui text.
MENU_DOINGS = {"check": "check_usage"}
COUNTIES = frozenset({"baoting", "qiongzhong"})  # the places a resident may live in
FIELD = re.compile(r"\{(\w+)\}")  # a {name} slot of a ui message, filled by the caller
LEXICAL_SETTINGS = frozenset(MatchSettings.__dataclass_fields__)


def semantic_examples(content: Content, index: IntentIndex) -> tuple[list[str], list[int], int]:
    """The examples the semantic stage compares with, their intents' positions in the
    lexical index, and the number of intents; in the order of `index.example_rows`, then
    the declined near misses (owner: the number of intents)."""
    position = {intent_id: n for n, intent_id in enumerate(index.intent_ids)}
    texts, owners = [], []
    for intent_id, lang, number in index.example_rows:
        texts.append(content.intents[intent_id].examples[lang][number].strip())
        owners.append(position[intent_id])
    declined = len(index.intent_ids)
    for decline in content.declines.values():
        for examples in decline.examples.values():
            texts.extend(e.strip() for e in examples)
            owners.extend([declined] * len(examples))
    return texts, owners, declined


class Responder:
    """The pure core: no Telegram types, no I/O. Built once per content version."""

    def __init__(
        self,
        content: Content,
        contacts: Mapping[str, str] | None = None,
        default_lang: str = "zh",
        encoder: Encoder | None = None,
        encode_examples: EncodeExamples | None = None,
        train_head: TrainHead | None = None,
    ) -> None:
        """`encoder` adds the semantic stage (None: lexical only); `encode_examples` computes
        the examples' vectors and `train_head` trains its classifier (the start-up code
        passes on-disk caches for both)."""
        self.content = content
        self.contacts = {k: v for k, v in (contacts or {}).items() if v}
        self.default_lang = default_lang if default_lang in LANGUAGES else "zh"
        lexical = {k: v for k, v in content.settings.items() if k in LEXICAL_SETTINGS}
        self.index = IntentIndex(content.intents, MatchSettings(**lexical), content.rewrites)
        blend = BlendSettings.from_settings(content.settings)
        semantic = None
        if encoder is not None:
            semantic = SemanticIndex(
                encoder,
                *semantic_examples(content, self.index),
                encode_examples,
                train_head,
                blend.semantic_c,
            )
        self.matcher = Matcher(self.index, semantic, blend)
        self.checker = ScamChecker(content, self.index, semantic)
        self.conversation = Conversation(self)

    # -- entry points ------------------------------------------------------------------------

    def respond(self, turn: Turn) -> Reply:
        """Answer free text."""
        hint = self.language(turn.lang_hint)
        result = self.matcher.match(turn.text, hint)
        if result.intent:
            return self.answer(result.intent, result.lang, result)
        if result.choices:
            return self.did_you_mean(result)
        return self.fallback(result.lang, result)

    def converse(self, state: ConversationState, turn: Turn, now: float) -> Exchange:
        """Answer free text in the light of the conversation so far (bot.core.conversation)."""
        return self.conversation.converse(state, turn, now)

    def command(self, name: str, lang: str) -> Reply | None:
        """The reply to a slash command, or None for a command the core does not know."""
        lang = self.language(lang)
        if name == "start":
            greeting = self.answer("bot.greeting", lang)
            return self.menu("main", lang, preface=greeting.text)
        if name == "help":  # plain sentences, and the menu's buttons to act on them
            help_text = self.answer("bot.help", lang).text
            return replace(self.menu("main", lang, preface=help_text), intent="bot.help")
        if name == "tips":
            return self.answer("fraud.tips", lang)
        if name == "stats":
            return self.menu("stats", lang)
        if name == "lang":
            return self.language_menu(lang)
        return None

    def match(self, text: str, lang_hint: str | None = None) -> MatchResult:
        return self.matcher.match(text, self.language(lang_hint))

    def answer(
        self,
        intent_id: str,
        lang: str,
        result: MatchResult | None = None,
        county: str | None = None,
    ) -> Reply:
        """The card; `county` (a place id, when the bot knows where the resident lives)
        leaves out lines whose figures are all the other county's."""
        lang = self.language(lang)
        reply = self.content.replies[intent_id]
        follow_ups = self.content.intents[intent_id].follow_ups[:MAX_FOLLOW_UPS]
        buttons = tuple(self.intent_button(i, lang) for i in follow_ups)
        buttons += (self.menu_button("main", lang),)
        return Reply(
            text=self.render(reply.text[lang], lang, county),
            lang=lang,
            kind=ReplyKind.ANSWER,
            intent=intent_id,
            score=result.score if result else 100.0,
            runner_up=result.runner_up if result else None,
            buttons=buttons,
        )

    def short_answer(
        self,
        intent_id: str,
        lang: str,
        result: MatchResult | None = None,
        county: str | None = None,
    ) -> Reply:
        """The card's short version (replies.<id>.short) with a "more" button for the full
        text; the full card when the author wrote no short version."""
        lang = self.language(lang)
        full = self.answer(intent_id, lang, result, county)
        short = self.content.replies[intent_id].short
        if not short:
            return full
        more = Button(self.ui("more_button", lang), f"more:{intent_id}")
        text = self.render(short[lang], lang, county)
        return replace(full, text=text, buttons=(more, *full.buttons))

    def share(self, intent_id: str, lang: str) -> Reply:
        """A short warning to forward to family: the card's short version (or its first
        line), the two numbers, no buttons, so it forwards cleanly."""
        lang = self.language(lang)
        card = self.content.replies[intent_id]
        body = card.short.get(lang) or card.text[lang].splitlines()[0]
        text = self.ui("share_text", lang, body=self.render(body, lang))
        return Reply(text=text, lang=lang, kind=ReplyKind.NOTICE, intent=intent_id)

    def prefaced(self, reply: Reply, first: str) -> Reply:
        """`reply` with a line put before its text (the action or the "No" that comes first)."""
        return replace(reply, text=f"{first}\n\n{reply.text}")

    def menu(self, menu_id: str, lang: str, preface: str = "") -> Reply:
        lang = self.language(lang)
        menu = self.content.menus[menu_id]
        buttons = tuple(self._item_button(item, lang) for item in menu.items)
        if menu_id != "main":  # the way back: to the menu that lists this one
            back = next(
                (m.id for m in self.content.menus.values() if f"menu:{menu_id}" in m.items),
                "main",
            )
            buttons += (self.back_button(back, lang),)
        text = f"{preface}\n\n{menu.prompt[lang]}" if preface else menu.prompt[lang]
        return Reply(text=text, lang=lang, kind=ReplyKind.MENU, buttons=buttons)

    def fallback(self, lang: str, result: MatchResult | None = None) -> Reply:
        lang = self.language(lang)
        menu = self.menu("main", lang)
        return Reply(
            text=self.ui("fallback", lang),
            lang=lang,
            kind=ReplyKind.FALLBACK,
            score=result.score if result else 0.0,
            runner_up=result.runner_up if result else None,
            buttons=menu.buttons,
        )

    def notice(self, key: str, lang: str, with_menu: bool = False) -> Reply:
        lang = self.language(lang)
        buttons = (self.menu_button("main", lang),) if with_menu else ()
        return Reply(text=self.ui(key, lang), lang=lang, kind=ReplyKind.NOTICE, buttons=buttons)

    def language_menu(self, lang: str) -> Reply:
        buttons = (Button("中文", "lang:zh"), Button("English", "lang:en"))
        return Reply(
            text=self.ui("lang_prompt", self.language(lang)),
            lang=self.language(lang),
            kind=ReplyKind.MENU,
            buttons=buttons,
        )

    def press(self, action: str, lang: str) -> Reply | None:
        """Answer a button press; None when the action is unknown (a stale or forged button)."""
        kind, _, target = action.partition(":")
        if kind in ("intent", "more") and target in self.content.intents:
            return self.answer(target, lang)
        if kind == "fb":  # counted by the front end that stores it; here only thanked
            return self.notice("feedback_thanks", lang)
        if kind == "do" and target in MENU_DOINGS:
            return self.notice(MENU_DOINGS[target], lang, with_menu=True)
        if kind == "share" and target in self.content.intents:
            return self.share(target, lang)
        if kind == "menu" and target in self.content.menus:
            return self.menu(target, lang)
        if kind == "lang" and target in LANGUAGES:
            return self.notice("lang_switched", target, with_menu=True)
        return None

    # -- rendering ---------------------------------------------------------------------------

    def ui(self, key: str, lang: str, **fields: object) -> str:
        """A fixed message; `fields` fill its {name} slots (alert counts, settings)."""
        text = self.render(self.content.ui[key][self.language(lang)], self.language(lang))
        # One pass over the template: a value that itself reads "{description}" (a resident
        # typed it) is shown as it is, never filled in again.
        return FIELD.sub(lambda slot: str(fields[slot[1]]) if slot[1] in fields else slot[0], text)

    def render(self, template: str, lang: str, county: str | None = None) -> str:
        """Fill placeholders; number each figure's source; drop lines with unset contacts,
        and (`county` known) lines whose figures are all another county's, as long as a line
        is left."""
        citations: list[str] = []
        lines = []
        template_lines = template.splitlines()
        if county is not None:
            kept = [line for line in template_lines if not self._other_county(line, county)]
            template_lines = kept or template_lines
        for line in template_lines:
            missing = [
                key
                for kind, key in PLACEHOLDER.findall(line)
                if kind == "contact" and key not in self.contacts
            ]
            if missing:
                continue  # the bureau has not configured this contact: say nothing about it
            lines.append(PLACEHOLDER.sub(lambda m: self._fill(m, lang, citations), line))
        text = "\n".join(lines)
        if citations:
            heading = self.content.ui["sources_heading"][lang]
            notes = "\n".join(f"[{n}] {c}" for n, c in enumerate(citations, 1))
            text = f"{text}\n\n{heading}\n{notes}"
        return text

    def _other_county(self, line: str, county: str) -> bool:
        places = {
            self.content.figures[key].place
            for kind, key in PLACEHOLDER.findall(line)
            if kind == "fig" and key in self.content.figures
        }
        return bool(places) and county not in places and places <= COUNTIES

    def _fill(self, match: re.Match[str], lang: str, citations: list[str]) -> str:
        kind, key = match.groups()
        if kind == "hotline":
            return self.content.hotlines[key].number
        if kind == "contact":
            return self.contacts[key]
        figure = self.content.figures[key]
        citation = self._citation(key, lang)
        if citation not in citations:
            citations.append(citation)
        return f"{figure.display[lang]}[{citations.index(citation) + 1}]"

    def _citation(self, figure_key: str, lang: str) -> str:
        figure = self.content.figures[figure_key]
        place = self.content.places[figure.place][lang]
        separator = "，" if lang == "zh" else ", "
        return f"{place}{separator}{figure.period[lang]}"

    # -- helpers -----------------------------------------------------------------------------

    def did_you_mean(self, result: MatchResult) -> Reply:
        lang = result.lang
        buttons = tuple(self.intent_button(i, lang) for i in result.choices)
        buttons += (self.menu_button("main", lang),)
        return Reply(
            text=self.ui("did_you_mean", lang),
            lang=lang,
            kind=ReplyKind.DID_YOU_MEAN,
            score=result.score,
            runner_up=result.runner_up,
            choices=result.choices,
            buttons=buttons,
        )

    def intent_button(self, intent_id: str, lang: str) -> Button:
        return Button(self.content.replies[intent_id].title[lang], f"intent:{intent_id}")

    def menu_button(self, menu_id: str, lang: str) -> Button:
        label = (
            self.content.ui["menu_button"][lang]
            if menu_id == "main"
            else self.content.menus[menu_id].label[lang]
        )
        return Button(label, f"menu:{menu_id}")

    def back_button(self, menu_id: str, lang: str) -> Button:
        if menu_id == "main":
            return self.menu_button("main", lang)
        label = self.ui("back_button", lang, menu=self.content.menus[menu_id].label[lang])
        return Button(label, f"menu:{menu_id}")

    def _item_button(self, item: str, lang: str) -> Button:
        kind, _, target = item.partition(":")
        if kind == "menu":
            return Button(self.content.menus[target].label[lang], item)
        if kind == "do":  # "do:check": how to have a message checked
            return Button(self.ui(f"menu_{target}", lang), item)
        return self.intent_button(target, lang)

    def language(self, lang: str | None) -> str:
        """A supported language code for a hint like "zh-hans" or "en_US"; else the default."""
        if lang:
            short = lang.lower().split("-")[0].split("_")[0]
            if short in LANGUAGES:
                return short
        return self.default_lang
