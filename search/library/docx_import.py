"""A Word (.docx) complaint report → a case draft in the template's format (`caselib import`).

Sections: a heading (Heading/标题 style, outline level), a bold-only paragraph, a bold or
``标签：`` label at the start, or a line that is only a label (``一、事件经过``) opens the section
its label names, numbering and colon aside: a section name or one of reference.yaml's
``import_headings`` (事件经过 → 经过; 处理过程及结果 → 处理). Deeper headings become ``###``.
Text before the first section or under an unknown heading goes to the end of 经过; a missing
section keeps the template's guidance, which `caselib check` flags. Front matter: Title style,
document title, ``案例名称：`` line or first short line (fitted to 4–60 characters); the first
date; level, channel and category from labelled lines (``投诉等级：重大``), the category else
from clear definition words, else `caselib new`'s defaults. Lists, tables and bold become
Markdown; a leading ``#`` is escaped. Guesses and misplaced text are noted; personal data is
kept (the checker flags it, with the fix) and counted.
"""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import date as Date
from itertools import groupby
from operator import itemgetter
from pathlib import Path

import yaml

from search.errors import ImportFailed
from search.library.cases import SECTIONS
from search.library.newcase import suggest_slug
from search.library.privacy import find_personal_data
from search.library.reference import Reference
from search.library.template import template_text

MAX_BYTES = 20 * 1024 * 1024  # a text-only report is well under 1 MB
MAX_UNZIPPED = 200 * 1024 * 1024  # refused before python-docx inflates a zip bomb
TITLE_MIN, TITLE_MAX = 4, 60  # CaseMeta.title
SHORT_LINE = 20  # a plain line that is only a label (一、事件经过) is at most this long
CATEGORY_MIN_WORDS = 4  # distinct words of one category (definition + keywords): 24 of the 55 library cases guessed, 18 right
_NO_DIR = Path(os.devnull)  # not a directory: suggest_slug then compares with no existing file
_SAVE_AS = "在 Word 里“另存为”→“Word 文档 (*.docx)”后再导入"
_SHRINK = "案例只需要文字：删掉文档里的图片，或把文字复制到新的 Word 文档后再导入"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .doc, .xls, and a password-protected .docx
_META = {"title": "案例名称|案例标题|案例题目|标题|题目|名称", "date": "发生时间|发生日期|投诉时间|投诉日期|事件时间|日期|时间",
         "level": "投诉等级|等级|投诉级别|级别", "channel": "投诉渠道|渠道|投诉方式|投诉途径|来源渠道",
         "category": "投诉类别|类别|投诉类型|投诉分类|分类"}  # the labels of lines that fill the front matter
_META_LINE = {k: re.compile(rf"^(?:{v})\s*[：:]\s*(.+)$", re.S) for k, v in _META.items()}
_DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*(?:年\s*(\d{1,2})\s*月(?:\s*\d{1,2}\s*[日号])?"
                   r"|-(\d{1,2})(?:-\d{1,2})?(?!\d)|[/.](\d{1,2})[/.]\d{1,2}(?!\d))")
_NUMBERING = re.compile(r"^(?:第[一二三四五六七八九十\d]+[部分章节条]*|[一二三四五六七八九十]+|\d+(?:\.\d+)*"
                        r"|[（(][一二三四五六七八九十\d]+[)）])[、.．:：)）]*")
_CONNECTOR = re.compile(r"以及|及|和|与|、|/|&|＆")
_UNSAFE = re.compile(r"#|```|~~~|[=\-]{2,}$")  # a heading, a code fence (hiding the sections after it), a setext underline
_BOLD = re.compile(r"(?m)^([ \u3000]*)(\S.*?)([：:]?[ \u3000]*)$")  # a line of a bold run; spaces and a colon go outside
_LABEL = re.compile(r"^\s*([^：:，,。；;\n]{1,14})[：:]")
_HEADING_STYLE = re.compile(r"^(?:(?:heading|标题)\s*([1-9])|title)$", re.I)
_LIST_STYLE = re.compile(r"^List (Number|Bullet)(?: ([2-9]))?$")


