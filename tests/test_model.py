"""The real tokenizer and encoder: training is deterministic and a saved model restores exactly."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import ANNOTATIONS

from stance.bundle import WEIGHTS_NAME
from stance.config import TrainConfig
from stance.errors import ModelError
from stance.model import StanceTagger
from stance.records import Attribution, Position, Sentence
from stance.schema import Schema
from stance.training import TrainingSet, fit_tagger

TEXTS = [
    "TikTok has never shared user data with the Chinese government, a spokesperson said.",
    "« Cette interdiction est une manœuvre électorale », a déclaré le porte-parole chinois.",
    "The deal was announced on Monday.",
    "Washington says the app is a threat to national security.",
]
LABELS = [
    [Position("bytedance_tiktok", "denial")],
    [Position("chinese_government", "political_motive")],
    [],
    [Position("trump_administration", "national_security")],
]


@pytest.fixture(scope="module")
def schema() -> Schema:
    return Schema.load(ANNOTATIONS / "schema.json")


def test_same_seed_same_predictions_and_round_trip(base_encoder, schema, tmp_path):
    config = TrainConfig(epochs=40, seed=3, calibration_folds=0)  # four sentences cannot calibrate
    first = fit_tagger(TrainingSet.from_texts(TEXTS, LABELS, schema), schema, config)
    second = fit_tagger(TrainingSet.from_texts(TEXTS, LABELS, schema), schema, config)
    probs, speakers = first.predict_all(TEXTS)
    np.testing.assert_array_equal(probs, second.predict_all(TEXTS)[0])
    assert probs.shape == (4, 3) and speakers.shape == (4, 3, len(schema.speakers))
    assert np.allclose(speakers.sum(-1), 1.0, atol=1e-5)
    # The heads fit their training sentences: every gold stance is the most probable one.
    assert [int(np.argmax(p)) for p in probs[[0, 1, 3]]] == [1, 2, 0]

    first.save_pretrained(tmp_path)
    restored = StanceTagger.from_pretrained(tmp_path)
    np.testing.assert_allclose(restored.predict_all(TEXTS)[0], probs, atol=1e-6)
    np.testing.assert_allclose(restored.predict_all(TEXTS)[1], speakers, atol=1e-6)
    assert restored.config == config and restored.schema == schema
    # Only what training changed is stored: the heads, not the 250k-token embedding matrix.
    assert (tmp_path / WEIGHTS_NAME).stat().st_size < 1_000_000  # the encoder alone is 470 MB


def test_each_stance_leans_to_the_holder_the_attribution_gives_it(base_encoder, schema):
    """"X says ..., a charge Y has rejected": the political-motive position is read from X's clause
    and the denial from Y's, and the speaker head raises each holder for its own stance only."""
    config = TrainConfig(epochs=40, seed=3, calibration_folds=0)
    tagger = fit_tagger(TrainingSet.from_texts(TEXTS, LABELS, schema), schema, config)
    text = "Beijing says the ban is a political manoeuvre, a charge Washington has always rejected."
    attributions = tagger.attribute(text, [Sentence(0, len(text), text)], "en")
    political_motive, denial = (schema.stance_names.index(n) for n in ("political_motive", "denial"))
    beijing, washington = (schema.speaker_names.index(n) for n in ("chinese_government", "trump_administration"))
    holders = tagger.extras([text], attributions)[2].numpy()
    assert holders[0, political_motive].argmax() == beijing and holders[0, denial].argmax() == washington
    speakers = tagger.predict_all([text], attributions)[1]
    unattributed = tagger.predict_all([text], [Attribution(None)])[1]
    assert speakers[0, denial, washington] > 10 * unattributed[0, denial, washington]
    assert speakers[0, political_motive, beijing] > unattributed[0, political_motive, beijing]


def test_fine_tuning_top_layers_stores_only_those_layers(base_encoder, schema, tmp_path):
    config = TrainConfig(epochs=1, trainable_layers=1, batch_size=4)
    tagger = fit_tagger(TrainingSet.from_texts(TEXTS, LABELS, schema), schema, config)
    tagger.save_pretrained(tmp_path)
    from safetensors import safe_open

    with safe_open(str(tmp_path / WEIGHTS_NAME), "pt") as handle:
        names = list(handle.keys())
    assert any(n.startswith("encoder.encoder.layer.11.") for n in names)
    assert not any(n.startswith("encoder.encoder.layer.10.") or "embeddings" in n for n in names)
    np.testing.assert_allclose(StanceTagger.from_pretrained(tmp_path).predict_all(TEXTS)[0],
                               tagger.predict_all(TEXTS)[0], atol=1e-5)


def test_too_many_trainable_layers_is_a_clear_error(base_encoder, schema):
    with pytest.raises(ModelError, match="trainable_layers = 99"):
        fit_tagger(TrainingSet.from_texts(TEXTS, LABELS, schema), schema, TrainConfig(epochs=1, trainable_layers=99))


def test_base_encoder_mismatch_is_refused(trained_model, tmp_path):
    import json
    import shutil

    copy = tmp_path / "model"
    shutil.copytree(trained_model, copy)
    info = json.loads((copy / "encoder.json").read_text())
    (copy / "encoder.json").write_text(json.dumps({**info, "sha256": "0" * 64}))
    with pytest.raises(ModelError, match="sha256"):
        StanceTagger.from_pretrained(copy)


def test_a_model_saved_before_holder_weights_loads_as_it_was_trained(trained_model, tmp_path):
    """A model folder from before ``holder_weight`` existed (no such setting, no such tensor) still
    loads, and predicts as its network did: with no holder term in the speaker logits."""
    import json
    import shutil

    from safetensors.torch import load_file, save_file

    copy = tmp_path / "model"
    shutil.copytree(trained_model, copy)
    config = json.loads((copy / "training_config.json").read_text())
    del config["holder_weight"]
    (copy / "training_config.json").write_text(json.dumps(config))
    tensors = load_file(str(copy / WEIGHTS_NAME))
    del tensors["holder_weight"]
    save_file(tensors, str(copy / WEIGHTS_NAME))
    old = StanceTagger.from_pretrained(copy)
    assert old.config.holder_weight is None and old.net.holder_weight is None
    current = StanceTagger.from_pretrained(trained_model)
    current.net.holder_weight.data.zero_()
    np.testing.assert_allclose(old.predict_all(TEXTS)[1], current.predict_all(TEXTS)[1], atol=1e-6)


def test_corrupted_weights_are_refused(trained_model, tmp_path):
    import shutil

    copy = tmp_path / "model"
    shutil.copytree(trained_model, copy)
    (copy / WEIGHTS_NAME).write_bytes(b"\x00garbage")
    with pytest.raises(ModelError, match="corrupted weights"):
        StanceTagger.from_pretrained(copy)


@pytest.mark.parametrize("name", [WEIGHTS_NAME, "tokenizer.json", "training_config.json",
                                  "baselines/tfidf/arrays.safetensors", "calibration.json", "schema.json"])
def test_every_file_a_model_loader_reads_is_parsed_never_unpickled(trained_model, tmp_path, name):
    """Each file the loaders do read is replaced by a pickle whose unpickling would end the test
    run: loading must fail with a clear error instead of executing it."""
    import pickle
    import shutil

    from stance.errors import StanceError

    class Boom:
        def __reduce__(self):
            return (exec, ("raise SystemExit('pickle was executed')",))

    copy = tmp_path / "model"
    shutil.copytree(trained_model, copy)
    (copy / name).write_bytes(pickle.dumps(Boom()))
    with pytest.raises(StanceError):
        StanceTagger.from_pretrained(copy)
