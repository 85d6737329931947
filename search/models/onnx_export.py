"""The ONNX export of the embedded model, made once per cache directory (a sibling of the
converted model, never the repository) and verified against torch before it is used:

* ``fp32``: BertModel + mean pooling + L2 normalisation as one graph, float32 weights in an
  external data file (onnxruntime memory-maps it). Gated at export to cosine ≥ 0.9999
  against torch, so it keeps the torch ``model_id``: an index built with one backend is
  valid for the other (the ``onnx`` and ``openvino`` backends run this file).
* ``int8``: that export with dynamic int8 weights (onnxruntime.quantization). Not the same
  function: its ``model_id`` is the file's content hash, so its indexes are separate.
  Activations are quantised per batch, so a text's vector also depends on its batch-mates.

sentence-transformers' own ``backend="onnx"`` is not used: it needs optimum-onnx, whose only
release pins transformers < 4.58. Measurements: benchmarks/backends.py.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any

from search.models.cache import Marker, complete_marker, ensure_cached_dir, file_sha256, say
from search.models.embedded import embedded_model_id
from search.models.runtime import quiet_transformers, set_torch_threads
from search.models.spec import MODEL_DIRNAME
from search.models.verify import INT8_MIN_COSINE, ONNX_MIN_COSINE, verify_onnx

ONNX_FILENAME = "model.onnx"
# float32 weights live beside the graph: onnxruntime memory-maps them instead of copying
# the 470 MB into its heap (about 380 MB less anonymous memory, half the peak at load)
ONNX_DATA_FILENAME = "model.onnx.data"
ONNX_MARKER = "caselib-onnx.json"
# bump when the export (graph, pooling, quantisation settings) changes
ONNX_FORMAT_VERSION = 1
ONNX_OPSET = 17
VARIANTS = ("fp32", "int8")


def onnx_export_dirname(variant: str) -> str:
    return MODEL_DIRNAME + ("-onnx" if variant == "fp32" else f"-onnx-{variant}")


def _accepts(marker: Marker, source_model_id: str, variant: str) -> bool:
    return (
        marker.get("format") == ONNX_FORMAT_VERSION
        and marker.get("source_model_id") == source_model_id
        and marker.get("variant") == variant
        and isinstance(marker.get("model_id"), str)
        and isinstance(marker.get("files"), dict)
        and ONNX_FILENAME in marker["files"]
    )


def read_onnx_marker(directory: Path, source_model_id: str, variant: str) -> Marker | None:
    """The export's marker if it is complete and made from ``source_model_id`` (cheap: one
    small JSON file and a stat per file)."""
    return complete_marker(directory, ONNX_MARKER, lambda m: _accepts(m, source_model_id, variant))


def export_fp32(model_dir: Path, dest: Path) -> None:
    """BertModel + mean pooling + L2 normalisation as one ONNX graph: inputs ``input_ids``,
    ``attention_mask`` (int64 [batch, seq]), output ``sentence_embedding`` (float32 [batch, dim]).
    Weights go to ONNX_DATA_FILENAME beside ``dest``."""
    import onnx
    import torch
    from transformers import BertModel

    set_torch_threads()
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


def quantize_int8(src: Path, dest: Path) -> None:
    """Dynamic int8 weights (per channel) for MatMul and the embedding Gather."""
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.disable(logging.WARNING)  # "consider pre-processing" advice on the root logger
    try:
        quantize_dynamic(str(src), str(dest), weight_type=QuantType.QInt8, per_channel=True)
    finally:
        logging.disable(logging.NOTSET)



def ensure_onnx_export(cache_dir: Path, model_dir: Path, variant: str = "fp32", progress: bool = True) -> Path:
    """Directory with ``model.onnx`` exported from the embedded model at ``model_dir``
    (``variant`` "fp32" or "int8"), a sibling of it under ``cache_dir``; exported and
    verified against torch on first use (cache.ensure_cached_dir: built in a temporary
    directory, marker written last, renamed into place under a file lock). The fast path
    reads one small JSON file and imports nothing heavy."""
    if variant not in VARIANTS:
        raise ValueError(f"未知的 ONNX 导出类型“{variant}”")
    cache_dir = Path(cache_dir).expanduser()
    source_id = embedded_model_id(model_dir)
    name = onnx_export_dirname(variant)
    if read_onnx_marker(cache_dir / name, source_id, variant):
        return cache_dir / name
    fp32 = ensure_onnx_export(cache_dir, model_dir, "fp32", progress) if variant == "int8" else None

    def build(out: Path) -> Marker:
        t0 = time.monotonic()
        say(progress, f"正在导出内置模型的 ONNX 版本（{variant}，首次使用）…")
        out.mkdir()
        dest = out / ONNX_FILENAME
        if fp32 is None:
            export_fp32(model_dir, dest)
        else:
            quantize_int8(fp32 / ONNX_FILENAME, dest)
        say(progress, "  · 与 torch 比对校验…")
        with quiet_transformers():
            checks = verify_onnx(model_dir, dest, ONNX_MIN_COSINE if fp32 is None else INT8_MIN_COSINE)
        import onnxruntime
        import torch

        return {
            "format": ONNX_FORMAT_VERSION,
            "variant": variant,
            "source_model_id": source_id,
            # fp32 computes the torch function (cosine ≥ ONNX_MIN_COSINE): same id, so
            # indexes stay valid across backends; int8 is another function: own id
            "model_id": source_id if fp32 is None else "sha256:" + file_sha256(dest),
            "opset": ONNX_OPSET,
            "torch": torch.__version__,
            "onnxruntime": onnxruntime.__version__,
            "verification": checks,
            "exported_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "export_seconds": round(time.monotonic() - t0, 1),
        }

    def report(marker: Marker) -> None:
        seconds, cos = marker["export_seconds"], marker["verification"]["cosine_min"]
        say(progress, f"ONNX 版本已就绪（{seconds:.0f} 秒，与 torch 余弦 ≥ {cos:.6f}）：{cache_dir / name}")

    return ensure_cached_dir(
        cache_dir,
        name,
        marker_name=ONNX_MARKER,
        accept=lambda m: _accepts(m, source_id, variant),
        build=build,
        progress=progress,
        waiting="另一个进程正在导出内置模型的 ONNX 版本，等待其完成…",
        on_published=report,
    )