@dataclass(frozen=True)
class ImportedDraft:
    text: str  # the whole case file: front matter and the five sections
    title: str
    date: str  # YYYY-MM
    category: str | None  # None: not determined; the text has a stand-in the trainer must confirm
    slug: str  # suggested file name, unique in cases_dir when one was given
    notes: list[str]  # Chinese, for the trainer: what was guessed or could not be placed


@dataclass
class _Block:
    kind: str  # "para", "item" (a list entry), "table" or "heading" (a heading style)
    md: str
    plain: str
    level: int = 0  # heading level (0 = Title), or list depth
    ordered: bool = False
    segs: list[tuple[str, bool]] = field(default_factory=list)  # (text, bold) runs


def import_docx(data: bytes, reference: Reference, filename: str = "文件", today: Date | None = None, *,
                case_id: str = "C0000", cases_dir: Path | None = None) -> ImportedDraft:
    """The case draft for a .docx report (`ImportFailed` for anything else). The caller passes
    the next free ``case_id``, and ``cases_dir`` for a slug no case has."""
    doc = _open(data, filename)
    walk = _Walk(reference)
    for block in _blocks(doc):
        walk.feed(block)
    if not any(t.strip() for t in walk.texts):
        raise ImportFailed(f"文件“{filename}”里没有文字 — 检查是不是选错了文件；文字在文本框或图片里的，先复制到正文再导入")
    notes: list[str] = []
    title, rest = _title(walk, doc.core_properties.title, filename, notes)
    unplaced = walk.placed(rest) + walk.unplaced
    walk.sections[SECTIONS[0]] += unplaced
    when = _date(walk.texts, today or Date.today(), notes)
    category, determined = _category(reference, walk.texts, "\n".join(b.plain for s in SECTIONS[:3] for b in walk.sections[s]), notes)
    fields = {"id": case_id, "title": _yaml_str(title), "date": when, "category": category}
    for kind, word, names, default in (("level", "等级", reference.level_names, reference.default_level),
                                       ("channel", "渠道", reference.channels, "电话")):  # caselib new's defaults
        if (value := _labelled(kind, names, walk.texts)) is None:
            notes.append(f"文档里没有写投诉{word}，暂填“{default}”，请核对（可选：{'、'.join(names)}）")
        fields[kind] = value or default
    if unplaced:
        names = "；认不出的标题：" + "、".join(f"“{n}”" for n in walk.unknown) if walk.unknown else ""
        notes.append(f"有 {len(unplaced)} 段内容没有对应的章节，已放进“{SECTIONS[0]}”末尾，请移到合适的位置{names}")
    if missing := [s for s in SECTIONS if not walk.sections[s]]:
        notes.append(f"文档里没有找到这些章节：{'、'.join('## ' + s for s in missing)}；保留了模板里的说明文字，请补写")
    text = _render({s: _markdown(blocks) for s, blocks in walk.sections.items()}, **fields)
    if hits := find_personal_data(text):
        kinds = "、".join(f"{label} {n} 处" for label, n in Counter(h.label for h in hits).items())
        notes.append(f"草稿里有 {len(hits)} 处个人信息（{kinds}），导入时原样保留；caselib check 会逐条列出，发布前请改写")
    if pictures := len(doc.element.body.xpath(".//w:drawing | .//w:pict")):
        notes.append(f"文档里有 {pictures} 张图片或图形，案例只收文字，没有导入；需要的话把图里的内容写成文字")
    return ImportedDraft(text=text, title=title, date=when, category=determined, slug=suggest_slug(title, cases_dir or _NO_DIR), notes=notes)


