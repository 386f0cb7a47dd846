"""How a Slack client reads what convene sends: a small model of mrkdwn for tests.

Forgery tests must judge the payload as a reader would see it, not by looking for
convene's own escaping. The model follows Slack's formatting reference: `*bold*`,
`_italic_`, `~strike~` and `` `code` `` bind only where the opening marker follows
the start or a non-alphanumeric character and is followed by a non-space, and the
closing marker mirrors that; ```` ``` ```` fences a block; `>` (or `&gt;`) at a line's
start quotes it; `<url|label>`, `<@U…>`, `<!here>`, `<!date^…|fallback>` are explicit
markup; `&amp;`, `&lt;`, `&gt;` are decoded. Without `verbatim: true` Slack also
turns bare `https://…` and `www.…` into links and parses `@channel`-like words.

How Slack classifies a zero-width space is not documented, so every text is read
twice: once with it as a space and once as a letter; a forgery must fail in both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

ZWSP = "\u200b"
_AS = {"space": "\u2003", "letter": "\u00aa"}  # an em space (\s) / a letter (alnum)
_TOKEN = re.compile(r"<([^<>]*)>")
_BARE_URL = re.compile(r"(?i)\b(?:https?|ftp)://[^\s<>|]+|\bwww\.[^\s<>|]+|\bmailto:[^\s<>|]+")
_BARE_BROADCAST = re.compile(r"(?i)(?<![^\W_])@(channel|here|everyone)\b")
_ENTITIES = {"&lt;": "<", "&gt;": ">", "&amp;": "&"}
_FENCE = re.compile(r"```(.*?)```", re.DOTALL)
_QUOTE = re.compile(r"^(?:&gt;|>) ?", re.MULTILINE)


def _span(marker: str) -> re.Pattern[str]:
    m = re.escape(marker)
    return re.compile(rf"(?<![^\W_]){m}(?=[^\s{m}])(?:.*?[^\s{m}])?{m}(?![^\W_])")


_SPANS = {marker: _span(marker) for marker in "`*_~"}


@dataclass
class Reading:
    """What one text object shows: its visible text, each visible character's styles,
    the links a reader can click, and the broadcasts (@here …) Slack would parse."""

    visible: str = ""
    styles: list[frozenset[str]] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    broadcasts: list[str] = field(default_factory=list)

    def styles_of(self, shown: str) -> list[set[frozenset[str]]]:
        """For each place `shown` appears, the set of style sets over its characters."""
        found, start = [], self.visible.find(shown)
        while start >= 0:
            found.append(set(self.styles[start : start + len(shown)]))
            start = self.visible.find(shown, start + 1)
        return found


def read_plain(text: str) -> Reading:
    """A plain_text object: no markup at all; a bare URL is still counted as a link."""
    visible = text.replace(ZWSP, "")
    return Reading(visible, [frozenset()] * len(visible), _BARE_URL.findall(text))


def read(text: str, *, verbatim: bool, zwsp: str) -> Reading:
    """Read one mrkdwn text as a Slack client would, with ZWSP taken as `zwsp`."""
    reading = Reading()
    raw = text.replace(ZWSP, _AS[zwsp])
    if not verbatim:
        reading.links += _BARE_URL.findall(raw)
        reading.broadcasts += _BARE_BROADCAST.findall(raw)
    chars: list[str] = []
    styles: list[frozenset[str]] = []
    last = 0
    for fence in _FENCE.finditer(raw):
        _inline(raw[last : fence.start()], chars, styles, reading)
        for ch in fence.group(1):
            chars.append(ch)
            styles.append(frozenset({"pre"}))
        last = fence.end()
    _inline(raw[last:], chars, styles, reading)
    visible, kept = _decode(chars, styles)
    placeholder = _AS[zwsp]
    reading.visible = "".join(c for c in visible if c != placeholder)
    reading.styles = [s for c, s in zip(visible, kept, strict=True) if c != placeholder]
    return reading


def _inline(text: str, chars: list[str], styles: list[frozenset[str]], reading: Reading) -> None:
    """Explicit markup, quotes and inline styles of text outside code fences."""
    text = _QUOTE.sub("", text)  # a quote marker is consumed, so it no longer shows
    text = _TOKEN.sub(lambda m: _token(m.group(1), reading), text)
    out = list(text)
    marks: list[set[str]] = [set() for _ in out]
    changed = True
    while changed:
        changed = False
        current = "".join(out)
        for marker, pattern in _SPANS.items():
            match = pattern.search(current)
            if match is None:
                continue
            start, end = match.start(), match.end() - 1
            for i in range(start + 1, end):
                marks[i].add(marker)
            for i in (end, start):
                del out[i], marks[i]
            changed = True
            break
    chars += out
    styles += [frozenset(m) for m in marks]


def _token(inner: str, reading: Reading) -> str:
    target, _, label = inner.partition("|")
    if re.match(r"(?i)(?:https?|ftp|mailto):", target):
        reading.links.append(target)
        return label or target
    if target.startswith("!date^"):
        return label
    if target.startswith("!"):
        reading.broadcasts.append(target[1:])
        return "@" + target[1:]
    if target.startswith(("@", "#")):
        return target
    return "<" + inner + ">"  # not markup Slack knows: shown as typed


def _decode(chars: list[str], styles: list[frozenset[str]]) -> tuple[str, list[frozenset[str]]]:
    """Decode &lt; &gt; &amp; in one pass, keeping each character's styles."""
    out: list[str] = []
    kept: list[frozenset[str]] = []
    i = 0
    while i < len(chars):
        for entity, char in _ENTITIES.items():
            if "".join(chars[i : i + len(entity)]) == entity:
                out.append(char)
                kept.append(styles[i])
                i += len(entity)
                break
        else:
            out.append(chars[i])
            kept.append(styles[i])
            i += 1
    return "".join(out), kept


