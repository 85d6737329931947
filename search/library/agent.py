"""接听要点, the part agents read mid-call: 先说 (the first sentence), 先做 (first actions),
别说 (what never to say), parsed from the section's Markdown with the line for messages."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass
class Section:
    title: str
    line: int  # line of the "## " heading, 1-based
    text: str  # body text without the heading, stripped


@dataclass
class AgentBlock:
    """接听要点, parsed: what to say first, first actions, what never to say."""

    say: str
    do: list[str]
    avoid: list[str]



_LABEL_RE = re.compile(r"^\*\*(先说|先做|别说)\*\*[：:]\s*(.*)$")
_ITEM_RE = re.compile(r"^\s*(?:\d+[.、)]|[-*+])\s+(.*\S)\s*$")


def parse_agent(section: Section | None, problem) -> AgentBlock:
    """接听要点 has three labelled parts; the search page shows them to agents mid-call."""
    block = AgentBlock(say="", do=[], avoid=[])
    if section is None or not section.text:
        return block  # reported by _check_sections
    label = None
    for s in section.text.split("\n"):
        m = _LABEL_RE.match(s.strip())
        if m:
            label = m.group(1)
            if label == "先说":
                block.say = m.group(2).strip()
            continue
        item = _ITEM_RE.match(s)
        if item and label == "先做":
            block.do.append(item.group(1))
        elif item and label == "别说":
            block.avoid.append(item.group(1))
    line = section.line
    fmt = "格式见模板：**先说**：“……” / **先做**：加编号列表 / **别说**：加列表"
    if not block.say:
        problem(line, "接听要点缺少“**先说**：”（接起电话的第一句话）", fmt)
    if not block.do:
        problem(line, "接听要点缺少“**先做**：”下的编号列表（先做的几件事）", fmt)
    if not block.avoid:
        problem(line, "接听要点缺少“**别说**：”下的列表（绝不能说的话）", fmt)
    return block
