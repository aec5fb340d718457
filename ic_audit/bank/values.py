"""Numbers and dates as a bank or an answers file writes them: plain decimals only (what YAML
1.1 would misread is explained), ISO dates only."""

import datetime as dt
import re
from typing import Any

# A number typed or written as text: plain decimal digits only. Python's float() would also take
# "1_000", "0x1p3"-like spellings, other scripts' digits and "nan".
# No leading zero on a whole number: YAML 1.1 reads 017 as octal 15.
_DECIMAL = re.compile(r"[-+]?(?:0|[1-9][0-9]*|[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


def parse_decimal(text: str) -> int | float | None:
    """A number written as plain decimal digits (int when it has no point or exponent)."""
    text = text.strip()
    if not _DECIMAL.fullmatch(text):
        return None
    if text.lstrip("+-").isdigit():
        return int(text)
    return float(text)


def _not_a_number(text: str) -> str:
    """Why ``text`` is not taken as a number, with what YAML 1.1 would have read it as."""
    t = text.strip()
    sign, body = (-1, t[1:]) if t[:1] == "-" else (1, t.lstrip("+"))
    meant: tuple[str, float] | None = None
    try:
        if ":" in body:
            value = 0.0
            for part in body.split(":"):
                value = value * 60 + float(part)
            meant = ("a base-60 (hours:minutes) number", value)
        elif body[:2] in ("0x", "0X"):
            meant = ("a hexadecimal number", int(body[2:], 16))
        elif body[:2] in ("0b", "0B"):
            meant = ("a binary number", int(body[2:], 2))
        elif body[:2] in ("0o", "0O"):
            meant = ("an octal number", int(body[2:], 8))
        elif "_" in body:
            meant = ("a number with digit separators", float(body.replace("_", "")))
        elif len(body) > 1 and body[0] == "0" and body.isdigit():
            meant = ("an octal number", int(body, 8))
    except ValueError:
        meant = None
    if meant is None:
        return f"{_show(text)} is not a number"
    kind, value = meant
    plain = _fmt_num(sign * value)
    return (
        f"{_show(text)} is not a plain decimal number (YAML 1.1 reads it as {kind}, {plain}); "
        f"write {plain} as a plain decimal number if that is what you mean"
    )


def parse_date(raw: Any) -> dt.date:
    """A date from YAML (already a date) or text (ISO); never from a number or a datetime."""
    if isinstance(raw, dt.datetime):
        raise ValueError(f"{_show(raw)} has a time; give a date such as 2026-10-01")
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, str):
        try:
            return dt.date.fromisoformat(raw.strip())
        except ValueError:
            pass
    raise ValueError(f"{_show(raw)} is not a date; use YYYY-MM-DD, e.g. 2026-10-01")


def _show(raw: Any) -> str:
    """A value as the person wrote it, as far as YAML lets us tell."""
    if isinstance(raw, bool):
        return f"{str(raw).lower()} (a yes/no value)"
    if isinstance(raw, (dt.date, dt.datetime)):
        return raw.isoformat(sep=" ") if isinstance(raw, dt.datetime) else raw.isoformat()
    if isinstance(raw, dict):
        return "a mapping"
    text = repr(raw)
    return text if len(text) <= 60 else text[:57] + "..."


def _fmt_num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"
