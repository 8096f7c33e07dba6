"""Faster layers for CPU inference: oneDNN float32 linear layers, and dynamic int8 (--quantize int8)."""

from __future__ import annotations

import functools
import logging
from typing import Optional

from ..errors import first_line

log = logging.getLogger("gugugo_cli")


def engine_layers(model, device: str, torch_dtype, quantize: Optional[str] = None):
    """The model with the layers the engine computes with: int8 when asked for, oneDNN for float32 on CPU,
    else as it is. oneDNN replaces layers in place; int8 returns a copy."""
    import torch

    if quantize == "int8":
        return quantize_int8_cpu(model)
    if device == "cpu" and torch_dtype == torch.float32:
        return onednn_linears_cpu(model)
    return model


def quantize_int8_cpu(model):
    """Dynamic int8 for every Linear layer (weights int8 with a scale per output channel, activations quantized
    per call; fbgemm kernels). Per-channel scales cost no speed and follow each row's range. On CPUs without
    fast float32 products this is several times faster per row."""
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao.quantization announces its move to torchao
        from torch.ao.quantization import per_channel_dynamic_qconfig

        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear: per_channel_dynamic_qconfig})


def onednn_linears_cpu(model):
    """Float32 Linear layers computed by oneDNN instead of the default BLAS, in place.

    Same arithmetic, other kernels: decoding steps of 16 to 64 rows measured 1.1x to 2x faster on a 2-core
    AMD EPYC (bench/README.md). Left as it is where oneDNN is not available or a layer cannot be moved."""
    import torch

    if not torch.backends.mkldnn.is_available() or not hasattr(torch._C._nn, "mkldnn_linear"):
        return model
    layer = _onednn_linear()
    try:
        for module in list(model.modules()):
            for name, child in list(module.named_children()):
                if type(child) is torch.nn.Linear and child.weight.dtype == torch.float32:
                    setattr(module, name, layer(child))
    except (RuntimeError, AttributeError) as e:  # private API: a torch without it keeps the layers it has
        log.debug("oneDNN linear layers not used: %s", first_line(e))
    return model


@functools.lru_cache(maxsize=None)
def _onednn_linear():
    import torch

    class OneDNNLinear(torch.nn.Module):
        def __init__(self, linear):
            super().__init__()
            self.in_features, self.out_features = linear.in_features, linear.out_features
            self.register_buffer("weight", linear.weight.detach().to_mkldnn())
            bias = linear.bias.detach().to_mkldnn() if linear.bias is not None else None
            self.register_buffer("bias", bias)

        def forward(self, x):
            rows = x.reshape(-1, self.in_features).contiguous().to_mkldnn()
            out = torch._C._nn.mkldnn_linear(rows, self.weight, self.bias).to_dense()
            return out.reshape(*x.shape[:-1], self.out_features)

    return OneDNNLinear
