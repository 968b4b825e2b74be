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
    assert fig.axes[0].lines[0].get_xdata().tolist() == [1, 2, 3]  # after epochs 1, 2, 3
    fig = plots.curves({"path": [5, 4, 3, 2]}, xlabel="step", start=0)
    assert fig.axes[0].lines[0].get_xdata().tolist() == [0, 1, 2, 3]  # step 0: the start
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
    assert len(fig.axes) == 2 and all(len(ax.lines) >= 3 for ax in fig.axes)


def test_descent_1d_shows_divergence_unclipped():
    diverging = 1.8 * (-1.1) ** np.arange(13)
    fig = plots.descent_1d(lambda w: w**2, {"a": [1.0, 0.5], "b": diverging}, xlim=(-3, 3))
    path_line = fig.axes[1].lines[1]
    assert np.allclose(path_line.get_xdata(), diverging), "iterates must not be clipped"
    assert fig.axes[1].get_xlim()[1] >= diverging.max()
    far = 1.8 * (-3.0) ** np.arange(10)
    fig = plots.descent_1d(lambda w: w**2, {"far": far}, xlim=(-3, 3))
    assert fig.axes[0].get_xscale() == "symlog"
    fig = plots.descent_1d(lambda w: w**2, {str(k): [1.0, 0.5] for k in range(4)})
    assert len(fig.axes) == 4 and fig.get_figwidth() <= 10


def test_computational_graph_annotates_every_node():
    nodes = {
        "x": (0, 1, "x", 3.0, -8.0),
        "y": (0, 0, "y", -4.0, 6.0),
        "q": (1, 0.5, "*", -12.0, 2.0),
    }
    fig = plots.computational_graph(nodes, [("x", "q"), ("y", "q")], title="t")
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert len(texts) == 3 * len(nodes) + 2
    assert "q = -12" in texts and "-8" in texts


def test_weighted_network_one_line_per_weight():
    W1, W2 = np.arange(6.0).reshape(3, 2), np.array([[0.5], [-0.25]])
    fig = plots.weighted_network(
        [W1, W2], [np.zeros(2), np.ones(1)], values=[np.ones(3), [0.1, 0.2], [0.3]]
    )
    ax = fig.axes[0]
    assert len(ax.lines) == 6 + 2
    assert sum(len(c.get_offsets()) for c in ax.collections) == 3 + 2 + 1
    texts = [t.get_text() for t in ax.texts]
    assert "-0.25" in texts and "6" in texts and "5" in texts  # weights and unit names


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


def test_weight_images_one_signed_image_per_unit():
    W = np.random.default_rng(0).normal(size=(64, 10))
    fig = plots.weight_images(W, ncols=4, titles=[str(k) for k in range(10)], title="W1")
    shown = [ax for ax in fig.axes if ax.images]
    assert len(fig.axes) == 12 and len(shown) == 10
    image = shown[3].images[0]
    assert np.array_equal(image.get_array(), W[:, 3].reshape(8, 8))
    low, high = image.get_clim()
    assert np.isclose(-low, high) and np.isclose(high, np.abs(W[:, 3]).max())
    assert shown[3].get_title() == "3"


def test_decision_regions_marks_the_misclassified_points():
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([0, 1, 1, 0])
    fig = plots.decision_regions(
        lambda Z: (Z[:, 0] <= 0).astype(int), X, y, resolution=20, title="t"
    )
    ax = fig.axes[0]
    crosses = [c for c in ax.collections if c.get_label() == "misclassified"]
    assert len(crosses) == 1 and np.array_equal(crosses[0].get_offsets(), [[0.0, 0.0], [1.0, 0.0]])
    assert ax.get_title().endswith("2 of 4 misclassified")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "class 0",
        "class 1",
        "misclassified",
    ]
    _, ax2 = plt.subplots()
    fig2 = plots.decision_regions(lambda Z: np.ones(len(Z), int), X, y, resolution=10, ax=ax2)
    assert fig2 is ax2.figure and ax2.get_title() == "2 of 4 misclassified"


def test_nested_sets_one_box_per_set():
    fig = plots.nested_sets(["AI", "ML", "DL"], notes=["a", "b", "c"], title="t")
    ax = fig.axes[0]
    assert len(ax.patches) == 3
    assert [t.get_text() for t in ax.texts][::2] == ["AI", "ML", "DL"]


def test_descent_paths_panels_one_panel_per_view_with_marks_and_legend_below():
    paths = {
        "a": np.array([[1.0, 1.0], [0.5, 0.4], [0.1, 0.05]]),
        "b": np.array([[1.0, 1.0], [0.2, 0.1]]),
    }
    views = {"whole": ((-2, 2), (-1, 2)), "zoom": ((-0.2, 0.6), (-0.2, 0.5))}
    fig = plots.descent_paths_panels(
        lambda x, y: x**2 + 10 * y**2, paths, views, marks={"minimum": (0, 0)}
    )
    assert [ax.get_title() for ax in fig.axes] == ["whole", "zoom"]
    assert fig.axes[1].get_xlim() == (-0.2, 0.6)
    # per panel: a line and an end marker per path, one start (shared), one mark
    assert all(len(ax.lines) == 2 * 2 + 1 + 1 for ax in fig.axes)
    styles = {line.get_linestyle() for line in fig.axes[0].lines[:3:2]}
    assert len(styles) == 2, "the paths must differ in line style"
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert texts == ["a", "b", "start", "minimum"]


