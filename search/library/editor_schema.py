"""The one case schema, described for the browser editor (/write/): the front-matter
fields with their kinds, allowed values and one-line meanings, and the sections with the
trainers' guidance. Generated from CaseMeta, reference.yaml and the template, so the form,
`caselib check`, the site and the indexer can never disagree about what a case is."""

from __future__ import annotations

from search.library.cases import SECTIONS, CaseMeta
from search.library.reference import Reference, cn
from search.library.template import guidance

AUTO = ("id", "reviewed_by", "reviewed_at")  # filled by the system, shown read-only
AGENT_HINT = "坐席在通话中先看的三件事：先说哪句话、先做哪几件事、哪些话绝不能说（下面三栏分别填写）"
LABELS = {"id": "编号", "title": "标题", "date": "时间", "category": "类别", "level": "等级", "channel": "渠道",
          "outcome": "结果", "principles": "涉及原则", "phrases": "涉及禁语", "customer_type": "客户类型", "tags": "标签",
          "source": "来源", "summary": "摘要", "owner_says": "业主常说", "reviewed_by": "审核人", "reviewed_at": "审核日期"}


def _options(ref: Reference) -> dict[str, list[dict]]:
    return {
        "category": [{"value": c.name, "label": c.name, "hint": c.definition} for c in ref.categories],
        "level": [{"value": lv.name, "label": lv.name, "hint": lv.definition} for lv in ref.levels],
        "channel": [{"value": x, "label": x, "hint": ""} for x in ref.channels],
        "outcome": [{"value": x, "label": x, "hint": ""} for x in ref.outcomes],
        "source": [{"value": x, "label": x, "hint": ""} for x in ref.sources],
        "customer_type": [{"value": c.name, "label": c.name, "hint": c.tip} for c in ref.customer_types],
        "principles": [{"value": p.n, "label": f"原则{cn(p.n)}：{p.title}", "hint": p.text} for p in ref.principles],
        "phrases": [{"value": p.n, "label": f"禁语{cn(p.n)}：“{p.short}”", "hint": p.text} for p in ref.phrases],
    }


def _kind(name: str, options: dict) -> str:
    if name in ("principles", "phrases"):
        return "checkboxes"
    if name in options:
        return "select"
    if name in ("tags", "owner_says"):
        return "list"
    if name == "summary":
        return "textarea"
    return "text"


def editor_schema(ref: Reference) -> dict:
    options = _options(ref)
    section_hints, summary_hint = guidance()
    fields = []
    for name, f in CaseMeta.model_fields.items():
        item = {"name": name, "kind": _kind(name, options), "label": LABELS.get(name, name), "help": f.description or "", "required": f.is_required(),
                "auto": name in AUTO}
        if name in options:
            item["options"] = options[name]
        if name == "summary":
            item["placeholder"] = summary_hint
        for c in f.metadata:
            for attr in ("min_length", "max_length"):
                if getattr(c, attr, None) is not None:
                    item[attr] = getattr(c, attr)
        fields.append(item)
    checks = ref.checks
    return {
        "fields": fields,
        "sections": [{"name": s, "hint": AGENT_HINT if s == "接听要点" else section_hints.get(s, "")} for s in SECTIONS],
        "agent": {
            "say": {"label": "先说", "hint": f"坐席接起电话后的第一句话，不超过 {checks.say_max_chars} 个字"},
            "do": {"label": "先做", "hint": f"正好 {checks.do_items} 件事，按先后顺序", "items": checks.do_items},
            "avoid": {"label": "别说", "hint": f"至少 {checks.avoid_min_items} 句不能说的话，并说明为什么", "min_items": checks.avoid_min_items},
        },
    }
