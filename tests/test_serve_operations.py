"""The model service for its operators, in process: readiness, Prometheus
metrics, the model version on every answer, an OpenAPI document that cannot
drift from the routes, and the loose ends a review found (each test names
the one it pins)."""

import asyncio
import hashlib
import io
import threading
import warnings

import httpx
import numpy as np
import pytest
from PIL import Image
from prometheus_client.parser import text_string_to_metric_families
from starlette.routing import Route
from starlette.testclient import TestClient

from fashion_estimators import serving
from fashion_estimators.cli import main
from fashion_estimators.serving import MODEL_HEADER, create_app


@pytest.fixture(scope="module")
def app(served_cnn):
    app = create_app(served_cnn[1], max_upload_bytes=1 << 20)
    with TestClient(app) as client:
        assert _wait_ready(client)
        yield app, client


def _wait_ready(client, seconds: float = 60.0) -> bool:
    for _ in range(int(seconds / 0.05)):
        if client.get("/ready").status_code == 200:
            return True
        threading.Event().wait(0.05)
    return False


def _scrape(client) -> dict:
    """Every sample of ``/metrics``: {(name, sorted labels): value}."""
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def _requests(scraped: dict, route: str, status: int) -> float:
    key = ("fashion_requests_total", (("route", route), ("status", str(status))))
    return scraped.get(key, 0.0)


def _png(pixels) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(pixels, np.uint8).reshape(28, 28)).save(buffer, "PNG")
    return buffer.getvalue()


# ------------------------------------------------------------------ metrics
def test_the_metrics_move_with_the_requests(app, served_cnn, small):
    _, client = app
    clf, path = served_cnn
    before = _scrape(client)
    X = small[2][:5]
    noise = np.random.default_rng(1).integers(0, 256, (3, 784))
    unlike = int(clf.is_novel(X).sum() + clf.is_novel(noise).sum())
    assert client.post("/predict", json={"pixels": X.tolist()}).status_code == 200
    assert client.post("/predict", json={"pixels": noise.tolist()}).status_code == 200
    assert client.post("/predict", json={"pixels": [[0] * 783]}).status_code == 400
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/no/such/page").status_code == 404
    after = _scrape(client)

    def moved(name, labels=()):
        key = (name, tuple(sorted(labels)))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert _requests(after, "/predict", 200) - _requests(before, "/predict", 200) == 2
    assert _requests(after, "/predict", 400) - _requests(before, "/predict", 400) == 1
    # files and unknown paths get a label of their own, never the path sent
    assert _requests(after, "/static", 200) - _requests(before, "/static", 200) == 1
    assert _requests(after, "other", 404) - _requests(before, "other", 404) == 1
    assert not any("/no/such" in str(key) for key in after)
    assert moved("fashion_request_duration_seconds_count", [("route", "/predict")]) == 3
    assert moved("fashion_images_total") == 8
    assert moved("fashion_unlike_training_images_total") == unlike
    assert unlike >= 3  # the noise
    # each request was a network call of its own: 5 and 3 images
    assert moved("fashion_batch_size_count") == 2
    assert moved("fashion_batch_size_sum") == 8
    assert moved("fashion_batch_size_bucket", [("le", "4.0")]) == 1
    assert moved("fashion_batch_size_bucket", [("le", "8.0")]) == 2
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    info = ("fashion_model_info", (("classes", "10"), ("sha256", sha)))
    assert after[info] == 1.0
    assert after[("fashion_model_ready", ())] == 1.0


def test_two_services_in_one_process_count_apart(app, served_cnn):
    _, client = app
    other = create_app(served_cnn[1])
    with TestClient(other) as second:
        assert _wait_ready(second)
        second.post("/predict", json={"pixels": [[0] * 784]})
        first = _scrape(client)
        scraped = _scrape(second)
    assert _requests(scraped, "/predict", 200) == 1
    assert _requests(first, "/predict", 200) != _requests(scraped, "/predict", 200)


# ------------------------------------------------------ version, readiness
def test_every_answer_carries_the_model_files_sha256(app, served_cnn):
    _, client = app
    sha = hashlib.sha256(served_cnn[1].read_bytes()).hexdigest()
    answers = [
        client.post("/predict", json={"pixels": [[0] * 784]}),
        client.post("/predict", json={"pixels": []}),
        client.post("/predict", content=b"x", headers={"content-type": "text/plain"}),
        client.get("/predict"),
        client.get("/nowhere"),
        client.get("/"),
        client.get("/static/style.css"),
        client.get("/health"),
        client.get("/ready"),
        client.get("/metrics"),
    ]
    assert [a.status_code for a in answers] == [200, 400, 415, 405, 404] + [200] * 5
    for answer in answers:
        assert answer.headers[MODEL_HEADER] == sha
    assert client.get("/model").json()["model_file"]["sha256"] == sha
    assert client.get("/ready").json() == {"status": "ready", "model_sha256": sha}


