"""Model files made by an attacker or mangled by accident.

Each crafted file is made at test time (bombs by streaming zeros), and each
must raise ModelFileError naming the file, allocate nothing large, write
nothing, and run nothing.
"""

import copy
import hashlib
import io
import json
import os
import threading

import keras
import numpy as np
import pytest
from crafted import (
    bomb_archive,
    load_in_child,
    members,
    network_parts,
    rewrite,
    with_description,
    with_network,
    zip_bytes,
)

from fashion_estimators import (
    FashionCNNClassifier,
    FashionMLPClassifier,
    ModelFileError,
    load_model,
    resume,
    save_model,
)
from fashion_estimators.cli import main

GIB = 1 << 30
SMALL_MLP = dict(hidden_units=(16,), epochs=2, batch_size=64, random_state=0)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, (200, 784)).astype(np.uint8)
    return X, np.arange(200) % 10


@pytest.fixture(scope="module")
def good(data, tmp_path_factory):
    path = tmp_path_factory.mktemp("good") / "mlp.fashion"
    return save_model(FashionMLPClassifier(**SMALL_MLP).fit(*data), path)


def _refused(path, match):
    with pytest.raises(ModelFileError, match=match) as info:
        load_model(path)
    assert str(info.value).startswith(str(path))
    return info.value


# ------------------------------------------------------------------- bombs
@pytest.mark.slow
def test_bombs_are_refused_before_any_large_allocation(good, tmp_path):
    """Peak memory of a child that loads the good file, then each bomb:
    within 300 MiB of the good load alone; its temporary folder stays empty."""
    parts, net = members(good), network_parts(good)
    bombs = {
        "manifest": bomb_archive(
            tmp_path / "manifest.fashion", parts, {"manifest.json": int(1.5 * GIB)}
        ),
        "description": bomb_archive(
            tmp_path / "estimator.fashion", parts, {"estimator.json": GIB}
        ),
    }
    inner = io.BytesIO()
    bomb_archive(inner, net, {"config.json": int(1.5 * GIB)})
    rewrite(tmp_path / "config.fashion", {**parts, "model.keras": inner.getvalue()})
    bombs["config"] = tmp_path / "config.fashion"
    inner = io.BytesIO()
    bomb_archive(inner, net, {f"assets/{i}": 250 << 20 for i in range(6)})
    rewrite(tmp_path / "assets.fashion", {**parts, "model.keras": inner.getvalue()})
    bombs["assets"] = tmp_path / "assets.fashion"
    inner = io.BytesIO()
    bomb_archive(inner, net, {"model.weights.h5": int(1.2 * GIB)})
    rewrite(tmp_path / "weights.fashion", {**parts, "model.keras": inner.getvalue()})
    bombs["weights"] = tmp_path / "weights.fashion"
    inner = io.BytesIO()  # under the 1 GiB cap, but a thousand times its size
    bomb_archive(inner, net, {"model.weights.h5": 900 << 20})
    rewrite(tmp_path / "ratio.fashion", {**parts, "model.keras": inner.getvalue()})
    bombs["ratio"] = tmp_path / "ratio.fashion"
    for path in bombs.values():
        assert path.stat().st_size < 10 << 20  # megabytes that unpack to gigabytes

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    os.environ["TMPDIR"], saved = str(scratch), os.environ.get("TMPDIR")
    try:
        results = load_in_child(
            "fashion_estimators:load_model", [good, *bombs.values()]
        )
    finally:
        if saved is None:
            del os.environ["TMPDIR"]
        else:
            os.environ["TMPDIR"] = saved
    baseline = results[0][3]
    assert results[0][1] == "ok"
    messages = {n: r[2] for n, r in zip(bombs, results[1:], strict=True)}
    assert all(result[1] == "ModelFileError" for result in results[1:]), results
    assert "manifest.json unpacks to 1610612736 bytes" in messages["manifest"]
    assert "estimator.json unpacks to" in messages["description"]
    assert "config.json unpacks to 1610612736 bytes" in messages["config"]
    assert "its zip directory lists 9 members" in messages["assets"]
    assert "model.weights.h5" in messages["weights"]
    assert (
        "model.weights.h5 unpacks to 943718400 bytes, more than the 67108864"
        in (messages["ratio"])
    )
    peak = results[-1][3]
    print(f"peak resident memory: good load {baseline:.0f} MiB, after bombs {peak:.0f}")
    assert peak - baseline < 300
    assert list(scratch.iterdir()) == []


