"""Personal data that must never be published or logged.

Four kinds, each a pattern tuned against its near misses (dates, case ids, amounts,
floor numbers, partially masked plates). Used by `caselib check` on case files and by the
search log before anything is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PLATE_CHARS = "A-HJ-NP-Z0-9"  # plates skip I and O

PATTERNS: dict[str, tuple[re.Pattern, str, str]] = {
    # kind: (pattern, what it is, how to anonymise)
    "mobile": (
        re.compile(r"(?<![\d])(?:\+?86[-\s]?)?1[3-9]\d[-\s]?\d{4}[-\s]?\d{4}(?![\d])"),
        "手机号码",
        "删除号码，写“业主留了联系电话”即可",
    ),
    "id_card": (
        re.compile(
            r"(?<![\dA-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![\dA-Za-z])"
        ),
        "身份证号码",
        "删除证件号，案例里不需要",
    ),
    "plate": (
        re.compile(
            rf"[{_PROVINCES}][A-HJ-NP-Z][·•\.\s-]?(?:[{_PLATE_CHARS}]{{5,6}}|[{_PLATE_CHARS}]{{4}}[挂学警])(?![{_PLATE_CHARS}])"
        ),
        "完整车牌号",
        "只保留省份简称，其余用 × 代替，如“京A·×××××”",
    ),
    "unit": (
        re.compile(
            r"\d+\s*(?:栋|幢|座|号楼)\s*\d+\s*单元\s*\d{3,4}(?:室|号|房)?"
            r"|\d+\s*单元\s*\d{3,4}(?:室|号|房)?"
            r"|\d+\s*(?:栋|幢|座|号楼)\s*\d{3,4}\s*(?:室|号|房)"
            r"|(?<![\d年月日-])\d{3,4}\s*(?:室|房间|号房)"
            r"|(?<![\d\-/.])\d{1,2}-\d{1,2}-\d{3,4}(?![\d\-/.])"
        ),
        "具体门牌号",
        "改成“9楼”“某栋高层”“楼上住户”，不写楼栋单元房号",
    ),
}


# One flagged example per kind, for the trainers' guide (and checked by the tests).
EXAMPLES = {"mobile": "13812345678", "id_card": "110101199003071234", "plate": "京A12345", "unit": "3栋2单元1502"}


@dataclass(frozen=True)
class Hit:
    kind: str
    start: int
    end: int
    text: str

    @property
    def label(self) -> str:
        return PATTERNS[self.kind][1]

    @property
    def fix(self) -> str:
        return PATTERNS[self.kind][2]


def find_personal_data(text: str) -> list[Hit]:
    hits = [
        Hit(kind, m.start(), m.end(), m.group(0))
        for kind, (pattern, _label, _fix) in PATTERNS.items()
        for m in pattern.finditer(text)
    ]
    hits.sort(key=lambda h: (h.start, -h.end))
    # drop hits nested inside an earlier, longer one (an ID number contains a "mobile")
    kept: list[Hit] = []
    for h in hits:
        if kept and h.start < kept[-1].end:
            continue
        kept.append(h)
    return kept


_BUILDING = re.compile(r"^\d+\s*(?:栋|幢|座|号楼)")


def mask(hit: Hit) -> str:
    """What to write instead, keeping what a reader needs and nothing that finds the person:
    13812345678 → 138****5678, 3栋2单元1502 → 3栋某户, 粤B12345 → 粤B·***45."""
    if hit.kind == "mobile":
        digits = re.sub(r"\D", "", hit.text)[-11:]
        return f"{digits[:3]}****{digits[-4:]}"
    if hit.kind == "id_card":
        return f"{hit.text[:6]}********{hit.text[-4:]}"
    if hit.kind == "plate":
        rest = re.sub(r"[·•.\s-]", "", hit.text[2:])
        return f"{hit.text[:2]}·{'*' * (len(rest) - 2)}{rest[-2:]}"
    building = _BUILDING.match(hit.text)
    return (building.group(0).replace(" ", "") if building else "") + "某户"


def redact(text: str) -> str:
    """Replace each hit with a marker naming its kind, e.g. 〔手机号码〕."""
    out, pos = [], 0
    for h in find_personal_data(text):
        out.append(text[pos : h.start])
        out.append(f"〔{h.label}〕")
        pos = h.end
    out.append(text[pos:])
    return "".join(out)