def test_layer_histograms_wrap_into_rows_of_five():
    values = [np.random.default_rng(i).normal(size=50) for i in range(10)]
    fig = plots.layer_histograms(values, range=(-3, 3))
    assert len(fig.axes) == 10
    assert {ax.get_subplotspec().get_geometry()[:2] for ax in fig.axes} == {(2, 5)}
    assert fig.get_size_inches()[0] <= 10
    fig = plots.layer_histograms(values[:7])  # unused grid cells are removed
    assert len(fig.axes) == 7 and fig.axes[6].get_title().startswith("layer 7")


def test_curve_panels_mark_where_a_curve_diverges():
    diverging = [2.0, 5.0, 40.0, np.inf, np.nan, np.nan]
    fig = plots.curve_panels(
        {"small lr": {"a": [2, 1, 0.5], "b": [2, 1.5, 1]}, "large lr": {"a": diverging}},
        xlabel="iteration",
        logy=True,
    )
    left, right = fig.axes
    assert [ax.get_title() for ax in fig.axes] == ["small lr", "large lr"]
    assert len(left.lines) == 2 and not left.texts
    assert left.lines[0].get_color() == right.lines[0].get_color()  # same label, same colour
    assert "a: inf from iteration 4" in right.texts[0].get_text()
    cross = right.lines[1]
    assert cross.get_xdata()[0] == 3 and cross.get_ydata()[0] == 40.0


def test_curve_panels_start_sets_the_first_x_like_curves():
    values = [3.0, 2.0, np.inf]
    for start in (0, 1):
        fig = plots.curve_panels({"p": {"a": values}}, start=start)
        xs = list(fig.axes[0].lines[0].get_xdata())
        assert xs == list(plots.curves({"a": values}, start=start).axes[0].lines[0].get_xdata())
        assert xs == [start, start + 1, start + 2]
        assert f"a: inf from epoch {start + 2}" in fig.axes[0].texts[0].get_text()
        cross = fig.axes[0].lines[1]  # on the last finite point
        assert cross.get_xdata()[0] == start + 1
    default = plots.curve_panels({"p": {"a": values}})
    assert list(default.axes[0].lines[0].get_xdata()) == [1, 2, 3]


def test_bayes_opt_steps_two_rows_one_column_per_step():
    from course.tuning import BayesOptStep

    grid = np.linspace(0.0, 1.0, 11)
    steps = [
        BayesOptStep(
            x=np.array([0.1, 0.9][: 2 + k] + [0.5] * k),
            y=np.ones(2 + k),
            grid=grid,
            mean=np.sin(grid),
            std=np.full(11, 0.1),
            ei=np.abs(grid - 0.5),
            x_next=0.0,
        )
        for k in range(3)
    ]
    fig = plots.bayes_opt_steps(steps, reference=(grid, np.cos(grid)), ylim=(0.0, 1.5))
    assert len(fig.axes) == 6
    assert [ax.get_title() for ax in fig.axes[:3]] == [f"after {n} evaluations" for n in (2, 3, 4)]
    assert fig.axes[0].get_ylim() == (0.0, 1.5)
    assert len(fig.legends) == 1 and len(fig.legends[0].get_texts()) == 5


def test_roc_pr_reports_auc_and_average_precision():
    from sklearn.metrics import average_precision_score, roc_auc_score

    rng = np.random.default_rng(0)
    y = (rng.uniform(size=200) < 0.1).astype(int)
    score = y + rng.normal(size=200)
    fig = plots.roc_pr({"model": (y, score), "random": (y, rng.uniform(size=200))})
    roc, pr = fig.axes
    assert (
        roc.get_legend().get_texts()[0].get_text().endswith(f"(AUC {roc_auc_score(y, score):.3f})")
    )
    assert (
        pr.get_legend()
        .get_texts()[0]
        .get_text()
        .endswith(f"(AP {average_precision_score(y, score):.3f})")
    )
    assert len(roc.lines) == 3 and len(pr.lines) == 4  # diagonal; 2 curves + 2 prevalence lines


def test_constraint_regions_l1_solution_is_sparse_l2_is_not():
    # isotropic loss: the L2 solution is w* scaled to the unit circle, the L1 one the corner (1, 0)
    fig = plots.constraint_regions([2.0, 0.5], np.eye(2), radius=1.0)
    assert [ax.get_xlabel() for ax in fig.axes] == ["$w_1$", "$w_1$"]
    assert np.allclose(fig.constrained_minima["L1"], [1.0, 0.0], atol=1e-3)
    assert np.allclose(
        fig.constrained_minima["L2"], np.array([2.0, 0.5]) / np.hypot(2.0, 0.5), atol=1e-3
    )
    # a minimum inside the region is its own solution
    fig = plots.constraint_regions([0.2, 0.1], np.eye(2), radius=1.0)
    assert np.allclose(fig.constrained_minima["L1"], [0.2, 0.1])


def test_coefficient_paths_and_count_histogram():
    x = np.arange(1, 6)
    fig = plots.coefficient_paths(x, {"a": np.ones((5, 3)), "b": np.zeros((5, 3))}, logx=True)
    ax = fig.axes[0]
    assert len(ax.lines) == 2 * 3 + 1 and ax.get_xscale() == "log"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]
    counts = np.array([3, 4, 4, 5, 5, 5])
    fig = plots.count_histogram(counts, pmf=(np.arange(3, 6), [0.2, 0.3, 0.5]))
    ax = fig.axes[0]
    heights = [p.get_height() for p in ax.patches]
    assert np.allclose(heights, [1 / 6, 2 / 6, 3 / 6]) and len(ax.lines) == 1
