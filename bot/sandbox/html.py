"""Telegram-HTML parsing for the Bot API sandbox.

Mirrors the behaviour of Telegram's server-side HTML parser (tdlib ``parse_html``):
supported tags, attribute syntax, nesting rules and error texts, so that a bot that
sends malformed HTML gets the same ``Bad Request: can't parse entities: ...`` errors
it would get from Telegram.  Deliberately a little stricter than Telegram in one
place: a ``&`` that does not start a valid HTML entity is an error (Telegram keeps it
as a literal ``&``), which catches unescaped user input early.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = [
    "HtmlParseError",
    "ParsedText",
    "parse_html",
    "plain_text",
    "strip_text",
    "utf16_len",
]

SUPPORTED_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "code",
        "pre",
        "tg-spoiler",
        "span",
        "blockquote",
        "tg-emoji",
    }
)

_SIMPLE_ENTITY = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
}

_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,8})|([a-zA-Z][a-zA-Z0-9]{0,31}));")
_TEXT_RUN_RE = re.compile(r"[^<&]+")
_SPACE = " \t\r\n\f\v"
# Telegram trims these from both ends of a message text.
_TRIM = " \t\r\n\f\v\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u200b\u3000"


class HtmlParseError(ValueError):
    """The text is not valid Telegram HTML; ``str(exc)`` is Telegram's reason text."""


@dataclass
class ParsedText:
    text: str
    entities: list[dict] = field(default_factory=list)


def utf16_len(s: str) -> int:
    """Length of ``s`` in UTF-16 code units (how Telegram measures text)."""
    n = len(s)
    if s.isascii():
        return n
    return n + sum(1 for ch in s if ord(ch) > 0xFFFF)


def _byte_offset(s: str, i: int) -> int:
    return len(s[:i].encode("utf-8", "surrogatepass"))


def _decode_entity(s: str, i: int) -> tuple[str, int] | None:
    """Decode the HTML entity starting at ``s[i] == '&'``; return (char, end) or None."""
    m = _ENTITY_RE.match(s, i)
    if not m:
        return None
    dec, hexa, name = m.groups()
    if name is not None:
        ch = _NAMED_ENTITIES.get(name)
        if ch is None:
            return None
        return ch, m.end()
    code = int(dec) if dec is not None else int(hexa, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code), m.end()


@dataclass
class _Open:
    tag: str
    begin: int  # char index of '<' in source
    offset: int  # utf16 offset in output
    argument: str = ""
    expandable: bool = False
    entity_index: int = -1  # index of the entity list position when opened (for ordering)


