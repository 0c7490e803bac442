"""The gallery examples run, each in a fresh process, and each has a title.

Apart from tests/test_docs.py so that the two files, both long, can run on
the two test processes side by side."""

from pathlib import Path

import pytest
from helpers import run_script

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("plot_*.py"))


@pytest.mark.slow
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.stem)
def test_example_runs(example, tmp_path):
    done, seconds = run_script(example.read_text(), tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    print(f"{example.name}: {seconds:.0f} s")
    # the longest takes about a minute alone on 2 cores, and the other test
    # process shares them, which can make it half as slow again (the figures,
    # with their machine and date, are in docs/user_guide/design.md)
    assert seconds < 150


def test_every_gallery_example_has_a_title():
    assert len(EXAMPLES) == 8
    for example in EXAMPLES:
        head = example.read_text().split('"""')[1].strip().splitlines()
        assert len(head) >= 2 and set(head[1]) == {"="}, example.name
