"""The running service's failure paths: a broken new index never replaces the one serving."""

from __future__ import annotations

import os
import shutil

import pytest

from search.server.service import SearchService
from tests.conftest import three_case_library


def _point_to(link, target):
    tmp = link.with_name(link.name + ".test-tmp")
    os.symlink(target, tmp)
    os.replace(tmp, link)


@pytest.mark.parametrize("damage", ["manifest", "vectors", "chunks", "missing-dir"])
def test_a_broken_new_index_keeps_the_old_one_serving(tmp_path, damage):
    settings, enc = three_case_library(tmp_path, auto_index=False, log_searches=False)
    svc = SearchService(settings, encoder=enc)
    try:
        good = svc.loaded_from
        assert svc.search("暖气不热", k=1).hits[0].record.slug == "radiator-cold"
        broken = good.with_name(good.name + "-broken")
        shutil.copytree(good, broken)
        if damage == "manifest":
            (broken / "manifest.json").write_text("{not json", encoding="utf-8")
        elif damage == "vectors":
            vec = next(p for p in broken.iterdir() if p.name.startswith("vectors"))
            vec.write_bytes(vec.read_bytes()[:100])
        elif damage == "chunks":
            (broken / "chunks.json").write_text("[]", encoding="utf-8")
        else:
            shutil.rmtree(broken)
        _point_to(settings.index_path, broken)
        assert svc.reload() is False
        assert svc.loaded_from == good
        result = svc.search("暖气不热", k=1)
        assert result.hits[0].record.slug == "radiator-cold"
    finally:
        svc.close()
