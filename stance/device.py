"""Which device the encoder runs on: ``auto`` takes a CUDA GPU when there is one, else the CPU.

Apple's MPS is used only when asked for (``--device mps``): some operations still fall back to
the CPU there, so it is not a safe default. Asking for a device that is absent is a usage error,
found before any model loads, rather than a silent fall back to a machine many times slower.
"""

from __future__ import annotations

from typing import Any

from .errors import UsageError

DEVICES = ("auto", "cpu", "cuda", "mps")


def resolve_device(name: str) -> Any:
    """The ``torch.device`` for ``--device NAME``; an error when that device is not available."""
    import torch

    if name not in DEVICES:
        raise UsageError(f"--device {name!r} is not one of {', '.join(DEVICES)}")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        build = "this torch is built without CUDA" if torch.version.cuda is None else "no CUDA GPU is visible"
        raise UsageError(f"--device cuda: {build} (torch {torch.__version__}); use --device cpu, or install a CUDA "
                         f"build of torch on a machine with an NVIDIA GPU")
    if name == "mps" and not torch.backends.mps.is_available():
        raise UsageError("--device mps: Apple's Metal (MPS) is not available on this machine; use --device cpu")
    return torch.device(name)


def native_bfloat16(device: Any) -> bool:
    """bfloat16 matmuls are fast only with hardware support (AVX512-BF16 or AMX on a CPU, Ampere
    or later on a GPU); elsewhere they are emulated and slower than float32."""
    import torch

    if device.type == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return device.type == "cpu" and any(getattr(torch.cpu, name, lambda: False)() for name in checks)
