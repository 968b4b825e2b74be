"""course.regularization: early stopping's function form against the EarlyStopping class."""

import numpy as np
import pytest

from course.regularization import EarlyStopping, should_stop

pytestmark = pytest.mark.course


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize(("patience", "min_delta"), [(1, 0.0), (3, 0.0), (3, 0.05), (5, 0.2)])
def test_should_stop_agrees_with_early_stopping_at_every_epoch(seed, patience, min_delta):
    rng = np.random.default_rng(seed)
    # a noisy U-shaped validation curve, with ties from rounding
    losses = np.round(np.linspace(-1, 1, 40) ** 2 + 0.2 * rng.random(40), 1).tolist()
    stopper = EarlyStopping(patience=patience, min_delta=min_delta)
    for t, loss in enumerate(losses):
        expected = stopper.step(loss, {"W1": np.zeros(1)})
        assert should_stop(losses[: t + 1], patience, min_delta) == expected


def test_should_stop_hand_worked():
    assert not should_stop([], patience=2)
    assert not should_stop([3.0, 2.0, 1.0], patience=1)
    assert should_stop([1.0, 1.0], patience=1)  # a tie is not an improvement
    assert not should_stop([1.0, 2.0, 3.0], patience=3)
    assert should_stop([1.0, 2.0, 3.0, 4.0], patience=3)
    # 0.95 beats 1.0 by less than min_delta = 0.1: no improvement, best stays 1.0
    assert should_stop([1.0, 0.95, 0.92], patience=2, min_delta=0.1)
    assert not should_stop([1.0, 0.95, 0.85], patience=2, min_delta=0.1)
