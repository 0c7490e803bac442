"""The model service (``fashion_estimators.serving``) in process, through
Starlette's test client: its answers, its pages, and every kind of bad input
the issue lists, each refused with a 4xx answer in JSON while the service
keeps serving and writes nothing to disk."""

import asyncio
import io
import json
import tempfile

import httpx
import numpy as np
import pytest
from crafted import png_bomb
from PIL import Image
from starlette.testclient import TestClient

from fashion_estimators.serving import MAX_IMAGES, SAMPLES, create_app

LIMIT = 1 << 20  # a small upload limit (1 MiB), so the over-limit cases cost little


@pytest.fixture(scope="module")
def model(served_cnn):
    return served_cnn


@pytest.fixture(scope="module")
def client(model):
    app = create_app(model[1], max_upload_bytes=LIMIT)
    with TestClient(app) as client:
        yield client


def _png(image) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(image, np.uint8).reshape(28, 28)).save(buffer, "PNG")
    return buffer.getvalue()


def test_a_file_several_files_and_json_pixels_get_the_models_answer(
    client, model, small
):
    clf, _ = model
    X = small[2][:3]
    expected = clf.predict_proba(X)
    novelty = clf.novelty_score(X)
    one = client.post("/predict", files={"file": ("a.png", _png(X[0]), "image/png")})
    several = client.post(
        "/predict?top=10",
        files=[("files", (f"{i}.png", _png(x), "image/png")) for i, x in enumerate(X)],
    )
    pixels = client.post("/predict?pixels=true", json={"pixels": X.tolist()})
    assert one.status_code == several.status_code == pixels.status_code == 200
    assert one.json()["predictions"][0]["file"] == "a.png"
    assert len(one.json()["predictions"][0]["top"]) == 3
    for answer in (several.json(), pixels.json()):
        for i, prediction in enumerate(answer["predictions"]):
            top = prediction["top"]
            assert top[0]["label"] == clf.classes_[expected[i].argmax()]
            for entry in top:
                assert entry["probability"] == pytest.approx(
                    expected[i][entry["label"]], abs=2e-4
                )
            assert prediction["novelty_score"] == pytest.approx(novelty[i], abs=2e-3)
            assert prediction["unlike_training"] == bool(novelty[i] > 1)
    assert [len(p["top"]) for p in several.json()["predictions"]] == [10] * 3
    # the 28x28 image the model saw: a dataset image is taken as it is
    seen = [p["pixels"] for p in pixels.json()["predictions"]]
    assert seen == X.tolist()


def test_noise_looks_unlike_the_training_data_and_blanks_get_the_models_verdict(
    client, model, small
):
    noise = np.random.default_rng(0).integers(0, 256, (4, 784))
    answer = client.post("/predict", json={"pixels": noise.tolist()}).json()
    assert all(p["unlike_training"] for p in answer["predictions"])
    # a black and a white blank: whether such a small model flags them varies
    # with the fit, so the service must say what the estimator says
    blanks = np.array([[0] * 784, [255] * 784])
    answer = client.post("/predict", json={"pixels": blanks.tolist()}).json()
    flags = [p["unlike_training"] for p in answer["predictions"]]
    assert flags == model[0].is_novel(blanks).tolist()
    garments = client.post("/predict", json={"pixels": small[2][:16].tolist()}).json()
    assert sum(p["unlike_training"] for p in garments["predictions"]) <= 2


def test_health_card_api_and_page(client, model):
    before = client.get("/health").json()
    assert before["status"] == "ok"
    client.post("/predict", json={"pixels": [[0] * 784] * 3})
    health = client.get("/health").json()
    # three images in one request: one network call, three images answered
    assert health["images"] == before["images"] + 3
    assert health["network_calls"] == before["network_calls"] + 1
    card = client.get("/model").json()
    assert card["model"]["estimator"] == "FashionCNNClassifier"
    import hashlib

    assert (
        card["model_file"]["sha256"]
        == hashlib.sha256(model[1].read_bytes()).hexdigest()
    )
    spec = client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    assert {"/predict", "/health", "/model"} <= set(spec["paths"])
    assert "POST /predict" in client.get("/docs").text
    page = client.get("/")
    assert page.headers["content-type"].startswith("text/html")
    # everything the page loads comes from the app itself
    assert "http://" not in page.text and "https://" not in page.text
    assert 'href="/model"' in page.text
    for asset in ("/static/app.js", "/static/style.css"):
        assert client.get(asset).status_code == 200


