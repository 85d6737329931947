"""The embedded model's ONNX / OpenVINO backends reproduce torch. onnx is the default
(``auto``); OpenVINO is optional (``pip install 'caselib[openvino]'``, skipped without it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from search.errors import ConfigError
from search.models import BACKENDS, load_encoder

REPO = Path(__file__).resolve().parents[1]

SENTENCES = [
    "暖气不热，室温只有十五度，请尽快派人检修。",
    "電梯困人，請立即派維修人員到三號樓。",
    "停车场月卡失效，道闸不抬杆，业主很生气。",
    "楼上漏水三天了，物业一直没人处理，墙面都发霉了",
    "夜里井盖哐当响，吵得睡不着。" * 60,  # over 512 tokens: truncated like torch
]


def _cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a.astype(np.float64) * b).sum(1)


def _spy_runs(enc, monkeypatch) -> list[int]:
    """Count calls into the backend's own session (so the test proves it is used)."""
    calls: list[int] = []
    session = enc.session
    if enc.runtime == "onnxruntime":
        real = session.run
        monkeypatch.setattr(session, "run", lambda *a, **k: calls.append(1) or real(*a, **k))
    else:
        real_session = session

        class Spy:
            def __call__(self, *a, **k):
                calls.append(1)
                return real_session(*a, **k)

        monkeypatch.setattr(enc, "session", Spy())
    return calls


def _check_equal_to_torch(enc, torch_enc, monkeypatch, min_cos: float, min_self: float = 0.99999) -> None:
    calls = _spy_runs(enc, monkeypatch)
    q = enc.encode_queries(SENTENCES)
    p = enc.encode_passages(SENTENCES)
    assert calls, "backend session was not called"
    assert q.dtype == np.float32 and q.shape == (len(SENTENCES), torch_enc.dim)
    np.testing.assert_allclose(np.linalg.norm(p, axis=1), 1.0, atol=1e-5)
    cos = np.concatenate([_cos(q, torch_enc.encode_queries(SENTENCES)), _cos(p, torch_enc.encode_passages(SENTENCES))])
    assert cos.min() >= min_cos, cos
    # one query at a time (the server's path) equals the same query in a batch; empty batch
    assert _cos(enc.encode_queries(SENTENCES[:1]), q[:1]).min() >= min_self
    assert enc.encode_passages([]).shape == (0, torch_enc.dim)


def test_backend_argument_is_checked(tmp_path):
    with pytest.raises(ConfigError, match="未知的推理后端"):
        load_encoder("embedded", tmp_path, backend="tensorrt")
    with pytest.raises(ConfigError, match="只支持内置模型"):
        load_encoder("intfloat/multilingual-e5-small", tmp_path, backend="onnx")
    assert BACKENDS[0] == "auto"


def test_auto_is_onnx_for_the_embedded_model_and_torch_for_others():
    from search.models import resolve_backend

    assert resolve_backend("embedded", "auto") == "onnx"
    assert resolve_backend("embedded", None) == "onnx"
    assert resolve_backend("intfloat/multilingual-e5-small", "auto") == "torch"
    assert resolve_backend("embedded", " Torch ") == "torch"


@pytest.mark.model
def test_default_encoder_is_onnx_with_the_torch_model_id(real_encoder, torch_encoder):
    # the search path tested end to end with real_encoder is the one users get
    assert getattr(real_encoder, "backend", None) == "onnx"
    assert real_encoder.model_id == torch_encoder.model_id


@pytest.mark.model
def test_onnx_backend_matches_torch(torch_encoder, cache_dir, monkeypatch):
    import onnxruntime as ort
    enc = load_encoder("embedded", cache_dir, backend="onnx")
    assert enc.backend == "onnx" and isinstance(enc.session, ort.InferenceSession)
    # same weights, same function: an index built with torch stays valid
    assert enc.model_id == torch_encoder.model_id and enc.dim == torch_encoder.dim
    export = enc.onnx_path.resolve()
    assert Path(cache_dir).expanduser().resolve() in export.parents and REPO not in export.parents
    # exported once: loading again reuses the cached files
    stamps = {p.name: p.stat().st_mtime_ns for p in export.parent.iterdir()}
    again = load_encoder("embedded", cache_dir, backend="onnx")
    assert again.onnx_path.resolve() == export
    assert {p.name: p.stat().st_mtime_ns for p in export.parent.iterdir()} == stamps
    _check_equal_to_torch(enc, torch_encoder, monkeypatch, 0.9999)


@pytest.mark.model
def test_onnx_backend_runs_without_torch(cache_dir):
    load_encoder("embedded", cache_dir, backend="onnx")  # export exists after this
    code = (
        "import sys; from pathlib import Path; from search.models import load_encoder;"
        f"e = load_encoder('embedded', Path({str(cache_dir)!r}), backend='onnx'); e.encode_queries(['暖气不热']);"
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=120)


@pytest.mark.model
def test_onnx_int8_is_close_but_a_different_model(torch_encoder, cache_dir, monkeypatch):
    enc = load_encoder("embedded", cache_dir, backend="onnx-int8")
    assert enc.backend == "onnx-int8"
    assert enc.model_id != torch_encoder.model_id and enc.model_id.startswith("sha256:")
    # dynamic quantisation scales activations per batch, so a text's vector also depends on
    # what it is batched with (≈ 0.997 alone vs in a batch): one more reason it is not default
    _check_equal_to_torch(enc, torch_encoder, monkeypatch, 0.99, min_self=0.99)


@pytest.mark.model
def test_openvino_backend_matches_torch(torch_encoder, cache_dir, monkeypatch):
    ov = pytest.importorskip("openvino")
    enc = load_encoder("embedded", cache_dir, backend="openvino")
    assert enc.backend == "openvino" and isinstance(enc.session, ov.CompiledModel)
    assert enc.session.get_property("INFERENCE_PRECISION_HINT") == ov.Type.f32
    assert enc.model_id == torch_encoder.model_id
    _check_equal_to_torch(enc, torch_encoder, monkeypatch, 0.9999)