def test_a_member_that_lies_about_its_size_is_read_no_further(good, tmp_path):
    """Its headers say 10 bytes; its deflated bytes inflate to 5 MiB."""
    parts = {**members(good), "manifest.json": bytes(5 << 20)}
    data = bytearray(zip_bytes(parts))
    for signature, name_at, size_at in (
        (b"PK\x03\x04", 30, 22),
        (b"PK\x01\x02", 46, 24),
    ):
        start = data.find(signature)
        while start != -1:
            if data[start + name_at :].startswith(b"manifest.json"):
                data[start + size_at : start + size_at + 4] = (10).to_bytes(4, "little")
            start = data.find(signature, start + 1)
    path = tmp_path / "m.fashion"
    path.write_bytes(bytes(data))
    _refused(path, "manifest.json")


def test_a_directory_of_many_entries_is_refused_before_zipfile_reads_it(good, tmp_path):
    parts = members(good)
    parts.update({f"x{i}": b"" for i in range(5000)})
    rewrite(tmp_path / "m.fashion", parts, rehash=False)
    _refused(tmp_path / "m.fashion", "its zip directory lists 5003 members")


# --------------------------------------------------------------- allow-list
_MARKER = []


@keras.saving.register_keras_serializable(package="attacker")
class Planted(keras.layers.Layer):
    """A class registered in the loading process, as user code might; its
    constructor records that it ran."""

    def __init__(self, **kwargs):
        _MARKER.append("constructed")
        super().__init__(**kwargs)


@keras.saving.register_keras_serializable(package="attacker")
def planted_activation(x):
    _MARKER.append("called")
    return x


def _config_edit(good, out, edit):
    net = network_parts(good)
    config = json.loads(net["config.json"])
    edit(config)
    return with_network(good, out, {**net, "config.json": json.dumps(config).encode()})


def _layers(config):
    return config["config"]["layers"]


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            lambda c: _layers(c)[1].update(
                {
                    "class_name": "attacker>Planted",
                    "module": None,
                    "registered_name": None,
                }
            ),
            "attacker>Planted",
        ),
        (
            lambda c: _layers(c)[1].update(
                {
                    "class_name": "Dense",
                    "module": "keras.layers",
                    "registered_name": "attacker>Planted",
                }
            ),
            "registered as 'attacker>Planted'",
        ),
        (
            lambda c: _layers(c)[3]["config"].update(
                {"activation": "attacker>planted_activation"}
            ),
            "planted_activation",
        ),
        (
            lambda c: _layers(c)[3]["config"].update(
                {
                    "activation": {
                        "module": "builtins",
                        "class_name": "function",
                        "config": "attacker>planted_activation",
                        "registered_name": "function",
                    }
                }
            ),
            "activation is an object",
        ),
        (
            lambda c: _layers(c)[3]["config"].update({"activation": "gelu"}),
            "the function 'gelu'",
        ),
        (
            lambda c: _layers(c)[3]["config"].update(
                {"kernel_regularizer": "attacker>planted_activation"}
            ),
            "planted_activation",
        ),
        (
            lambda c: c["compile_config"].update(
                {"loss": "attacker>planted_activation"}
            ),
            "planted_activation",
        ),
        (
            lambda c: c["compile_config"]["optimizer"].update({"module": "os"}),
            "uses os.Adam",
        ),
        (
            lambda c: _layers(c)[3]["config"].update(
                {"extra": {"module": {"class_name": "attacker>Planted"}}}
            ),
            "attacker>Planted",
        ),
    ],
    ids=[
        "class",
        "registered-name",
        "activation-name",
        "activation-config",
        "other-keras-function",
        "regularizer",
        "loss",
        "optimizer-module",
        "object-under-a-module-key",
    ],
)
def test_only_the_allow_list_can_be_named(good, tmp_path, edit, message):
    _MARKER.clear()
    path = _config_edit(good, tmp_path / "m.fashion", edit)
    _refused(path, message)
    assert _MARKER == []  # nothing named was constructed or called


