import json

import pytest

from stance.config import TrainConfig
from stance.errors import ConfigError, UsageError


def test_round_trip_through_a_file(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"epochs": 3, "learning_rate": 1, "encoder": None}), encoding="utf-8")
    config = TrainConfig.load(path)
    assert config.epochs == 3 and config.learning_rate == 1
    assert TrainConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize(
    "content, expected",
    [
        ("{not json", "not valid JSON"),
        ('{"epoch": 3}', "unknown setting(s) ['epoch']"),
        ('{"epochs": "many"}', "epochs = 'many' is not of type int"),
        ('{"use_examples": 1}', "use_examples = 1 is not of type bool"),
        ('{"threshold": 1.5}', "threshold = 1.5 must be between 0 and 1"),
        ("[1, 2]", "expected a JSON object"),
        ('{"seed": -1}', "seed = -1 must be between 0 and 2**32 - 1"),
        ('{"dropout": 1.5}', "dropout = 1.5 must be in [0, 1)"),
        ('{"max_length": 4096}', "max_length = 4096 must be between 8 and 512"),
    ],
)
def test_invalid_config_is_refused_with_the_field_named(tmp_path, content, expected):
    path = tmp_path / "config.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=None) as info:
        TrainConfig.load(path)
    assert expected in str(info.value) and str(path) in str(info.value)


def test_directory_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError):
        TrainConfig.load(tmp_path)
