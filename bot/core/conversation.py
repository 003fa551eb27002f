"""Conversations, not lookups: one turn read in the light of the turns before it.

Pure like the rest of the core: a `ConversationState` comes in with the turn, an `Exchange`
(the Reply and the next state) goes out; the front end loads and saves the state. What a turn
is doing (still on the call, already paid, "should I pay?", "then what?") is read from the
turn signals in content/conversation.yaml, and every sentence comes from content/.

The order of precedence, most urgent first:
1. money already gone ("paid") -> the victim steps first, then what is specific to the scam;
2. a scam in progress (still on the call, asked to pay, asked to click, already clicked)
   -> the one action that matters first, then the card;
3. an answer to the bot's own question ("have you sent money?" -> "yes" / "no");
4. in a fraud conversation: blocked, a "recovery" offer, telling the family, 110 busy;
5. "should I pay?" about a suspicious request -> "No" first, then why;
6. a greeting with a question -> the question; "then what?" -> the next card;
7. the matched card, never the same text twice in a row (a short version, then the next card);
8. a turn the bot cannot place: inside a fraud conversation the safe action, else the fallback.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from bot.core.normalize import normalize_text
from bot.core.types import Button, MatchResult, Reply, ReplyKind, Turn

# The Responder that owns this conversation; not imported, as it imports this module (the
# import-linter contract forbids the cycle). It provides content, match, answer, short_answer,
# prefaced, did_you_mean, fallback, notice, ui, render, intent_button and menu_button.
Responder = Any

QUIET_SECONDS = 30 * 60  # a conversation left quiet this long starts afresh
MAX_SHOWN = 12  # cards remembered per conversation
SHORT_TURN = 16  # characters (normalised): a turn this short may be "yes", "then what?", "ok"
MIN_QUESTION = 4  # characters left after a greeting for it to count as a question
# The urgent signals, most urgent first: the first one present decides the action line.
URGENT = ("paid", "clicked", "in_progress", "asked_to_pay", "asked_to_act")
# In a fraud conversation, a turn about one of these gets its own text (ui.conv_<kind>).
IN_CONTEXT = ("recovery_offer", "blocked", "tell_family", "share", "go_police")
# In a fraud conversation, another topic's card needs at least this score to interrupt it
# ("要不要去派出所问问" is not about banquet registration).
OTHER_TOPIC_IN_FRAUD = 70.0
KEEP_IN_FRAUD = ("safety.emergency",)
# A fixed text that would come twice in a row gives way to another.
REPEAT_INSTEAD = {
    "conv_safe_action": "conv_urgent_again",
    "conv_ack_fraud": "conv_more_done",
    "conv_ack": "conv_more_done",
}
VICTIM = "fraud.victim"
GREETING = "bot.greeting"
FRAUD = "fraud"


@dataclass(frozen=True)
class ConversationState:
    """What the bot remembers of one chat's conversation (never the resident's words)."""

    topic: str | None = None  # "fraud", "helmet", "safety", "bot": the area being talked about
    last_card: str | None = None  # the intent whose card was shown last
    last_form: str = ""  # what the last reply was: full, short, urgent:<kind>, ui:<key>
    shown: tuple[str, ...] = ()  # cards shown in this conversation, oldest first
    asked: str | None = None  # a question the bot asked: "paid" (have you sent money?)
    urgent: bool = False  # a scam in progress or a loss was seen in this conversation
    county: str | None = None  # where the resident lives (a place id), when the bot knows
    at: float = 0.0  # when the conversation last moved (seconds since the epoch)

    def fresh(self, now: float, quiet: float = QUIET_SECONDS) -> ConversationState:
        """This state, or a new one when the conversation has been quiet too long."""
        return self if now - self.at <= quiet else ConversationState()

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> ConversationState:
        """The stored state; a damaged or older record starts afresh rather than failing."""
        try:
            data = json.loads(text)
            state = cls(
                topic=data.get("topic"),
                last_card=data.get("last_card"),
                last_form=str(data.get("last_form") or ""),
                shown=tuple(str(s) for s in data.get("shown") or ()),
                asked=data.get("asked"),
                urgent=bool(data.get("urgent")),
                county=data.get("county"),
                at=float(data.get("at") or 0.0),
            )
        except (ValueError, TypeError, AttributeError):
            return cls()
        return state

    def showing(
        self, card: str | None, form: str, now: float, **changes: object
    ) -> ConversationState:
        """The state after a reply: `card` (an intent id, or None for a fixed text) in `form`."""
        shown = self.shown
        if card is not None:
            shown = (*(s for s in shown if s != card), card)[-MAX_SHOWN:]
        topic = card.partition(".")[0] if card else self.topic
        values: dict[str, object] = {
            "topic": topic,
            "last_card": card if card is not None else self.last_card,
            "last_form": form,
            "shown": shown,
            "asked": None,
            "at": now,
        }
        values.update(changes)
        return replace(self, **values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Exchange:
    reply: Reply
    state: ConversationState
    signals: frozenset[str] = field(default_factory=frozenset)


def read_signals(responder: Responder, text: str) -> frozenset[str]:
    """The kinds of turn signal (content/conversation.yaml) this text shows."""
    folded = normalize_text(text)
    kinds = set()
    for signal in responder.content.turn_signals.values():
        if signal.kind in kinds or signal.kind == "pinyin_syllable":
            continue
        if any(p.search(folded) for p in signal.patterns) and not any(
            p.search(folded) for p in signal.unless
        ):
            kinds.add(signal.kind)
    return frozenset(kinds)


# A turn naming its county: the figures shown are that county's where a card has both.
COUNTY_OF_SIGNAL = {"in_baoting": "baoting", "in_qiongzhong": "qiongzhong"}

# A photo caption with one of these signals describes a violation: a report of that kind.
REPORT_KIND_OF_SIGNAL = {"helmet_violation": "helmet"}


def report_kind_of_caption(responder: Responder, caption: str) -> str | None:
    """The report kind a photo's caption describes ("骑车不戴头盔" -> helmet), or None."""
    signals = read_signals(responder, caption)
    return next((k for s, k in REPORT_KIND_OF_SIGNAL.items() if s in signals), None)


