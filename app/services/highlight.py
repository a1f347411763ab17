"""Evidence highlighting: marketplace text split at evidence offsets, every piece escaped.

The raw text is never marked safe: it is cut at the span offsets, each piece goes through
``markupsafe.escape``, and only our own ``<mark>`` tags (with escaped attributes) are
added around the evidence pieces.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import re

from markupsafe import Markup, escape

_TOKEN = re.compile(r"[^a-z0-9_]")


def _css(value: str, default: str) -> str:
    return _TOKEN.sub("", value.lower())[:32] or default


@dataclass(frozen=True)
class EvidenceItem:
    index: int
    label: str
    text: str
    why: str
    field: str | None
    detector: str
    kind: str
    start: int | None
    end: int | None
    located: bool
    extra: dict[str, Any]

    @property
    def anchor(self) -> str:
        return f"ev-{self.index}"


def _locate(text: str, item: dict[str, Any]) -> tuple[int, int] | None:
    """The span's offsets if they point at the evidence text (or where the text is)."""
    start, end, quoted = item.get("start"), item.get("end"), item.get("text") or ""
    if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text):
        if not quoted or text[start:end] == quoted:
            return start, end
    if quoted:
        pos = text.find(quoted)
        if pos >= 0:
            return pos, pos + len(quoted)
    return None


def evidence_items(evidence: list[dict[str, Any]] | None,
                   texts: dict[str, str]) -> list[EvidenceItem]:
    items = []
    for i, raw in enumerate(evidence or []):
        if not isinstance(raw, dict):
            continue
        field = raw.get("field")
        span = _locate(texts[field], raw) if field in texts else None
        items.append(EvidenceItem(
            index=i, label=str(raw.get("label") or ""), text=str(raw.get("text") or ""),
            why=str(raw.get("why") or ""), field=field if field in texts else None,
            detector=str(raw.get("detector") or ""), kind=str(raw.get("kind") or ""),
            start=span[0] if span else None, end=span[1] if span else None,
            located=span is not None,
            extra={k: v for k, v in raw.items() if k not in {
                "label", "text", "why", "field", "detector", "kind", "start", "end"}}))
    return items


def highlight(text: str, items: list[EvidenceItem], field: str) -> Markup:
    """``text`` escaped, with the located evidence spans of ``field`` wrapped in <mark>.
    Overlapping spans are clipped so every character is output exactly once."""
    spans = sorted(((it.start, it.end, it) for it in items
                    if it.field == field and it.located), key=lambda s: (s[0], -s[1]))
    out: list[str] = []
    pos = 0
    for start, end, item in spans:
        start = max(start, pos)
        if end <= start:
            continue
        out.append(escape(text[pos:start]))
        title = f"{item.label}: {item.why}" if item.why else item.label
        out.append(Markup('<mark class="ev ev-{kind} ev-{det}" id="{anchor}-mark" title="{title}" '
                          'aria-describedby="{anchor}" data-evidence="{anchor}">{body}</mark>')
                   .format(kind=_css(item.kind, "span"), det=_css(item.detector, "x"), anchor=item.anchor,
                           title=title, body=text[start:end]))
        pos = end
    out.append(escape(text[pos:]))
    return Markup("").join(out)
