"""Writing an answers file back in place: human-readable YAML (or JSON) that `load_audit` reads
unchanged.

The walkthrough saves through `Layout`: the file as its author wrote it (ruamel.yaml round-trip
mode for YAML, key order for JSON), with only the answers and metadata that changed written into
it; comments, order, quoting, indentation and blank answers stay as they were, and each comment
line stays above the key it was written above. New answers go where
`ic-audit init` puts them, with its comments, in the style of `ic_audit.answers_text` (which
also writes a whole file from scratch, the walkthrough's fallback).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
from collections.abc import Mapping, MutableMapping
from typing import Any

from ic_audit.answers import Answer
from ic_audit.answers_text import (
    SUB_ORDER,
    TOP_ORDER,
    _comment_line,
    _comment_text,
    _plain,
    _plain_ok,
)
from ic_audit.bank import Bank, Question

# ------------------------------------------------------------------------- saving in place
#
# The walkthrough rewrites a file a person edits (often one `ic-audit init` wrote, full of
# allowed-value comments). Regenerating it would drop their comments, key order and blanks, so
# it is loaded once with ruamel.yaml's round-trip mode and only what changed is written into it.
# ruamel is imported here, lazily: only the walkthrough needs it, not `score` or `report`.

_MISSING: Any = object()


def _same(a: Any, b: Any) -> bool:
    """Equal and of the same kind (``True == 1`` is not the same answer)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _empty(answer: Answer | None) -> bool:
    return answer is None or (answer.value is None and answer.note is None and not answer.evidence)


class _KeptNull:
    """A null written as text (``null``, ``~``): written back the same way, not as a blank."""

    def __init__(self, text: str) -> None:
        self.text = text


def _new_yaml() -> Any:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt", pure=True)
    yaml.preserve_quotes = True
    yaml.width = 4096  # never fold a long note over lines of its own
    yaml.representer.add_representer(
        _KeptNull,
        lambda rep, data: rep.represent_scalar("tag:yaml.org,2002:null", data.text),
    )
    return yaml