def test_every_network_the_package_builds_is_on_the_allow_list(data, tmp_path):
    from fashion_estimators import FashionAugmenter

    X, y = data
    settings = [
        (
            FashionCNNClassifier,
            dict(
                filters=(4,),
                dense_units=8,
                batch_norm=True,
                optimizer="adamw",
                precision="bfloat16",
                augment=FashionAugmenter(shift=0.1, rotation=5, zoom=0.1, erasing=0.5),
            ),
        ),
        (
            FashionCNNClassifier,
            dict(
                filters=(4, (8, 8)),
                dense_units=8,
                optimizer="sgd",
                lr_schedule="one-cycle",
                weight_decay=1e-3,
                precision="float32",
                augment="flip+erase",
            ),
        ),
        (
            FashionCNNClassifier,
            dict(architecture="resnet", filters=(4, 8), depth=6, augment="flip"),
        ),
        (
            FashionMLPClassifier,
            dict(
                hidden_units=(8, 8),
                optimizer="rmsprop",
                augment="flip",
                lr_schedule="constant",
            ),
        ),
        (FashionMLPClassifier, dict(hidden_units=(8,), batch_norm=True)),
    ]
    for cls, params in settings:
        clf = cls(epochs=1, random_state=0, **params).fit(X, y)
        loaded = load_model(save_model(clf, tmp_path / "m.fashion"))
        np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


# ------------------------------------------------- the description's truth
@pytest.mark.parametrize(
    "changes, message",
    [
        (
            {"classes": {"dtype": "<i8", "values": [0, 1, 2]}},
            "not the FashionMLPClassifier",
        ),
        ({"params": {"hidden_units": [32]}}, "not the FashionMLPClassifier"),
        ({"params": {"hidden_units": [16384] * 16}}, "cannot hold"),
        ({"n_features_in": 783}, "n_features_in is 783"),
        ({"n_features_in": 10**10}, "n_features_in is"),
        ({"progress": {"initial_epoch": 3, "epochs": 3}}, "progress"),
        ({"progress": {"initial_epoch": "3", "epochs": 9}}, "progress"),
        ({"seed": -5}, "seed"),
        ({"seed": 2**70}, "seed"),
        ({"history": {"loss": ["x"]}}, "history"),
        ({"history": []}, "history"),
        ({"feature_names_in": ["a"]}, "feature_names_in"),
        ({"pixel_max": 7}, "pixel_max"),
        (
            {"classes": {"dtype": "<i8", "values": [2**70, 1]}},
            "OverflowError|Python int",
        ),
        ({"classes": {"dtype": "V8", "values": [1, 2]}}, "label dtype"),
        ({"params": {"learning_rate": 1e308 * 10}}, "learning_rate"),
        ({"params": {"callbacks": ["os.system"]}}, "callbacks"),
        ({"params": {"augment": {"FashionAugmenter": {"zoom": 7}}}}, "zoom"),
        ({"extra": 1}, "keys"),
    ],
    ids=lambda v: str(v)[:40],
)
def test_a_description_that_contradicts_itself_or_its_network(
    good, tmp_path, changes, message
):
    path = with_description(good, tmp_path / "m.fashion", **changes)
    _refused(path, message)


def test_a_description_of_another_kind_of_network(good, data, tmp_path):
    cnn = FashionCNNClassifier(filters=(4,), dense_units=8, epochs=1, augment=None)
    cnn_file = save_model(cnn.fit(*data), tmp_path / "cnn.fashion")
    # the CNN's description with the MLP's network, checksums matching
    parts = {**members(good), "estimator.json": members(cnn_file)["estimator.json"]}
    rewrite(tmp_path / "m.fashion", parts)
    _refused(tmp_path / "m.fashion", "not the FashionCNNClassifier")


def test_deep_json_is_refused(good, tmp_path):
    parts = members(good)
    deep = b'{"a": ' * 100_000 + b"1" + b"}" * 100_000
    rewrite(tmp_path / "m.fashion", {**parts, "estimator.json": deep})
    _refused(tmp_path / "m.fashion", "estimator.json is not valid JSON")


