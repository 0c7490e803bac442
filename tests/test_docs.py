"""The README and the examples: what they show must run and must be current."""

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks import readme

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("plot_*.py"))


def test_results_tables_are_written_from_the_results_files():
    assert readme.main(["--check"]) == 0


@pytest.mark.parametrize(
    "page", ["README.md", "docs/user_guide/benchmarks.md", "docs/performance.md"]
)
def test_results_check_fails_when_a_table_is_stale(tmp_path, page):
    text = (ROOT / page).read_text()
    copy = tmp_path / Path(page).name  # checked as the page of its name
    copy.write_text(text.replace("|---|", "|---|\n| planted | row |", 1))
    assert readme.main(["--check", "--pages", str(copy)]) == 1
    copy.write_text(text)
    assert readme.main(["--check", "--pages", str(copy)]) == 0


def test_the_readme_answers_users_and_the_board_is_on_the_performance_page():
    readme_text = (ROOT / "README.md").read_text()
    for absent in ("/tmp", "not recorded", "| PASS |", "| FAIL |"):
        assert absent not in readme_text
    assert "| model | test accuracy | macro F1 | fit time |" in readme_text
    assert "benchmark_accuracy_vs_fit_time.png" in readme_text
    board = (ROOT / "docs" / "performance.md").read_text()
    assert "| FAIL |" in board and "| PASS |" in board


def test_readme_is_short():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 200


def _run(script: str, cwd: Path) -> tuple[subprocess.CompletedProcess, float]:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done, time.perf_counter() - start


@pytest.mark.slow
def test_readme_quickstart_runs(tmp_path):
    text = (ROOT / "README.md").read_text()
    quickstart = text.split("## Quickstart", 1)[1]
    code = re.search(r"```python\n(.*?)```", quickstart, re.S).group(1)
    done, seconds = _run(code, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    accuracy = float(re.search(r"CNN test accuracy: ([\d.]+)", done.stdout).group(1))
    print(f"quickstart: {seconds:.0f} s, CNN test accuracy {accuracy:.4f}")
    assert accuracy >= 0.79  # the README says "about 0.82": seed 0 scores 0.821


@pytest.mark.slow
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.stem)
def test_example_runs(example, tmp_path):
    done, seconds = _run(example.read_text(), tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    print(f"{example.name}: {seconds:.0f} s")
    # each takes under a minute alone (6-41 s here); the other test process
    # shares the two cores
    assert seconds < 90


def test_every_gallery_example_has_a_title():
    assert len(EXAMPLES) == 7
    for example in EXAMPLES:
        head = example.read_text().split('"""')[1].strip().splitlines()
        assert len(head) >= 2 and set(head[1]) == {"="}, example.name