def _keep_nulls(node: Any, lines: list[str]) -> None:
    """Mark every null written as a word so the dump writes the word back, not a blank."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    def kept(line: int, col: int) -> _KeptNull | None:
        text = lines[line][col:] if line < len(lines) else ""
        word = re.match(r"(null|Null|NULL|~)(?=\s|$|,|\]|\})", text)
        return _KeptNull(word.group(1)) if word else None

    if isinstance(node, CommentedMap):
        for k in list(node):
            v = node[k]
            if v is None:
                mark = kept(*node.lc.value(k))
                if mark is not None:
                    node[k] = mark
            else:
                _keep_nulls(v, lines)
    elif isinstance(node, CommentedSeq):
        for i, v in enumerate(node):
            if v is None:
                mark = kept(*node.lc.item(i))
                if mark is not None:
                    node[i] = mark
            else:
                _keep_nulls(v, lines)


def _guess_indent(data: Any, lines: list[str]) -> dict[str, int]:
    """The file's own indentation, as `YAML.indent` takes it: ruamel writes every mapping and
    list of a dump one way, so it is read from the first nested mapping and the first block list
    the file has (``load_yaml_guess_indent`` mistakes a list's indent for the mapping indent).
    What the file does not show is what `ic-audit init` writes: two spaces, list dashes two
    spaces in from their key."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    found: dict[str, int] = {}
    queue = [data]
    while queue and len(found) < 3:
        node = queue.pop(0)
        if not isinstance(node, (CommentedMap, CommentedSeq)) or node.fa.flow_style():
            continue
        if isinstance(node, CommentedSeq):
            queue += list(node)
            continue
        for k, v in node.items():
            if not isinstance(v, (CommentedMap, CommentedSeq)) or v.fa.flow_style() or not v:
                continue
            queue.append(v)
            with contextlib.suppress(Exception):  # nodes without a position: leave the guess
                column = node.lc.key(k)[1]
                if isinstance(v, CommentedMap) and "mapping" not in found:
                    inner = v.lc.key(next(iter(v)))[1]
                    if inner > column:
                        found["mapping"] = inner - column
                elif isinstance(v, CommentedSeq) and "sequence" not in found:
                    line, inner = v.lc.item(0)
                    before = lines[line][:inner].rstrip()
                    if before.endswith("-") and not before[:-1].strip():
                        found["sequence"] = inner - column
                        found["offset"] = len(before) - 1 - column
    mapping = found.get("mapping", 2)
    if "sequence" not in found:
        found["sequence"], found["offset"] = mapping + 2, mapping
    return {"mapping": mapping, "sequence": found["sequence"], "offset": found["offset"]}


def _comment_tokens(lines: list[str], indent: int) -> list[Any]:
    from ruamel.yaml.error import CommentMark
    from ruamel.yaml.tokens import CommentToken

    mark = CommentMark(indent)
    return [CommentToken(f"# {_comment_line(line)}\n" if line else "\n", mark) for line in lines]


def _scalar_node(value: Any, *, typed: bool) -> Any:
    """A value as a ruamel node styled as `answer_value` would write it.

    ``typed`` is for text a person typed (always double-quoted); otherwise a string is written
    plain when that reads back as the same string.
    """
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    if isinstance(value, str):
        return value if not typed and _plain_ok(value) else DoubleQuotedScalarString(value)
    if isinstance(value, Mapping):
        out = CommentedMap()
        for k, v in value.items():
            out[str(k)] = _scalar_node(v, typed=True)
        out.fa.set_flow_style()
        return out
    if isinstance(value, (list, tuple)):
        seq = CommentedSeq([_scalar_node(v, typed=typed) for v in value])
        seq.fa.set_flow_style()
        return seq
    if isinstance(value, dt.datetime):
        return DoubleQuotedScalarString(value.isoformat())
    return value


def _answer_node(q: Question | None, answer: Answer) -> Any:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    if q is None:
        value = _scalar_node(answer.value, typed=True)
    else:
        value = q.kind.yaml_node(q, answer.value, lambda v, typed: _scalar_node(v, typed=typed))
    if answer.note is None and not answer.evidence:
        return value
    out = CommentedMap()
    out["value"] = value
    if answer.note is not None:
        out["note"] = DoubleQuotedScalarString(answer.note)
    if answer.evidence:
        out["evidence"] = CommentedSeq([DoubleQuotedScalarString(e) for e in answer.evidence])
    return out


def _delete(mapping: Any, name: str) -> None:
    """Remove a key; the comment lines above it stay, above the key that follows."""
    keys = list(mapping)
    before = mapping.ca.items.get(name, [None, None])[1]
    at = keys.index(name)
    del mapping[name]
    if before and at + 1 < len(keys):
        slot = mapping.ca.items.setdefault(keys[at + 1], [None, None, None, None])
        slot[1] = [*before, *(slot[1] or [])]


def _claim_comments(mapping: Any, at: int, parent: Any = None, name: Any = None) -> None:
    """Give the key at ``at`` the comment lines written above it, so that what is inserted in
    front of it (or removed before it) leaves them above it.

    ruamel keeps the lines above a key with the value before it (with the innermost last item
    of that value), and the lines above a first key with the mapping and with its key in
    ``parent``; a key inserted there would land under them, taking another section's heading.
    """
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.error import CommentMark
    from ruamel.yaml.scalarstring import FoldedScalarString, LiteralScalarString
    from ruamel.yaml.tokens import CommentToken

    keys = list(mapping)
    if not 0 <= at < len(keys):
        return
    lines: list[str] = []
    if at == 0:
        lead = mapping.ca.comment[1] if mapping.ca.comment else None
        if not lead:
            return
        moved = list(lead)
        if moved[0].value.strip():
            # No longer first: set apart from the answer now above, as `init` does.
            moved.insert(0, CommentToken("\n", CommentMark(moved[0].column)))
        mapping.ca.comment[1] = []
        slot = parent.ca.items.get(name) if parent is not None else None
        if slot and len(slot) > 3:
            slot[3] = None
    else:
        node, holder, index = mapping[keys[at - 1]], mapping.ca.items, keys[at - 1]
        while isinstance(node, (CommentedMap, CommentedSeq)) and len(node):
            index = list(node)[-1] if isinstance(node, CommentedMap) else len(node) - 1
            holder, node = node.ca.items, node[index]
        entry = holder.get(index) or []
        spot = next((i for i in (2, 3, 1, 0) if isinstance(_at(entry, i), CommentToken)), None)
        if spot is None or "\n" not in entry[spot].value:
            return
        token = entry[spot]
        if isinstance(node, (FoldedScalarString, LiteralScalarString)):
            # A block scalar holds its own line end: every line of the comment is a line below.
            lines, entry[spot] = token.value.splitlines(), None
        else:
            head, rest = token.value.split("\n", 1)
            lines, token.value = rest.splitlines(), head + "\n"
        column = 0
        with contextlib.suppress(Exception):  # keys added by us have no position
            column = mapping.lc.key(keys[at])[1]
        moved = [
            CommentToken(f"{line.strip()}\n" if line.strip() else "\n", CommentMark(column))
            for line in lines
        ]
    if moved:
        slot = mapping.ca.items.setdefault(keys[at], [None, None, None, None])
        slot[1] = [*moved, *(slot[1] or [])]


def _at(entry: list[Any], i: int) -> Any:
    return entry[i] if i < len(entry) else None


def _set(mapping: Any, name: str, value: Any, position: int) -> None:
    if name in mapping:
        mapping[name] = value
    else:
        mapping.insert(position, name, value)


def _position(keys: list[Any], rank: Mapping[Any, int], name: Any) -> int:
    """Where ``name`` goes among ``keys``: before the first known key that comes after it."""
    mine = rank[name]
    known = [i for i, k in enumerate(keys) if k in rank]
    for i in known:
        if rank[keys[i]] > mine:
            return i
    return known[-1] + 1 if known else len(keys)


class Layout:
    """An answers file as a person wrote it, updated in place by `update`, written by `text`.

    YAML keeps comments, key order, quoting and blank answers (ruamel.yaml round-trip mode);
    JSON keeps its key order. Answers the file does not have yet go where `ic-audit init` puts
    them, in bank order, with the same comments above them.
    """

    def __init__(self, data: Any, as_json: bool, yaml: Any = None) -> None:
        self.data = data
        self.as_json = as_json
        self.yaml = yaml

    @classmethod
    def parse(cls, text: str, as_json: bool) -> Layout:
        if as_json:
            return cls(json.loads(text), True)
        yaml = _new_yaml()
        data = yaml.load(text)
        lines = text.splitlines()
        yaml.indent(**_guess_indent(data, lines))
        _keep_nulls(data, lines)
        return cls(data, False, yaml)

    @classmethod
    def new(cls, bank: Bank, as_json: bool) -> Layout:
        """An empty file: for YAML, the header comments `ic-audit init` writes."""
        if as_json:
            return cls({}, True)
        from ic_audit.answers_template import header_lines

        head = "".join(f"# {_comment_line(line)}".rstrip() + "\n" for line in header_lines(bank))
        layout = cls.parse(head + "\nanswers: {}\n", False)
        layout.data["answers"].fa.set_block_style()
        return layout

    def text(self) -> str:
        if self.as_json:
            return json.dumps(_plain(self.data), indent=2, ensure_ascii=False) + "\n"
        import io

        out = io.StringIO()
        self.yaml.dump(self.data, out)
        return out.getvalue()

    # -- updating

    def update(
        self,
        bank: Bank,
        old: tuple[Mapping[str, Any], Mapping[str, Answer]],
        new: tuple[Mapping[str, Any], Mapping[str, Answer]],
    ) -> None:
        """Write into the file what differs between ``old`` (what it holds) and ``new``."""
        self._update_meta(old[0], new[0])
        self._update_answers(bank, old[1], new[1])

    def _mapping(self) -> Any:
        if self.as_json:
            return dict
        from ruamel.yaml.comments import CommentedMap

        return CommentedMap

    def _put(self, mapping: Any, name: str, value: Any, position: int) -> None:
        if not self.as_json:
            _set(mapping, name, value, position)
            return
        if name in mapping:
            mapping[name] = value
            return
        items = list(mapping.items())
        items.insert(position, (name, value))
        mapping.clear()
        mapping.update(items)

    def _drop(self, mapping: Any, name: str) -> None:
        if self.as_json:
            del mapping[name]
        else:
            _delete(mapping, name)

    def _meta_node(self, value: Any) -> Any:
        if self.as_json:
            return _plain(value)
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        if isinstance(value, Mapping):
            out = self._mapping()()
            for k, v in value.items():
                out[k] = _scalar_node(v, typed=True)
            return out
        return _scalar_node(value, typed=True)

    def _update_meta(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        doc = self.data
        top = {k: i for i, k in enumerate([*TOP_ORDER, "answers"])}
        names = [*new, *(k for k in old if k not in new)]
        for name in names:
            if name == "answers":
                continue
            before, after = old.get(name, _MISSING), new.get(name, _MISSING)
            if _same(before, after):
                continue
            if after is _MISSING:
                if name in doc:
                    self._drop(doc, name)
                continue
            node = doc.get(name)
            if (
                isinstance(after, Mapping)
                and isinstance(before, Mapping)
                and isinstance(node, Mapping)
            ):
                self._update_fields(node, name, before, after)
                continue
            rank = {**top, name: top.get(name, len(TOP_ORDER))}
            self._put(doc, name, self._meta_node(after), _position(list(doc), rank, name))

    def _update_fields(
        self, node: Any, name: str, old: Mapping[str, Any], new: Mapping[str, Any]
    ) -> None:
        order = {k: i for i, k in enumerate(SUB_ORDER.get(name, ()))}
        for k in [*new, *(k for k in old if k not in new)]:
            before, after = old.get(k, _MISSING), new.get(k, _MISSING)
            if _same(before, after):
                continue
            if after is _MISSING:
                if k in node:
                    self._drop(node, k)
                continue
            rank = {**order, k: order.get(k, len(order))}
            value = after if self.as_json else _scalar_node(after, typed=True)
            self._put(
                node, k, _plain(value) if self.as_json else value, _position(list(node), rank, k)
            )

    def _update_answers(
        self, bank: Bank, old: Mapping[str, Answer], new: Mapping[str, Answer]
    ) -> None:
        doc = self.data
        amap = doc.get("answers")
        if not isinstance(amap, Mapping):
            amap = self._mapping()()
            self._put(doc, "answers", amap, len(doc))
        for qid in [*new, *(k for k in old if k not in new)]:
            before, after = old.get(qid), new.get(qid)
            if (_empty(before) and _empty(after)) or before == after:
                continue
            q = bank.by_id.get(qid)
            if after is None or _empty(after):
                if qid in amap:
                    amap[qid] = None  # a blank, as `ic-audit init` leaves an unanswered one
                continue
            node = self._answer(q, after, amap.get(qid))
            if qid in amap:
                amap[qid] = node
                continue
            rank = {q.id: i for i, q in enumerate(bank.questions)}
            if qid not in rank:
                rank[qid] = len(rank)
            at = _position(list(amap), rank, qid)
            if not self.as_json:
                _claim_comments(amap, at, doc, "answers")
            self._put(amap, qid, node, at)
            if not self.as_json and q is not None and not amap.fa.flow_style():
                self._comment_new(amap, bank, q)

    def _answer(self, q: Question | None, answer: Answer, node: Any) -> Any:
        if self.as_json:
            value = _plain(answer.value)
            if answer.note is None and not answer.evidence:
                return value
            long: dict[str, Any] = {"value": value}
            if answer.note is not None:
                long["note"] = answer.note
            if answer.evidence:
                long["evidence"] = list(answer.evidence)
            return long
        new = _answer_node(q, answer)
        if isinstance(node, MutableMapping) and isinstance(new, Mapping):
            # Long form both times: change the fields in place, keeping comments among them.
            for k in ("value", "note", "evidence"):
                if k in new:
                    node[k] = new[k]
                elif k in node:
                    _delete(node, k)
            return node
        return new

    def _comment_new(self, amap: Any, bank: Bank, q: Question) -> None:
        from ic_audit.answers_template import question_comment, section_comment

        section = bank.section_by_id.get(q.section)
        title = section.title if section is not None and section.title else q.section
        lines = [""]
        others = [k for k in amap if k != q.id and k in bank.by_id]
        if not any(bank.by_id[k].section == q.section for k in others):
            lines += [section_comment(title), ""]
        following = list(amap)
        at = following.index(q.id)
        if at + 1 < len(following):
            # Going in just above the first answer of its section: the section heading above
            # that answer moves up, above this one.
            slot = amap.ca.items.get(following[at + 1])
            tokens = (slot[1] if slot else None) or []
            heading = f"# {_comment_text(section_comment(title))}"
            for i, token in enumerate(tokens):
                if token.value.strip() == heading:
                    end = i + 1
                    if end < len(tokens) and not tokens[end].value.strip():
                        end += 1
                    moved, slot[1] = tokens[:end], tokens[end:] or None
                    self._put_comment(amap, q.id, moved, question_comment(q))
                    return
        lines += question_comment(q)
        self._put_comment(amap, q.id, [], lines)

    def _put_comment(self, amap: Any, qid: str, tokens: list[Any], lines: list[str]) -> None:
        indent = 2
        others = [k for k in amap if k != qid]
        if others:
            with contextlib.suppress(Exception):  # keys added by us have no position
                indent = amap.lc.key(others[0])[1]
        slot = amap.ca.items.setdefault(qid, [None, None, None, None])
        slot[1] = [*tokens, *_comment_tokens(lines, indent)]
