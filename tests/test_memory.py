"""Many fits in one process: fitted networks are freed, memory stays bounded."""

import gc
import os
import weakref

import numpy as np
import pytest
from helpers import FAST_CNN
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from benchmarks.harness import rss_mib
from fashion_estimators import FashionCNNClassifier

# fifteen fits in one process
pytestmark = pytest.mark.slow


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="Linux only")
def test_grid_search_of_15_fits_frees_its_networks(tiny):
    X, y = tiny
    rss, networks = [], []

    def scorer(estimator, X, y):  # called once after each fit
        rss.append(rss_mib())
        networks.append(weakref.ref(estimator.model_))
        return estimator.score(X, y)

    search = GridSearchCV(
        FashionCNNClassifier(**FAST_CNN),
        {"dropout": [0.0, 0.2, 0.4]},
        cv=StratifiedKFold(5),
        scoring=scorer,
    ).fit(X, y)
    assert len(rss) == 15
    gc.collect()
    # every network trained during the search is gone; only the refit remains
    assert not [ref for ref in networks if ref() is not None]
    assert search.best_estimator_.model_ is not None
    growth = (rss[14] - rss[4]) / 10
    print(
        f"RSS after fit 5: {rss[4]:.0f} MiB, fit 15: {rss[14]:.0f} MiB "
        f"({growth:.1f} MiB per fit)"
    )
    # TensorFlow keeps about 10 MiB of traced graphs per new model even with
    # plain model.fit (see README); a leak of the data or the networks
    # themselves would be several times that
    assert growth < 30
    assert np.isfinite(search.best_score_)
