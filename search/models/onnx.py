"""The ONNX runtime backends of the embedded model: ``OnnxEncoder`` runs the exported graph
(see onnx_export.py) with onnxruntime (backends ``onnx`` and ``onnx-int8``) or OpenVINO
(``openvino``: the float32 file compiled with f32 inference precision, since its bf16
default on AMX CPUs would change results). No torch at run time.

onnxruntime and onnx are ordinary dependencies; OpenVINO needs ``'caselib[openvino]'``.
"""

from __future__ import annotations

import functools
import json
import threading
from pathlib import Path

import numpy as np

from search.errors import ModelError
from search.models.base import ONNX, OPENVINO
from search.models.runtime import intra_op_threads


def require_backend_packages(backend: str) -> None:
    """ModelError naming what to install if the backend's packages are missing."""
    import importlib.util

    # the export is verified with onnxruntime, so openvino needs it too
    need = ["onnxruntime", "onnx"] + (["openvino"] if backend == OPENVINO else [])
    missing = [m for m in need if importlib.util.find_spec(m) is None]
    if missing:
        fix = "pip install 'caselib[openvino]'" if backend == OPENVINO else "重新运行 bash .ci/serve 安装依赖"
        raise ModelError(f"推理后端“{backend}”需要 {'、'.join(missing)}：{fix}")


@functools.lru_cache(maxsize=4)
def _tokenizer(path: str, max_length: int):
    """The model's tokenizer, loaded once per file: it takes about 280 MB (a 250,000-piece
    vocabulary), and the float32 and int8 encoders of one model share it. Configured once
    here and only read afterwards (encoding is thread-safe)."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(path)
    tok.enable_truncation(max_length=max_length)
    tok.enable_padding(pad_id=tok.token_to_id("<pad>"), pad_token="<pad>")  # to the batch's longest
    return tok


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
        self.model_id = model_id
        self.backend = backend
        self.runtime = runtime
        self.onnx_path = Path(onnx_path)
        self.query_prompt = query_prompt or None
        self.passage_prompt = passage_prompt or None
        self.batch_size = batch_size
        model_dir = Path(model_dir)
        self.max_length = self._max_length(model_dir)
        self.tokenizer = _tokenizer(str(model_dir / "tokenizer.json"), self.max_length)
        threads = threads or intra_op_threads()
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
