"""The label schema as data: stances, speakers with aliases, which speaker is the article's voice, and
which one is the catch-all for named sources that match no other speaker.

No label name appears in the code: a user annotating another story swaps ``schema.json``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import Problem, SchemaError
from .io import loads

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Label:
    """A stance or speaker name with the one-line definition annotators and models read.

    Speakers carry ``aliases`` (the names and roles that designate them), stances carry ``cues``
    (words that often carry them: "pretext", « sans fondement »; a trailing ``*`` matches any ending),
    both per language code, so the features built from them follow a user's own schema.
    """

    name: str
    definition: str = ""
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False)
    cues: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "definition": self.definition}
        for key in ("aliases", "cues"):
            words = getattr(self, key)
            if words:
                data[key] = {lang: list(items) for lang, items in words.items()}
        return data


@dataclass(frozen=True)
class Schema:
    """What can be said about a sentence: ``(speaker, stance)`` positions, or ``none``."""

    name: str
    stances: tuple[Label, ...]
    speakers: tuple[Label, ...]
    none: str = "none"
    voice: str | None = None
    #: The speaker of a named source whose words match no alias (another government, a researcher, a
    #: company outside the schema): attribution sends it here rather than to the nearest known name.
    other: str | None = None
    description: str = ""

    @property
    def stance_names(self) -> list[str]:
        return [label.name for label in self.stances]

    @property
    def speaker_names(self) -> list[str]:
        return [label.name for label in self.speakers]

    def label_problem(self, data: dict[str, Any]) -> str | None:
        """Why a ``{"speaker", "stance"}`` record does not fit this schema, or ``None``."""
        if data.get("stance") not in self.stance_names:
            return f"stance {data.get('stance')!r} is not in the schema {self.stance_names}"
        if data.get("speaker") not in self.speaker_names:
            return f"speaker {data.get('speaker')!r} is not in the schema {self.speaker_names}"
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "none": self.none,
            "voice": self.voice,
            "other": self.other,
            "stances": [label.to_dict() for label in self.stances],
            "speakers": [label.to_dict() for label in self.speakers],
        }

    @classmethod
    def from_dict(cls, data: Any, source: str = "schema") -> Schema:
        """Build a schema, or raise ``SchemaError`` listing every problem found."""
        found = schema_problems(data)
        if found:
            raise SchemaError(f"{source}: {found[0]}" + (f" (and {len(found) - 1} more)" if len(found) > 1 else ""))
        return cls(
            name=data["name"],
            description=data.get("description", ""),
            none=data.get("none", "none"),
            voice=data.get("voice"),
            other=data.get("other"),
            stances=tuple(_label(item) for item in data["stances"]),
            speakers=tuple(_label(item) for item in data["speakers"]),
        )

    @classmethod
    def load(cls, path: str | Path) -> Schema:
        """The schema of a file, or :class:`SchemaError` naming its first problem."""
        schema, problems = read_schema(Path(path))
        if schema is None:
            raise SchemaError(str(problems[0]))
        return schema


def read_schema(path: Path) -> tuple[Schema | None, list[Problem]]:
    """The one schema reader (the corpus validator and import both use it): the schema, or every
    problem of the file, each with the line of the label it names."""
    try:
        text = path.read_text(encoding="utf-8")
        data = loads(text)
    except FileNotFoundError:
        return None, [Problem(str(path), 1, f"missing; an annotation folder needs {path.name}")]
    except UnicodeDecodeError as exc:
        return None, [Problem(str(path), 1, f"not valid UTF-8 at byte {exc.start}; save it as UTF-8")]
    except json.JSONDecodeError as exc:
        return None, [Problem(str(path), exc.lineno, f"not valid JSON ({exc.msg})")]
    problems = []
    for message in schema_problems(data):
        quoted = re.search(r"'([^']+)'", message)
        problems.append(Problem(str(path), line_of(text, quoted.group(1) if quoted else ""), message))
    return (None if problems else Schema.from_dict(data, str(path))), problems


def line_of(text: str, needle: str) -> int:
    index = text.find(f'"{needle}"') if needle else -1
    return text.count("\n", 0, index) + 1 if index >= 0 else 1


def _label(item: dict[str, Any]) -> Label:
    words = {key: {lang: tuple(items) for lang, items in item.get(key, {}).items()} for key in ("aliases", "cues")}
    return Label(name=item["name"], definition=item.get("definition", ""), **words)


def schema_problems(data: Any) -> list[str]:
    """Every way ``data`` fails to be a schema, as readable sentences (empty when valid)."""
    if not isinstance(data, dict):
        return [f"expected a JSON object with 'name', 'stances' and 'speakers', got {type(data).__name__}"]
    problems: list[str] = []
    if not isinstance(data.get("name"), str) or not data.get("name"):
        problems.append("'name' must be a non-empty string")
    none = data.get("none", "none")
    if not isinstance(none, str) or not _NAME.match(none):
        problems.append(f"'none' must be a lower_snake_case name, got {none!r}")
    names: dict[str, set[str]] = {}
    for key in ("stances", "speakers"):
        items = data.get(key)
        if not isinstance(items, list) or not items:
            problems.append(f"'{key}' must be a non-empty list of {{\"name\", \"definition\"}} objects")
            continue
        seen: set[str] = set()
        for index, item in enumerate(items):
            where = f"{key}[{index}]"
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                problems.append(f"{where} must be an object with a string 'name'")
                continue
            name = item["name"]
            if not _NAME.match(name):
                problems.append(f"{where}: name {name!r} must be lower_snake_case (a-z, 0-9, _)")
            if name in seen:
                problems.append(f"{where}: name {name!r} is listed twice")
            if name == none:
                problems.append(f"{where}: name {name!r} is the schema's 'none' label; pick another name")
            seen.add(name)
            if not isinstance(item.get("definition", ""), str):
                problems.append(f"{where}: 'definition' must be a string")
            for words_key in ("aliases", "cues"):
                words = item.get(words_key, {})
                if not isinstance(words, dict) or not all(
                    isinstance(items, list) and all(isinstance(w, str) and w.strip() for w in items)
                    for items in words.values()
                ):
                    problems.append(f"{where}: '{words_key}' must map a language code to a list of non-empty strings")
        names[key] = seen
    for key in ("voice", "other"):
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            problems.append(f"'{key}' must be the name of one speaker (a string) or null, got {value!r}")
        elif value is not None and "speakers" in names and value not in names["speakers"]:
            problems.append(f"'{key}' is {value!r}, which is not one of the speakers {sorted(names['speakers'])}")
    if data.get("other") is not None and data.get("other") == data.get("voice"):
        problems.append("'other' and 'voice' name the same speaker; a named source is never the article's own voice")
    return problems
