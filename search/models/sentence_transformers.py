"""The torch backend: sentence-transformers on torch, for the embedded model and for any
other sentence-transformers model (a local directory or a hub name already in the local
cache). torch and sentence_transformers are imported when a model is loaded.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from search.errors import ConfigError, ModelError
from search.models.runtime import quiet_transformers, set_torch_threads

# what the hub accepts as a model name ("owner/name" or "name"); anything else that is not
# an existing path cannot be found anywhere
_HUB_NAME = re.compile(r"[A-Za-z0-9][\w.-]*(/[A-Za-z0-9][\w.-]*)?")


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


def configured_prompts(model: Any) -> tuple[str | None, str | None]:
    """A hub/local model's own prompts: "query" for queries, and for passages the first
    non-empty of "document", "passage", "corpus" (sentence-transformers 6 seeds an empty
    "document" prompt, which must not hide a real "passage" one)."""
    prompts = getattr(model, "prompts", None) or {}
    query = prompts.get("query") or None
    passage = next((prompts[k] for k in ("document", "passage", "corpus") if prompts.get(k)), None)
    return query, passage




def load_embedded(path: Path, model_id: str, query_prompt: str, passage_prompt: str, threads: int | None = None):
    """The converted embedded model directory at ``path`` on torch."""
    set_torch_threads(threads)
    from sentence_transformers import SentenceTransformer

    with quiet_transformers():
        st = SentenceTransformer(str(path), device="cpu", local_files_only=True)
    st.eval()
    return SentenceTransformerEncoder(st, model_id, query_prompt, passage_prompt)


def load_named(model: str, threads: int | None = None) -> SentenceTransformerEncoder:
    """Any other model: ``SentenceTransformer(model)``, with the model's own prompts and the
    string as model id. ConfigError if there is no such model (not an existing path, not
    loadable as a hub name), ModelError if it is there but does not load."""
    local = Path(model).expanduser().exists()
    if not local and not _HUB_NAME.fullmatch(model):
        raise ConfigError(f"找不到模型“{model}”：没有这个目录，它也不是 Hugging Face 上的模型名")
    set_torch_threads(threads)
    from sentence_transformers import SentenceTransformer

    try:
        with quiet_transformers():
            st = SentenceTransformer(model, device="cpu")
    except (OSError, ValueError) as e:
        if local:
            raise ModelError(f"无法加载模型目录“{model}”（应是 sentence-transformers 模型）：{e}") from e
        raise ConfigError(f"找不到模型“{model}”：没有这个目录，也无法按模型名从本机缓存或 Hugging Face 加载") from e
    st.eval()
    query, passage = configured_prompts(st)
    return SentenceTransformerEncoder(st, model, query, passage)