def _open(data: bytes, filename: str):
    """The python-docx Document, or ImportFailed naming the file and how to fix it."""
    mb = 1024 * 1024
    if len(data) > MAX_BYTES:
        raise ImportFailed(f"文件“{filename}”太大（{len(data) / mb:.1f} MB，上限 {MAX_BYTES // mb} MB）— {_SHRINK}")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            sizes = {i.filename: i.file_size for i in z.infolist()}
    except zipfile.BadZipFile:
        sizes = None
    if sizes is not None and sum(sizes.values()) > MAX_UNZIPPED:
        raise ImportFailed(f"文件“{filename}”解压后超过 {MAX_UNZIPPED // mb} MB — {_SHRINK}")
    if data.startswith(_OLE):
        reason = "这是旧版 Word 97-2003 文档（.doc），或者加了密码"
    elif sizes is None:
        reason = "文件内容不是 .docx 格式（可能是 .doc、.wps、PDF 或改了扩展名的其他文件）"
    elif "word/document.xml" not in sizes:
        reason = "它是压缩包，但里面没有 Word 正文（word/document.xml）"
    else:
        import docx

        try:
            return docx.Document(io.BytesIO(data))
        except Exception:  # lxml, zipfile and python-docx each raise their own kinds
            reason = "文件已损坏或不完整，无法读取"
    raise ImportFailed(f"文件“{filename}”不是 Word 文档（.docx）：{reason} — {_SAVE_AS}")


def _blocks(doc):
    """Body paragraphs and tables in document order, as blocks."""
    from docx.table import Table

    for item in doc.iter_inner_content():
        if isinstance(item, Table):
            rows = [[" ".join(c.text.split()).replace("|", "\\|") for c in row.cells] for row in item.rows]
            if rows := [r for r in rows if any(r)]:
                width = max(map(len, rows))
                lines = ["| " + " | ".join(r + [""] * (width - len(r))) + " |" for r in rows]
                yield _Block("table", "\n".join(lines[:1] + ["|" + " --- |" * width] + lines[1:]), " ".join(map(" ".join, rows)))
            continue
        segs = _segments(item)
        plain = "".join(t for t, _ in segs)
        if not plain.strip():
            continue
        if (level := _heading_level(item)) is not None:
            yield _Block("heading", " ".join(plain.split()), plain, level=level, segs=segs)
            continue
        ordered, depth = _list_kind(item, doc) or (False, -1)  # depth -1: not a list entry
        yield _Block("item" if depth >= 0 else "para", _inline(segs), plain, level=max(depth, 0), ordered=ordered, segs=segs)


def _segments(p) -> list[tuple[str, bool]]:
    """(text, bold) of the runs, hyperlinks' included; adjacent runs of one kind merged."""
    segs: list[tuple[str, bool]] = []
    for item in p.iter_inner_content():
        for run in getattr(item, "runs", [item]):
            text, bold = run.text.replace("\t", " "), bool(run.bold or (run.style is not None and run.style.font.bold))
            if segs and segs[-1][1] == bold:
                segs[-1] = (segs[-1][0] + text, bold)
            elif text:
                segs.append((text, bold))
    return segs


def _heading_level(p) -> int | None:
    """1-9 for a heading (by its style, the style that is based on, or an outline level), 0 for Title."""
    for style in (p.style, p.style and p.style.base_style):
        if style is not None and (m := _HEADING_STYLE.match(style.name or "")):
            return int(m.group(1) or 0)
    outline = p._p.xpath("./w:pPr/w:outlineLvl/@w:val")
    return int(outline[0]) + 1 if outline and outline[0].isdigit() and int(outline[0]) < 9 else None


