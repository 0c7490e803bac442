"""The registry: one place names each estimator, and the command line,
save_model and load_model take their choices from it."""

import numpy as np
import pytest

from fashion_estimators import FashionMLPClassifier, load_model, registry, save_model
from fashion_estimators.cli import main


class TinyMLPClassifier(FashionMLPClassifier):
    """A third network, as a contributor would add one."""


@pytest.fixture
def tiny_registered(monkeypatch):
    monkeypatch.setattr(registry, "ESTIMATORS", dict(registry.ESTIMATORS))
    return registry.register("tiny", TinyMLPClassifier)


def test_the_built_in_estimators_are_registered_by_their_cli_names():
    assert {name: e.class_name for name, e in registry.ESTIMATORS.items()} == {
        "mlp": "FashionMLPClassifier",
        "cnn": "FashionCNNClassifier",
    }
    assert registry.DEFAULT in registry.ESTIMATORS
    assert registry.class_named("FashionMLPClassifier") is FashionMLPClassifier
    assert registry.class_named("os.system") is None


def test_a_registered_estimator_is_a_choice_of_the_cli(tiny_registered, capsys):
    for command in ("train", "search"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert "{mlp,cnn,tiny}" in capsys.readouterr().out


def test_a_registered_estimator_saves_and_loads(tiny_registered, tmp_path, small):
    X, y = small[0][:300], small[1][:300]
    clf = TinyMLPClassifier(hidden_units=(16,), epochs=1, random_state=0).fit(X, y)
    loaded = load_model(save_model(clf, tmp_path / "tiny.fashion"))
    assert type(loaded) is TinyMLPClassifier
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_an_unregistered_estimator_is_neither_saved_nor_loaded(tmp_path, small):
    X, y = small[0][:300], small[1][:300]
    clf = TinyMLPClassifier(hidden_units=(16,), epochs=1, random_state=0).fit(X, y)
    with pytest.raises(TypeError, match="registered estimators"):
        save_model(clf, tmp_path / "tiny.fashion")


def test_names_are_registered_once(tiny_registered):
    with pytest.raises(ValueError, match="registered as 'tiny' already"):
        registry.register("tiny", FashionMLPClassifier)
    with pytest.raises(ValueError, match="FashionMLPClassifier is registered"):
        registry.register("other", FashionMLPClassifier)
