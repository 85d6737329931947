"""`caselib build` as one pass: the library is read once, and the settings the caller made
(in code, not only from the environment) are the ones every stage uses, the mkdocs
process included."""

from __future__ import annotations

import collections
import re
from pathlib import Path

import pytest

import search.library.check as check_mod
from search import pipeline
from search.errors import BuildError
from search.settings import Settings, load_settings, passed_settings, settings_env
from tests.conftest import GOOD_CASE, write_case
from tests.fakes import HashingEncoder


@pytest.fixture(autouse=True)
def _no_caselib_env(monkeypatch):
    """Overrides must arrive through the settings object, not the environment."""
    import os

    for key in [k for k in os.environ if k.startswith("CASELIB_")]:
        monkeypatch.delenv(key)


def _related_links(page: Path) -> list[str]:
    html = page.read_text(encoding="utf-8")
    if "相似案例" not in html:
        return []
    block = html.rsplit("相似案例", 1)[1].split("</ul>", 1)[0]
    return re.findall(r'href="([a-z0-9-]+)\.html"', block)


def test_an_index_dir_set_in_code_reaches_the_site_build(site_project, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "index"
    settings = load_settings(site_project, env={}).model_copy(update={"index_dir": elsewhere})
    summary = pipeline.build(settings, encoder=HashingEncoder(), progress=False)
    assert elsewhere.is_symlink() and not (site_project / ".caselib" / "index").exists()
    # 相似案例 come from the index: the mkdocs process found it where the settings say
    links = _related_links(summary.site / "cases" / "upstairs-water-leak.html")
    assert 3 <= len(links) <= 5 and "upstairs-water-leak" not in links


def test_build_parses_each_case_file_once_and_every_stage_uses_those_cases(site_project, monkeypatch):
    calls: collections.Counter = collections.Counter()
    real_parse = check_mod.parse_case

    def counting_parse(path, *args, **kwargs):
        calls[Path(path).name] += 1
        case, problems = real_parse(path, *args, **kwargs)
        if case is not None:  # mark what this process parsed: a re-parse elsewhere would not carry it
            case.meta = case.meta.model_copy(update={"title": "【一次】" + case.meta.title})
        return case, problems

    monkeypatch.setattr(check_mod, "parse_case", counting_parse)
    settings = load_settings(site_project, env={})
    summary = pipeline.build(settings, encoder=HashingEncoder(), progress=False)
    files = {p.name for p in (site_project / "cases").glob("*.md") if p.name != "README.md"}
    assert summary.cases == len(files) > 0
    assert calls == collections.Counter({name: 1 for name in files})
    assert summary.index.index.cases["upstairs-water-leak"].title.startswith("【一次】")  # indexed: the same cases
    page = (summary.site / "cases" / "upstairs-water-leak.html").read_text(encoding="utf-8")
    assert "【一次】" in page  # the mkdocs process got the build's cases, did not read cases/ again


def test_site_alone_still_checks_the_cases_in_the_mkdocs_process(site_project):
    settings = load_settings(site_project, env={})
    first = pipeline.site(settings)
    write_case(site_project, "broken-case", GOOD_CASE.replace("level: 一般", "level: 很大"))
    with pytest.raises(BuildError, match="cases/broken-case.md:6: level 的值“很大”不在允许范围内"):
        pipeline.site(settings)
    assert settings.site_path.resolve() == first
    versions = settings.state_dir / "site.d"
    assert [p.name for p in versions.iterdir() if p.name.endswith(".tmp")] == []  # the failed version is gone


def test_settings_pass_to_a_child_process_whole(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = Settings(root=tmp_path, index_dir=Path("rel/index"), max_k=7, backend="torch", token="secret")
    env = settings_env(settings)
    child = passed_settings(env)
    assert child.index_path == tmp_path / "rel" / "index"  # relative paths made absolute: the child runs elsewhere
    assert (child.root, child.max_k, child.backend, child.model) == (tmp_path, 7, "torch", "embedded")
    assert child.token is None and "secret" not in str(env)  # the site build has no use for the token
    assert passed_settings({}) is None