def test_a_failure_gets_a_500_in_json_with_the_version_and_is_counted(app, monkeypatch):
    application, client = app
    runtime = application.state.service.loader.loaded().runtime

    def broken(images):
        raise RuntimeError("the network broke")

    monkeypatch.setattr(runtime, "predict", broken)
    before = _scrape(client)
    answer = client.post("/predict", json={"pixels": [[0] * 784]})
    assert answer.status_code == 500
    assert answer.json()["error"]["message"].startswith("the service failed")
    assert MODEL_HEADER in answer.headers
    assert _requests(_scrape(client), "/predict", 500) == (
        _requests(before, "/predict", 500) + 1
    )


def test_a_model_that_cannot_load_is_never_ready_and_says_why(tmp_path):
    notes = tmp_path / "notes.fashion"
    notes.write_text("not a model")
    app = create_app(notes)
    with TestClient(app) as client:
        for _ in range(200):
            if app.state.service.loader.failure() is not None:
                break
            threading.Event().wait(0.05)
        assert client.get("/health").status_code == 200  # alive all the same
        assert client.get("/health").json()["ready"] is False
        for answer in (
            client.get("/ready"),
            client.get("/model"),
            client.post("/predict", json={"pixels": [[0] * 784]}),
        ):
            assert answer.status_code == 503
            assert answer.headers["retry-after"] == "1"
            assert "could not be loaded" in answer.json()["error"]["message"]
            assert "not a zip archive" in answer.json()["error"]["message"]
        metrics = _scrape(client)
    assert metrics[("fashion_model_ready", ())] == 0.0
    assert not any(name == "fashion_model_info" for name, _ in metrics)


# ---------------------------------------------------------------- OpenAPI
def _documented(spec: dict) -> set[tuple[str, str, int]]:
    return {
        (path, method.upper(), int(status))
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        for status in operation["responses"]
    }


def test_the_openapi_document_lists_exactly_the_apps_routes(app):
    application, client = app
    spec = client.get("/openapi.json").json()
    routes = {
        (route.path, method)
        for route in application.routes
        if isinstance(route, Route)
        for method in route.methods - {"HEAD"}
    }
    assert {(path, method) for path, method, _ in _documented(spec)} == routes
    assert "Classes: T-shirt/top, Trouser" in spec["info"]["description"]


def test_the_statuses_the_service_sends_are_the_documented_ones(served_cnn, tmp_path):
    """Every status the document lists is sent, and nothing else is: each
    route is driven to each of its answers, and the metrics say what went
    out."""
    notes = tmp_path / "notes.fashion"
    notes.write_text("not a model")
    seen = set()
    png = _png(np.zeros(784))
    application = create_app(served_cnn[1], read_timeout=0.5, max_upload_bytes=100_000)
    with TestClient(application) as client:
        assert _wait_ready(client)
        for path in ("/", "/health", "/ready", "/metrics", "/model", "/samples"):
            client.get(path)
        client.get("/openapi.json")
        client.get("/docs")
        client.post("/predict", files={"file": ("a.png", png, "image/png")})
        client.post("/predict", json={"pixels": [[0] * 783]})
        client.post(
            "/predict",
            content=bytes(100_001),
            headers={"content-type": "application/json"},
        )
        client.post("/predict", content=png, headers={"content-type": "image/png"})
        client.post("/predict", files={"file": ("a.png", b"text", "image/png")})
        spec = client.get("/openapi.json").json()
        seen |= _sent(client)
    # a body that arrives too slowly, and one over the buffer budget
    seen |= _sent_by(_slow_and_crowded(served_cnn[1]))
    # a model that cannot load: /ready, /model and /predict answer 503
    broken = create_app(notes)
    with TestClient(broken) as client:
        for _ in range(600):  # at most 30 s
            if broken.state.service.loader.failure() is not None:
                break
            threading.Event().wait(0.05)
        for path in ("/ready", "/model"):
            client.get(path)
        client.post("/predict", json={"pixels": [[0] * 784]})
        seen |= _sent(client)
    seen = {(route, status) for route, status in seen if route != "/metrics"}
    documented = {(path, status) for path, _, status in _documented(spec)}
    documented.discard(("/metrics", 200))
    assert seen == documented


def _sent(client) -> set[tuple[str, int]]:
    return {
        (dict(labels)["route"], int(dict(labels)["status"]))
        for (name, labels), value in _scrape(client).items()
        if name == "fashion_requests_total" and value > 0
    }


def _sent_by(app) -> set[tuple[str, int]]:
    with TestClient(app) as client:
        return _sent(client)


