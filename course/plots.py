"""Plotting helpers for the lectures.

Each function takes data (or a callable), draws on a new Matplotlib figure and
returns it, so notebooks stay short and tests can call them headless. Nothing
here calls ``plt.show()``.
"""

from itertools import pairwise

import matplotlib.pyplot as plt
import numpy as np

from course.activations import ACTIVATIONS


def activation_curves(names, z=None, **kwargs):
    """One panel per activation: the function and its derivative on ``z``.

    Parameters
    ----------
    names : activation names from ``ACTIVATIONS`` (elementwise ones).
    z : 1-D grid; default ``linspace(-4, 4, 401)``.
    """
    z = np.linspace(-4.0, 4.0, 401) if z is None else z
    cols = min(4, len(names))
    rows = -(-len(names) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.6 * rows), squeeze=False)
    for ax, name in zip(axes.flat, names, strict=False):
        g, dg = ACTIVATIONS[name]
        ax.plot(z, g(z, **kwargs), label="g(z)")
        ax.plot(z, dg(z, **kwargs), "--", label="g'(z)")
        ax.axhline(0, color="grey", lw=0.5)
        ax.axvline(0, color="grey", lw=0.5)
        ax.set_title(name)
    for ax in axes.flat[len(names) :]:
        ax.axis("off")
    axes.flat[0].legend()
    fig.tight_layout()
    return fig


def curves(series: dict, xlabel="epoch", ylabel="loss", logy=False, title=None):
    """Line plot of named series, e.g. a training history ``{"loss": [...], "val_loss": [...]}``."""
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for label, values in series.items():
        ax.plot(np.arange(1, len(values) + 1), values, label=label)
    ax.set_xlabel(xlabel)
    ax.legend()
    return _finish(fig, ax, ylabel, logy, title)


