"""Export spans to annotation tools (doccano, Label Studio) and read their exports back.

Annotators work in a tool, the tagger learns from ``spans.jsonl``: every offset crosses this
border. Both tools count code points, as we do: doccano always has, and Label Studio's editor
converts the browser's UTF-16 positions to code points before it stores a region (its own tests
check an emoji before the region). Placing those spans on the corpus's articles is
:mod:`stance.importing`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .corpus import Corpus
from .errors import AnnotationError, InputError, UsageError
from .io import loads, read_text
from .outputs import OutputTarget, resolve_output
from .schema import Schema

#: A tool label is ``"<stance>:<speaker>"``: tools know one label per region, we need two.
LABEL_SEPARATOR = ":"
#: Control names of the Label Studio configuration (:func:`stance.tasks.label_config`).
LABELS_NAME, CHOICES_NAME, TEXT_NAME = "label", "positions", "text"
DOCCANO = "doccano"
LABEL_STUDIO = "label-studio"
FORMATS = (DOCCANO, LABEL_STUDIO)


@dataclass(frozen=True)
class Mark:
    """One labelled region as the tool stored it, offsets already in code points of the tool's text."""

    start: int
    end: int
    text: str
    label: str
    note: str | None = None


@dataclass
class ToolDocument:
    """A tool document, reduced to what both formats share."""

    name: str
    key: Any
    article: str | None
    text: str
    marks: list[Mark]
    #: The labels chosen for a whole-sentence example (Label Studio ``data.example``); None for an article.
    choices: list[str] | None = None
    language: str | None = None


def format_label(speaker: str, stance: str) -> str:
    """The single tool label that carries a position."""
    return f"{stance}{LABEL_SEPARATOR}{speaker}"


def parse_label(label: Any, schema: Schema) -> tuple[str, str]:
    """``(speaker, stance)`` of a tool label; a typo in the tool must not become a new label."""
    stance, sep, speaker = label.partition(LABEL_SEPARATOR) if isinstance(label, str) else ("", "", "")
    if sep and stance in schema.stance_names and speaker in schema.speaker_names:
        return speaker, stance
    valid = ", ".join(format_label(sp, st) for st in schema.stance_names for sp in schema.speaker_names)
    raise AnnotationError(f"unknown label {label!r}; labels are '<stance>{LABEL_SEPARATOR}<speaker>': {valid}")


# --- export -------------------------------------------------------------------------------------


def export_doccano(corpus: Corpus, path: str | Path | OutputTarget) -> list[str]:
    """Write one doccano JSONL document per article; doccano counts code points, as we do.
    The output may not be a file of the corpus (see :mod:`stance.outputs`)."""
    notes = 0
    with resolve_output(path, "output", corpus=corpus.root).open() as handle:
        for number, aid in enumerate(sorted(corpus.articles), start=1):
            spans = corpus.spans_of(aid)
            notes += sum(1 for span in spans if span.note)
            labels = [[s.start, s.end, format_label(s.speaker, s.stance)] for s in spans]
            doc = {"id": number, "text": corpus.articles[aid].text, "label": labels, "article": aid}
            handle.write(json.dumps(doc, ensure_ascii=False) + "\n")
    return [f"{notes} span notes were not exported: doccano has no per-span note"] if notes else []


def label_studio_region(number: int, start: int, end: int, text: str, label: str) -> dict[str, Any]:
    """One Label Studio text region, as its editor stores one."""
    value = {"start": start, "end": end, "text": text, "labels": [label]}
    return {"id": f"s{number}", "from_name": LABELS_NAME, "to_name": TEXT_NAME, "type": "labels", "value": value}


