"""Labelling tasks for the tools: ``stance suggest``'s pre-annotated articles, and the Label Studio
labelling configuration generated from the schema, so nobody types 24 labels by hand.

Pre-annotations go where each tool keeps a model's proposals: Label Studio ``predictions`` (with
``model_version`` and a ``score`` per region, shown to the annotator and sortable in its data
manager), doccano's ``label`` list (doccano has no separate place for them). Offsets are code points
in both, as in our files (see :mod:`stance.interchange`).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from .errors import UsageError
from .interchange import (
    CHOICES_NAME,
    DOCCANO,
    FORMATS,
    LABEL_STUDIO,
    LABELS_NAME,
    TEXT_NAME,
    format_label,
    label_studio_region,
)
from .outputs import OutputTarget, resolve_output
from .schema import Schema
from .suggest import Suggestion

#: Label colours, one per stance (cycled), so a glance tells the stances apart.
COLOURS = ("#e15759", "#4e79a7", "#59a14f", "#f28e2b", "#b07aa1", "#76b7b2", "#edc948", "#9c755f")


def label_config(schema: Schema) -> str:
    """The Label Studio configuration for this schema: a ``stance:speaker`` label per position for
    spans, and a multiple Choices block for whole-sentence examples, which have no offsets."""
    view = ElementTree.Element("View")
    ElementTree.SubElement(view, "Header", value=f"{schema.name}: mark the words that hold a position; "
                                                 f"for a whole-sentence example, choose its positions instead")
    labels = ElementTree.SubElement(view, "Labels", name=LABELS_NAME, toName=TEXT_NAME)
    choices = ElementTree.Element("Choices", name=CHOICES_NAME, toName=TEXT_NAME, choice="multiple",
                                  showInline="false")
    for number, stance in enumerate(schema.stances):
        for speaker in schema.speakers:
            value = format_label(speaker.name, stance.name)
            hint = f"{stance.definition} Held by: {speaker.definition}".strip()
            ElementTree.SubElement(labels, "Label", value=value, background=COLOURS[number % len(COLOURS)],
                                   hint=hint)
            ElementTree.SubElement(choices, "Choice", value=value, hint=hint)
    ElementTree.SubElement(view, "Text", name=TEXT_NAME, value=f"${TEXT_NAME}")
    view.append(choices)
    ElementTree.indent(view)
    return ElementTree.tostring(view, encoding="unicode") + "\n"


def export_corpus(corpus_dir: str | Path, output: str | Path, fmt: str, examples: bool = False,
                  config: str | Path | None = None) -> list[str]:
    """``stance export``: the corpus in a tool's format, and the labelling configuration if asked
    for; both outputs are checked before the corpus is read."""
    from .corpus import load_corpus
    from .interchange import export_doccano, export_label_studio

    target = resolve_output(output, "output", corpus=corpus_dir)
    config_target = resolve_output(config, "--label-config", corpus=corpus_dir) if config else None
    if examples and fmt != LABEL_STUDIO:
        raise UsageError(f"--examples needs --format {LABEL_STUDIO}: {fmt} has no place for whole-sentence examples")
    corpus = load_corpus(corpus_dir)
    warnings = export_label_studio(corpus, target, examples) if fmt == LABEL_STUDIO else export_doccano(corpus, target)
    if config_target is not None:
        write_label_config(corpus.schema, config_target)
    return warnings


def write_label_config(schema: Schema, path: str | Path | OutputTarget) -> None:
    with resolve_output(path, "--label-config").open() as handle:
        handle.write(label_config(schema))


def model_version(directory: Path) -> str:
    """The model's folder name and a digest of its weights: which model proposed a region, even
    after the folder is retrained in place."""
    from .bundle import WEIGHTS_NAME

    digest = hashlib.sha256((directory / WEIGHTS_NAME).read_bytes()).hexdigest()[:12]
    return f"{directory.resolve().name}-{digest}"


def suggestion_tasks(suggestion: Suggestion, fmt: str, model_version: str) -> list[dict[str, Any]]:
    """The tasks of a suggestion in a tool's format, most worth labelling first."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    tasks = []
    for task in suggestion.tasks:
        data: dict[str, Any] = {TEXT_NAME: task.text, "article": task.id, "suggested": task.picked}
        if fmt == DOCCANO:
            labels = [[r.start, r.end, format_label(r.speaker, r.stance)] for r in task.regions]
            tasks.append({**data, "label": labels})
            continue
        results = []
        for number, region in enumerate(task.regions, start=1):
            result = label_studio_region(number, region.start, region.end, region.text,
                                         format_label(region.speaker, region.stance))
            results.append({**result, "score": region.score})
        prediction = {"model_version": model_version, "score": task.priority, "result": results}
        tasks.append({"data": data, "predictions": [prediction]})
    return tasks


def write_suggestion(suggestion: Suggestion, path: str | Path | OutputTarget, fmt: str, model_version: str,
                     inputs: list[str] | None = None) -> None:
    """Label Studio gets one JSON list, doccano one JSON object per line, each as it imports them."""
    tasks = suggestion_tasks(suggestion, fmt, model_version)
    with resolve_output(path, "--output", inputs=inputs or []).open() as handle:
        if fmt == LABEL_STUDIO:
            handle.write(json.dumps(tasks, ensure_ascii=False, indent=2) + "\n")
        else:
            handle.writelines(json.dumps(task, ensure_ascii=False) + "\n" for task in tasks)
