"""@mentions in comment text. A mention is stored as `@[name](user:id)`: the page's
autocomplete inserts that form, GraphQL clients send it, and a plain `@name` typed on a phone
without the list is turned into it when the name is a member's. Pure: no I/O."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from markupsafe import Markup, escape

MENTION = re.compile(r"@\[([^\]\n]{1,100})\]\(user:(\d{1,12})\)")


@dataclass(frozen=True)
class Mentioned:
    user_id: int
    name: str


def mentioned(body: str) -> list[Mentioned]:
    """Every mention in order of appearance, each person once."""
    seen: dict[int, Mentioned] = {}
    for match in MENTION.finditer(body):
        user_id = int(match.group(2))
        seen.setdefault(user_id, Mentioned(user_id, match.group(1)))
    return list(seen.values())


def link_plain_mentions(body: str, people: Mapping[str, int]) -> str:
    """`@张伟` becomes `@[张伟](user:12)` when 张伟 is one of `people` (name → user id); the
    longest name wins, so `@张伟明` is not read as 张伟. Text already in the stored form and
    `@` inside an email address are left as they are."""
    names = sorted(people, key=len, reverse=True)
    pieces: list[str] = []
    position = 0
    for token in MENTION.finditer(body):
        pieces.append(_link_in(body[position : token.start()], names, people))
        pieces.append(token.group(0))
        position = token.end()
    pieces.append(_link_in(body[position:], names, people))
    return "".join(pieces)


def _link_in(text: str, names: list[str], people: Mapping[str, int]) -> str:
    out: list[str] = []
    index = 0
    while index < len(text):
        at = text.find("@", index)
        if at < 0:
            break
        out.append(text[index:at])
        preceded_by_word = at > 0 and (text[at - 1].isascii() and text[at - 1].isalnum())
        name = (
            None
            if preceded_by_word
            else next((n for n in names if text.startswith(n, at + 1)), None)
        )
        if name is None:
            out.append("@")
            index = at + 1
        else:
            out.append(f"@[{name}](user:{people[name]})")
            index = at + 1 + len(name)
    out.append(text[index:])
    return "".join(out)


def as_html(body: str) -> Markup:
    """The text escaped, each mention a highlighted name (line breaks kept by the page's CSS)."""
    highlighted = Markup('<span class="mention">@{}</span>')
    pieces: list[Markup] = []
    position = 0
    for token in MENTION.finditer(body):
        pieces.append(escape(body[position : token.start()]))
        pieces.append(highlighted.format(token.group(1)))
        position = token.end()
    pieces.append(escape(body[position:]))
    return Markup("").join(pieces)


def as_text(body: str) -> str:
    """The text with each mention as a plain `@name` (mail, chat, exports)."""
    return MENTION.sub(lambda m: f"@{m.group(1)}", body)
