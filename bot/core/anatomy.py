"""Link and number anatomy: what the shape of a link or a phone number says about a message.

A scam's wording changes from one campaign to the next; the tricks in its links and numbers
do not: a brand name inside someone else's domain, a digit for a letter (paypa1), a free
dynamic-DNS host, a shortener hiding where the link goes, a raw IP address, an unusual
top-level domain, punycode, `user@host`; a premium-rate number, a personal mobile given as a
company's "customer care". The lists (brands and their official domains, TLDs, suffixes,
prefixes) are content (content/anatomy.yaml); this module only reads shapes. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from bot.core.normalize import has_han

# A link: a scheme (one slash is enough for a phone's link detector: "http:/1.2.3.4"), or
# www., or a bare domain with a TLD from the content's list. A URL character is anything but
# a space, a quote, an angle bracket, a Chinese character or Chinese punctuation.
URL_CHAR = "[^\\s'\"<>\u2018-\u201f\u3000-\u303f\u3400-\u9fff\uff00-\uffef]"
_SCHEME_URL = re.compile(rf"(?:https?:/{{1,2}}|www\.){URL_CHAR}+", re.IGNORECASE)
_DOMAIN = re.compile(r"(?<![@\w.-])((?:[a-z0-9-]+\.)+([a-z]{2,12}))\b(/" + URL_CHAR + "*)?")
_IP = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
# Digits written for letters in look-alike names (paypa1, netfl1x, v0dafone, 1cbc).
_LOOKALIKE_DIGITS = (
    str.maketrans("0134578", "oleastb"),
    str.maketrans("0134578", "oieastb"),
)
_WORD = re.compile(r"[a-z0-9]+")  # linear: a word is checked for letters and digits in Python
MAX_WORD = 24  # longer runs are no brand name


def _mixed_words(text: str) -> list[re.Match[str]]:
    """Words of letters and digits both (paypa1, v0dafone), of a brand name's length."""
    return [
        m
        for m in _WORD.finditer(text)
        if 4 <= len(m.group(0)) <= MAX_WORD
        and not m.group(0).isdigit()
        and not m.group(0).isalpha()
    ]


# A phone, account or card number: seven digits or more, spaces and dashes allowed.
_DATE = re.compile(r"(19|20)\d\d[\s-]\d{1,2}[\s-]\d{1,2}")  # 2024-01-15 is no number to look up
_CONTACT_NUMBER = re.compile(r"(?<!\d)\d(?:[\s-]?\d){6,}(?!\d)")
_PHONE = re.compile(r"(?<![\d+])(\+|00)?\d(?:[\s-]?\d){6,14}(?!\d)")


@dataclass(frozen=True)
class Sign:
    detector: str
    quote: str  # as found in the (folded) message
    start: int


@dataclass(frozen=True)
class Anatomy:
    """The content's lists, prepared once."""

    brands: Mapping[str, tuple[str, ...]]  # brand -> its official domains
    lists: Mapping[str, tuple[str, ...]]

    def items(self, name: str) -> tuple[str, ...]:
        return self.lists.get(name, ())

    def official(self, host: str) -> bool:
        return any(
            host == domain or host.endswith("." + domain)
            for domains in self.brands.values()
            for domain in domains
        ) or any(host == d or host.endswith("." + d) for d in self.items("official_domains"))


_CLOSING = {")": "(", "]": "[", "}": "{"}


def link_end(url: str) -> int:
    """Where a link found in running text really ends: sentence punctuation after it, and a
    closing bracket it did not open, belong to the text around it ("(见 t.cn/x)")."""
    end = len(url)
    while end:
        last = url[end - 1]
        opened = _CLOSING.get(last)
        if last in ".,;:!?*" or (
            opened is not None and url.count(last, 0, end) > url.count(opened, 0, end)
        ):
            end -= 1
        else:
            break
    return end


def _trim(url: str) -> str:
    return url[: link_end(url)]


def find_links(text: str, anatomy: Anatomy) -> list[tuple[int, str]]:
    """Each link in the text with where it starts; e-mail addresses are not links."""
    tlds = set(anatomy.items("link_tlds")) | set(anatomy.items("odd_tlds"))
    found: list[tuple[int, str]] = []
    taken: list[tuple[int, int]] = []
    for match in _SCHEME_URL.finditer(text):
        found.append((match.start(), _trim(match.group(0))))
        taken.append(match.span())
    for match in _DOMAIN.finditer(text):
        inside = any(a <= match.start() < b for a, b in taken)
        if not inside and match.group(2) in tlds:
            found.append((match.start(), _trim(match.group(0))))
    return sorted(found)


