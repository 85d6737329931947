"""The case format: one declarative front-matter schema and a parser that keeps line numbers.

A case file is ``cases/<slug>.md``: YAML front matter between ``---`` lines, then the body
with the required H2 sections in a fixed order. The same `CaseMeta` model is used by
`caselib check`, the site hooks and the indexer, so there is exactly one definition of a
valid case. Parsing never raises on bad content: it returns `Problem`s with line numbers.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Optional

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from search.library.agent import AgentBlock, Section, parse_agent
from search.library.problems import Problem
from search.library.reference import Reference

# Body sections, in order. All are required and must have content.
SECTIONS: tuple[str, ...] = ("经过", "处理", "分析", "预防措施", "接听要点")
AGENT_SECTION = "接听要点"

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
OWNER_SAYS_MAX = 80  # one breath of an owner on the phone
ID_RE = re.compile(r"^C\d{4,6}$")
DATE_RE = re.compile(r"^(19|20)\d{2}-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?$")


class CaseMeta(BaseModel):
    """Front matter. Allowed values for enumerated fields come from reference.yaml
    (passed as validation context), so adding a category is a data change, not a code change."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str = Field(description="稳定编号，形如 C0028；caselib new 自动分配")
    title: str = Field(min_length=4, max_length=60, description="标题，说清事情和结果")
    date: str = Field(description="发生年月，YYYY-MM 或 YYYY-MM-DD，加引号")
    category: str = Field(description="投诉类别")
    level: str = Field(description="投诉等级")
    channel: str = Field(description="投诉渠道")
    outcome: str = Field(description="处理结果")
    principles: list[int] = Field(description="涉及的投诉处理原则编号")
    phrases: list[int] = Field(description="涉及的禁语编号，没有则写 []")
    customer_type: Optional[str] = Field(default=None, description="难缠客户类型，可留空")
    tags: list[str] = Field(description="标签")
    source: str = Field(description="来源")
    summary: str = Field(min_length=10, max_length=300, description="一两句话的摘要")
    owner_says: list[str] = Field(
        default_factory=list,
        description="业主常说：坐席在电话里会听到的原话，4–6 条，照本案例的情形写（检索时单独成块）",
    )

    reviewed_by: Optional[str] = Field(default=None, description="最近一次审核（复核）人，审核通过时自动填写")
    reviewed_at: Optional[str] = Field(default=None, description="最近一次审核（复核）日期 YYYY-MM-DD，审核通过时自动填写")

    @field_validator("reviewed_at", mode="before")
    @classmethod
    def _reviewed_at(cls, v):
        if isinstance(v, date):
            v = v.isoformat()
        if v is not None and (not isinstance(v, str) or not re.match(r"^\d{4}-\d{2}-\d{2}$", v)):
            raise ValueError(f"reviewed_at 应为 \"YYYY-MM-DD\"（加引号），现在是“{v}”")
        return v

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not ID_RE.match(v):
            raise ValueError(f"id 应形如 C0028（字母 C 加 4-6 位数字），现在是“{v}”")
        return v

    @field_validator("date", mode="before")
    @classmethod
    def _date(cls, v):
        if isinstance(v, date):  # unquoted 2024-03-05 arrives as a date object
            v = v.isoformat()
        if not isinstance(v, str) or not DATE_RE.match(v):
            raise ValueError(f"date 应为 \"YYYY-MM\" 或 \"YYYY-MM-DD\"（加引号），现在是“{v}”")
        return v

    @field_validator("category", "level", "channel", "outcome", "source", "customer_type")
    @classmethod
    def _allowed(cls, v, info: ValidationInfo):
        if v is None:
            return v
        allowed = _allowed_values(info)[info.field_name]
        if v not in allowed:
            raise ValueError(f"{info.field_name} 的值“{v}”不在允许范围内（可选：{'、'.join(allowed)}）")
        return v

    @field_validator("principles", "phrases")
    @classmethod
    def _numbers(cls, v: list[int], info: ValidationInfo):
        numbers, label, span = info.context["reference"].numbered(info.field_name)
        bad = [n for n in v if n not in numbers]
        if bad:
            raise ValueError(f"{info.field_name} 中的编号 {bad} 不存在：{label}只有 {span}")
        if len(set(v)) != len(v):
            raise ValueError(f"{info.field_name} 中有重复编号 {v}")
        return sorted(v)

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: list[str]):
        if any(not t.strip() for t in v):
            raise ValueError("tags 中有空标签")
        return v

    @field_validator("owner_says")
    @classmethod
    def _owner_says(cls, v: list[str]):
        if any(not isinstance(t, str) or not t.strip() for t in v):
            raise ValueError("owner_says 中有空的一条")
        long = [t for t in v if len(t) > OWNER_SAYS_MAX]
        if long:
            raise ValueError(f"owner_says 每条最多 {OWNER_SAYS_MAX} 个字，“{long[0][:20]}…”有 {len(long[0])} 个字")
        return [t.strip() for t in v]