# --------------------------------------------------- paths stored in a file
def test_a_stored_checkpoint_path_is_never_written(good, data, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("the user's own file")
    path = with_description(
        good, tmp_path / "m.fashion", params={"checkpoint": str(victim)}
    )
    loaded = load_model(path)
    assert loaded.checkpoint is None
    loaded.partial_fit(*data)
    loaded.fit(*data)
    assert victim.read_text() == "the user's own file"


def test_a_moved_checkpoint_resumes_where_it_now_is(data, tmp_path):
    first, moved = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    moved.mkdir()

    class StopInSecondEpoch(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:  # after the checkpoint of the first
                raise KeyboardInterrupt

    stopper = StopInSecondEpoch()
    with pytest.raises(KeyboardInterrupt):
        FashionMLPClassifier(**dict(SMALL_MLP, epochs=3), checkpoint=first / "c").fit(
            *data, callbacks=[stopper]
        )
    (first / "c").rename(moved / "c")
    first.rmdir()  # the folder it was written in is gone
    clf = resume(moved / "c", *data)
    assert len(clf.history_["loss"]) == 3
    assert clf.checkpoint == moved / "c"
    assert len(load_model(moved / "c").history_["loss"]) == 3
    assert not first.exists()


# ------------------------------------------------------------------ saving
def test_save_never_follows_a_planted_symlink(good, data, tmp_path):
    clf = load_model(good)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    target = tmp_path / "m.fashion"
    # the names the former writer used, and any name an attacker could guess
    for name in (f".m.fashion.{os.getpid()}.partial", ".m.fashion.partial"):
        (tmp_path / name).symlink_to(victim)
    save_model(clf, target)
    assert victim.read_text() == "precious"
    assert isinstance(load_model(target), FashionMLPClassifier)
    leftovers = {p.name for p in tmp_path.iterdir()} - {"victim.txt", "m.fashion"}
    assert all((tmp_path / name).is_symlink() for name in leftovers)
    assert oct(target.stat().st_mode & 0o777) != oct(
        0o600
    )  # not mkstemp's private mode


def test_save_export_and_checkpoints_replace_only_files(good, data, tmp_path):
    from fashion_estimators import export

    clf = load_model(good)
    fifo = tmp_path / "m.fashion"
    os.mkfifo(fifo)  # writing to it would block until someone reads
    with pytest.raises(ValueError, match="exists and is not a regular file"):
        save_model(clf, fifo)
    with pytest.raises(ValueError, match="exists and is not a regular file"):
        export(clf, fifo, format="litert")
    with pytest.raises(ValueError, match="exists and is not a regular file"):
        FashionMLPClassifier(**SMALL_MLP, checkpoint=fifo).fit(*data)
    assert fifo.is_fifo() and sorted(p.name for p in tmp_path.iterdir()) == [
        "m.fashion"
    ]


@pytest.mark.slow
def test_concurrent_saves_to_one_path_leave_one_whole_file(data, tmp_path):
    models = [
        FashionMLPClassifier(**dict(SMALL_MLP, hidden_units=(w,))).fit(*data)
        for w in (8, 16, 24, 32)
    ]
    target = tmp_path / "m.fashion"
    errors = []

    def save(model):
        try:
            for _ in range(3):
                save_model(model, target)
        except Exception as error:  # pragma: no cover - the assertion reports it
            errors.append(error)

    threads = [threading.Thread(target=save, args=(m,)) for m in models]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [p.name for p in tmp_path.iterdir()] == ["m.fashion"]
    loaded = load_model(target)
    assert loaded.hidden_units in [m.hidden_units for m in models]


# --------------------------------------------------------------- the CLI
def test_the_cli_prints_one_line_for_a_bad_model_file(good, tmp_path, capsys):
    bad = with_description(good, tmp_path / "m.fashion", n_features_in=10**10)
    photo = tmp_path / "p.png"
    from PIL import Image

    canvas = np.full((60, 60), 255, np.uint8)
    canvas[10:50, 20:40] = 0
    Image.fromarray(canvas).save(photo)
    for args in (
        ["predict", bad, photo],
        ["evaluate", bad, "--out", tmp_path / "o"],
        ["export", bad, "--out", tmp_path / "x.onnx"],
    ):
        assert main([str(a) for a in args]) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err
        assert f"error: {bad} is not a fashion-estimators model file" in err


# ------------------------------------------------------------------- fuzz
def _mutations(good, rng):
    """Mutated model files, as bytes: flipped bytes in headers, the central
    directory and the members (not rehashed), and members rebuilt from
    mutated JSON values, truncated or swapped bytes (rehashed, as an
    attacker who knows the format would)."""
    raw = good.read_bytes()
    parts = members(good)
    net = network_parts(good)
    description = json.loads(parts["estimator.json"])
    config = json.loads(net["config.json"])
    weird = [
        None,
        True,
        -1,
        0,
        2**64,
        1e308,
        float("nan"),
        "",
        "x" * 300,
        [],
        {},
        [1, 2],
        {"a": 1},
        "keras>Dense",
        "../../etc/passwd",
    ]

    def odd():
        return copy.deepcopy(weird[rng.integers(len(weird))])

    def mutate_json(value):
        value = json.loads(json.dumps(value))
        nodes = [value]
        for _ in range(rng.integers(1, 4)):
            container = nodes[0]
            for _ in range(rng.integers(0, 8)):
                children = (
                    list(container.values())
                    if isinstance(container, dict)
                    else container
                    if isinstance(container, list)
                    else []
                )
                children = [c for c in children if isinstance(c, dict | list)]
                if not children:
                    break
                container = children[rng.integers(len(children))]
            if isinstance(container, dict) and container:
                key = list(container)[rng.integers(len(container))]
                container[key] = odd()
            elif isinstance(container, list) and container:
                container[rng.integers(len(container))] = odd()
        return json.dumps(value).encode()

    def rehashed(new_parts):
        manifest = json.loads(new_parts["manifest.json"])
        manifest["sha256"] = {
            name: hashlib.sha256(data).hexdigest()
            for name, data in new_parts.items()
            if name != "manifest.json"
        }
        return zip_bytes({**new_parts, "manifest.json": json.dumps(manifest).encode()})

    kinds = [
        "header",
        "directory",
        "member",
        "estimator-json",
        "manifest-json",
        "config-json",
        "inner-bytes",
        "truncate",
    ]
    central = raw.rfind(b"PK\x01\x02")
    for i in range(2000):
        kind = kinds[i % len(kinds)]
        if kind in ("header", "directory", "member"):
            data = bytearray(raw)
            low, high = {
                "header": (0, 64),
                "directory": (central, len(raw)),
                "member": (64, central),
            }[kind]
            for _ in range(rng.integers(1, 6)):
                data[rng.integers(low, high)] = rng.integers(256)
            yield kind, bytes(data)
        elif kind == "estimator-json":
            yield kind, rehashed({**parts, "estimator.json": mutate_json(description)})
        elif kind == "manifest-json":
            yield (
                kind,
                zip_bytes(
                    {
                        **parts,
                        "manifest.json": mutate_json(
                            json.loads(parts["manifest.json"])
                        ),
                    }
                ),
            )
        elif kind == "config-json":
            inner = zip_bytes({**net, "config.json": mutate_json(config)})
            yield kind, rehashed({**parts, "model.keras": inner})
        elif kind == "inner-bytes":
            inner = bytearray(parts["model.keras"])
            for _ in range(rng.integers(1, 6)):
                inner[rng.integers(len(inner))] = rng.integers(256)
            yield kind, rehashed({**parts, "model.keras": bytes(inner)})
        else:
            yield kind, raw[: rng.integers(0, len(raw))]


@pytest.mark.slow
def test_fuzz_only_model_file_error_escapes(good, tmp_path):
    rng = np.random.default_rng(20261201)
    path = tmp_path / "fuzzed.fashion"
    outcomes, escaped = {}, []
    for kind, data in _mutations(good, rng):
        path.write_bytes(data)
        try:
            load_model(path)
            outcome = "loaded"
        except ModelFileError as error:
            assert str(error).startswith(str(path))
            outcome = "refused"
        except Exception as error:
            escaped.append((kind, type(error).__name__, str(error)[:200]))
            outcome = "escaped"
        outcomes.setdefault(kind, {}).setdefault(outcome, 0)
        outcomes[kind][outcome] += 1
    print(json.dumps(outcomes))
    assert escaped == []
    # every kind of damage reached the loader's checks and was refused there
    # at least once (the run of 2026-12-04 refused 168-250 of each 250)
    assert len(outcomes) == 8
    assert all(counts.get("refused", 0) >= 100 for counts in outcomes.values())
