from pathlib import Path

import pytest

from stance.errors import SchemaError
from stance.schema import Schema, schema_problems

ANNOTATIONS = Path(__file__).resolve().parents[1] / "annotations"


def test_shipped_schema_loads_and_names_the_voice():
    schema = Schema.load(ANNOTATIONS / "schema.json")
    assert schema.voice in schema.speaker_names
    assert schema.none not in schema.stance_names
    assert Schema.from_dict(schema.to_dict()) == schema


def test_every_problem_is_listed():
    data = {"name": "", "stances": [{"name": "Bad Name"}, {"name": "x"}, {"name": "x"}], "speakers": "nobody"}
    problems = schema_problems(data)
    assert len(problems) == 4
    with pytest.raises(SchemaError, match="and 3 more"):
        Schema.from_dict(data)


def test_aliases_must_be_lists_of_strings():
    data = {"name": "s", "stances": [{"name": "a"}], "speakers": [{"name": "b", "aliases": {"en": "B"}}]}
    assert "aliases" in schema_problems(data)[0]


def test_other_names_the_catch_all_speaker():
    schema = Schema.load(ANNOTATIONS / "schema.json")
    assert schema.other in schema.speaker_names and schema.other != schema.voice
    assert Schema.from_dict(schema.to_dict()).other == schema.other
    data = {"name": "s", "stances": [{"name": "a"}], "speakers": [{"name": "b"}, {"name": "c"}], "voice": "b"}
    assert Schema.from_dict(data).other is None  # optional, like "voice"
    assert "'other' is 'nobody'" in schema_problems({**data, "other": "nobody"})[0]
    assert "same speaker" in schema_problems({**data, "other": "b"})[0]