def _allowed_values(info: ValidationInfo) -> dict[str, tuple[str, ...]]:
    ref: Reference = info.context["reference"]
    return {
        "category": ref.category_names,
        "level": ref.level_names,
        "channel": ref.channels,
        "outcome": ref.outcomes,
        "source": ref.sources,
        "customer_type": ref.customer_type_names,
    }


REQUIRED_KEYS = tuple(name for name, f in CaseMeta.model_fields.items() if f.is_required())
ALL_KEYS = tuple(CaseMeta.model_fields)


@dataclass
class Case:
    slug: str
    path: Path
    meta: CaseMeta
    sections: dict[str, Section]
    agent: AgentBlock
    body: str  # Markdown after the front matter
    content_hash: str  # sha256 of the file bytes: drives incremental indexing
    key_lines: dict[str, int] = field(default_factory=dict)  # front-matter key -> line, for messages

    @property
    def url(self) -> str:
        return f"cases/{self.slug}.html"


# ---------------------------------------------------------------- parsing


def parse_case(path: Path, reference: Reference, display: str | None = None) -> tuple[Case | None, list[Problem]]:
    """Parse one file. Returns the Case (or None if it is unusable) and every problem found."""
    display = display or str(path)
    raw = path.read_bytes()
    problems: list[Problem] = []

    def problem(line: int, message: str, fix: str) -> None:
        problems.append(Problem(display, line, message, fix))

    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        problem(line, f"文件不是 UTF-8 编码（第 {e.start} 字节处无法解码）",
                "用编辑器“另存为 UTF-8”后再提交（Windows 记事本选“UTF-8”，不要选 ANSI/GBK）")
        return None, problems
    if text.startswith("\ufeff"):
        text = text[1:]  # a BOM from Windows editors is harmless
    text = text.replace("\r\n", "\n")
    if not text.strip():
        problem(1, "文件是空的", "用 caselib new 生成模板，或删除这个文件")
        return None, problems

    lines = text.split("\n")
    if lines[0].strip() != "---":
        problem(1, "文件开头缺少 front matter（第一行应为 ---）",
                "第一行写 ---，接着写 id、title 等字段，再用一行 --- 结束；参考 caselib new 生成的模板")
        return None, problems
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        problem(1, "front matter 没有结束标记 ---", "在最后一个字段之后加一行 ---，再写正文")
        return None, problems
    fm_text = "\n".join(lines[1:end])
    fm_end_line = end + 1  # 1-based line of the closing ---

    data, key_lines = _load_front_matter(fm_text, problem, fm_end_line)
    if data is None:
        return None, problems

    meta = _validate_meta(data, key_lines, reference, problem, fm_end_line)

    body_start = end + 1  # 0-based index of first body line
    body = "\n".join(lines[body_start:])
    sections = split_sections(lines, body_start, problem)
    agent = parse_agent(sections.get(AGENT_SECTION), problem)
    _check_sections(sections, problem, len(lines))

    if meta is None or problems:
        return None, problems
    slug = path.stem
    return (
        Case(
            slug=slug,
            path=path,
            meta=meta,
            sections=sections,
            agent=agent,
            body=body,
            content_hash=hashlib.sha256(raw).hexdigest(),
            key_lines=key_lines,
        ),
        problems,
    )