def host_of(url: str) -> tuple[str, bool]:
    """The link's host, and whether it hides one behind `user@`."""
    rest = re.sub(r"^(?:https?:/{1,2})", "", url, flags=re.IGNORECASE)
    authority = re.split(r"[/?#\\]", rest, maxsplit=1)[0]
    userinfo = "@" in authority
    host = authority.rsplit("@", 1)[-1]
    host = re.sub(r":\d*$", "", host)
    return host.strip(".").casefold(), userinfo


def _brand_in(host: str, brand: str) -> bool:
    """A brand is named in a host: anywhere for long names, as a whole label part for short
    ones (boc, icbc: too short to find inside words)."""
    parts = re.split(r"[.-]", host)
    if len(brand) >= 5:
        return brand in host
    return any(
        part == brand or (part.startswith(brand) and len(part) <= len(brand) + 3) for part in parts
    )


def lookalike_of(word: str, anatomy: Anatomy) -> str | None:
    """The brand a word imitates by writing digits for letters, if any."""
    for table in _LOOKALIKE_DIGITS:
        spelled = word.translate(table)
        if spelled == word:
            return None
        for brand in anatomy.brands:
            if len(brand) >= 4 and brand in spelled and brand not in word:
                return brand
    return None


def link_sign(url: str, anatomy: Anatomy) -> str:
    """The one sign this link gives: the most telling of its tricks, else a plain link."""
    host, userinfo = host_of(url)
    if userinfo:
        return "link_userinfo"
    if "xn--" in host or any(ord(c) > 127 for c in host):
        return "link_punycode"
    if _IP.fullmatch(host):
        return "link_ip"
    if anatomy.official(host):
        return "link_official"  # no sign: a brand's or the government's own site
    if any(lookalike_of(m.group(0), anatomy) for m in _mixed_words(host)):
        return "lookalike"
    if any(_brand_in(host, brand) for brand in anatomy.brands) or any(
        _brand_in(host, word) for word in anatomy.items("domain_bait_words")
    ):
        return "link_brand"
    if any(host == s or host.endswith("." + s) for s in anatomy.items("ddns_suffixes")):
        return "link_ddns"
    if host in anatomy.items("shorteners"):
        return "link_shortener"
    if host.rsplit(".", 1)[-1] in anatomy.items("odd_tlds"):
        return "link_odd_tld"
    return "link_plain"


def link_signs(text: str, anatomy: Anatomy) -> list[Sign]:
    return [Sign(link_sign(url, anatomy), url, start) for start, url in find_links(text, anatomy)]


def word_lookalikes(text: str, anatomy: Anatomy) -> list[Sign]:
    """Brand names spelled with digits in the text itself ("V0DAF0NE customer")."""
    signs = []
    for match in _mixed_words(text):
        if lookalike_of(match.group(0), anatomy):
            signs.append(Sign("lookalike", match.group(0), match.start()))
    return signs


def _digits(number: str) -> str:
    return re.sub(r"\D", "", number)


def number_signs(text: str, anatomy: Anatomy) -> list[Sign]:
    """What each phone number's shape says: premium rate, a personal mobile given as a
    company's service line, an overseas or a virtual-operator number."""
    chinese = has_han(text)
    mobiles = [re.compile(p) for p in anatomy.items("mobile_numbers")]
    service = re.compile("|".join(map(re.escape, anatomy.items("service_words"))) or "(?!)")
    signs = []
    for match in _PHONE.finditer(text):
        number, digits = match.group(0), _digits(match.group(0))
        before = text[max(0, match.start() - 40) : match.start()]
        if match.group(1) and not digits.removeprefix("00").startswith("86"):
            signs.append(Sign("number_foreign", number, match.start()))
        elif (
            not chinese
            and len(digits) >= 10
            and digits.startswith(anatomy.items("premium_prefixes"))
        ):
            signs.append(Sign("number_premium", number, match.start()))
        elif service.search(before) and any(m.fullmatch(digits) for m in mobiles):
            signs.append(Sign("number_personal_as_service", number, match.start()))
        elif len(digits) == 11 and digits.startswith(anatomy.items("virtual_prefixes")):
            signs.append(Sign("number_virtual", number, match.start()))
    return signs


def has_bare_contact(text: str) -> bool:
    """A phone number, a bank account or card number (a long digit run), somewhere in text."""
    return any(not _DATE.fullmatch(m.group(0)) for m in _CONTACT_NUMBER.finditer(text))
