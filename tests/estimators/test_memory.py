"""No memory growth across fits: what a fit builds is released on refit and when dropped."""

import gc
import json
import subprocess
import sys
import textwrap
import weakref

import numpy as np
import pytest

from keras_cluster.estimators import DCN, DEC
from tests.distributed import child_env

TINY = dict(dims=(8, 2), finetune_epochs=1, batch_size=32, verbose=0)
BUDGET = {"DEC": dict(max_iter=2, update_interval=1), "DCN": dict(epochs=1)}


def built_models(estimator):
    names = ("model_", "autoencoder_", "encoder_")
    return [weakref.ref(getattr(estimator, name)) for name in names]


@pytest.mark.parametrize("estimator_class", [DEC, DCN])
def test_refit_and_drop_release_the_models(estimator_class, rng):
    X = rng.normal(size=(60, 5)).astype("float32")
    estimator = estimator_class(3, random_state=0, **TINY, **BUDGET[estimator_class.__name__])
    first = built_models(estimator.fit(X))
    second = built_models(estimator.fit(X))
    gc.collect()
    assert [ref() for ref in first] == [None] * 3, "a refit keeps the previous fit's models"
    assert all(ref() is not None for ref in second)
    del estimator
    gc.collect()
    assert [ref() for ref in second] == [None] * 3, "a dropped estimator keeps its models"


RSS_SCRIPT = textwrap.dedent(
    """
    import gc, json, sys
    import numpy as np
    from keras_cluster.datasets import load_digits
    from keras_cluster.estimators import DCN, DEC
    from tests.distributed import rss_mb

    name, fits = sys.argv[1], int(sys.argv[2])
    X = load_digits()[0][:300]
    budget = {"DEC": dict(max_iter=4, update_interval=2), "DCN": dict(epochs=2)}[name]
    rss = []
    for seed in range(fits):
        estimator = {"DEC": DEC, "DCN": DCN}[name](
            10, dims=(16, 4), finetune_epochs=2, batch_size=64, random_state=seed, verbose=0,
            **budget,
        )
        estimator.fit(X)
        gc.collect()
        rss.append(rss_mb())
    print(json.dumps(rss))
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["DEC", "DCN"])
def test_rss_grows_at_most_15_percent_from_the_5th_to_the_20th_fit(name):
    """20 small fits in one fresh process, as a parameter sweep or a notebook re-run does."""
    result = subprocess.run(
        [sys.executable, "-c", RSS_SCRIPT, name, "20"],
        capture_output=True,
        text=True,
        timeout=1200,
        check=True,
        env=child_env(),  # this checkout's keras_cluster and tests, not the installed ones
    )
    rss = json.loads(result.stdout.strip().splitlines()[-1])
    growth = (rss[19] - rss[4]) / rss[4]
    assert growth <= 0.15, f"RSS after each fit (MB): {np.round(rss).tolist()}"