_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load_front_matter(fm_text: str, problem, fm_end_line: int):
    """YAML → (dict, {key: line}). Line numbers come from the composed node tree, which is
    parsed once and then constructed. libyaml's C loader when present: the pure-Python one
    made `caselib check` take 11 s on 10,000 cases, which a running server pays on every save."""
    loader = _YAML_LOADER(fm_text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = (mark.line + 2) if mark else 2
        what = (e.problem or e.context or "语法错误").strip()
        problem(line, f"front matter 的 YAML 语法错误：{what}",
                "检查这一行的缩进、冒号后的空格和引号是否成对；含冒号等符号的值请加引号")
        return None, {}
    except yaml.YAMLError as e:  # pragma: no cover - other YAML errors carry no mark
        problem(2, f"front matter 的 YAML 无法解析：{e}", "对照模板检查格式")
        return None, {}
    finally:
        loader.dispose()
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        problem(2, "front matter 应为“字段: 值”的列表", "对照 caselib new 生成的模板，每行一个字段")
        return None, {}
    key_lines: dict[str, int] = {}
    for k, _v in node.value:
        key = str(k.value)
        line = k.start_mark.line + 2
        if key in key_lines:
            problem(line, f"字段 {key} 重复出现（第一次在第 {key_lines[key]} 行）", "删除重复的那一行")
        key_lines.setdefault(key, line)
    return data, key_lines


def _validate_meta(data: dict, key_lines: dict[str, int], reference: Reference, problem, fm_end_line: int):
    data = {str(k): v for k, v in data.items()}
    for key in data:
        if key not in ALL_KEYS:
            close = difflib.get_close_matches(key, ALL_KEYS, n=1)
            hint = f"是不是想写 {close[0]}？" if close else ""
            problem(key_lines.get(key, 2), f"未知字段 {key}", f"{hint}删除或改名；允许的字段：{', '.join(ALL_KEYS)}")
    for key in REQUIRED_KEYS:
        if key not in data:
            problem(fm_end_line, f"缺少必填字段 {key}",
                    f"在结束的 --- 之前加一行 {key}: …（{CaseMeta.model_fields[key].description}）")
    try:
        return CaseMeta.model_validate(data, context={"reference": reference})
    except ValidationError as e:
        for err in e.errors():
            loc = err["loc"]
            key = str(loc[0]) if loc else ""
            if err["type"] in ("missing", "extra_forbidden"):
                continue  # reported above with a better message
            line = key_lines.get(key, fm_end_line)
            problem(line, _describe(key, err), _fix_for(key, err, reference))
        return None


def _describe(key: str, err: dict) -> str:
    msg = err["msg"]
    if err["type"] == "value_error":
        return msg.removeprefix("Value error, ")
    given = err.get("input")
    kinds = {
        "string_type": "应为文字",
        "list_type": "应为列表，如 [1, 2]",
        "int_type": "列表里应为数字",
        "int_parsing": "列表里应为数字",
        "string_too_short": "太短",
        "string_too_long": "太长",
    }
    return f"{key} {kinds.get(err['type'], msg)}（现在是“{given}”）"


def _fix_for(key: str, err: dict, reference: Reference) -> str:
    field_info = CaseMeta.model_fields.get(key)
    desc = field_info.description if field_info else ""
    if err["type"] == "value_error":
        if key in ("principles", "phrases"):
            _numbers, label, span = reference.numbered(key)
            empty = "，没有则写 []" if key == "phrases" else ""
            return f"改为 涉及的{label}编号 {span}{empty}，如 [2, 3]"
        return f"改为允许的值之一（{desc}）"
    if err["type"] in ("list_type", "int_type", "int_parsing"):
        return f"写成方括号列表，如 {key}: [2, 3]；没有就写 {key}: []"
    if err["type"] == "string_too_short":
        return f"把 {key} 写完整（{desc}）"
    if err["type"] == "string_too_long":
        return f"精简 {key}（{desc}）"
    return f"按模板填写 {key}（{desc}）"


_FENCE_RE = re.compile(r"^\s*(```|~~~)")


def split_sections(lines: list[str], body_start: int, problem) -> dict[str, Section]:
    """H2 headings split the body; fenced code is skipped so '## ' inside it is not a heading."""
    sections: dict[str, Section] = {}
    current: tuple[str, int] | None = None
    buf: list[str] = []
    in_fence = False

    def flush():
        if current:
            title, line = current
            if title in sections:
                problem(line, f"章节“## {title}”重复（第一次在第 {sections[title].line} 行）", "合并两个同名章节")
            else:
                sections[title] = Section(title, line, "\n".join(buf).strip())

    for i in range(body_start, len(lines)):
        s = lines[i]
        if _FENCE_RE.match(s):
            in_fence = not in_fence
        if not in_fence and s.startswith("## "):
            flush()
            current, buf = (s[3:].strip(), i + 1), []
            if current[0] not in SECTIONS:
                close = difflib.get_close_matches(current[0], SECTIONS, n=1, cutoff=0.5)
                hint = f"是不是“{close[0]}”？" if close else ""
                problem(i + 1, f"未知章节“## {current[0]}”",
                        f"{hint}正文只用这些二级标题：{'、'.join(SECTIONS)}；小标题请用 ###")
        elif current:
            buf.append(s)
    flush()
    return sections


def _check_sections(sections: dict[str, Section], problem, n_lines: int) -> None:
    present = [t for t in sections if t in SECTIONS]
    for i, title in enumerate(SECTIONS):
        if title not in sections:
            # point at where it belongs: the next section that is present, else the end
            later = [sections[t].line for t in SECTIONS[i + 1 :] if t in sections]
            problem(later[0] if later else n_lines, f"缺少必填章节“## {title}”",
                    f"按顺序加上 {' → '.join('## ' + t for t in SECTIONS)}")
        elif not sections[title].text:
            problem(sections[title].line, f"章节“## {title}”是空的", "把内容写上；写不出来的部分请说明“尚不清楚”")
    expected = [t for t in SECTIONS if t in present]
    if present != expected:
        first_bad = next(t for t, e in zip(present, expected, strict=True) if t != e)
        problem(sections[first_bad].line, f"章节顺序不对：现在是 {'、'.join(present)}",
                f"按 {'、'.join(SECTIONS)} 的顺序排列")
