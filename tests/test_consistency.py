"""`caselib check` content rules (search/library/consistency.py): each slip a careful reader
found is caught in a planted example, with the exact `file:line: 问题 — 怎么改` message."""

from __future__ import annotations

from search.library.check import check_library
from search.library.consistency import cn_number
from tests.conftest import make_case, write_case


def problems(library, text: str) -> list[str]:
    write_case(library, "lift-stopped", text)
    return [str(p) for p in check_library(library / "cases", root=library).problems]


def test_the_fixture_passes(library):
    assert problems(library, make_case()) == []


def test_a_shortened_forbidden_phrase(library):
    text = make_case(**{"符合原则三：查清原因再答复。": "符合原则三。值班员没有说禁语一“不可能有这种事”。"})
    assert problems(library, text) == [
        "cases/lift-stopped.md:27: 引用的禁语一“不可能有这种事”与原句不一致"
        " — 引用禁语时写全原句：“不可能，绝对不可能有这种事情发生。”；说的是变体就写“禁语…的变体”",
    ]


def test_the_whole_phrase_with_or_without_its_full_stop_passes(library):
    for quote in ("“不可能，绝对不可能有这种事情发生。”", "「不可能，绝对不可能有这种事情发生」"):
        text = make_case(**{"符合原则三：查清原因再答复。": f"没有说第一句禁语{quote}。"})
        assert problems(library, text) == [], quote


def test_a_phrase_number_that_does_not_exist(library):
    text = make_case(**{"符合原则三：查清原因再答复。": "别说禁语12“随便”。"})
    assert problems(library, text) == [
        "cases/lift-stopped.md:27: 引用了不存在的禁语12“随便” — 禁语编号是 1–9；核对 reference.yaml 里的九句禁语",
    ]


def test_say_first_at_most_sixty_characters(library):
    long_say = "您好，" + "非常抱歉给您添麻烦了，" * 6 + "我马上安排人。"
    assert len(long_say) > 60
    text = make_case(**{"“您好，给您添麻烦了，我马上安排人到现场。”": f"“{long_say}”"})
    assert problems(library, text) == [
        f"cases/lift-stopped.md:35: “先说”有 {len(long_say)} 个字，紧张时念不完（上限 60 字）"
        " — 只留接起电话的第一句：共情或致歉，加上马上要做的一件事；其余写进“先做”",
    ]


def test_do_first_exactly_three_items(library):
    text = make_case(**{"3. 张贴停运告示\n": "3. 张贴停运告示\n4. 回访业主\n"})
    assert problems(library, text) == [
        "cases/lift-stopped.md:37: “先做”有 4 条，模板要求正好 3 条 — 按先后写最要紧的 3 件事，其余放进“处理”或“预防措施”",
    ]
    text = make_case(**{"3. 张贴停运告示\n": ""})
    assert problems(library, text) == [
        "cases/lift-stopped.md:37: “先做”有 2 条，模板要求正好 3 条 — 按先后写最要紧的 3 件事，其余放进“处理”或“预防措施”",
    ]


def test_at_least_two_things_not_to_say(library):
    text = make_case(**{"- “维保单位的事，我们管不了。”（推卸责任）\n": ""})
    assert problems(library, text) == [
        "cases/lift-stopped.md:43: “别说”只有 1 条，至少要 2 条 — 再写一句坐席在这种电话里最容易脱口而出、又绝不能说的话，括号里写为什么",
    ]


def test_a_level_claimed_in_the_story_is_the_front_matter_level(library):
    text = make_case(**{"客服小李先致歉，": "一周内三次投诉仍未解决，属于热点投诉。客服小李先致歉，"})
    assert problems(library, text) == [
        "cases/lift-stopped.md:23: 正文说“属于热点投诉”，但 front matter 的 level 是“一般” — 按等级定义核对：改 level 为“热点”，或改正文的说法",
    ]


def test_rules_hypotheses_and_escalations_are_not_claims(library):
    for sentence in ("如果一个月内再投诉三次，就属于热点投诉。", "这不属于重大投诉。", "起初按热点投诉跟踪，后来降为一般。"):
        text = make_case(**{"客服小李先致歉，": sentence + "客服小李先致歉，"})
        assert problems(library, text) == [], sentence
    # 预防措施 states general rules, not this case's level
    text = make_case(**{"- 每月检查电梯运行记录。": "- 10 人以上联名的，按重大投诉上报。"})
    assert problems(library, text) == []


def test_a_major_group_complaint_has_ten_or_more_people(library):
    text = make_case(**{"level: 一般": "level: 重大", "早上八点，业主王先生来电": "早上八点，8 位业主联名来电"})
    assert problems(library, text) == [
        "cases/lift-stopped.md:19: 定为重大投诉，但投诉人数只写了“8 位业主”（不到 10 人）"
        " — 核对人数：10 人以上才按人数定为重大；没有诉讼、也没超过一个月的，按等级定义改 level",
    ]
    for count in ("十几户业主", "10 位业主", "二十多位业主"):
        ok = make_case(**{"level: 一般": "level: 重大", "早上八点，业主王先生来电": f"早上八点，{count}联名来电"})
        assert problems(library, ok) == [], count


def test_a_major_complaint_for_a_lawsuit_needs_no_head_count(library):
    text = make_case(**{"level: 一般": "level: 重大", "早上八点，业主王先生来电": "早上八点，3 位业主联名来电，随后起诉"})
    assert problems(library, text) == []


def test_more_than_ten_is_not_the_threshold(library):
    text = make_case(**{"符合原则三：查清原因再答复。": "投诉人数超过十人，属于重大投诉。"})
    assert problems(library, text) == [
        "cases/lift-stopped.md:27: 正文说“属于重大投诉”，但 front matter 的 level 是“一般” — 按等级定义核对：改 level 为“重大”，或改正文的说法",
        "cases/lift-stopped.md:27: 把重大投诉的人数标准写成了“投诉人数超过十人，属于重大投诉”"
        " — 标准是 10 人以上（含 10 人）：写“10 人以上”，不写“超过十人”",
    ]


def test_the_summary_does_not_contradict_the_outcome(library):
    text = make_case(**{"outcome: 已解决": "outcome: 跟进中", "下午回访。": "下午回访，问题圆满解决。"})
    text = text.replace("客服十分钟内到场说明原因并安排维修。", "客服到场后问题圆满解决。")
    assert problems(library, text) == [
        "cases/lift-stopped.md:14: summary 说“圆满解决”，与 outcome“跟进中”矛盾 — "
        "让两处说同一件事：改 summary，或把 outcome 改为 已解决、部分解决、未解决、跟进中 中相符的一个",
    ]
    text = make_case(**{"客服十分钟内到场说明原因并安排维修。": "维修至今未解决。"})
    assert problems(library, text) == [
        "cases/lift-stopped.md:14: summary 说“至今未解决”，与 outcome“已解决”矛盾 — "
        "让两处说同一件事：改 summary，或把 outcome 改为 已解决、部分解决、未解决、跟进中 中相符的一个",
    ]
    not_resolved = make_case(**{"outcome: 已解决": "outcome: 跟进中", "客服十分钟内到场说明原因并安排维修。": "问题没有解决。"})
    assert problems(library, not_resolved) == []


def test_chinese_numbers():
    assert [cn_number(x) for x in ("12", "十", "十二", "二十", "二十三", "十几", "几十", "三", "两", "abc")] == [
        12, 10, 12, 20, 23, 11, 20, 3, 2, None]


def test_the_shipped_library_passes(tmp_path):
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    report = check_library(root / "cases", root=root)
    assert [str(p) for p in report.problems] == []