def test_the_samples_are_test_set_images(client, test_set):
    listed = client.get("/samples").json()
    assert [s["file"] for s in listed] == list(SAMPLES)
    for sample in listed:
        image = Image.open(io.BytesIO(client.get(sample["url"]).content))
        index = SAMPLES[sample["file"]]
        assert np.array_equal(np.asarray(image).ravel(), test_set[0][index])


def _truncated_png() -> bytes:
    big = Image.fromarray(
        np.random.default_rng(0).integers(0, 255, (300, 300), "uint8")
    )
    buffer = io.BytesIO()
    big.save(buffer, "PNG")
    return buffer.getvalue()[:-2000]


def _cases(tmp_path):
    bomb = png_bomb(tmp_path / "bomb.png", 20_000, 20_000).read_bytes()
    png = _png(np.zeros(784))
    return {
        "non-image file": (
            {"files": {"file": ("notes.png", b"just some text", "image/png")}},
            422,
            "not an image",
        ),
        "truncated image": (
            {"files": {"file": ("cut.png", _truncated_png(), "image/png")}},
            422,
            "could not be decoded",
        ),
        "decompression bomb": (
            {"files": {"file": ("bomb.png", bomb, "image/png")}},
            422,
            "pixels",
        ),
        "over the size limit": (
            {"files": {"file": ("big.png", bytes(LIMIT + 1), "image/png")}},
            413,
            "at most",
        ),
        "over the limit, no length given": (
            {
                "content": (bytes(1000) for _ in range(LIMIT // 1000 + 2)),
                "headers": {"content-type": "application/json"},
            },
            413,
            "over the",
        ),
        "wrong content type": (
            {"content": png, "headers": {"content-type": "image/png"}},
            415,
            "multipart/form-data",
        ),
        "no content type": ({"content": png}, 415, "untyped"),
        "malformed JSON": (
            {
                "content": b'{"pixels": [[1, 2',
                "headers": {"content-type": "application/json"},
            },
            400,
            "not valid JSON",
        ),
        "a JSON bomb of nesting": (
            {
                "content": b"[" * 100_000,
                "headers": {"content-type": "application/json"},
            },
            400,
            "not valid JSON",
        ),
        "pixels of the wrong shape": ({"json": {"pixels": [[0] * 783]}}, 400, "784"),
        "pixels 28x28 nested": ({"json": {"pixels": [[[0] * 28] * 28]}}, 400, "784"),
        "pixels out of range": ({"json": {"pixels": [[256] * 784]}}, 400, "0 to 255"),
        "negative pixels": ({"json": {"pixels": [[-1] * 784]}}, 400, "0 to 255"),
        "float pixels": ({"json": {"pixels": [[0.5] * 784]}}, 400, "integers"),
        "boolean pixels": ({"json": {"pixels": [[True] * 784]}}, 400, "integers"),
        "no pixels key": ({"json": {"images": []}}, 400, '"pixels"'),
        "empty pixel list": ({"json": {"pixels": []}}, 400, "non-empty"),
        "too many JSON images": (
            {"json": {"pixels": [[0] * 784] * (MAX_IMAGES + 1)}},
            400,
            "too many images",
        ),
        "too many files": (
            {
                "files": [
                    ("files", (f"{i}.png", png, "image/png"))
                    for i in range(MAX_IMAGES + 1)
                ]
            },
            400,
            "too many parts",
        ),
        "a path in a file name": (
            {"files": {"file": ("../../etc/passwd", png, "image/png")}},
            400,
            "path",
        ),
        "a Windows path in a file name": (
            {"files": {"file": ("C:\\Users\\me\\x.png", png, "image/png")}},
            400,
            "path",
        ),
        "an unknown field": (
            {"files": {"photo": ("x.png", png, "image/png")}},
            400,
            "unknown field",
        ),
        "an empty file": (
            {"files": {"file": ("x.png", b"", "image/png")}},
            400,
            "empty",
        ),
        "multipart without a boundary": (
            {"content": png, "headers": {"content-type": "multipart/form-data"}},
            400,
            "boundary",
        ),
        "multipart cut short": (
            {
                "content": b"--xyz\r\nContent-Disposition: form-data; name=file; "
                b'filename="a.png"\r\n\r\n' + png,
                "headers": {"content-type": "multipart/form-data; boundary=xyz"},
            },
            400,
            "incomplete",
        ),
        "an uncropped blank photo": (
            {"files": {"file": ("white.png", _blank_photo(), "image/png")}},
            422,
            "stands out",
        ),
    }


def _blank_photo() -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (100, 80), 255).save(buffer, "PNG")
    return buffer.getvalue()


def test_bad_input_gets_a_clear_4xx_in_json_and_nothing_is_written(
    client, model, tmp_path, monkeypatch, small
):
    cases = _cases(tmp_path)
    # anything that spooled an upload to disk would do it here
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    folder = sorted(model[1].parent.iterdir())
    for name, (request, status, message) in cases.items():
        answer = client.post("/predict", **request)
        assert answer.status_code == status, (name, answer.text)
        error = answer.json()["error"]
        assert error["status"] == status
        assert message in error["message"], (name, error["message"])
        # and the service goes on serving
        again = client.post("/predict", json={"pixels": [small[2][0].tolist()]})
        assert again.status_code == 200
    assert list(spool.iterdir()) == []
    assert sorted(model[1].parent.iterdir()) == folder


@pytest.mark.parametrize(
    "query, message",
    [("top=0", "?top="), ("top=11", "?top="), ("top=x", "?top=")],
)
def test_a_bad_query_is_refused(client, query, message):
    answer = client.post(f"/predict?{query}", json={"pixels": [[0] * 784]})
    assert answer.status_code == 400
    assert message in answer.json()["error"]["message"]


def test_no_request_reaches_a_file_outside_the_pages(client, model):
    for path in (
        "/static/../serve.py",
        "/static/%2e%2e/serve.py",
        "/static/..%2fserve.py",
        f"/static/{model[1]}",
        "/predict/../../etc/passwd",
    ):
        answer = client.get(path)
        assert answer.status_code in (404, 405), path
        assert "import" not in answer.text
    # the model is the one the service was started with: no parameter names another
    answer = client.post(
        f"/predict?model={model[1]}.other", json={"pixels": [[0] * 784]}
    )
    assert answer.status_code == 200
    assert client.get("/predict").status_code == 405
    assert client.get("/predict").json()["error"]["status"] == 405


def test_concurrent_requests_are_batched_into_fewer_calls(model, small):
    app = create_app(model[1])
    images = small[2][:24]

    async def main():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            answers = await asyncio.gather(
                *(c.post("/predict", json={"pixels": [x.tolist()]}) for x in images)
            )
        return [a.json()["predictions"][0] for a in answers]

    batched = asyncio.run(main())
    batcher = app.state.batcher
    assert batcher.rows == len(images)
    assert batcher.calls < len(images) / 2  # most requests shared a call
    expected = model[0].predict_proba(images)
    for prediction, row in zip(batched, expected, strict=True):
        assert prediction["top"][0]["probability"] == pytest.approx(row.max(), abs=2e-4)


def test_the_app_refuses_bad_settings_and_a_card_of_another_model(model, tmp_path):
    with pytest.raises(ValueError, match="max_images must be a positive integer"):
        create_app(model[1], max_images=0)
    card = tmp_path / "model_card.json"
    card.write_text(json.dumps({"model_file": {"sha256": "0" * 64}}))
    with pytest.raises(ValueError, match="card of another model file"):
        create_app(model[1], card=card)
    card.write_text("not json")
    with pytest.raises(ValueError, match="not a JSON model card"):
        create_app(model[1], card=card)


def test_a_body_that_arrives_too_slowly_is_refused(model):
    app = create_app(model[1], read_timeout=0.3)

    async def slowly():
        yield b'{"pixels": '
        await asyncio.sleep(1.0)
        yield b"[]}"

    async def main():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            return await c.post(
                "/predict",
                content=slowly(),
                headers={"content-type": "application/json"},
            )

    answer = asyncio.run(main())
    assert answer.status_code == 408
    assert "took more than 0.3 s" in answer.json()["error"]["message"]


def test_uploads_held_at_once_are_bounded(model):
    app = create_app(model[1], max_buffered_bytes=1_000_000)
    first_sent = asyncio.Event()

    async def holding():
        yield bytes(600_000)
        first_sent.set()
        await asyncio.sleep(0.5)
        yield b""

    async def second(c):
        await first_sent.wait()
        return await c.post(
            "/predict",
            content=bytes(600_000),
            headers={"content-type": "application/json"},
        )

    async def main():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            return await asyncio.gather(
                c.post(
                    "/predict",
                    content=holding(),
                    headers={"content-type": "application/json"},
                ),
                second(c),
            )

    held, refused = asyncio.run(main())
    assert refused.status_code == 503
    assert "too many uploads at once" in refused.json()["error"]["message"]
    # the first was read whole, and answered on its own merits (not JSON)
    assert held.status_code == 400