def _list_kind(p, doc) -> tuple[bool, int] | None:
    """(ordered, depth) of a list entry: a List Number/Bullet style, or w:numPr and its format."""
    if m := _LIST_STYLE.match(p.style.name if p.style is not None else ""):
        return m.group(1) == "Number", int(m.group(2) or 1) - 1
    num_id = p._p.xpath("./w:pPr/w:numPr/w:numId/@w:val")
    if not num_id or not num_id[0].isdigit() or num_id[0] == "0":  # numId 0: numbering removed
        return None
    ilvl = p._p.xpath("./w:pPr/w:numPr/w:ilvl/@w:val")
    depth = int(ilvl[0]) if ilvl and ilvl[0].isdigit() else 0
    try:
        numbering = doc.part.numbering_part.element
    except (KeyError, NotImplementedError):  # no numbering part
        return True, depth
    abstract = [a for a in numbering.xpath(f'./w:num[@w:numId="{num_id[0]}"]/w:abstractNumId/@w:val') if a.isdigit()]
    fmt = numbering.xpath(f'./w:abstractNum[@w:abstractNumId="{abstract[0]}"]/w:lvl[@w:ilvl="{depth}"]/w:numFmt/@w:val') if abstract else []
    return fmt[:1] != ["bullet"], depth


def _inline(segs: list[tuple[str, bool]]) -> str:
    """Bold runs as **…**, a line per line break, each line safe."""
    text = "".join(_BOLD.sub(r"\1**\2**\3", t) if b else t for t, b in segs)  # **先做**： as 接听要点 wants it
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    return "\n".join("\\" + line if _UNSAFE.match(line) else line for line in lines)


class _Walk:
    """Sorts the blocks into the sections; what comes before the first one is kept apart."""

    def __init__(self, reference: Reference):
        self.table = {s: s for s in SECTIONS} | {self._key(n): s for s, ns in reference.import_headings for n in ns if s in SECTIONS}  # label → section
        self.sections: dict[str, list[_Block]] = {s: [] for s in SECTIONS}
        self.pre: list[_Block] = []  # before the first section: title, labelled lines, stray text
        self.unplaced: list[_Block] = []  # under an unknown heading
        self.unknown: list[str] = []  # the unknown headings' text
        self.texts: list[str] = []  # every block's text in order: dates and labels are looked up here
        self.styled_title: str | None = None
        self.current: list[_Block] | None = None
        self.level: int | None = None  # heading level that opened the current section

    def feed(self, b: _Block) -> None:
        self.texts.append(b.plain)
        if b.kind == "heading" and b.level == 0 and self.styled_title is None:
            self.styled_title = b.md
        elif opened := self._opens(b):
            section, rest = opened
            self.current, self.level = self.sections[section], (b.level if b.kind == "heading" else None)
            self.current += [rest] if rest else []
        elif self.current is None:
            self.pre.append(b)
        elif b.kind == "heading" and self.level is not None and b.level > self.level:
            self.current.append(_Block("para", "### " + b.md, b.plain))
        elif b.kind == "heading":
            self.current, self.level = self.unplaced, None
            self.unplaced += self.placed([b])
        else:
            self.current.append(b)

    def placed(self, blocks: list[_Block]) -> list[_Block]:
        """Blocks that belong to no section; a heading among them kept as a bold line, and noted."""
        self.unknown += [b.md for b in blocks if b.kind == "heading"]
        return [_Block("para", f"**{b.md}**", b.plain) if b.kind == "heading" else b for b in blocks]

    @staticmethod
    def _key(label: str) -> str:
        """A label as looked up: no spaces, numbering, brackets or colon."""
        key = _NUMBERING.sub("", re.sub(r"\s+", "", label).rstrip("：:。."), count=1)
        return key.strip("【】[]〔〕").rstrip("：:")

    def _section(self, label: str, loose: bool) -> str | None:
        key = self._key(label)
        if key not in self.table and loose and len(key) <= SHORT_LINE:  # 处理过程及结果 → 处理过程
            key = _CONNECTOR.split(key, maxsplit=1)[0]
        return self.table.get(key)

    def _opens(self, b: _Block) -> tuple[str, _Block | None] | None:
        """(section, what follows the label in the same paragraph) when b opens a section."""
        if b.kind == "table":
            return None
        words = [(t, bold) for t, bold in b.segs if t.strip()]
        if b.kind == "heading" or all(bold for _, bold in words):
            section = self._section(b.plain, loose=True)
            return (section, None) if section else None
        if len(b.plain.strip()) <= SHORT_LINE and (section := self._section(b.plain, loose=False)):
            return section, None
        if words[0][1]:  # a bold label, then text
            section, offset = self._section(words[0][0], loose=True), b.plain.index(words[0][0]) + len(words[0][0])
        elif m := _LABEL.match(b.plain):
            section, offset = self._section(m.group(1), loose=False), m.end()
        else:
            return None
        segs = self._drop(b.segs, offset)
        rest = _Block("para", _inline(segs), "".join(t for t, _ in segs), segs=segs)
        return (section, rest if rest.md else None) if section else None

    @staticmethod
    def _drop(segs: list[tuple[str, bool]], n: int) -> list[tuple[str, bool]]:
        """The runs after the first n characters, without the colon and spaces after a label."""
        chars = [(c, bold) for text, bold in segs for c in text][n:]
        while chars and chars[0][0] in " \u3000：:":
            chars.pop(0)
        return [("".join(c for c, _ in run), bold) for bold, run in groupby(chars, key=itemgetter(1))]