def _slow_and_crowded(model_file):
    # the held body takes 0.2 s, the slow one 1.5 s: 0.6 s tells them apart
    app = create_app(model_file, read_timeout=0.6, max_buffered_bytes=1_000_000)

    async def slowly():
        yield b'{"pixels": '
        await asyncio.sleep(1.5)
        yield b"[]}"

    async def holding(sent):
        yield bytes(600_000)
        sent.set()
        await asyncio.sleep(0.2)

    async def main():
        sent = asyncio.Event()
        transport = httpx.ASGITransport(app=app)
        json_type = {"content-type": "application/json"}
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:

            async def crowded():
                await sent.wait()
                return await c.post(
                    "/predict", content=bytes(600_000), headers=json_type
                )

            return await asyncio.gather(
                c.post("/predict", content=slowly(), headers=json_type),
                c.post("/predict", content=holding(sent), headers=json_type),
                crowded(),
            )

    statuses = [answer.status_code for answer in asyncio.run(main())]
    assert statuses == [408, 400, 503]
    return app


# -------------------------------------------------------------- loose ends
@pytest.mark.parametrize("query", ["top=²", "top=٣", "top=1e1", "top=-1", "top="])
def test_a_query_int_of_other_digits_is_a_400_not_a_500(app, query):
    # str.isdigit() let "²" through to int(), which raised: a 500
    _, client = app
    answer = client.post(f"/predict?{query}", json={"pixels": [[0] * 784]})
    assert answer.status_code == 400
    assert "?top= must be an integer from 1 to 10" in answer.json()["error"]["message"]


def test_a_content_length_of_other_digits_is_a_400(app):
    _, client = app
    answer = client.post(
        "/predict",
        content=b"{}",
        # "²" as HTTP carries it: Latin-1, which Starlette decodes
        headers={"content-type": "application/json", "content-length": b"\xb2"},
    )
    assert answer.status_code == 400
    assert "Content-Length header is not a number" in answer.json()["error"]["message"]


def test_a_bad_card_is_refused_before_the_model_loads(
    served_cnn, tmp_path, capsys, monkeypatch
):
    # the card was checked only after the model was loaded and converted
    from fashion_estimators import persistence, runtime

    def never(*args, **kwargs):
        raise AssertionError("the model was loaded before the card was checked")

    monkeypatch.setattr(persistence, "load_model", never)
    monkeypatch.setattr(runtime, "OnnxClassifier", never)
    card = tmp_path / "model_card.json"
    card.write_text('{"model_file": {"sha256": "' + "0" * 64 + '"}}')
    assert main(["serve", str(served_cnn[1]), "--port", "0", "--card", str(card)]) == 1
    out, err = capsys.readouterr()
    assert out == ""  # it never listened
    assert "card of another model file" in err


def test_a_bodys_bytes_stay_held_until_its_images_are_parsed(served_cnn, monkeypatch):
    # the budget was released before parsing: the parsed copies were outside it
    from fashion_estimators.serving import parsing

    decoding, release = threading.Event(), threading.Event()
    decode = parsing.photo_to_image

    def slow_decode(file, **kwargs):
        decoding.set()
        release.wait(30)
        return decode(file, **kwargs)

    monkeypatch.setattr(parsing, "photo_to_image", slow_decode)
    app = create_app(served_cnn[1], max_buffered_bytes=1_000_000)
    rng = np.random.default_rng(0)
    big = Image.fromarray(rng.integers(0, 255, (600, 600), "uint8"))
    buffer = io.BytesIO()
    big.save(buffer, "PNG")
    photo = buffer.getvalue()
    assert 300_000 < len(photo) < 1_000_000

    async def main():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            parsing_one = asyncio.create_task(
                c.post("/predict", files={"file": ("big.png", photo, "image/png")})
            )
            for _ in range(3000):  # at most 30 s
                if decoding.is_set() or parsing_one.done():
                    break
                await asyncio.sleep(0.01)
            assert decoding.is_set(), "the photo never reached its decoding"
            second = await c.post(
                "/predict",
                content=bytes(1_000_000 - len(photo) + 1),
                headers={"content-type": "application/json"},
            )
            release.set()
            return await parsing_one, second

    first, second = asyncio.run(main())
    assert second.status_code == 503
    assert first.status_code in (200, 422)
    assert app.state.service.budget.held == 0


def test_the_lifespan_stops_the_services_threads(served_cnn):
    # the executors were shut down only by a lifespan the tests never ran
    app = create_app(served_cnn[1])
    with TestClient(app) as client:
        assert _wait_ready(client)
        client.post("/predict", json={"pixels": [[0] * 784]})
    service = app.state.service
    for executor in (service.decoder, service.batcher._thread):
        with pytest.raises(RuntimeError, match="shutdown"):
            executor.submit(print)


def test_an_endpoint_answers_alone(served_cnn):
    # module-level endpoints read the service from request.app.state
    from starlette.requests import Request

    from fashion_estimators.serving import app as routes

    application = create_app(served_cnn[1])
    request = Request({"type": "http", "app": application, "method": "GET"})
    answer = asyncio.run(routes.health(request))
    assert answer.status_code == 200
    application.state.service.close()


def test_the_former_module_still_imports_with_a_warning():
    import importlib
    import sys

    sys.modules.pop("fashion_estimators.serve", None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        serve = importlib.import_module("fashion_estimators.serve")
    assert serve.create_app is serving.create_app
    assert any(issubclass(w.category, FutureWarning) for w in caught)