def decision_boundary(predict, X, y, resolution=200, title=None):
    """Regions of ``predict`` (maps an (M, 2) array to labels or scores) and the points ``X, y``.

    Parameters
    ----------
    predict : callable on an array of shape (M, 2) returning (M,) labels.
    X : array of shape (N, 2); y : labels of shape (N,).
    """
    pad = 0.5
    x0 = np.linspace(X[:, 0].min() - pad, X[:, 0].max() + pad, resolution)
    x1 = np.linspace(X[:, 1].min() - pad, X[:, 1].max() + pad, resolution)
    g0, g1 = np.meshgrid(x0, x1)
    labels = np.asarray(predict(np.column_stack([g0.ravel(), g1.ravel()]))).reshape(g0.shape)
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ax.contourf(g0, g1, labels, alpha=0.3, cmap="coolwarm")
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", edgecolors="k", s=25)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def descent_paths(f, paths: dict, xlim=(-2, 2), ylim=(-1, 3), levels=30, logscale=True):
    """Contours of a 2-D function ``f(x, y)`` with optimizer trajectories on top.

    Parameters
    ----------
    f : callable on two broadcastable arrays, returning the surface's height.
    paths : ``{label: array of shape (T, 2)}``, the points visited.
    """
    gx, gy = np.meshgrid(np.linspace(*xlim, 300), np.linspace(*ylim, 300))
    height = f(gx, gy)
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    ax.contour(
        gx,
        gy,
        np.log1p(height - height.min()) if logscale else height,
        levels=levels,
        cmap="viridis",
        linewidths=0.6,
    )
    for label, path in paths.items():
        path = np.asarray(path)
        ax.plot(path[:, 0], path[:, 1], ".-", ms=3, lw=1, label=label)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def layer_histograms(values, title=None, bins=50, range=None):
    """One histogram per layer: ``values`` is a list of arrays (activations or weights)."""
    fig, axes = plt.subplots(
        1, len(values), figsize=(2.2 * len(values), 2.4), sharey=True, squeeze=False
    )
    for l, (ax, v) in enumerate(zip(axes[0], values, strict=True), start=1):
        ax.hist(np.ravel(v), bins=bins, range=range, color="C0")
        ax.set_title(f"layer {l}\nstd {np.std(v):.2g}", fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def bar(values: dict, ylabel="", logy=False, title=None):
    """A bar chart of named numbers, e.g. gradient norms per layer."""
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.bar(list(values), list(values.values()))
    return _finish(fig, ax, ylabel, logy, title)


def _finish(fig, ax, ylabel, logy, title):
    """Label the y axis, set its scale and the title, and tighten the layout."""
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def function_panels(x, panels: dict, xlabel="", ylim=None):
    """One panel per title, each holding labelled curves over the same grid.

    Parameters
    ----------
    x : 1-D grid of shape (M,).
    panels : ``{title: {label: values of shape (M,)}}``, e.g. a loss and its gradient.
    ylim : optional ``(low, high)`` shared by every panel.
    """
    fig, axes = plt.subplots(1, len(panels), figsize=(3.4 * len(panels), 2.8), squeeze=False)
    for ax, (title, series) in zip(axes[0], panels.items(), strict=True):
        for i, (label, values) in enumerate(series.items()):
            ax.plot(x, values, "--" if i % 2 else "-", label=label)
        ax.axhline(0, color="grey", lw=0.5)
        ax.axvline(0, color="grey", lw=0.5)
        ax.set_xlabel(xlabel)
        ax.set_title(title)
        if ylim is not None:
            ax.set_ylim(*ylim)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def line_fits(x, y, lines: dict, outliers=None, title=None):
    """Points ``(x, y)`` with fitted lines ``{label: (slope, intercept)}`` drawn over them.

    Parameters
    ----------
    x, y : arrays of shape (N,).
    lines : ``{label: (slope, intercept)}``.
    outliers : optional boolean mask of shape (N,); those points are drawn as red crosses.
    """
    x, y = np.asarray(x), np.asarray(y)
    mask = np.zeros(x.shape, bool) if outliers is None else np.asarray(outliers, bool)
    fig, ax = plt.subplots(figsize=(5, 3.6))
    ax.scatter(x[~mask], y[~mask], s=15, color="grey", label="data")
    if mask.any():
        ax.scatter(x[mask], y[mask], s=40, color="red", marker="x", label="outlier")
    grid = np.linspace(x.min(), x.max(), 2)
    for label, (slope, intercept) in lines.items():
        ax.plot(grid, slope * grid + intercept, label=label)
    ax.set_xlabel("$x$")
    ax.set_ylabel("$y$")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def network_diagram(layer_sizes, title=None, max_units=10):
    """Circles for the units of a fully connected network and a line per weight.

    Parameters
    ----------
    layer_sizes : ``[D, H1, ..., K]``; the first entry is the input layer.
    max_units : layers wider than this are drawn with ``max_units`` circles and a "…".
    """
    sizes = list(layer_sizes)
    fig, ax = plt.subplots(figsize=(1.6 * len(sizes) + 1, 3.2))
    tallest = min(max(sizes), max_units)
    positions = []
    for l, n in enumerate(sizes):
        shown = min(n, max_units)
        ys = np.linspace(-(shown - 1) / 2, (shown - 1) / 2, shown) if shown > 1 else np.zeros(1)
        positions.append(np.column_stack([np.full(shown, float(l)), ys]))
        if n > max_units:
            ax.text(l, -tallest / 2 - 0.3, f"… {n} units", ha="center", fontsize=8)
    for a, b in pairwise(positions):
        for p in a:
            for q in b:
                ax.plot([p[0], q[0]], [p[1], q[1]], color="grey", lw=0.6, zorder=1)
    last = len(sizes) - 1
    for l, pos in enumerate(positions):
        color = "C2" if l == 0 else ("C3" if l == last else "C0")
        ax.scatter(pos[:, 0], pos[:, 1], s=300, color=color, edgecolors="k", zorder=2)
        name = "input" if l == 0 else ("output" if l == last else f"hidden {l}")
        ax.text(l, tallest / 2 + 0.5, f"{name}\n({sizes[l]})", ha="center", fontsize=9)
    ax.set_xlim(-0.5, last + 0.5)
    ax.set_ylim(-tallest / 2 - 0.7, tallest / 2 + 1.3)
    ax.axis("off")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def point_panels(panels: dict, y, labels=None):
    """Side-by-side scatter plots of the same points in several 2-D spaces.

    Parameters
    ----------
    panels : ``{title: array of shape (N, 2)}``, e.g. the inputs and a hidden layer's activations.
    y : class labels of shape (N,), used for the colours.
    labels : optional N strings written next to the points.

    Returns the figure; ``fig.axes`` are in the order of ``panels``.
    """
    fig, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels), 3.4), squeeze=False)
    for ax, (title, P) in zip(axes[0], panels.items(), strict=True):
        P = np.asarray(P, dtype=float)
        ax.scatter(P[:, 0], P[:, 1], c=y, cmap="coolwarm", edgecolors="k", s=80, zorder=2)
        for i, text in enumerate(labels or []):
            ax.annotate(text, P[i], textcoords="offset points", xytext=(6, 6 - 12 * (i % 2)))
        ax.set_title(title)
        ax.margins(0.25)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def descent_1d(f, paths: dict, xlim=(-2.0, 2.0)):
    """Gradient descent on a function of one variable: one panel per run.

    Parameters
    ----------
    f : callable on a 1-D array, the function being minimized.
    paths : ``{title: array of shape (T,)}``, the points visited by each run.
    xlim : the plotted interval; points outside it are clipped to its edges.
    """
    grid = np.linspace(*xlim, 400)
    fig, axes = plt.subplots(1, len(paths), figsize=(3.3 * len(paths), 2.9), squeeze=False)
    for ax, (title, path) in zip(axes[0], paths.items(), strict=True):
        path = np.clip(np.asarray(path, dtype=float), *xlim)
        ax.plot(grid, f(grid), color="grey", lw=1)
        ax.plot(path, f(path), ".-", color="C3", ms=6, lw=0.8)
        ax.plot(path[:1], f(path[:1]), "o", color="C2", ms=7, label="start")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("$w$")
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    return fig


