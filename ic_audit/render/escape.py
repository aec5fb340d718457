"""Escaping untrusted text for Markdown reports, and the one rule for which links are links.

Everything a user typed (system, auditor, answers, notes, evidence) and everything a bank says
(``--bank`` may point at anyone's bank) is untrusted. In Markdown that text must never open a
link, an image, a heading, emphasis, a code span, raw HTML or a table cell, and GitHub must not
turn a bare URL or e-mail address inside it into a link. The approach is deliberately blunt:

- ``&``, ``<`` and ``>`` become HTML entities, so no raw HTML, no autolink ``<...>`` and no
  entity written by the user survives;
- every ASCII punctuation character with a Markdown meaning is backslash-escaped (CommonMark
  allows a backslash before any ASCII punctuation, so this never shows in the rendered text);
- ``$`` becomes an entity (GitHub reads ``$...$`` as maths);
- GitHub's extended autolinks (and @mentions) are defeated: ``://`` -> ``&#58;&#8288;//``,
  ``www.`` -> ``www&#8288;&#46;``, ``@`` -> ``&#64;&#8288;``. The entity alone stops an
  autolinker that reads the raw source (cmark-gfm's URL and www rules), but e-mail autolinks are
  found in the *decoded* text (`foo&#64;bar.com` is still linked), so an invisible WORD JOINER
  (U+2060) also breaks the pattern in the text a renderer sees;
- line breaks become a space (or ``<br>`` where a line break is wanted, e.g. table cells), so
  user text never starts a line of its own: no heading, list, quote or code block.

Only evidence references the scoring layer accepted as ``http``, ``https`` or ``mailto`` become
links; `safe_href` re-checks that here so a renderer cannot link anything else.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote, urlsplit

LINK_SCHEMES = frozenset({"http", "https", "mailto"})

# CommonMark/GFM syntax characters. `:` and `/` stay readable; autolinks are handled below.
_MD_SPECIAL = frozenset("\\`*_{}[]()#+-.!|~=^")
_WJ = "&#8288;"  # U+2060 WORD JOINER: invisible, but not a URL, domain or e-mail character
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "$": "&#36;", "@": "&#64;" + _WJ}
_NEWLINES = re.compile(r"\r\n|[\r\n\x0b\x0c\x85\u2028\u2029]")
_WWW = re.compile(r"(w)(w)(w)\\\.", re.IGNORECASE)
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


def _escape(s: str, newline: str) -> str:
    s = _NEWLINES.sub("\n", clean_text(s))
    out: list[str] = []
    for ch in s:
        if ch == "\n":
            out.append(newline)
        elif ch == "\t":
            out.append(" ")
        elif ch in _ENTITIES:
            out.append(_ENTITIES[ch])
        elif ch in _MD_SPECIAL:
            out.append("\\" + ch)
        else:
            out.append(ch)
    text = "".join(out).replace("://", "&#58;" + _WJ + "//")
    return _WWW.sub(r"\1\2\3" + _WJ + "&#46;", text)


def md_text(s: object) -> str:
    """Untrusted text as inert inline Markdown; line breaks become spaces."""
    return _escape(str(s), " ")


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
    label = md_cell(text)
    url = safe_href(href)
    if url is None:
        return label
    return f"[{label}]({md_href(url)})"