def export_label_studio(corpus: Corpus, path: str | Path | OutputTarget, examples: bool = False) -> list[str]:
    """Write a Label Studio JSON task list, with notes in each region's meta; with ``examples``, the
    written examples too, as tasks marked ``example`` whose positions are choices (no offsets)."""
    target = resolve_output(path, "output", corpus=corpus.root)
    tasks = []
    for number, aid in enumerate(sorted(corpus.articles), start=1):
        text = corpus.articles[aid].text
        results = []
        for index, span in enumerate(corpus.spans_of(aid), start=1):
            result = label_studio_region(index, span.start, span.end, span.text,
                                         format_label(span.speaker, span.stance))
            if span.note:
                result["meta"] = {"text": [span.note]}
            results.append(result)
        tasks.append({"id": number, "data": {"text": text, "article": aid},
                      "annotations": [{"id": number, "result": results}]})
    for number, example in enumerate(corpus.examples if examples else (), start=len(tasks) + 1):
        labels = [format_label(p.speaker, p.stance) for p in example.positions]
        chosen = [{"id": "c1", "from_name": CHOICES_NAME, "to_name": TEXT_NAME, "type": "choices",
                   "value": {"choices": labels}}] if labels else []
        tasks.append({"id": number, "data": {"text": example.text, "language": example.language, "example": True},
                      "annotations": [{"id": number, "result": chosen}]})
    with target.open() as handle:
        handle.write(json.dumps(tasks, ensure_ascii=False, indent=2) + "\n")
    return []


# --- reading tool files -------------------------------------------------------------------------


def read_export(path: str | Path, fmt: str | None = None) -> tuple[list[ToolDocument], list[str]]:
    """The documents of a doccano or Label Studio export (format detected when not given), and
    warnings about what was not read; a malformed export is an ``AnnotationError``."""
    path = Path(path)
    content, decoding = read_text(path)
    content = content.removeprefix("\ufeff")
    warnings = [decoding] if decoding else []
    if not content.strip():
        raise InputError(f"{path}: is empty; expected a {' or '.join(FORMATS)} export")
    fmt = check_format(fmt, content, path)
    try:
        docs = _read_doccano(content, path) if fmt == DOCCANO else _read_label_studio(content, path, warnings)
    except (AttributeError, TypeError, KeyError) as exc:  # a field of the wrong JSON type somewhere
        raise AnnotationError(f"{path}: not a well-formed {fmt} export ({type(exc).__name__}: {exc}); "
                              f"export it again from the tool") from None
    return docs, warnings


def check_format(fmt: str | None, content: str, path: Path) -> str:
    """The canonical format name; sniffed from content when not given (a list is Label Studio)."""
    if fmt is not None:
        name = fmt.lower().replace("_", "-").replace("labelstudio", LABEL_STUDIO)
        if name not in FORMATS:
            raise UsageError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
        return name
    head = content.lstrip("\ufeff \t\r\n")[:1]
    if head == "[":
        return LABEL_STUDIO
    if head == "{":
        return DOCCANO
    raise UsageError(f"{path}: cannot tell the format (neither a JSON list nor JSONL); pass the format")


def _span_text(text: str, start: Any, end: Any, where: str) -> str:
    """The marked text, or an error: offsets outside the tool's own text mean a broken export."""
    ints = all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end))
    if ints and start == end:
        raise AnnotationError(f"{where}: empty span (start = end = {start}); a span must mark at least one "
                              f"character: fix or delete it in the tool")
    if not ints or not 0 <= start < end <= len(text):
        raise AnnotationError(f"{where}: offsets {start!r}-{end!r} are outside the document text (0-{len(text)})")
    return text[start:end]


def _article_hint(*sources: Any) -> str | None:
    """An explicit article id: ours on export, or one a user put in the tool's metadata."""
    for source in sources:
        if isinstance(source, dict):
            for key in ("article", "article_id"):
                value = source.get(key)
                if isinstance(value, str) and value:
                    return value
    return None