def image_grid(images, titles=None, ncols=8, shape=(8, 8), cmap="gray_r"):
    """Small images in a grid, e.g. rows of ``load_digits``.

    Parameters
    ----------
    images : array of shape (M, H * W) or (M, H, W).
    titles : optional list of M short strings, one per image.
    ncols : images per row.
    shape : ``(H, W)`` of one image when ``images`` is flattened.
    """
    images = np.asarray(images, dtype=float).reshape(-1, *shape)
    nrows = -(-len(images) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.1 * ncols, 1.2 * nrows), squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k < len(images):
            ax.imshow(images[k], cmap=cmap, vmin=0.0, vmax=max(images.max(), 1e-12))
            if titles is not None:
                ax.set_title(titles[k], fontsize=8)
    fig.tight_layout()
    return fig


def sweep(x, series: dict, xlabel="", ylabel="", logx=False, title=None):
    """Named series over explicit x values, e.g. train and validation error against capacity.

    Parameters
    ----------
    x : values of shape (M,) (hidden width, polynomial degree, penalty strength ...).
    series : ``{label: values of shape (M,)}``.
    logx : logarithmic x axis (for widths or strengths spread over decades).
    """
    fig = curves(series, xlabel=xlabel, ylabel=ylabel, title=title)
    ax = fig.axes[0]
    for line in ax.get_lines():
        line.set_xdata(np.asarray(x))
        line.set_marker("o")
        line.set_markersize(4)
    ax.relim()
    ax.autoscale_view()
    if logx:
        ax.set_xscale("log")
    return fig
