"""Photos made to exhaust memory, hang the reader or be misread.

The crafted images are made at test time; decompression bombs are streamed
row by row, never held in memory or kept in the repository.
"""

import os
import threading

import numpy as np
import pytest
from crafted import load_in_child, png_bomb
from PIL import Image

from fashion_estimators.photos import MAX_PIXELS, photo_to_image


def garment(dtype=np.uint8, high=255) -> np.ndarray:
    """A dark garment-shaped block on a light background, at this bit depth."""
    canvas = np.full((200, 150), high, dtype=dtype)
    canvas[40:160, 30:120] = high // 7
    canvas[40:70, 10:140] = high // 7  # sleeves
    return canvas


@pytest.fixture(scope="module")
def reference():
    return photo_to_image(Image.fromarray(garment()))


@pytest.mark.slow
def test_a_decompression_bomb_is_refused_within_bounded_memory(tmp_path):
    small = tmp_path / "small.png"
    Image.fromarray(garment()).save(small)
    bombs = [png_bomb(tmp_path / "12k.png", 12_000, 12_000)]
    bombs.append(png_bomb(tmp_path / "20k.png", 20_000, 20_000))  # past Pillow's own
    assert all(p.stat().st_size < 1 << 20 for p in bombs)
    results = load_in_child("fashion_estimators.photos:photo_to_image", [small, *bombs])
    assert results[0][1] == "ok"
    assert [r[1] for r in results[1:]] == ["ValueError", "ValueError"]
    assert "12000x12000 pixels, more than the 25,000,000" in results[1][2]
    assert "more than 25,000,000 pixels" in results[2][2]
    baseline, peak = results[0][3], results[-1][3]
    print(
        f"peak resident memory: small photo {baseline:.0f} MiB, after bombs {peak:.0f}"
    )
    assert peak - baseline < 100  # 144 MB for the first bomb's pixels alone


def test_the_budget_counts_a_large_jpeg_at_its_reduced_decode(tmp_path):
    # 6,000 x 6,000 = 36 Mpx, over the budget, but JPEG decodes it at 1/4
    big = Image.fromarray(garment()).resize((6000, 6000), Image.Resampling.NEAREST)
    big.save(tmp_path / "big.jpg", quality=80)
    assert 6000 * 6000 > MAX_PIXELS
    result = photo_to_image(tmp_path / "big.jpg")
    assert result.shape == (28, 28) and result.max() == 255
    big.save(tmp_path / "big.png")
    with pytest.raises(ValueError, match="6000x6000 pixels"):
        photo_to_image(tmp_path / "big.png")


@pytest.mark.parametrize(
    "dtype, high, mode",
    [
        (np.uint16, 65535, None),
        (np.int32, 65535, None),
        (np.int32, 2**31 - 1, None),
        (np.float32, 1.0, "F"),
        (np.float32, 255.0, "F"),
    ],
    ids=[
        "16-bit",
        "32-bit holding 16",
        "32-bit",
        "float in [0, 1]",
        "float in [0, 255]",
    ],
)
def test_wide_images_are_scaled_not_clipped(tmp_path, reference, dtype, high, mode):
    image = (
        garment(np.float64, 1.0) * high
        if dtype == np.float32
        else garment(np.int64, high)
    )
    path = tmp_path / ("g.tiff" if mode == "F" or dtype == np.int32 else "g.png")
    Image.fromarray(image.astype(dtype)).save(path)
    result = photo_to_image(path)
    assert np.abs(result.astype(float) - reference).mean() < 3


def test_what_is_not_a_regular_file_is_refused_without_hanging(tmp_path):
    fifo = tmp_path / "photo.png"
    os.mkfifo(fifo)
    outcome = []

    def read():
        try:
            photo_to_image(fifo)
        except ValueError as error:
            outcome.append(str(error))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout=10)
    assert outcome == [f"{fifo} is not a regular file; expected a file."]
    with pytest.raises(ValueError, match="is a folder"):
        photo_to_image(tmp_path)
    with pytest.raises(ValueError, match="not a regular file"):
        photo_to_image("/dev/zero")


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "is not an image in one of the formats"),
        (b"GIF89a" + bytes(20), "is not an image"),
        (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n", "is not an image"),
        (
            b"\x89PNG\r\n\x1a\n" + os.urandom(200),
            "could not be decoded|is not an image",
        ),
    ],
    ids=["empty", "broken gif", "eps (not a format read)", "noise after a png magic"],
)
def test_files_that_are_not_photos(tmp_path, content, message):
    path = tmp_path / "photo.png"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message):
        photo_to_image(path)


def test_a_truncated_photo_is_a_value_error(tmp_path):
    Image.fromarray(garment()).save(tmp_path / "full.jpg", quality=90)
    data = (tmp_path / "full.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 3])
    with pytest.raises(ValueError, match="could not be decoded.*truncated"):
        photo_to_image(tmp_path / "cut.jpg")