def township_named(responder: Responder, text: str) -> str | None:
    """The township (content/areas.yaml id) a text names: "保城镇", "保城", "Baocheng"."""
    folded = normalize_text(text)
    for area, names in responder.content.areas.items():
        town = names["zh"].split("·")[-1]
        forms = {town, town.removesuffix("镇").removesuffix("乡")}
        forms.add(names["en"].split(",")[0].casefold())
        if any(len(f) >= 2 and f in folded for f in forms):
            return area
    return None


def asks_for_own_township(responder: Responder, text: str) -> bool:
    """ "我们镇上", "my township": alerts for a township not named, so the bot asks which."""
    return "own_township" in read_signals(responder, text)


def is_pinyin(responder: Responder, text: str) -> bool:
    """Chinese written in Latin letters ("wo hen pa"): two or more words, every one a
    syllable or a run of syllables the content's pinyin_syllable patterns accept."""
    words = normalize_text(text).split()
    patterns = [
        p
        for s in responder.content.turn_signals.values()
        if s.kind == "pinyin_syllable"
        for p in s.patterns
    ]
    if len(words) < 2 or not patterns:
        return False
    return all(any(p.fullmatch(w) for p in patterns) for w in words)


def strip_greeting(responder: Responder, text: str) -> str:
    """What is left of the text after a greeting at its start ("你好，我收到…" -> "我收到…")."""
    folded = normalize_text(text)
    for signal in responder.content.turn_signals.values():
        if signal.kind != "greeting":
            continue
        for pattern in signal.patterns:
            found = pattern.match(folded)
            if found and found.end() > 0:
                return folded[found.end() :].strip()
    return folded


