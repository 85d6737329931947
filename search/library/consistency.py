"""Content rules: the slips a careful reader finds that the schema cannot see.

Each rule reads one parsed case plus its raw lines and reports ``Problem``s in the usual
``file:line: 问题 — 怎么改`` form. Numbers (the 先说 length, how many 先做 and 别说 items, the
head count of a 重大 complaint) come from ``checks`` in reference.yaml; phrase texts and
level names from the rest of that file. The rules are deliberately conservative: what
code cannot decide (whether a story is really a group complaint, whether an outcome word
is meant) is left to the reviewer, as the trainers' guide says.
"""

from __future__ import annotations

import re

from search.library.cases import AGENT_SECTION, Case
from search.library.problems import Problem
from search.library.reference import Reference

# Chinese numerals as trainers write them: 禁语三, 第九句, 十几户, 二十多位
_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_NUM = r"(?:\d+|[一二两三四五六七八九十几数]+)"
_TRAILING = "。！!？?…. 　"
# the narrative sections: what happened in this case (预防措施 and 接听要点 state general rules)
_STORY_SECTIONS = ("经过", "处理", "分析")
# a sentence that states a rule or a hypothesis rather than what happened
_CONDITIONAL = re.compile(r"如果|假如|若是|一旦|凡是|凡属|要是|万一|否则|的话|以上的|未解决的|才会|就会|可能")
_ESCALATION = re.compile(r"升级|起初|最初|一开始|先是|后来")
_SENTENCE_END = re.compile(r"[。！？；!?;]")


def cn_number(text: str) -> int | None:
    """'12' → 12, '十二' → 12, '二十' → 20, '十几' → 11 (at least), '几十' → 20; None if not a number."""
    if text.isdigit():
        return int(text)
    if text in ("几十", "数十"):
        return 20
    if "十" in text:
        tens, _, ones = text.partition("十")
        t = _DIGITS.get(tens, 1) if tens else 1
        if ones in ("", None):
            return t * 10
        if ones == "几":
            return t * 10 + 1
        return t * 10 + _DIGITS[ones] if ones in _DIGITS else None
    if len(text) == 1 and text in _DIGITS:
        return _DIGITS[text]
    return None


def _plain(s: str) -> str:
    return s.strip().rstrip(_TRAILING).strip()


def _unquote(say: str) -> str:
    quoted = re.findall(r"[“「\"]([^”」\"]+)[”」\"]", say)
    return "".join(quoted) if quoted else say.strip()


class _Lines:
    """The file's lines with the section each one belongs to (front matter = '')."""

    def __init__(self, text: str):
        self.lines = text.split("\n")
        self.section: list[str] = []
        current, fences = "", 0
        for line in self.lines:
            if line.strip() == "---" and fences < 2:
                fences += 1
            elif fences >= 2 and line.startswith("## "):
                current = line[3:].strip()
            self.section.append(current if fences >= 2 else "")

    def in_sections(self, names) -> list[tuple[int, str]]:
        return [(i + 1, line) for i, line in enumerate(self.lines) if self.section[i] in names]

    def body(self) -> list[tuple[int, str]]:
        return [(i + 1, line) for i, line in enumerate(self.lines) if self.section[i]]

    def first(self, section: str, startswith: str, default: int) -> int:
        for i, line in enumerate(self.lines):
            if self.section[i] == section and line.strip().startswith(startswith):
                return i + 1
        return default


def consistency_problems(case: Case, text: str, ref: Reference, display: str) -> list[Problem]:
    lines = _Lines(text)
    out: list[Problem] = []
    out += _quoted_phrases(lines, ref, display)
    out += _agent_block(case, lines, ref, display)
    out += _level_claims(case, lines, ref, display)
    out += _major_head_count(case, lines, ref, display)
    out += _summary_outcome(case, ref, display)
    return out


def _quoted_phrases(lines: _Lines, ref: Reference, display: str) -> list[Problem]:
    """A sentence quoted as 禁语N / 第N句禁语 is that phrase's text, whole."""
    pattern = re.compile(r"(?:禁语\s*(" + _NUM + r")|第\s*(" + _NUM + r")\s*句禁语)(?:的原话)?[：:，,\s]{0,2}[“「]([^”」]+)[”」]")
    out = []
    for line_no, line in lines.body():
        for m in pattern.finditer(line):
            n = cn_number(m.group(1) or m.group(2))
            quoted = m.group(3)
            numbers = [p.n for p in ref.phrases]
            if n not in numbers:
                out.append(Problem(display, line_no, f"引用了不存在的禁语{m.group(1) or m.group(2)}“{quoted}”",
                                   f"禁语编号是 {numbers[0]}–{numbers[-1]}；核对 reference.yaml 里的九句禁语"))
                continue
            phrase = ref.phrase(n).text
            if _plain(quoted) != _plain(phrase):
                out.append(Problem(display, line_no, f"引用的禁语{m.group(1) or m.group(2)}“{quoted}”与原句不一致",
                                   f"引用禁语时写全原句：“{phrase}”；说的是变体就写“禁语…的变体”"))
    return out