def _read_doccano(content: str, path: Path) -> list[ToolDocument]:
    """Split on LF only: U+2028 inside a text is not a line end for JSONL."""
    docs = []
    for number, line in enumerate(content.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{path.name}:{number}"
        try:
            data = loads(line)
        except json.JSONDecodeError as exc:
            hint = " (a JSON list is a Label Studio export)" if line.lstrip().startswith("[") else ""
            raise AnnotationError(f"{where}: not valid JSON ({exc.msg}){hint}") from None
        if not isinstance(data, dict) or not isinstance(data.get("text"), str):
            raise AnnotationError(f"{where}: expected a doccano object with a string 'text'")
        name = f"{where} (id {data.get('id', number)})"
        entries = data.get("label", data.get("labels", []))
        marks = []
        for index, entry in enumerate(entries if isinstance(entries, list) else [None], start=1):
            if isinstance(entry, dict):
                entry = [entry.get("start_offset"), entry.get("end_offset"), entry.get("label")]
            if not isinstance(entry, list) or len(entry) != 3:
                raise AnnotationError(f"{name}: label {index} is {entry!r}; expected [start, end, \"LABEL\"]")
            start, end, label = entry
            text = _span_text(data["text"], start, end, f"{name}: label {index}")
            marks.append(Mark(start, end, text, label))
        docs.append(ToolDocument(name, data.get("id", number), _article_hint(data, data.get("meta")),
                              data["text"], marks))
    return docs


def _read_label_studio(content: str, path: Path, warnings: list[str]) -> list[ToolDocument]:
    try:
        tasks = loads(content)
    except json.JSONDecodeError as exc:
        hint = " (one object per line is a doccano export)" if exc.msg == "Extra data" else ""
        raise AnnotationError(f"{path.name}:{exc.lineno}: not valid JSON ({exc.msg}){hint}") from None
    if not isinstance(tasks, list):
        raise AnnotationError(f"{path.name}: expected a JSON list of Label Studio tasks")
    docs = []
    for number, task in enumerate(tasks, start=1):
        data = task.get("data") if isinstance(task, dict) else None
        if not isinstance(data, dict) or not isinstance(data.get("text"), str):
            raise AnnotationError(f"{path.name}: task {number} has no string data.text")
        name = f"{path.name}: task {task.get('id', number)}"
        annotations = [a for a in task.get("annotations") or [] if not a.get("was_cancelled")]
        if len(annotations) > 1:
            warnings.append(f"{name}: {len(annotations)} annotations; only the last one was imported")
        if data.get("example") is True:
            docs += _example(name, task.get("id", number), data, annotations, warnings)
            continue
        marks, skipped = [], 0
        for result in annotations[-1].get("result", []) if annotations else []:
            value = result.get("value") or {}
            if result.get("type") != "labels" or "start" not in value or "end" not in value:
                skipped += 1
                continue
            start, end = value["start"], value["end"]
            text = _span_text(data["text"], start, end, f"{name}: region {result.get('id')!r}")
            text = value["text"] if isinstance(value.get("text"), str) and value["text"] else text
            notes = (result.get("meta") or {}).get("text") or []
            note = "\n".join(map(str, notes)) if isinstance(notes, list) else str(notes)
            for label in value.get("labels") or [None]:
                marks.append(Mark(start, end, text, label, note or None))
        if skipped:
            warnings.append(f"{name}: {skipped} results that are not text labels were not imported")
        docs.append(ToolDocument(name, task.get("id", number), _article_hint(data, task.get("meta"), data.get("meta")),
                              data["text"], marks))
    return docs


def _example(name: str, key: Any, data: dict[str, Any], annotations: list[Any],
             warnings: list[str]) -> list[ToolDocument]:
    """A whole-sentence example, its positions chosen in the Choices block; none until labelled."""
    if not annotations:
        warnings.append(f"{name}: example not labelled yet, not imported")
        return []
    chosen = [label for result in annotations[-1].get("result", []) if result.get("type") == "choices"
              for label in (result.get("value") or {}).get("choices", [])]
    language = data.get("language") if isinstance(data.get("language"), str) else None
    return [ToolDocument(name, key, None, data["text"], [], chosen, language)]