class Conversation:
    """The decisions above, for one Responder (one content version)."""

    def __init__(self, responder: Responder) -> None:
        self.r = responder

    # -- entry point -------------------------------------------------------------------------

    def converse(self, state: ConversationState, turn: Turn, now: float) -> Exchange:
        state = state.fresh(now)
        text = turn.text
        signals = read_signals(self.r, text)
        named = next((c for s, c in COUNTY_OF_SIGNAL.items() if s in signals), None)
        county = named or state.county or turn.county
        if county != state.county:
            state = replace(state, county=county)
        hint = self.r.language(turn.lang_hint)
        result = original = self.r.match(text, hint)
        if "greeting" in signals or result.intent == GREETING:
            rest = strip_greeting(self.r, text)
            if len(rest.replace(" ", "")) >= MIN_QUESTION and rest != normalize_text(text):
                answered = self.r.match(rest, hint)
                if answered.intent != GREETING and (answered.intent or answered.choices):
                    result = answered
                elif result.intent == GREETING:
                    result = replace(answered, intent=None, choices=())
        lang = "zh" if is_pinyin(self.r, text) else result.lang
        result = replace(result, lang=lang)
        short_turn = len(normalize_text(text)) <= SHORT_TURN
        matched = result.intent
        in_fraud = state.topic == FRAUD or state.urgent
        if (
            in_fraud
            and matched
            and matched.partition(".")[0] not in (FRAUD, "bot")
            and matched not in KEEP_IN_FRAUD
            and result.score < OTHER_TOPIC_IN_FRAUD
        ):
            matched = None
            result = replace(result, intent=None, choices=())
        fraudish = bool(matched and matched.startswith(f"{FRAUD}."))
        # An urgent signal counts in a fraud conversation, next to a fraud card, or when
        # nothing else was recognised; never over a clear helmet or safety answer.
        open_to_urgency = in_fraud or fraudish or matched is None or matched.startswith("bot.")

        greeted = result.intent != original.intent  # a greeting with a question: the question

        def done(reply: Reply, next_state: ConversationState) -> Exchange:
            if greeted and reply.signal is None and reply.kind is ReplyKind.ANSWER:
                reply = replace(reply, signal="greeting")
            return Exchange(self.with_share_and_feedback(reply), next_state, signals)

        # 3. the bot asked "have you sent money?"
        if state.asked == "paid" and short_turn and {"yes", "no"} & signals:
            if "yes" in signals and "no" not in signals:
                return done(*self._paid(state, None, lang, now, signals))
            return done(*self._fixed(state, "conv_not_paid", lang, now, urgent=True))
        urgent = next((k for k in URGENT if k in signals), None)
        if urgent == "paid" and open_to_urgency:
            return done(*self._paid(state, matched, lang, now, signals))
        if urgent and open_to_urgency:
            return done(*self._urgent(state, urgent, matched, lang, now, signals))
        if "line_busy" in signals:
            return done(*self._fixed(state, "conv_line_busy", lang, now))
        if in_fraud or fraudish or matched is None:
            kind = next((k for k in IN_CONTEXT if k in signals), None)
            if kind is not None and (in_fraud or kind == "recovery_offer"):
                return done(*self._fixed(state, f"conv_{kind}", lang, now))
        if "should_pay" in signals and (in_fraud or fraudish or matched is None):
            return done(*self._should_pay(state, matched, lang, now))
        if short_turn and "more" in signals and (state.last_card or in_fraud):
            return done(*self._more(state, lang, now))
        if matched and not (short_turn and {"yes", "no", "ack"} & signals and result.score < 60):
            return done(*self._card(state, matched, lang, result, now))
        if "ack" in signals and short_turn:
            key = "conv_ack_fraud" if in_fraud else "conv_ack"
            return done(*self._fixed(state, key, lang, now))
        if result.choices and not matched:
            choices = result.choices
            if in_fraud:  # only what is genuinely close to a fraud conversation
                choices = tuple(c for c in choices if c.startswith(f"{FRAUD}."))
            if len(choices) >= 2:
                reply = self.r.did_you_mean(replace(result, choices=choices))
                return done(reply, state.showing(None, "did_you_mean", now))
            if len(choices) == 1:
                return done(*self._card(state, choices[0], lang, result, now))
        if in_fraud or {"in_progress", "should_pay", "asked_to_pay"} & signals:
            reply, next_state = self._fixed(state, "conv_safe_action", lang, now, urgent=True)
            last = state.last_card or ""
            short = self.r.content.replies[last].short if last in self.r.content.replies else {}
            if reply.signal == "safe_action" and last.startswith(f"{FRAUD}.") and short:
                # what the bot last talked about, in short, after the safe action
                text = f"{reply.text}\n\n{self.r.render(short[lang], lang, state.county)}"
                reply = replace(reply, text=text)
            return done(reply, next_state)
        return done(self.r.fallback(lang, result), state.showing(None, "fallback", now))

    # -- the replies -------------------------------------------------------------------------

    def with_share_and_feedback(self, reply: Reply) -> Reply:
        """Under a card: "send this to my family" (fraud cards) and "was this helpful?"."""
        intent = reply.intent
        if reply.kind is not ReplyKind.ANSWER or intent not in self.r.content.intents:
            return reply
        extra = []
        if intent.startswith(f"{FRAUD}."):
            extra.append(Button(self.r.ui("share_button", reply.lang), f"share:{intent}"))
        extra += [Button("👍", f"fb:up:{intent}"), Button("👎", f"fb:down:{intent}")]
        return replace(reply, buttons=(*reply.buttons, *extra))

    def _card(
        self,
        state: ConversationState,
        intent: str,
        lang: str,
        result: MatchResult | None,
        now: float,
    ) -> tuple[Reply, ConversationState]:
        """The card for `intent`, never word for word the previous reply: a repeat gives the
        short version with a "more" button, then the next card not yet shown."""
        bot_itself = intent.startswith("bot.")  # greetings, help, (un)subscribe: they act
        if bot_itself or intent != state.last_card or state.last_form not in ("full", "short"):
            return self.r.answer(intent, lang, result, county=state.county), state.showing(
                intent, "full", now
            )
        card = self.r.content.replies[intent]
        if card.short and state.last_form == "full":
            return self.r.short_answer(intent, lang, result, county=state.county), state.showing(
                intent, "short", now
            )
        following = self._unseen_follow_up(state, intent)
        if following is not None:
            return self.r.answer(following, lang, county=state.county), state.showing(
                following, "full", now
            )
        if card.short and state.last_form != "short":
            return self.r.short_answer(intent, lang, result, county=state.county), state.showing(
                intent, "short", now
            )
        reply = self.r.answer(intent, lang, result, county=state.county)
        if state.last_form == "full":  # no short version, nothing new: say so, then the card
            reply = self.r.prefaced(reply, self.r.ui("conv_again", lang))
        return reply, state.showing(intent, "full", now)

    def _unseen_follow_up(self, state: ConversationState, intent: str) -> str | None:
        follow_ups = self.r.content.intents[intent].follow_ups
        return next((f for f in follow_ups if f not in state.shown), None)

    def _more(
        self, state: ConversationState, lang: str, now: float
    ) -> tuple[Reply, ConversationState]:
        """ "Then what?" after a card: the next card not yet shown, or the full card after its
        short version, or a pointer to the menu."""
        last = state.last_card or ""
        if not last:  # after a fixed text in a fraud conversation: the rules, then on
            last = "fraud.tips"
            if last not in state.shown:
                return self.r.answer(last, lang, county=state.county), state.showing(
                    last, "full", now
                )
        if state.last_form == "short":
            return self.r.answer(last, lang, county=state.county), state.showing(last, "full", now)
        following = self._unseen_follow_up(state, last)
        if following is not None:
            return self.r.answer(following, lang, county=state.county), state.showing(
                following, "full", now
            )
        return self._fixed(state, "conv_more_done", lang, now)

    def _paid(
        self,
        state: ConversationState,
        matched: str | None,
        lang: str,
        now: float,
        signals: frozenset[str] = frozenset(),
    ) -> tuple[Reply, ConversationState]:
        """Loss outranks type: the victim steps first, then what is specific to the scam."""
        repeat = state.last_card == VICTIM and state.last_form in ("full", "short", "urgent:paid")
        victim = (
            self.r.short_answer(VICTIM, lang, county=state.county)
            if repeat
            else self.r.answer(VICTIM, lang, county=state.county)
        )
        text = victim.text
        buttons = list(victim.buttons)
        if matched and matched.startswith(f"{FRAUD}.") and matched != VICTIM:
            specific = self.r.content.replies[matched]
            about = specific.short.get(lang) if specific.short else None
            if about:
                heading = self.r.ui("conv_about_this_scam", lang)
                text = f"{text}\n\n{heading}\n{self.r.render(about, lang, state.county)}"
            buttons.insert(0, self.r.intent_button(matched, lang))
        reply = replace(
            victim, text=text, buttons=tuple(dict.fromkeys(buttons)), signal="paid", score=100.0
        )
        next_state = state.showing(VICTIM, "urgent:paid", now, urgent=True)
        return reply, next_state

    def _urgent(
        self,
        state: ConversationState,
        kind: str,
        matched: str | None,
        lang: str,
        now: float,
        signals: frozenset[str],
    ) -> tuple[Reply, ConversationState]:
        """A scam in progress: the action line first, then the card (short if it was shown)."""
        if state.last_form == f"urgent:{kind}":  # the same alarm again: say it shorter
            text = self.r.ui("conv_urgent_again", lang)
        else:
            text = self.r.ui(f"conv_urgent_{kind}", lang)
        buttons: list[Button] = []
        card = matched if matched and matched.startswith(f"{FRAUD}.") else None
        if card is not None and card != VICTIM:
            reply = self.r.content.replies[card]
            body = reply.short.get(lang) if (reply.short and card in state.shown) else None
            if card not in state.shown or body:
                text = f"{text}\n\n{self.r.render(body or reply.text[lang], lang, state.county)}"
            buttons.append(self.r.intent_button(card, lang))
        loss_known = VICTIM in state.shown  # they said they paid: no need to ask
        asked = "paid" if kind in ("in_progress", "asked_to_pay") and not loss_known else None
        if asked:
            text = f"{text}\n\n{self.r.ui('conv_ask_paid', lang)}"
        buttons += [self.r.intent_button(VICTIM, lang), self.r.menu_button("main", lang)]
        shown_card = card if card not in (None, VICTIM) else None
        reply = Reply(
            text=text,
            lang=lang,
            kind=ReplyKind.ANSWER,
            intent=card or VICTIM,
            score=100.0,
            buttons=tuple(dict.fromkeys(buttons)),
            signal=kind,
        )
        next_state = state.showing(shown_card, f"urgent:{kind}", now, urgent=True, asked=asked)
        if shown_card is None:
            next_state = replace(next_state, topic=FRAUD)
        return reply, next_state

    def _should_pay(
        self, state: ConversationState, matched: str | None, lang: str, now: float
    ) -> tuple[Reply, ConversationState]:
        """ "Should I pay?": "No" first, then why (the card, or a general reason)."""
        first = self.r.ui("conv_should_pay_no", lang)
        if matched and matched.startswith(f"{FRAUD}."):
            card, next_state = self._card(state, matched, lang, None, now)
            reply = self.r.prefaced(card, first)
        else:
            reply = self.r.prefaced(
                self.r.notice("conv_should_pay_why", lang, with_menu=True), first
            )
            reply = replace(reply, kind=ReplyKind.ANSWER, intent="fraud.tips")
            next_state = state.showing(None, "ui:conv_should_pay_why", now, topic=FRAUD)
        return replace(reply, signal="should_pay"), replace(next_state, topic=FRAUD)

    def _fixed(
        self, state: ConversationState, key: str, lang: str, now: float, urgent: bool = False
    ) -> tuple[Reply, ConversationState]:
        """A fixed conversation text (ui.<key>), with the next useful buttons; never the
        same fixed text twice in a row."""
        if state.last_form == f"ui:{key}":
            key = REPEAT_INSTEAD.get(key, "conv_ack_fraud" if state.topic == FRAUD else "conv_ack")
        buttons = [self.r.intent_button(VICTIM, lang), self.r.menu_button("main", lang)]
        if key in ("conv_ack", "conv_more_done"):
            buttons = [self.r.menu_button("main", lang)]
        if key in ("conv_share", "conv_tell_family"):
            card = state.last_card if (state.last_card or "").startswith(f"{FRAUD}.") else None
            target = card or "fraud.tips"
            share = Button(self.r.ui("share_button", lang), f"share:{target}")
            buttons = [share, *buttons]
        reply = Reply(
            text=self.r.ui(key, lang),
            lang=lang,
            # the safe action stands in for a fallback: a pasted message is still checked
            kind=ReplyKind.NOTICE if key == "conv_safe_action" else ReplyKind.ANSWER,
            intent=f"conversation.{key.removeprefix('conv_')}",
            score=100.0,
            buttons=tuple(buttons),
            signal=key.removeprefix("conv_"),
        )
        topic = state.topic if key in ("conv_ack", "conv_line_busy") else FRAUD
        changes: dict[str, object] = {"topic": topic}
        if urgent:
            changes["urgent"] = True
        return reply, state.showing(None, f"ui:{key}", now, **changes)