def _markdown(blocks: list[_Block]) -> str:
    """Paragraphs apart, list entries on consecutive lines (numbered 1, 2, … per list and depth)."""
    out: list[str] = []
    counters: dict[int, tuple[bool, int]] = {}  # depth → (ordered, last number)
    for i, b in enumerate(blocks):
        if b.kind != "item":
            out.append(b.md)
            counters = {}
            continue
        counters = {d: c for d, c in counters.items() if d <= b.level}
        ordered, n = counters.get(b.level, (b.ordered, 0))
        n = n + 1 if ordered == b.ordered else 1
        counters[b.level] = (b.ordered, n)
        indent = "    " * b.level
        line = indent + (f"{n}. " if b.ordered else "- ") + b.md.replace("\n", "\n" + indent + "    ")
        if i > 0 and blocks[i - 1].kind == "item" and (b.level > 0 or n > 1 or blocks[i - 1].level > 0):
            out[-1] += "\n" + line  # the same list
        else:
            out.append(line)
    return "\n\n".join(out)


def _title(walk: _Walk, core: str | None, filename: str, notes: list[str]) -> tuple[str, list[_Block]]:
    """The title (4-60 characters), and the blocks before the first section that are neither
    where it came from nor labelled lines (日期：…)."""
    def clean(s: str) -> str:
        return " ".join(s.split()).rstrip("。")

    meta = [b for b in walk.pre if b.kind in ("para", "heading") and any(r.match(b.plain.strip()) for r in _META_LINE.values())]
    labelled = next((m.group(1) for b in meta if (m := _META_LINE["title"].match(b.plain.strip()))), None)
    rest = [b for b in walk.pre if not any(b is m for m in meta)]
    short = [b.plain for b in rest if b.kind in ("para", "heading") and len(clean(b.plain)) <= TITLE_MAX
             and not clean(b.plain).endswith(tuple("。！？!?；;"))]  # a sentence is not a title
    found = [(walk.styled_title, None), (core, "文档属性里的标题"), (labelled, None), (short[0] if short else None, "文档开头的一行")]
    raw, source = next(((clean(t), s) for t, s in found if t and clean(t)), ("", None))
    rest = [b for b in rest if clean(b.plain) != raw]
    stem = clean(Path(filename).stem)
    fallback = stem if TITLE_MIN <= len(stem) <= TITLE_MAX else "待补充标题的投诉案例"
    if len(raw) < TITLE_MIN:
        what = f"标题“{raw}”不到 {TITLE_MIN} 个字" if raw else "文档里没有找到标题"
        notes.append(f"{what}，暂用“{fallback}”，请改成说清事情和结果的标题")
        return fallback, rest
    if len(raw) > TITLE_MAX:
        head = re.split(r"[，,。；;：:（(]", raw, maxsplit=1)[0]
        title = head if TITLE_MIN <= len(head) <= TITLE_MAX else raw[:TITLE_MAX]
        notes.append(f"标题超过 {TITLE_MAX} 个字，已截短为“{title}”，请改写")
        return title, rest
    if source:
        notes.append(f"标题取自{source}“{raw}”，请核对")
    return raw, rest


