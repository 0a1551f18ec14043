"""The model directory, owned in one place: its file names, the marker that makes a folder ours,
saving and loading as a pair, and the model card.

Only JSON and safetensors are ever read back (never pickle), and the frozen base encoder is not
copied: the directory records its sha256 and loading verifies it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .baselines import TfidfBaseline, load_baseline
from .calibration import Calibration
from .config import TrainConfig
from .encoder import BASE_ENCODER_NAME, base_encoder_dir, load_encoder_model, load_tokenizer, weights_sha256
from .errors import ModelError, UsageError
from .io import atomic_directory, loads, write_json
from .net import StanceNet, build_net
from .outputs import check_parent
from .schema import Schema

if TYPE_CHECKING:
    from .corpus import Corpus

WEIGHTS_NAME = "model.safetensors"
CONFIG_NAME = "training_config.json"
SCHEMA_NAME = "schema.json"
ENCODER_INFO_NAME = "encoder.json"
METRICS_NAME = "metrics.json"
CARD_NAME = "README.md"
CALIBRATION_NAME = "calibration.json"
TOKENIZER_NAME = "tokenizer.json"
#: The TF-IDF model of the blend (the folder name predates the blend, when it was a baseline only).
TFIDF_DIR = "baselines/tfidf"
REQUIRED_FILES = (WEIGHTS_NAME, CONFIG_NAME, SCHEMA_NAME, ENCODER_INFO_NAME, TOKENIZER_NAME)
#: Written into every model folder: what makes a folder ours to replace (``stance train --output``).
MARKER_NAME = "stance-model.json"
MARKER = {"format": "stance-model", "format_version": 1, "stance_version": __version__}
RETRAIN = "retrain the model"


@dataclass(frozen=True)
class Parts:
    """Everything a tagger is made of, as saved and loaded."""

    net: StanceNet
    tokenizer: Any
    schema: Schema
    config: TrainConfig
    encoder_info: dict[str, Any]
    tfidf: TfidfBaseline | None = None
    calibration: Calibration | None = None


def save(directory: str | Path, parts: Parts, metrics: dict[str, Any] | None = None, card: str = "") -> Path:
    """Write a model folder atomically: checked first (never replacing a folder that is not a
    model), built beside it, then swapped in. Returns the folder."""
    from safetensors.torch import save_file

    target = check_model_output(directory)
    with atomic_directory(target) as tmp:
        names = set(parts.net.trained_parameter_names(parts.config.trainable_layers))
        tensors = {k: v.detach().cpu().contiguous() for k, v in parts.net.state_dict().items() if k in names}
        save_file(tensors, str(tmp / WEIGHTS_NAME), metadata={"format": "pt"})
        write_json(tmp / MARKER_NAME, MARKER)
        write_json(tmp / CONFIG_NAME, parts.config.to_dict())
        write_json(tmp / SCHEMA_NAME, parts.schema.to_dict())
        write_json(tmp / ENCODER_INFO_NAME, parts.encoder_info)
        if parts.tfidf is not None:
            parts.tfidf.save(tmp / TFIDF_DIR)
        if parts.calibration is not None:
            write_json(tmp / CALIBRATION_NAME, parts.calibration.to_dict())
        if metrics is not None:
            write_json(tmp / METRICS_NAME, metrics)
        parts.tokenizer.save_pretrained(str(tmp))
        (tmp / CARD_NAME).write_text(card, encoding="utf-8")
    return target


def load(directory: str | Path) -> Parts:
    """Read back what :func:`save` wrote, refusing anything incomplete, corrupted or non-finite."""
    import torch
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    directory = Path(directory)
    check_model_dir(directory)
    stored = _read_json(directory / CONFIG_NAME)
    if isinstance(stored, dict):
        stored.setdefault("holder_weight", None)  # saved before holder weights existed: loads as it was trained
    config = TrainConfig.from_dict(stored, str(directory / CONFIG_NAME))
    schema = Schema.from_dict(_read_json(directory / SCHEMA_NAME), str(directory / SCHEMA_NAME))
    info = _read_json(directory / ENCODER_INFO_NAME)
    tfidf = load_baseline(directory / TFIDF_DIR) if config.tfidf_weight > 0 else None
    if tfidf is not None and not isinstance(tfidf, TfidfBaseline):
        raise ModelError(f"{directory / TFIDF_DIR}: holds a {type(tfidf).__name__}, expected the TF-IDF model; {RETRAIN}")
    calibration = None
    if config.calibration_folds:
        try:
            calibration = Calibration.from_dict(_read_json(directory / CALIBRATION_NAME))
        except (OSError, KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"{directory / CALIBRATION_NAME}: missing or corrupted ({exc}); {RETRAIN}") from None
    encoder = load_encoder_model(resolve_base(info, directory))  # its tokenizer is the model's own
    tokenizer = load_tokenizer(directory)
    net = build_net(encoder, schema, config)
    try:
        tensors = load_file(str(directory / WEIGHTS_NAME))
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelError(f"{directory / WEIGHTS_NAME}: corrupted weights ({exc}); {RETRAIN}") from None
    expected = set(net.trained_parameter_names(config.trainable_layers))
    if not all(bool(torch.isfinite(t).all()) for t in tensors.values()):
        raise ModelError(f"{directory / WEIGHTS_NAME}: holds non-finite weights (training diverged); "
                         f"retrain with a lower learning_rate")
    if set(tensors) != expected:
        raise ModelError(f"{directory / WEIGHTS_NAME}: holds {len(tensors)} tensors, expected {len(expected)} "
                         f"for this config; the directory is inconsistent, {RETRAIN}")
    try:
        net.load_state_dict(tensors, strict=False)
    except RuntimeError as exc:
        raise ModelError(f"{directory / WEIGHTS_NAME}: tensors do not fit the model ({str(exc).splitlines()[0]})") from None
    return Parts(net.eval(), tokenizer, schema, config, info, tfidf, calibration)


def encoder_info_for(path: Path, builtin: bool) -> dict[str, Any]:
    """What a saved model records to find and verify its base encoder again."""
    return {"name": BASE_ENCODER_NAME if builtin else str(path.resolve()), "builtin": builtin,
            "sha256": weights_sha256(path)}


def resolve_base(info: dict[str, Any], directory: Path) -> Path:
    """The base encoder folder a model was trained on, verified by the sha256 of its weights."""
    path = base_encoder_dir() if info.get("builtin") else Path(str(info.get("name")))
    if not path.is_dir():
        raise ModelError(f"{directory}: base encoder {path} not found; it must be the checkpoint the model was trained on")
    actual = weights_sha256(path)
    if actual != info.get("sha256"):
        raise ModelError(f"{directory}: base encoder {path} has sha256 {actual[:12]}…, the model expects "
                         f"{str(info.get('sha256'))[:12]}…; use the encoder it was trained on or {RETRAIN}")
    return path


def check_model_dir(directory: Path) -> None:
    """Fail fast, before anything heavy loads, when a model directory is missing or incomplete."""
    if not directory.exists():
        raise ModelError(f"{directory}: no model here; train one into this folder first")
    if not directory.is_dir():
        raise ModelError(f"{directory}: is a file; expected a model directory")
    missing = [name for name in REQUIRED_FILES if not (directory / name).is_file()]
    if missing:
        raise ModelError(f"{directory}: not a complete model directory (missing {', '.join(missing)}); {RETRAIN}")


def check_model_output(directory: str | Path) -> Path:
    """Where a model may be written, checked before any training: a new path, an empty folder or
    a model folder (ours to replace). Anything else is somebody's data, which replacing would
    delete, so it is refused. Returns the folder with symlinks resolved."""
    given = os.fspath(directory)
    target = Path(os.path.realpath(given))
    if target == Path.cwd():
        raise UsageError(f"{given}: is the current folder; give the model its own folder, such as models/mine")
    check_parent(target, given, "--output")
    if not target.exists():
        return target
    if not target.is_dir():
        raise UsageError(f"{given}: is a file; expected a folder for the model (a new path, an empty folder "
                         f"or a model folder)")
    entries = sorted(os.listdir(target))
    if not entries or MARKER_NAME in entries or set(REQUIRED_FILES) <= set(entries):
        return target
    shown = ", ".join(entries[:3]) + (f" and {len(entries) - 3} more" if len(entries) > 3 else "")
    raise UsageError(f"{given}: is a folder that is not a stance model (it holds {shown}), and saving would "
                     f"replace it; choose a new or empty folder, or remove this one yourself")


def model_card(corpus: Corpus, config: TrainConfig, metrics: dict[str, Any], rows: dict[str, list[list[str]]],
               titles: dict[str, str]) -> str:
    """A human-readable README for the model directory, with the evaluation tables (``rows`` per
    section, as :func:`stance.evaluation.table_rows` gives them)."""
    lines = [
        f"# Stance tagger trained on `{corpus.root.name}` (schema `{corpus.schema.name}`)",
        "",
        (f"Base encoder: `{config.encoder or BASE_ENCODER_NAME + ' (built in)'}`; fine-tuned top layers: "
        f"{config.trainable_layers}; seed {config.seed}. Trained on {metrics['training']['sentences']} sentences "
        f"of {len(metrics['training']['articles'])} articles and {metrics['training']['written']} written sentences."),
        "",
        f"Stances: {', '.join(corpus.schema.stance_names)}. Speakers: {', '.join(corpus.schema.speaker_names)}.",
        "",
    ]
    for section, table in rows.items():
        lines += [f"## {titles[section]}", "", "| " + " | ".join(table[0]) + " |", "|---" * len(table[0]) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in table[1:]] + [""]
    if not rows:
        lines.append("No evaluation article was declared: this model has no held-out or dev figures.")
    return "\n".join(lines) + "\n"


def _read_json(path: Path) -> Any:
    try:
        return loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelError(f"{path}: corrupted ({exc}); {RETRAIN}") from None
