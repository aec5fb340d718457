r"""Escaping untrusted text for Markdown reports, and the one rule for which links are links.

Everything a user typed (system, auditor, answers, notes, evidence) and everything a bank says
(``--bank`` may point at anyone's bank) is untrusted. In Markdown that text must never open a
link, an image, a heading, emphasis, a code span, raw HTML or a table cell, and GitHub must not
turn a bare URL or e-mail address inside it into a link.

Reports are committed and reviewed as diffs, so the source must also read as plain text: a
character is escaped only where, in that position, it could change the structure. The rules
(checked against cmark-gfm, GitHub's renderer, in tests/test_render.py):

- ``&``, ``<`` and ``>`` always become HTML entities (the contract), so no raw HTML, no autolink
  ``<...>`` and no entity written by the user survives; ``$`` too (GitHub reads ``$...$`` as
  maths);
- backticks, ``[`` and ``|`` are always backslash-escaped: they open code spans, links, images,
  footnotes and table cells wherever they stand (``|`` also outside tables, since a paragraph
  line can become a table header). ``]`` is escaped inside link labels, the only place our own
  ``[`` stands before user text;
- ``*``, ``_`` and ``~`` runs are escaped unless they cannot open or close emphasis or
  strikethrough: spaces on both sides, or (``_`` only) letters or digits on both sides, as in
  ``snake_case``. The ends of the text count as "could be anything";
- ``\`` is escaped where it would escape the next character or end the line (a hard break);
- autolinks: ``://`` becomes ``\://`` (cmark-gfm's URL rule fires on a literal ``:``), ``www.``
  becomes ``www\.``; e-mail addresses are found in the decoded text, so an invisible WORD JOINER
  (U+2060, ``&#8288;``) after the ``@`` breaks them. A link label is text already inside a link,
  where nothing is autolinked, so it keeps URLs as they are;
- line breaks become a space (or ``<br>`` in table cells and notes) and spaces at either end
  shrink to one, so user text never starts a line of its own, a code block or a hard break.
  It may still be placed at the start of a line (a custom template), so a leading ``#``,
  ``-``/``+``/``*`` and space, ``1.``/``1)``, a run of ``-`` or ``=`` (setext heading,
  thematic break) is escaped at the start;
- text the tool writes itself (dates, numbers, bank id and version) goes through the same rules
  and, having no such characters in such positions, comes out unchanged.

Only evidence references the scoring layer accepted as ``http``, ``https`` or ``mailto`` become
links; `safe_href` re-checks that here so a renderer cannot link anything else.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any
from urllib.parse import quote, urlsplit

LINK_SCHEMES = frozenset({"http", "https", "mailto"})

_WJ = "&#8288;"  # U+2060 WORD JOINER: invisible, but not a URL, domain or e-mail character
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "$": "&#36;"}
_ALWAYS = frozenset("`[|")
_NEWLINES = re.compile(r"\r\n|[\r\n\x0b\x0c\x85\u2028\u2029]")
_ASCII_PUNCT = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
# Characters of an e-mail autolink's local part and domain (cmark-gfm's autolink extension).
_EMAIL_LOCAL = re.compile(r"[A-Za-z0-9.+\-_]")
_EMAIL_DOMAIN = re.compile(r"[A-Za-z0-9\-_]")
# At the start of a line: ATX heading, list item, ordered list item, setext underline or
# thematic break made of `-` or `=` (those made of `*`/`_` are escaped as emphasis runs).
_EDGE_SPACES = re.compile(r"^  +| {2,}$")
_LINE_START = re.compile(r"#{1,6}(?: |$)|[-+*](?: |$)|\d{1,9}(?=[.)](?: |$))|-[- ]*$|=+ *$")
# Characters kept as they are in a link destination; everything else is percent-encoded,
# notably space, ( ) < > \ | " ` and non-ASCII.
_HREF_SAFE = "-._~:/?#[]@!$&'*+,;=%"


# Embeddings, overrides and isolates reorder the text around them ("Trojan Source"): in a
# report they could make a reviewer read something other than what was written.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def clean_text(s: str) -> str:
    """Replace control characters (other than tab and line breaks), bidi overrides,
    noncharacters (U+FFFE, U+FFFF, ...) and lone surrogates.

    They have no business in a report, are invalid in HTML and some of them (NUL) are
    rewritten by Markdown parsers anyway; U+FFFD shows that something was there. A byte that
    was not UTF-8 in a file name (kept by Python as a surrogate) shows as its escape, ``\\xff``.
    """
    if s.isprintable():
        return s
    out = []
    for ch in s:
        if ch in "\t\n\r":
            out.append(ch)
        elif "\udc80" <= ch <= "\udcff":
            out.append(f"\\x{ord(ch) - 0xDC00:02x}")
        elif unicodedata.category(ch) in ("Cc", "Cs") or ch in _BIDI_CONTROLS or _nonchar(ch):
            out.append("\ufffd")
        else:
            out.append(ch)
    return "".join(out)


def _nonchar(ch: str) -> bool:
    o = ord(ch)
    return 0xFDD0 <= o <= 0xFDEF or (o & 0xFFFE) == 0xFFFE


def _space(ch: str) -> bool:
    return ch == " " or unicodedata.category(ch) == "Zs"


def _inert_run(before: str, after: str, ch: str) -> bool:
    """Whether a run of ``*``, ``_`` or ``~`` between ``before`` and ``after`` (``""`` at
    either end of the text) can neither open nor close emphasis or strikethrough."""
    if before and after and _space(before) and _space(after):
        return True
    return ch == "_" and before.isalnum() and after.isalnum()


def _escape(s: str, newline: str, label: bool = False, edges: bool = True) -> str:
    # Newlines are kept as "\n" while deciding (in a cell they become `<br>`, which is
    # punctuation to the emphasis rules; in running text a space).
    s = _NEWLINES.sub("\n", clean_text(s)).replace("\t", " ")
    if newline == " ":
        s = s.replace("\n", " ")
    # Two trailing spaces before a line end make a hard break, four leading ones an indented
    # code block; one space either side is harmless (and may be the template's own, "; ").
    if edges:
        s = _EDGE_SPACES.sub(" ", s)
    n = len(s)
    out: list[str] = []
    i = 0
    while i < n:
        ch = s[i]
        nxt = s[i + 1] if i + 1 < n else ""
        if ch == "\n":
            out.append(newline)
        elif ch in _ENTITIES:
            out.append(_ENTITIES[ch])
        elif ch in _ALWAYS or (label and ch == "]"):
            out.append("\\" + ch)
        elif ch in "*_~":
            j = i
            while j < n and s[j] == ch:
                j += 1
            before = s[i - 1] if i else ""
            after = s[j] if j < n else ""
            run = s[i:j]
            out.append(run if _inert_run(before, after, ch) else "\\" + "\\".join(run))
            i = j
            continue
        elif ch == "\\":
            # A backslash escapes ASCII punctuation and, at a line end, makes a hard break.
            out.append("\\\\" if (not nxt or nxt == "\n" or nxt in _ASCII_PUNCT) else ch)
        elif ch == ":" and not label and s.startswith("//", i + 1):
            out.append("\\:")
        elif ch == "." and not label and i >= 3 and s[i - 3 : i].lower() == "www":
            out.append("\\.")
        elif (
            ch == "@"
            and not label
            and i
            and _EMAIL_LOCAL.match(s[i - 1])
            and _EMAIL_DOMAIN.match(nxt or " ")
        ):
            out.append("@" + _WJ)
        else:
            out.append(ch)
        i += 1
    text = "".join(out)
    lead = len(text) - len(text.lstrip(" "))
    m = _LINE_START.match(text, lead)
    if m:
        # Escape the character that makes the block: the marker, or the `.`/`)` after digits.
        k = m.end() if text[lead : lead + 1].isdigit() else lead
        text = text[:k] + "\\" + text[k:]
    body = text.rstrip(" ")
    if body.endswith("#"):
        # An ATX heading's closing sequence (`## Title ##`) would be dropped from a heading.
        k = len(body.rstrip("#"))
        if k == 0 or body[k - 1] == " ":
            text = text[:k] + "\\" + text[k:]
    return text


def md_text(s: object) -> str:
    """Untrusted text as inert inline Markdown; line breaks become spaces."""
    return _escape(str(s), " ")


def md_value(s: object) -> str:
    """`md_text` for a value a template printed without a filter: its spaces at either end
    are kept, as a template that pads a number (``'%5.1f' % x``) means them."""
    return _escape(str(s), " ", edges=False)


def md_cell(s: object) -> str:
    """Untrusted text for a GFM table cell or a note: `md_text` with ``|`` escaped and line
    breaks kept as ``<br>`` (the ``md_lines`` and ``md_cell`` template filters both use it)."""
    # `|` is already in _MD_SPECIAL; GFM splits cells before inline parsing and honours `\|`.
    return _escape(str(s), "<br>")


def safe_href(href: object) -> str | None:
    """``href`` if it is an http(s) or mailto URL without spaces or controls, else None."""
    if not isinstance(href, str) or not href:
        return None
    if any(ch.isspace() or unicodedata.category(ch) in ("Cc", "Cs") for ch in href):
        return None
    try:
        parts = urlsplit(href)
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in LINK_SCHEMES:
        return None
    if scheme != "mailto" and not parts.netloc:
        return None
    return href


def md_href(href: str) -> str:
    """A URL made safe as a Markdown link destination."""
    encoded = quote(href, safe=_HREF_SAFE)
    # CommonMark decodes entities in destinations, so `&amp;` still means `&`, and a user's
    # `&lt;` cannot smuggle a `<` in.
    return encoded.replace("&", "&amp;")


def md_link(text: object, href: object) -> str:
    """``[text](href)`` for a safe href; just the escaped text when the href is not safe."""
    url = safe_href(href)
    if url is None:
        return md_cell(text)
    # Inside a link label nothing is autolinked, so a URL label reads as it is; `]` would end
    # the label early.
    return f"[{_escape(str(text), '<br>', label=True)}]({md_href(url)})"


def clean_data(value: Any) -> Any:
    """Every string in plain data (lists, dicts) with control characters replaced, as
    `clean_text` does for one string: what the report and comparison templates receive."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [clean_data(v) for v in value]
    if isinstance(value, dict):
        return {k: clean_data(v) for k, v in value.items()}
    return value