def _date(texts: list[str], today: Date, notes: list[str]) -> str:
    """The first date in the text as YYYY-MM (noted unless on a 日期： line), else today's month."""
    for text in texts:
        for m in _DATE.finditer(text):
            if 1 <= (month := int(next(g for g in m.groups()[1:] if g))) <= 12:
                if not _META_LINE["date"].match(text.strip()):
                    notes.append(f"date 取自文档里的第一个日期“{m.group(0)}”，请核对是投诉发生的年月")
                return f"{m.group(1)}-{month:02d}"
    notes.append(f"文档里没有找到日期，date 暂填 {today:%Y-%m}，请改成投诉发生的年月")
    return f"{today:%Y-%m}"


def _labelled(kind: str, names: tuple[str, ...], texts: list[str]) -> str | None:
    """The value of a labelled line such as 投诉等级：重大, when it is one of names."""
    pattern = re.compile(rf"(?:{_META[kind]})\s*[：:]\s*({'|'.join(map(re.escape, names))})")
    return next((m.group(1) for t in texts if (m := pattern.search(t))), None)


def _category(ref: Reference, texts: list[str], story: str, notes: list[str]) -> tuple[str, str | None]:
    """(written, determined or None): a labelled line, else clearly most words only its definition has."""
    if literal := _labelled("category", ref.category_names, texts):
        return literal, literal
    from search.library.textnorm import highlight_terms, normalize  # jieba: loaded only here

    words = {c.name: set(highlight_terms(c.name + "，" + c.definition)) | set(c.keywords) for c in ref.categories}
    shared, story = Counter(w for ws in words.values() for w in ws), normalize(story)
    found = [(sorted(w for w in ws if shared[w] == 1 and w in story), name) for name, ws in words.items()]
    ranked = sorted(found, key=lambda f: -len(f[0]))  # stable: ties keep reference.yaml's order
    (best, name), runner_up = ranked[0], (ranked[1][0] if len(ranked) > 1 else [])
    if len(best) >= CATEGORY_MIN_WORDS and len(best) >= 2 * len(runner_up):
        notes.append(f"投诉类别按正文里的词（{'、'.join(best)}）判断为“{name}”，请核对")
        return name, name
    stand_in = name if best else ref.category_names[0]
    notes.append(f"没能判断投诉类别，暂填“{stand_in}”，请从 {'、'.join(ref.category_names)} 中选一个")
    return stand_in, None


def _render(bodies: dict[str, str], **fields: str) -> str:
    """The template filled as `caselib new` fills it; a section without a body keeps the guidance."""
    head, *parts = re.split(r"(?m)^(?=## )", template_text().format(**fields))
    for part in parts:
        name = part[3:].split("\n", 1)[0].strip()
        head += f"## {name}\n\n{bodies[name]}\n\n" if bodies.get(name) else part
    return head.rstrip("\n") + "\n"


def _yaml_str(s: str) -> str:
    """s as a YAML value: plain when it reads back unchanged, else double-quoted."""
    try:
        return s if yaml.safe_load(f"k: {s}") == {"k": s} else json.dumps(s, ensure_ascii=False)
    except yaml.YAMLError:
        return json.dumps(s, ensure_ascii=False)