def parse_html(source: str) -> ParsedText:
    """Parse Telegram HTML into plain text and a list of MessageEntity dicts.

    Raises HtmlParseError with Telegram's reason (without the "can't parse entities: "
    prefix) for invalid markup.
    """
    out: list[str] = []
    offset = 0  # utf16 offset of the output
    stack: list[_Open] = []
    entities: list[tuple[int, int, dict]] = []  # (order, depth, entity)
    order = 0
    i = 0
    n = len(source)
    while i < n:
        c = source[i]
        if c == "&":
            dec = _decode_entity(source, i)
            if dec is None:
                raise HtmlParseError(
                    f"Unsupported HTML entity at byte offset {_byte_offset(source, i)}: "
                    'the character "&" must be escaped as "&amp;"'
                )
            ch, i = dec
            out.append(ch)
            offset += 2 if ord(ch) > 0xFFFF else 1
            continue
        if c != "<":
            m = _TEXT_RUN_RE.match(source, i)
            assert m is not None  # source[i] is neither "<" nor "&": a run of at least one character
            run = m.group(0)
            out.append(run)
            offset += utf16_len(run)
            i = m.end()
            continue

        begin = i
        i += 1
        if i < n and source[i] == "/":
            # end tag
            if not stack:
                raise HtmlParseError(f"Unexpected end tag at byte offset {_byte_offset(source, begin)}")
            i += 1
            j = i
            while i < n and source[i] not in _SPACE and source[i] != ">":
                i += 1
            end_name = source[j:i].lower()
            while i < n and source[i] in _SPACE:
                i += 1
            if i >= n or source[i] != ">":
                raise HtmlParseError(f"Unclosed end tag at byte offset {_byte_offset(source, begin)}")
            i += 1
            top = stack.pop()
            if end_name and end_name != top.tag:
                raise HtmlParseError(
                    f"Unmatched end tag at byte offset {_byte_offset(source, begin)}, "
                    f'expected "</{top.tag}>", found "</{end_name}>"'
                )
            length = offset - top.offset
            if length <= 0:
                continue
            ent = _make_entity(top, length, stack)
            if ent is not None:
                entities.append((top.entity_index, len(stack), ent))
            continue

        # start tag
        j = i
        while i < n and source[i] not in _SPACE and source[i] != ">":
            i += 1
        tag = source[j:i].lower()
        if tag not in SUPPORTED_TAGS:
            raise HtmlParseError(f'Unsupported start tag "{tag}" at byte offset {_byte_offset(source, begin)}')
        opened = _Open(tag=tag, begin=begin, offset=offset, entity_index=order)
        order += 1
        while True:
            while i < n and source[i] in _SPACE:
                i += 1
            if i >= n:
                raise HtmlParseError(f"Unclosed start tag at byte offset {_byte_offset(source, begin)}")
            if source[i] == ">":
                i += 1
                break
            a = i
            while i < n and source[i] not in _SPACE and source[i] not in "=>":
                i += 1
            attr = source[a:i].lower()
            if not attr:
                raise HtmlParseError(
                    f'Empty attribute name in the tag "{tag}" at byte offset {_byte_offset(source, begin)}'
                )
            while i < n and source[i] in _SPACE:
                i += 1
            if i >= n or source[i] != "=":
                if tag == "blockquote" and attr == "expandable":
                    opened.expandable = True
                    continue
                if i >= n:
                    raise HtmlParseError(f"Unclosed start tag at byte offset {_byte_offset(source, begin)}")
                raise HtmlParseError(
                    f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                    f"at byte offset {_byte_offset(source, begin)}"
                )
            i += 1
            while i < n and source[i] in _SPACE:
                i += 1
            if i >= n:
                raise HtmlParseError(f"Unclosed start tag at byte offset {_byte_offset(source, begin)}")
            if source[i] not in "'\"":
                t = i
                while i < n and ((source[i].isalnum() and source[i].isascii()) or source[i] in ".-"):
                    i += 1
                value = source[t:i].lower()
                if i >= n or (source[i] not in _SPACE and source[i] != ">"):
                    if i >= n:
                        raise HtmlParseError(f"Unclosed start tag at byte offset {_byte_offset(source, begin)}")
                    raise HtmlParseError(f"Unexpected end of name token at byte offset {_byte_offset(source, t)}")
            else:
                quote = source[i]
                i += 1
                buf: list[str] = []
                while i < n and source[i] != quote:
                    if source[i] == "&":
                        dec = _decode_entity(source, i)
                        if dec is not None:
                            buf.append(dec[0])
                            i = dec[1]
                            continue
                    buf.append(source[i])
                    i += 1
                if i >= n:
                    raise HtmlParseError(f"Unclosed start tag at byte offset {_byte_offset(source, begin)}")
                i += 1
                value = "".join(buf)
            if tag == "a" and attr == "href":
                opened.argument = value
            elif tag == "code" and attr == "class" and value.startswith("language-"):
                opened.argument = value[len("language-") :]
            elif tag == "span" and attr == "class" and value.startswith("tg-"):
                opened.argument = value[3:]
            elif tag == "tg-emoji" and attr == "emoji-id":
                opened.argument = value
            elif tag == "blockquote" and attr == "expandable":
                opened.expandable = True
        if tag == "span" and opened.argument != "spoiler":
            raise HtmlParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {_byte_offset(source, begin)}'
            )
        if tag == "tg-emoji" and not opened.argument.isdigit():
            raise HtmlParseError(
                f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset {_byte_offset(source, begin)}'
            )
        stack.append(opened)

    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')

    entities.sort(key=lambda e: (e[2]["offset"], e[0]))
    return ParsedText("".join(out), [e for _, _, e in entities])


def _make_entity(top: _Open, length: int, stack: list[_Open]) -> dict | None:
    tag = top.tag
    ent: dict = {"offset": top.offset, "length": length}
    if tag in _SIMPLE_ENTITY:
        ent["type"] = _SIMPLE_ENTITY[tag]
        if tag == "code" and stack and stack[-1].tag == "pre":
            # <pre><code class="language-x"> -> one pre entity with that language
            stack[-1].argument = stack[-1].argument or top.argument
            return None
    elif tag == "pre":
        ent["type"] = "pre"
        if top.argument:
            ent["language"] = top.argument
    elif tag == "a":
        if not top.argument:
            return None
        ent["type"] = "text_link"
        ent["url"] = top.argument
    elif tag == "blockquote":
        ent["type"] = "expandable_blockquote" if top.expandable else "blockquote"
    elif tag == "tg-emoji":
        ent["type"] = "custom_emoji"
        ent["custom_emoji_id"] = top.argument
    else:  # pragma: no cover - guarded by SUPPORTED_TAGS
        return None
    return ent


def strip_text(parsed: ParsedText) -> ParsedText:
    """Trim leading/trailing whitespace like Telegram does, shifting/clipping entities."""
    text = parsed.text
    stripped_left = text.lstrip(_TRIM)
    shift = utf16_len(text[: len(text) - len(stripped_left)])
    result = stripped_left.rstrip(_TRIM)
    if shift == 0 and len(result) == len(text):
        return parsed
    total = utf16_len(result)
    ents = []
    for e in parsed.entities:
        start = max(e["offset"] - shift, 0)
        end = min(e["offset"] + e["length"] - shift, total)
        if end > start:
            ents.append({**e, "offset": start, "length": end - start})
    return ParsedText(result, ents)


def plain_text(source: str) -> str:
    """Best-effort plain text of Telegram HTML (no errors raised)."""
    try:
        return parse_html(source).text
    except HtmlParseError:
        return (
            re.sub(r"<[^>]*>", "", source)
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", '"')
            .replace("&amp;", "&")
        )
