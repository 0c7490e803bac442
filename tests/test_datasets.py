"""The loader: IDX parsing, verification, search order and downloading.

Besides ``fetch_fashion_mnist``, its subjects are the private units ``_idx``
(the IDX and gzip readers) and ``_download`` (its error type).
"""

import gzip
import hashlib
from pathlib import Path

import numpy as np
import pytest
from crafted import gzip_bomb, load_in_child

from fashion_estimators import CLASS_NAMES, TRAIN_SIZE, datasets, fetch_fashion_mnist
from fashion_estimators._download import DownloadError
from fashion_estimators._idx import parse_idx, read_gzip

SYSTEM_FILES = Path("/usr/share/datasets/fashion-mnist")


def idx_bytes(array: np.ndarray) -> bytes:
    """An unsigned-byte IDX payload holding ``array``."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape
    )
    return header + array.astype(np.uint8).tobytes()


def write_split(folder: Path, split: str, labels, value: int = 7) -> dict:
    """Write a tiny valid split (one image per label) and return its checksums."""
    folder.mkdir(parents=True, exist_ok=True)
    labels = np.asarray(labels, dtype=np.uint8)
    images = np.full((len(labels), 28, 28), value, dtype=np.uint8)
    names = datasets.SPLIT_FILES[split]
    sums = {}
    for name, array in zip(names, (images, labels), strict=True):
        payload = idx_bytes(array)
        (folder / name).write_bytes(gzip.compress(payload))
        sums[name] = hashlib.md5(payload).hexdigest()
    return sums


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """Point every search location at empty folders under tmp_path."""
    homes = {
        "sklearn": tmp_path / "sklearn_home",
        "keras": tmp_path / "keras_home",
        "system": tmp_path / "system" / "fashion-mnist",
    }
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(homes["sklearn"]))
    monkeypatch.setenv("KERAS_HOME", str(homes["keras"]))
    monkeypatch.setattr(datasets, "SYSTEM_DIR", homes["system"])
    monkeypatch.setenv(datasets.MIRROR_ENV, "http://127.0.0.1:9/")  # closed port
    return homes


# --------------------------------------------------------------------- IDX
def test_parse_idx_round_trip():
    images = np.arange(2 * 28 * 28, dtype=np.uint64).reshape(2, 28, 28) % 256
    parsed = parse_idx(idx_bytes(images), ndim=3)
    np.testing.assert_array_equal(parsed, images)
    assert parsed.dtype == np.uint8


def test_parse_idx_rejects_wrong_magic():
    labels = idx_bytes(np.array([1, 2, 3]))
    with pytest.raises(
        ValueError, match=r"magic number 0x00000801; expected 0x00000803"
    ):
        parse_idx(labels, ndim=3, name="labels.gz")


@pytest.mark.parametrize("cut", [2, 9, 100])
def test_parse_idx_rejects_truncated_data(cut):
    data = idx_bytes(np.zeros((1, 28, 28)))
    with pytest.raises(ValueError, match="too short|truncated"):
        parse_idx(data[:-cut] if cut == 100 else data[:cut], ndim=3)


def test_parse_idx_rejects_extra_bytes():
    with pytest.raises(ValueError, match=r"declares shape \(3,\)"):
        parse_idx(idx_bytes(np.array([1, 2, 3])) + b"\x00", ndim=1)


def test_read_gzip_rejects_corrupt_and_truncated_files(tmp_path):
    bad = tmp_path / "bad.gz"
    bad.write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match="not a valid gzip file"):
        read_gzip(bad)
    cut = tmp_path / "cut.gz"
    cut.write_bytes(gzip.compress(b"x" * 10000)[:-20])
    with pytest.raises(ValueError, match="not a valid gzip file"):
        read_gzip(cut)


def test_read_gzip_stops_one_byte_past_the_cap(tmp_path):
    path = gzip_bomb(tmp_path / "bomb.gz", 64 << 20)
    with pytest.raises(ValueError, match="decompresses to more than 1000 bytes"):
        read_gzip(path, max_bytes=1000)
    assert read_gzip(path, max_bytes=64 << 20) == bytes(64 << 20)


@pytest.mark.slow
def test_a_gzip_bomb_in_the_data_home_is_skipped_within_bounded_memory(tmp_path):
    """A 2 MB file that unpacks to 2 GiB, under the name of the 7.8 MB test
    images: the loader reads 7.8 MB of it, skips it, and takes the Debian
    copy; the child's peak memory grows by less than 100 MiB past a clean
    load of the same split."""
    home = tmp_path / "home"
    home.mkdir()
    gzip_bomb(home / "t10k-images-idx3-ubyte.gz", 2 << 30)
    assert (home / "t10k-images-idx3-ubyte.gz").stat().st_size < 12 << 20
    clean = tmp_path / "clean"
    clean.mkdir()
    results = load_in_child("crafted:fetch_test_images", [clean, home])
    assert [r[1] for r in results] == ["ok", "ok"]
    baseline, peak = results[0][3], results[1][3]
    print(
        f"peak resident memory: clean load {baseline:.0f} MiB, with the bomb {peak:.0f}"
    )
    assert peak - baseline < 100


# -------------------------------------------------------- search and verify
def test_search_order(isolated, tmp_path, monkeypatch):
    explicit = tmp_path / "explicit"
    folders = {
        "explicit": explicit,
        "sklearn": isolated["sklearn"] / "fashion-mnist",
        "keras": isolated["keras"] / "datasets" / "fashion-mnist",
        "system": isolated["system"],
    }
    # every location holds a valid copy that differs only in its pixel value
    for value, folder in enumerate(folders.values(), start=1):
        sums = write_split(folder, "test", [0, 1, 2], value=value)
    # identical labels, different images: accept each location's own checksum
    checksums = dict(datasets.CHECKSUMS)
    image_name = datasets.SPLIT_FILES["test"][0]
    found_values = []
    for name, folder in folders.items():
        payload = read_gzip(folder / image_name)
        checksums[image_name] = hashlib.md5(payload).hexdigest()
        checksums.update({k: v for k, v in sums.items() if k != image_name})
        monkeypatch.setattr(datasets, "CHECKSUMS", dict(checksums))
        home = explicit if name == "explicit" else None
        bunch = fetch_fashion_mnist("test", data_home=home, download_if_missing=False)
        found_values.append(int(bunch.data[0, 0]))
        if name != "system":
            # remove this copy so that the next location is the first one left
            for f in folder.iterdir():
                f.unlink()
    assert found_values == [1, 2, 3, 4]


def test_corrupt_copy_is_skipped_for_a_valid_one(isolated, tmp_path, monkeypatch):
    sums = write_split(isolated["system"], "test", [3, 4])
    monkeypatch.setattr(datasets, "CHECKSUMS", {**datasets.CHECKSUMS, **sums})
    home = tmp_path / "home"
    write_split(home, "test", [5, 6, 7])  # valid IDX, wrong checksum
    bunch = fetch_fashion_mnist("test", data_home=home, download_if_missing=False)
    assert bunch.target.tolist() == [3, 4]


def test_checksum_mismatch_everywhere_is_an_error(isolated, tmp_path):
    home = tmp_path / "home"
    write_split(home, "test", [5, 6, 7])  # real checksums expected: mismatch
    with pytest.raises(FileNotFoundError, match="fails its checksum"):
        fetch_fashion_mnist("test", data_home=home, download_if_missing=False)


def test_missing_files_message_says_where_and_how(isolated, tmp_path):
    home = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError) as info:
        fetch_fashion_mnist("test", data_home=home, download_if_missing=False)
    message = str(info.value)
    for folder in datasets.search_dirs(home):
        assert str(folder) in message
    assert "apt-get install dataset-fashion-mnist" in message
    assert "data_home=" in message and "download_if_missing=True" in message


def test_bad_subset_is_rejected():
    with pytest.raises(ValueError, match="subset must be one of"):
        fetch_fashion_mnist("validation")


# ------------------------------------------------------------- downloading
def test_download_real_files_from_local_mirror(isolated, tmp_path, serve, monkeypatch):
    monkeypatch.setenv(datasets.MIRROR_ENV, serve(SYSTEM_FILES))
    home = tmp_path / "home"
    bunch = fetch_fashion_mnist("test", data_home=home)
    assert bunch.data.shape == (10000, 784)
    saved = sorted(p.name for p in (home / "fashion-mnist").iterdir())
    assert saved == sorted(datasets.SPLIT_FILES["test"])  # no partial files
    # the second call uses the cache: with the server gone it still works
    monkeypatch.setenv(datasets.MIRROR_ENV, "http://127.0.0.1:9/")
    again = fetch_fashion_mnist("test", data_home=home, download_if_missing=False)
    np.testing.assert_array_equal(again.target, bunch.target)


def test_download_with_wrong_bytes_leaves_nothing(
    isolated, tmp_path, serve, monkeypatch
):
    mirror = tmp_path / "mirror"
    write_split(mirror, "test", [1, 2])  # valid files, but not the real ones
    monkeypatch.setenv(datasets.MIRROR_ENV, serve(mirror))
    home = tmp_path / "home"
    with pytest.raises(DownloadError, match="fails its checksum"):
        fetch_fashion_mnist("test", data_home=home)
    assert list((home / "fashion-mnist").iterdir()) == []


def test_download_404_is_a_clear_error(isolated, tmp_path, serve, monkeypatch):
    monkeypatch.setenv(datasets.MIRROR_ENV, serve(tmp_path / "empty"))
    (tmp_path / "empty").mkdir()
    home = tmp_path / "home"
    with pytest.raises(DownloadError, match="404") as info:
        fetch_fashion_mnist("test", data_home=home)
    assert "apt-get install dataset-fashion-mnist" in str(info.value)
    assert list((home / "fashion-mnist").iterdir()) == []


# -------------------------------------------------------------- real data
def test_real_dataset_layout():
    bunch = fetch_fashion_mnist("train")
    assert bunch.data.shape == (TRAIN_SIZE, 784) and bunch.data.dtype == np.uint8
    assert TRAIN_SIZE == 60000
    assert bunch.images.shape == (TRAIN_SIZE, 28, 28)
    np.testing.assert_array_equal(bunch.images.reshape(TRAIN_SIZE, -1), bunch.data)
    assert np.bincount(bunch.target).tolist() == [6000] * 10
    assert bunch.target_names == list(CLASS_NAMES) and len(CLASS_NAMES) == 10
    assert bunch.target_names[9] == "Ankle boot"
    assert "Fashion-MNIST" in bunch.DESCR and bunch.frame is None
    assert bunch.data.flags.writeable


def test_real_dataset_as_frame_and_all():
    X, y = fetch_fashion_mnist("test", return_X_y=True, as_frame=True)
    assert list(X.columns[:2]) == ["pixel1", "pixel2"] and X.shape == (10000, 784)
    assert X.columns[-1] == "pixel784" and y.name == "label"
    bunch = fetch_fashion_mnist("all", as_frame=True)
    assert bunch.frame.shape == (70000, 785)
    assert bunch.frame.columns[-1] == "label"
    X_test, y_test = fetch_fashion_mnist("test", return_X_y=True)
    np.testing.assert_array_equal(bunch.data.to_numpy()[60000:], X_test)
    np.testing.assert_array_equal(bunch.target.to_numpy()[60000:], y_test)


def test_the_public_constants_describe_the_real_images(train_set):
    import fashion_estimators as fe

    X, y = train_set
    assert X.shape[1] == fe.N_PIXELS == np.prod(fe.IMAGE_SHAPE)
    assert np.prod(fe.CHANNEL_SHAPE) == fe.N_PIXELS and fe.CHANNEL_SHAPE[-1] == 1
    assert X.max() == fe.PIXEL_MAX and len(np.unique(y)) == len(CLASS_NAMES)
    for name in fe.__all__:  # every advertised name imports
        assert getattr(fe, name) is not None, name
