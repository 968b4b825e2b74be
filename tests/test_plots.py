"""course.plots: every helper returns a figure with the expected content, headless."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from course import plots

pytestmark = pytest.mark.course


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_activation_curves_one_panel_per_activation():
    fig = plots.activation_curves(["sigmoid", "relu", "gelu", "tanh", "elu"])
    titled = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in titled] == ["sigmoid", "relu", "gelu", "tanh", "elu"]
    assert all(len(ax.lines) >= 2 for ax in titled)


def test_curves_and_bar():
    fig = plots.curves({"loss": [3, 2, 1], "val_loss": [3, 2.5, 2]}, logy=True, title="t")
    assert len(fig.axes[0].lines) == 2 and fig.axes[0].get_yscale() == "log"
    fig = plots.bar({"layer 1": 1.0, "layer 2": 0.1}, logy=True)
    assert len(fig.axes[0].patches) == 2


def test_decision_boundary_and_descent_paths():
    X = np.random.default_rng(0).normal(size=(20, 2))
    y = (X[:, 0] > 0).astype(int)
    fig = plots.decision_boundary(lambda Z: (Z[:, 0] > 0).astype(int), X, y, resolution=20)
    assert len(fig.axes[0].collections) >= 2
    path = np.array([[1.0, 1.0], [0.5, 0.4], [0.1, 0.05]])
    fig = plots.descent_paths(lambda a, b: a**2 + 10 * b**2, {"gd": path})
    assert len(fig.axes[0].lines) == 1


def test_layer_histograms_one_axis_per_layer():
    values = [np.random.default_rng(i).normal(size=100) for i in range(4)]
    fig = plots.layer_histograms(values, title="activations")
    assert len(fig.axes) == 4


def test_descent_1d_one_panel_per_run():
    fig = plots.descent_1d(lambda w: w**2, {"small": [1.0, 0.9, 0.81], "large": [1.0, -3.0, 9.0]})
    assert len(fig.axes) == 2 and all(len(ax.lines) == 3 for ax in fig.axes)


def test_network_diagram_draws_one_line_per_weight():
    fig = plots.network_diagram([3, 4, 2], title="t")
    ax = fig.axes[0]
    assert len(ax.lines) == 3 * 4 + 4 * 2
    assert sum(len(c.get_offsets()) for c in ax.collections) == 3 + 4 + 2


def test_point_panels_one_panel_per_space():
    X = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.5]])
    fig = plots.point_panels({"input": X, "hidden": 2 * X}, [0, 1, 0], labels=["a", "b", "c"])
    assert [ax.get_title() for ax in fig.axes] == ["input", "hidden"]
    assert all(len(ax.collections[0].get_offsets()) == 3 for ax in fig.axes)
    assert len(fig.axes[0].texts) == 3


def test_function_panels_and_line_fits():
    x = np.linspace(-1.0, 1.0, 5)
    fig = plots.function_panels(x, {"MSE": {"loss": x**2, "grad": 2 * x}, "MAE": {"loss": abs(x)}})
    assert [ax.get_title() for ax in fig.axes] == ["MSE", "MAE"]
    assert len(fig.axes[0].get_legend().get_texts()) == 2
    fig = plots.line_fits(x, 2 * x, {"a": (2.0, 0.0), "b": (1.0, 1.0)}, outliers=x > 0.9)
    assert len(fig.axes[0].lines) == 2 and len(fig.axes[0].collections) == 2


def test_image_grid_and_sweep():
    images = np.arange(10 * 64).reshape(10, 64) % 17
    fig = plots.image_grid(images, titles=list("abcdefghij"), ncols=4)
    shown = [ax for ax in fig.axes if ax.images]
    assert len(fig.axes) == 12 and len(shown) == 10
    assert shown[0].images[0].get_array().shape == (8, 8)
    fig = plots.sweep([1, 10, 100], {"train": [3, 2, 1], "val": [3, 2, 2.5]}, logx=True)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and len(ax.lines) == 2
    assert np.array_equal(ax.lines[0].get_xdata(), [1, 10, 100])
