"""The model service under load: ``fashion-estimators serve`` driven over HTTP
on 127.0.0.1.

``python -m benchmarks.serving MODEL_FILE`` measures, side by side in one run:

* inference in the runtime the service uses (onnxruntime, one thread) and in
  Keras, one row a call, median of many calls, in a fresh process;
* the service, started afresh as users start it, for each setting in turn
  (batching on, the default; batching off, ``--max-batch 1``; and with
  ``--baseline DIR``, the service of the commit checked out in ``DIR``,
  batching on), alternated over ``--repeats`` rounds: single 28x28 PNG
  uploads and single 400x300 JPEG photos from 16 concurrent keep-alive
  clients, after a warm-up: requests/s, p50/p99 latency, errors (any answer
  but 200, and any request left unanswered) and the server's resident memory
  before and after; and the seconds until it listens and until ``GET /ready``
  answers 200.

The figures are the medians over the rounds (errors: the sum; against the
baseline: the median of each round's ratio). It prints the table of the
targets and writes everything to ``--out``/serving.json. ``--quick`` runs the
machinery on 1,000 requests a run.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import time
from pathlib import Path

import numpy as np
from PIL import Image

from .harness import answer_child, machine, run_child
from .load import Service, drive, multipart_request
from .targets import SERVING_TARGETS, judge, table

CLIENTS = 16
SETTINGS = {"batched": [], "unbatched": ["--max-batch", "1"], "baseline": []}


def _uploads(n: int = 64) -> dict[str, list[bytes]]:
    """Prepared requests: single 28x28 PNGs and single 400x300 JPEG photos
    of test-set images (a photo: the garment enlarged, dark on white)."""
    from fashion_estimators import fetch_fashion_mnist

    X, _ = fetch_fashion_mnist("test", return_X_y=True)
    rng = np.random.default_rng(0)
    png, jpeg = [], []
    for i, image in enumerate(X[:n]):
        buffer = io.BytesIO()
        Image.fromarray(image.reshape(28, 28)).save(buffer, "PNG")
        png.append(
            multipart_request(
                "/predict", [(f"{i}.png", buffer.getvalue(), "image/png")]
            )
        )
        big = Image.fromarray(255 - image.reshape(28, 28)).resize((280, 280))
        canvas = Image.new("L", (400, 300), 255)
        canvas.paste(big, (int(rng.integers(0, 120)), int(rng.integers(0, 20))))
        buffer = io.BytesIO()
        canvas.convert("RGB").save(buffer, "JPEG", quality=90)
        jpeg.append(
            multipart_request(
                "/predict", [(f"{i}.jpg", buffer.getvalue(), "image/jpeg")]
            )
        )
    return {"png": png, "jpeg": jpeg}


def _inference(model_file: str) -> dict:
    """The child: one-row inference in onnxruntime and in Keras."""
    from fashion_estimators import fetch_fashion_mnist, load_model
    from fashion_estimators.runtime import OnnxClassifier

    from .harness import one_row_latency

    X, _ = fetch_fashion_mnist("test", return_X_y=True)
    clf = load_model(model_file)
    runtime = OnnxClassifier(clf)
    rows = X[:200].reshape(-1, 28, 28)
    onnx = one_row_latency(runtime.predict, rows, 400)
    keras = one_row_latency(
        lambda row: clf.predict_proba(row.reshape(1, -1)), rows, 100
    )
    batch = rows[:16]
    start = time.perf_counter()
    for _ in range(50):
        runtime.predict(batch)
    per_row_16 = (time.perf_counter() - start) / 50 / 16
    return {
        "inference_ms_per_row": statistics.median(onnx) * 1000,
        "keras_ms_per_row": statistics.median(keras) * 1000,
        "inference_ms_per_row_in_16": per_row_16 * 1000,
        "precision": clf.precision_,
    }


def _run(model_file, setting: str, uploads, n_requests: int, baseline=None) -> dict:
    """One fresh service, both kinds of upload."""
    out = {}
    checkout = baseline if setting == "baseline" else None
    with Service(model_file, *SETTINGS[setting], checkout=checkout) as service:
        out["listen_s"] = service.listen_seconds
        out["start_s"] = service.start_seconds
        for kind, requests in uploads.items():
            count = n_requests if kind == "png" else max(n_requests // 5, 200)
            warm = min(500, count)
            drive(
                service.url, requests, n_requests=warm, concurrency=CLIENTS, timeout=120
            )
            before = service.rss_mib()
            result = drive(
                service.url,
                requests,
                n_requests=count,
                concurrency=CLIENTS,
                timeout=600,
            )
            out[kind] = {
                "requests": len(result.latencies),
                "rps": result.requests_per_second,
                "p50_ms": result.percentile_ms(50),
                "p99_ms": result.percentile_ms(99),
                "errors": result.errors + result.unanswered,
                "rss_before_mib": before,
                "rss_after_mib": service.rss_mib(),
                "statuses": result.statuses,
            }
    return out


def _summary(inference: dict, runs: dict[str, list[dict]]) -> dict:
    def median(setting, kind, key):
        return statistics.median(run[kind][key] for run in runs[setting])

    batched = runs["batched"]
    summary = {
        "inference_ms_per_row": inference["inference_ms_per_row"],
        "keras_ms_per_row": inference["keras_ms_per_row"],
        "listen_s": statistics.median(run["listen_s"] for run in batched),
        "start_s": statistics.median(run["start_s"] for run in batched),
    }
    for kind in ("png", "jpeg"):
        summary[f"{kind}_rps"] = median("batched", kind, "rps")
        summary[f"{kind}_p50_ms"] = median("batched", kind, "p50_ms")
        summary[f"{kind}_p99_ms"] = median("batched", kind, "p99_ms")
        summary[f"{kind}_errors"] = sum(run[kind]["errors"] for run in batched)
        summary[f"{kind}_requests"] = min(run[kind]["requests"] for run in batched)
        summary[f"{kind}_growth_mib"] = max(
            run[kind]["rss_after_mib"] - run[kind]["rss_before_mib"] for run in batched
        )
    summary["png_rps_unbatched"] = median("unbatched", "png", "rps")
    summary["png_p99_ms_unbatched"] = median("unbatched", "png", "p99_ms")
    if runs.get("baseline"):
        summary["png_rps_baseline"] = median("baseline", "png", "rps")
        summary["png_p99_ms_baseline"] = median("baseline", "png", "p99_ms")
        summary["png_rps_vs_baseline"] = statistics.median(
            new["png"]["rps"] / old["png"]["rps"]
            for new, old in zip(batched, runs["baseline"], strict=True)
        )
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.serving")
    parser.add_argument("model_file", nargs="?")
    parser.add_argument(
        "--requests", type=int, default=10_000, help="PNG uploads a run"
    )
    parser.add_argument("--repeats", type=int, default=3, help="rounds of each setting")
    parser.add_argument("--quick", action="store_true", help="1,000 requests, 1 round")
    parser.add_argument(
        "--baseline",
        metavar="DIR",
        help="a checkout of another commit (git worktree add DIR COMMIT): its "
        "service runs too, alternated with this one's",
    )
    parser.add_argument("--out", default="benchmark-results")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return answer_child(_inference(args.child[0]))
    if args.model_file is None:
        parser.error("give a model file written by train or save_model")
    if args.quick:
        args.requests, args.repeats = 1000, 1
    uploads = _uploads()
    inference = run_child("benchmarks.serving", [args.model_file])
    print(
        f"inference, one row: onnxruntime {inference['inference_ms_per_row']:.3f} ms, "
        f"Keras {inference['keras_ms_per_row']:.3f} ms"
    )
    if args.baseline and not Path(args.baseline, "fashion_estimators").is_dir():
        parser.error(f"--baseline {args.baseline}: no fashion_estimators folder there")
    settings = [s for s in SETTINGS if s != "baseline" or args.baseline]
    runs = {setting: [] for setting in settings}
    for round_ in range(args.repeats):
        # alternate which setting goes first, against a machine that drifts
        order = settings if round_ % 2 == 0 else settings[::-1]
        for setting in order:
            run = _run(args.model_file, setting, uploads, args.requests, args.baseline)
            runs[setting].append(run)
            print(
                f"round {round_ + 1} {setting}: png {run['png']['rps']:.0f} req/s "
                f"p99 {run['png']['p99_ms']:.1f} ms; jpeg {run['jpeg']['rps']:.0f} "
                f"req/s p99 {run['jpeg']['p99_ms']:.1f} ms",
                flush=True,
            )
    summary = _summary(inference, runs)
    rows = judge(summary, SERVING_TARGETS)
    print()
    print(table(rows))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "serving.json").write_text(
        json.dumps(
            {
                "machine": machine(),
                "model_file": str(args.model_file),
                "clients": CLIENTS,
                "baseline": args.baseline,
                "inference": inference,
                "runs": runs,
                "summary": summary,
                "targets": rows,
            },
            indent=1,
        )
    )
    print(f"\nwrote {out / 'serving.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