def _agent_block(case: Case, lines: _Lines, ref: Reference, display: str) -> list[Problem]:
    limits, agent, out = ref.checks, case.agent, []
    heading = case.sections[AGENT_SECTION].line if AGENT_SECTION in case.sections else 1
    if agent.say:
        n = len(_unquote(agent.say))
        if n > limits.say_max_chars:
            out.append(Problem(display, lines.first(AGENT_SECTION, "**先说**", heading),
                               f"“先说”有 {n} 个字，紧张时念不完（上限 {limits.say_max_chars} 字）",
                               "只留接起电话的第一句：共情或致歉，加上马上要做的一件事；其余写进“先做”"))
    if agent.do and len(agent.do) != limits.do_items:
        out.append(Problem(display, lines.first(AGENT_SECTION, "**先做**", heading),
                           f"“先做”有 {len(agent.do)} 条，模板要求正好 {limits.do_items} 条",
                           f"按先后写最要紧的 {limits.do_items} 件事，其余放进“处理”或“预防措施”"))
    if agent.avoid and len(agent.avoid) < limits.avoid_min_items:
        out.append(Problem(display, lines.first(AGENT_SECTION, "**别说**", heading),
                           f"“别说”只有 {len(agent.avoid)} 条，至少要 {limits.avoid_min_items} 条",
                           "再写一句坐席在这种电话里最容易脱口而出、又绝不能说的话，括号里写为什么"))
    return out


def _level_claims(case: Case, lines: _Lines, ref: Reference, display: str) -> list[Problem]:
    """属于热点投诉 / 定为重要投诉 / 按重大投诉上报 in the story must be the front-matter level."""
    names = "|".join(map(re.escape, ref.level_names))
    claim = re.compile(r"(?<![不非未])(?:属于|是一起|是一宗|定为|列为|构成|算作|升级为|升为|按)\s*(" + names + r")投诉")
    out = []
    for line_no, line in lines.in_sections(_STORY_SECTIONS) + [(case.key_lines.get("summary", 2), case.meta.summary)]:
        for sentence in _SENTENCE_END.split(line):
            if _CONDITIONAL.search(sentence):
                continue
            for m in claim.finditer(sentence):
                level = m.group(1)
                if level != case.meta.level and not _ESCALATION.search(sentence):
                    out.append(Problem(display, line_no, f"正文说“{m.group(0)}”，但 front matter 的 level 是“{case.meta.level}”",
                                       f"按等级定义核对：改 level 为“{level}”，或改正文的说法"))
    return out


def _major_head_count(case: Case, lines: _Lines, ref: Reference, display: str) -> list[Problem]:
    """重大 by head count means at least `major_min_people` complainants (10 人以上 counts ten)."""
    minimum, out = ref.checks.major_min_people, []
    body = lines.body() + [(case.key_lines.get("summary", 2), case.meta.summary)]
    words = f"(?:{minimum}|{_cn(minimum)})"
    major = ref.level_names[0]  # the most serious level, the one with a head-count threshold
    for line_no, line in body:
        for sentence in _SENTENCE_END.split(line):
            if re.search(r"(?:超过|超出|远超|多于|大于)\s*" + words + r"\s*(?:个|位|名)?人", sentence) and major in sentence:
                out.append(Problem(display, line_no, f"把重大投诉的人数标准写成了“{sentence.strip()}”",
                                   f"标准是 {minimum} 人以上（含 {minimum} 人）：写“{minimum} 人以上”，不写“超过{_cn(minimum)}人”"))
    if case.meta.level != major:
        return out
    text = "\n".join(line for _, line in body)
    if not re.search(r"联名|集体|群体|群诉|多位业主|一起来|结伴|几十", text):
        return out  # not a group complaint: 重大 for a lawsuit or a month unresolved
    if re.search(r"诉讼|起诉|法院|律师|一个多月|超过一个月|两个月|几个月", text):
        return out
    count = re.compile(r"(" + _NUM + r")\s*多?\s*(?:位|名|户|个|家)?\s*(?:业主|住户|居民|人)")
    found = [(cn_number(m.group(1)) or 0, line_no, m.group(0)) for line_no, line in body for m in count.finditer(line)]
    found = [f for f in found if f[0] > 1]
    if found and max(found)[0] < minimum:
        n, line_no, words_ = max(found)
        out.append(Problem(display, line_no, f"定为{case.meta.level}投诉，但投诉人数只写了“{words_}”（不到 {minimum} 人）",
                           f"核对人数：{minimum} 人以上才按人数定为重大；没有诉讼、也没超过一个月的，按等级定义改 level"))
    return out


def _cn(n: int) -> str:
    return "十" if n == 10 else str(n)


_RESOLVED = re.compile(r"(?<![没未不])(?:圆满解决|彻底解决|得到解决|已经解决|已解决|问题解决了|顺利解决)")
_UNRESOLVED = re.compile(r"仍未解决|至今未解决|没有解决|没能解决|未能解决|一直没解决|仍在(?:跟进|处理|协调)|尚未(?:解决|修复|完成)")
_FULLY = re.compile(r"圆满解决|彻底解决")


def _summary_outcome(case: Case, ref: Reference, display: str) -> list[Problem]:
    """The summary does not claim an outcome that `outcome` contradicts."""
    summary, outcome = case.meta.summary, case.meta.outcome
    resolved, partly, *_open = ref.outcomes  # 已解决, 部分解决, 未解决, 跟进中
    said = None
    if outcome in _open:
        said = _RESOLVED.search(summary)
    elif outcome == partly:
        said = _FULLY.search(summary)
    elif outcome == resolved:
        said = _UNRESOLVED.search(summary)
    if not said:
        return []
    return [Problem(display, case.key_lines.get("summary", 2), f"summary 说“{said.group(0)}”，与 outcome“{outcome}”矛盾",
                    f"让两处说同一件事：改 summary，或把 outcome 改为 {'、'.join(ref.outcomes)} 中相符的一个")]
