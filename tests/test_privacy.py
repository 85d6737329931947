"""Personal-data patterns: each kind is caught, and near misses are not."""

from __future__ import annotations

import pytest

from search.library.privacy import find_personal_data, redact


@pytest.mark.parametrize(
    "text, kind, found",
    [
        ("业主电话13812345678", "mobile", "13812345678"),
        ("请拨 138-1234-5678", "mobile", "138-1234-5678"),
        ("+86 139 0000 1111 找我", "mobile", "+86 139 0000 1111"),
        ("身份证110101199003071234", "id_card", "110101199003071234"),
        ("证件 11010119900307123X", "id_card", "11010119900307123X"),
        ("车牌京A12345被刮", "plate", "京A12345"),
        ("车牌粤B·D12345（新能源）", "plate", "粤B·D12345"),
        ("住3栋2单元1502", "unit", "3栋2单元1502"),
        ("2单元1502室漏水", "unit", "2单元1502室"),
        ("楼上1502室", "unit", "1502室"),
        ("住在3-2-1502", "unit", "3-2-1502"),
        ("12号楼801室", "unit", "12号楼801室"),
    ],
)
def test_each_kind_is_found(text, kind, found):
    hits = find_personal_data(text)
    assert [(h.kind, h.text) for h in hits] == [(kind, found)]


@pytest.mark.parametrize(
    "text",
    [
        "2024-03-15 上午",  # dates
        "2023年5月12日",
        "案例 C0012",  # case ids
        "金额 12345678 元",  # amounts
        "物业费 2.8 元/平方米，共 1500 元",
        "住 9 楼，3 栋",  # floor and building alone are fine
        "车牌京A·×××××",  # masked plate
        "座机 0755-12345678",  # landline (not a mobile)
        "等了 20-30 分钟",
        "编号 13812345678901 的工单",  # too long for a mobile
        "1-2 月份",
    ],
)
def test_near_misses_are_not_flagged(text):
    assert find_personal_data(text) == []


def test_redact_replaces_each_hit_with_its_kind():
    assert redact("3栋2单元1502的王先生，电话13812345678") == "〔具体门牌号〕的王先生，电话〔手机号码〕"


def test_guide_examples_are_flagged_as_their_kind():
    from search.library.privacy import EXAMPLES

    for kind, example in EXAMPLES.items():
        assert [h.kind for h in find_personal_data(example)] == [kind]
