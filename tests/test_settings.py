"""Settings precedence (defaults < caselib.toml < CASELIB_* < code) and ConfigError messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from search.errors import ConfigError
from search.settings import EMBEDDED_WEAK_THRESHOLD, load_settings


def test_defaults_without_file_or_environment(tmp_path):
    s = load_settings(tmp_path, env={})
    assert s.root == tmp_path.resolve()
    assert (s.host, s.port, s.model, s.backend, s.log_searches) == ("127.0.0.1", 8000, "embedded", "auto", True)
    assert s.cases_dir == tmp_path.resolve() / "cases"
    assert s.index_path == tmp_path.resolve() / ".caselib" / "index"
    assert s.site_path == tmp_path.resolve() / "site"
    assert s.weak_below == EMBEDDED_WEAK_THRESHOLD


def test_file_over_defaults_environment_over_file_code_over_environment(tmp_path):
    (tmp_path / "caselib.toml").write_text('port = 9001\nhost = "0.0.0.0"\nmax_k = 7\n', encoding="utf-8")
    s = load_settings(tmp_path, env={})
    assert (s.port, s.host, s.max_k) == (9001, "0.0.0.0", 7)
    s = load_settings(tmp_path, env={"CASELIB_PORT": "9002"})
    assert (s.port, s.host) == (9002, "0.0.0.0")
    s = load_settings(tmp_path, env={"CASELIB_PORT": "9002"}, port=9003)
    assert s.port == 9003


def test_an_empty_environment_variable_is_ignored(tmp_path):
    assert load_settings(tmp_path, env={"CASELIB_PORT": ""}).port == 8000


def test_root_from_environment(tmp_path):
    assert load_settings(env={"CASELIB_ROOT": str(tmp_path)}).root == tmp_path.resolve()


def test_weak_threshold_is_off_for_other_models_unless_set(tmp_path):
    assert load_settings(tmp_path, env={"CASELIB_MODEL": "/models/other"}).weak_below == 0.0
    assert load_settings(tmp_path, env={"CASELIB_MODEL": "/models/other", "CASELIB_WEAK_THRESHOLD": "0.5"}).weak_below == 0.5


def test_a_bad_value_names_the_setting_and_where_to_fix_it(tmp_path):
    with pytest.raises(ConfigError) as e:
        load_settings(tmp_path, env={"CASELIB_PORT": "abc"})
    msg = str(e.value)
    assert msg.startswith("设置 port 的值“abc”无效：")
    assert msg.endswith("— 检查环境变量 CASELIB_PORT 或 caselib.toml")


def test_an_unknown_backend_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError) as e:
        load_settings(tmp_path, env={"CASELIB_BACKEND": "cuda"})
    assert "设置 backend 的值“cuda”无效" in str(e.value)


def test_a_broken_config_file_says_which_file(tmp_path):
    (tmp_path / "caselib.toml").write_text("port = = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_settings(tmp_path, env={})
    msg = str(e.value)
    assert msg.startswith(f"{Path(tmp_path).resolve() / 'caselib.toml'}: 配置文件格式错误：")
    assert msg.endswith("— 按 TOML 格式改正，或删除该文件使用默认值")


def test_unknown_keys_in_the_file_are_refused(tmp_path):
    (tmp_path / "caselib.toml").write_text("prot = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_settings(tmp_path, env={})
    assert str(e.value).startswith("设置 prot 的值“1”无效：")