# ---- whole messages ----------------------------------------------------------------------


def text_objects(blocks: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every text object in blocks (or a view), with the type of what holds it."""
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    stack: list[tuple[str, Any]] = [("", blocks)]
    while stack:
        holder, node = stack.pop()
        if isinstance(node, list):
            stack += [(holder, item) for item in node]
        elif isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
                yield holder, node
                continue
            kind = str(node.get("type") or holder)
            stack += [(kind, value) for value in node.values()]


def button_urls(blocks: Any) -> list[str]:
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    found: list[str] = []
    stack: list[Any] = [blocks]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack += node
        elif isinstance(node, dict):
            if node.get("type") == "button" and node.get("url"):
                found.append(str(node["url"]))
            stack += list(node.values())
    return found


def readings(params: dict[str, Any]) -> Iterator[tuple[str, Reading]]:
    """Each text of a Web API message (top-level text, every block text, a view's texts),
    read under both readings of the zero-width space: (reading's name, reading)."""
    texts: list[tuple[str, bool | None]] = []
    if isinstance(params.get("text"), str):
        texts.append((params["text"], False))  # the top-level text is never verbatim
    for key in ("blocks", "view"):
        if params.get(key):
            for _, obj in text_objects(params[key]):
                plain = obj["type"] == "plain_text"
                texts.append((obj["text"], None if plain else bool(obj.get("verbatim"))))
    for text, verbatim in texts:
        for zwsp in _AS:
            if verbatim is None:
                yield zwsp, read_plain(text)
            else:
                yield zwsp, read(text, verbatim=verbatim, zwsp=zwsp)


def forgeries(
    params: dict[str, Any], title: str, allowed_links: set[str], *, collapse: bool = True
) -> list[str]:
    """What a reader of this message would see that the title made up: formatting
    inside it, a link convene did not make, a broadcast. Also checks the title shows
    literally in some text of the message: on one line, or, when `collapse` is False
    (prose that quotes a title may keep its line breaks), also as typed."""
    problems: list[str] = []
    one_line = " ".join(title.split())
    forms = {one_line} if collapse else {one_line, title}
    seen: set[str] = set()
    links = set(button_urls(params.get("blocks") or [])) | set(
        button_urls(params.get("view") or [])
    )
    for zwsp, reading in readings(params):
        links |= set(reading.links)
        problems += [f"broadcast @{b}" for b in reading.broadcasts]
        for shown in forms:
            for places in reading.styles_of(shown):
                seen.add(zwsp)
                if len(places) > 1:
                    problems.append(f"formatting inside the title in {reading.visible!r}")
    problems += [f"a link convene did not make: {link}" for link in links - allowed_links]
    problems += [
        f"the title {title!r} is not shown literally (ZWSP as a {zwsp})"
        for zwsp in _AS
        if zwsp not in seen
    ]
    return sorted(set(problems))
