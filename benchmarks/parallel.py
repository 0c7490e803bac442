"""Grid search on an embedded Dask cluster against serial and loky runs.

``python -m benchmarks.parallel`` fits one grid, 4 candidates x 3 folds of
``FashionCNNClassifier(epochs=3)`` on a fixed stratified 6,000-image subset
with ``refit=False``, several ways, each in a fresh process:

* serially with TensorFlow at 1 thread (one simulated one-core machine), and
  with TensorFlow's default threads;
* with loky, ``n_jobs=2``;
* on an embedded cluster of 2 one-thread workers, start included, twice;
* on the same kind of cluster with one worker SIGKILLed mid-fit.

Then a cluster of 2 workers runs 100 small MLP fits, for the memory growth
per fit and the worker processes left behind. It prints the table of the
targets and writes everything to ``--out``/parallel.json. ``--quick`` runs
the machinery on 1 epoch of 1,500 images; its figures are not the targets'.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np

from fashion_estimators import (
    FashionCNNClassifier,
    FashionMLPClassifier,
    fetch_fashion_mnist,
    stratified_subset,
)

from .harness import alive, answer_child, machine, rss_mib, run_child
from .targets import PARALLEL_TARGETS, judge, table

GRID = {"dropout": [0.2, 0.3, 0.4, 0.5]}
N_TRAIN = 6_000
CV = 3


def _search(epochs: int, n_jobs=None):
    from sklearn.model_selection import GridSearchCV

    return GridSearchCV(
        FashionCNNClassifier(epochs=epochs, random_state=0),
        GRID,
        cv=CV,
        refit=False,
        n_jobs=n_jobs,
    )


def _scores(search) -> list[list[float]]:
    results = search.cv_results_
    return [list(map(float, results[f"split{i}_test_score"])) for i in range(CV)]


def _busy_seconds(search) -> float:
    """Seconds spent in fit and score, summed over every fit of a search."""
    results = search.cv_results_
    per_candidate = results["mean_fit_time"] + results["mean_score_time"]
    return float(per_candidate.sum() * CV)


def _cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def _kill_one_worker_mid_fit(client, done: threading.Event, killed: list) -> None:
    victim, pid = sorted(client.run(os.getpid).items())[0]
    while not done.is_set():
        if client.processing(workers=[victim])[victim]:
            time.sleep(2.0)  # well into the fit
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
            return
        time.sleep(0.05)


def _on_cluster(X, y, epochs: int, kill: bool) -> dict:
    from fashion_estimators.parallel import dask_cluster, fit_on_dask

    start = time.perf_counter()
    with dask_cluster(n_workers=2, tf_threads=1) as client:
        ready = time.perf_counter() - start
        cpu_before = client.run(_cpu_seconds)
        wall_before = time.perf_counter()
        done, killed = threading.Event(), []
        killer = threading.Thread(
            target=_kill_one_worker_mid_fit, args=(client, done, killed)
        )
        if kill:
            killer.start()
        search = _search(epochs)
        try:
            fit_on_dask(search, X, y, client=client)
        finally:
            done.set()
            if kill:
                killer.join()
        wall = time.perf_counter() - wall_before
        cpu_after = client.run(_cpu_seconds)
        cpu_per_wall = {
            w: (cpu_after[w] - cpu_before[w]) / wall
            for w in cpu_after
            if w in cpu_before
        }
        if kill:
            client.wait_for_workers(2, timeout=120)
        workers_after = len(client.nthreads())
    return {
        "seconds": time.perf_counter() - start,
        "cluster_ready_seconds": ready,
        "fit_and_score_seconds": _busy_seconds(search),
        "scores": _scores(search),
        "cpu_per_wall": cpu_per_wall,
        "killed": killed,
        "workers_after": workers_after,
    }


def _memory(X, y, fits: int) -> dict:
    """RSS growth per fit of each worker over ``fits`` small MLP fits."""
    from sklearn.model_selection import GridSearchCV

    from fashion_estimators.parallel import dask_cluster, fit_on_dask

    candidates = fits // 2
    search = GridSearchCV(
        FashionMLPClassifier(hidden_units=(64,), epochs=1, random_state=0),
        {"learning_rate": list(np.linspace(1e-3, 3e-3, candidates))},
        cv=2,
        refit=False,
    )
    with dask_cluster(n_workers=2, tf_threads=1) as client:
        # a first fit on each worker imports and traces; measure after it
        warm = GridSearchCV(search.estimator, {"epochs": [1]}, cv=2, refit=False)
        fit_on_dask(warm, X, y, client=client)
        before = client.run(rss_mib)
        fit_on_dask(search, X, y, client=client)
        after = client.run(rss_mib)
        limits = client.run(lambda dask_worker: dask_worker.memory_manager.memory_limit)
        pids = list(client.run(os.getpid).values())
    time.sleep(10)
    left = [pid for pid in pids if alive(pid)]
    per_worker = fits / len(before)
    growth = {w: (after[w] - before[w]) / per_worker for w in after if w in before}
    over = [w for w in after if limits.get(w) and after[w] * 2**20 > limits[w]]
    return {
        "fits": fits,
        "rss_mib_before": before,
        "rss_mib_after": after,
        "growth_mib_per_fit": growth,
        "workers_over_limit": over,
        "processes_left_10s_after": len(left),
    }


def _child(mode: str, spec: dict) -> dict:
    X, y = fetch_fashion_mnist("train", return_X_y=True)
    X, y = stratified_subset(X, y, spec["n_train"], random_state=0)
    epochs = spec["epochs"]
    if mode == "memory":
        return _memory(X[:400], y[:400], spec["fits"])
    if mode.startswith("cluster"):
        return _on_cluster(X, y, epochs, kill=mode == "cluster_kill")
    start = time.perf_counter()
    search = _search(epochs, n_jobs=2 if mode == "loky" else None)
    search.fit(X, y)
    return {
        "seconds": time.perf_counter() - start,
        "fit_and_score_seconds": _busy_seconds(search),
        "scores": _scores(search),
    }


def in_fresh_process(mode: str, spec: dict, tf_threads: int | None = None) -> dict:
    """Run one mode in a new Python process; ``tf_threads`` bounds
    TensorFlow there."""
    env = dict(os.environ)
    if tf_threads is not None:
        from fashion_estimators.parallel import tf_thread_environment

        env.update(tf_thread_environment(tf_threads))
    result = run_child("benchmarks.parallel", [mode, json.dumps(spec)], env)
    seconds = result.get("seconds")
    print(f"  {mode}: " + (f"{seconds:.1f} s" if seconds else "done"), flush=True)
    return result


def summarise(runs: dict) -> dict:
    """The figures of the targets from the runs."""
    serial_1 = np.array(runs["serial_1_thread"]["scores"])
    cluster = runs["cluster"]
    killed = runs["cluster_kill"]
    memory = runs["memory"]
    cpu = list(cluster["cpu_per_wall"].values())
    return {
        "scaling_vs_serial_1_thread": runs["serial_1_thread"]["seconds"]
        / cluster["seconds"],
        "speedup_vs_serial_default_threads": runs["serial_default_threads"]["seconds"]
        / cluster["seconds"],
        "speedup_vs_loky_2": runs["loky_2"]["seconds"] / cluster["seconds"],
        "identical_to_serial_1_thread": bool(
            (np.array(cluster["scores"]) == serial_1).all()
        ),
        "two_cluster_runs_identical": cluster["scores"]
        == runs["cluster_again"]["scores"],
        "killed_worker_survived": bool(killed["killed"])
        and killed["scores"] == cluster["scores"]
        and killed["workers_after"] == 2,
        "max_growth_mib_per_fit": max(memory["growth_mib_per_fit"].values()),
        "workers_over_limit": len(memory["workers_over_limit"]),
        "processes_left": memory["processes_left_10s_after"],
        "max_cpu_per_wall": max(cpu),
        "max_score_difference_vs_default_threads": float(
            np.abs(np.array(runs["serial_default_threads"]["scores"]) - serial_1).max()
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.parallel")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default="results")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "SPEC"))
    args = parser.parse_args(argv)
    if args.child:
        mode, spec = args.child
        return answer_child(_child(mode, json.loads(spec)))
    spec = {
        "n_train": 1_500 if args.quick else N_TRAIN,
        "epochs": 1 if args.quick else 3,
    }
    print(
        f"Grid {GRID} x {CV} folds of FashionCNNClassifier(epochs={spec['epochs']}) "
        f"on {spec['n_train']} images, refit=False",
        flush=True,
    )
    runs = {
        "serial_1_thread": in_fresh_process("serial", spec, tf_threads=1),
        "cluster": in_fresh_process("cluster", spec),
        "serial_default_threads": in_fresh_process("serial", spec),
        "loky_2": in_fresh_process("loky", spec),
        "cluster_again": in_fresh_process("cluster", spec),
        "cluster_kill": in_fresh_process("cluster_kill", spec),
        "memory": in_fresh_process(
            "memory", {**spec, "fits": 20 if args.quick else 100}
        ),
    }
    summary = summarise(runs)
    rows = judge(summary, PARALLEL_TARGETS)
    print()
    print(table(rows))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "parallel.json", "w") as f:
        json.dump(
            {
                "spec": spec,
                "machine": machine(),
                "runs": runs,
                "summary": summary,
                "rows": rows,
                "date": time.strftime("%Y-%m-%d"),
            },
            f,
            indent=1,
            default=str,
        )
    print(f"\nwrote {out / 'parallel.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
