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


def curves(series: dict, xlabel="epoch", ylabel="loss", logy=False, title=None, start=1):
    """Line plot of named series, e.g. a training history ``{"loss": [...], "val_loss": [...]}``.

    ``start`` is the x value of each series' first entry: 1 for a history whose
    first entry is measured after the first epoch (``course.training.train``), 0
    for a series that begins with the initial state (step 0, before any update).
    """
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for label, values in series.items():
        ax.plot(np.arange(start, start + len(values)), values, label=label)
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


def descent_paths_panels(f, paths: dict, views: dict, marks=None, levels=30, logscale=True):
    """Optimizer trajectories over the contours of ``f(x, y)``, in one panel per view.

    Each path gets its own colour, line style, marker and line width; the
    widest is drawn first, so a path that runs on top of another one stays
    visible. Every start point is a white circle, every end point a filled
    marker, and ``marks`` labels special points such as the minimum. The
    legend sits under the panels, where it hides no data.

    Parameters
    ----------
    f : callable on two broadcastable arrays, returning the surface's height.
    paths : ``{label: array of shape (T, 2)}``, the points visited.
    views : ``{title: (xlim, ylim)}``, e.g. the whole path and a zoom on its end.
    marks : optional ``{label: point of shape (2,) or points of shape (K, 2)}``,
        e.g. ``{"minimum (1, 1)": (1.0, 1.0)}``.
    levels, logscale : contour levels, and whether to contour ``log(1 + f - min f)``.

    Returns
    -------
    The figure; ``fig.axes`` are in the order of ``views``.
    """
    styles = ["-", "--", ":", "-."]
    markers = ["s", "^", "D", "v", "P", "h"]  # not "o", the start's marker
    widths = np.linspace(2.6, 1.0, max(len(paths), 2))
    fig, axes = plt.subplots(
        1, len(views), figsize=(min(max(4.7 * len(views), 6.0), 9.6), 4.6), squeeze=False
    )
    for ax, (title, (xlim, ylim)) in zip(axes[0], views.items(), strict=True):
        gx, gy = np.meshgrid(np.linspace(*xlim, 300), np.linspace(*ylim, 300))
        height = f(gx, gy)
        shown = np.log1p(height - height.min()) if logscale else height
        low, high = shown.min(), shown.max()
        # vmin below the data, so that even the lowest contours are grey, not white
        ax.contour(
            gx,
            gy,
            shown,
            levels=levels,
            cmap="Greys",
            vmin=low - 0.5 * (high - low),
            vmax=high,
            linewidths=0.6,
            alpha=0.8,
        )
        starts = []
        for k, (label, path) in enumerate(paths.items()):
            path = np.asarray(path, dtype=float)
            style = {"color": f"C{k}", "marker": markers[k % len(markers)]}
            ax.plot(
                *path.T,
                ls=styles[k % len(styles)],
                lw=widths[k],
                ms=5,
                markevery=0.1,
                alpha=0.85,
                zorder=2 + k,
                label=label,
                **style,
            )
            ax.plot(*path[-1], ms=9, mec="k", ls="none", zorder=10, **style)
            if not any(np.allclose(path[0], s) for s in starts):
                starts.append(path[0])
        for s in starts:
            ax.plot(
                *s,
                "o",
                color="k",
                mfc="white",
                ms=9,
                mew=1.5,
                zorder=11,
                label="start" if s is starts[0] else None,
            )
        for j, (label, points) in enumerate((marks or {}).items()):
            points = np.atleast_2d(np.asarray(points, dtype=float))
            ax.plot(
                *points.T,
                ls="none",
                marker="*X"[j % 2],
                ms=15,
                color="gold",
                mec="k",
                zorder=12,
                label=label,
            )
        ax.set_xlim(*xlim)
        ax.set_ylim(*ylim)
        ax.set_xlabel("$x$")
        ax.set_ylabel("$y$")
        ax.set_title(title, fontsize=10)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    ncol = min(len(labels), 3)
    rows = -(-len(labels) // ncol)
    fig.legend(handles, labels, loc="lower center", ncol=ncol, fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0.055 * rows + 0.01, 1, 1))
    return fig


def layer_histograms(values, title=None, bins=50, range=None):
    """One histogram per layer: ``values`` is a list of arrays (activations or weights).

    At most five panels a row (ten layers make a 2 x 5 grid), so the figure fits
    a notebook's width; each panel's title gives the layer and the standard
    deviation of its values. The panels share the y axis, and the x axis too
    when ``range`` fixes it.
    """
    ncols = min(5, len(values))
    nrows = -(-len(values) // ncols)
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(1.9 * ncols, 1.8 * nrows + 0.7),
        sharex=range is not None,
        sharey=True,
        squeeze=False,
    )
    for ax in axes.flat[len(values) :]:
        fig.delaxes(ax)
    for l, (ax, v) in enumerate(zip(axes.flat, values, strict=False), start=1):
        ax.hist(np.ravel(v), bins=bins, range=range, color="C0")
        ax.set_title(f"layer {l}: std {np.std(v):.2g}", fontsize=9)
        ax.tick_params(labelsize=8)
    fig.supxlabel("value", fontsize=9)
    fig.supylabel("count", fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def curve_panels(panels: dict, xlabel="epoch", ylabel="loss", logy=False, ylim=None, start=1):
    """Side-by-side line plots, one panel per title, each with labelled curves.

    A curve that becomes ``inf`` or ``nan`` (a diverging run) would silently end
    where it leaves the finite numbers; here its last finite point gets a cross
    (drawn at the top edge if it lies above ``ylim``) and a note in the panel says
    from which x on the curve is ``inf``/``nan`` and what its last finite value was.

    Parameters
    ----------
    panels : ``{title: {label: values of shape (T,)}}``; values are plotted at
        x = start, ..., start + T - 1. The same labels get the same colours in
        every panel.
    xlabel, ylabel : axis labels (the y label on the first panel only).
    logy : logarithmic y axis.
    ylim : optional ``(low, high)`` shared by every panel.
    start : the x value of each curve's first entry, as in :func:`curves`: 1 for
        a history whose first entry is measured after the first epoch
        (``course.training.train``), 0 for a curve that begins with the initial
        state (before any update).

    Returns
    -------
    The figure; ``fig.axes`` are in the order of ``panels``. The legend sits
    under the panels, where it hides no data.
    """
    labels = list(dict.fromkeys(label for series in panels.values() for label in series))
    colors = {label: f"C{k}" for k, label in enumerate(labels)}
    width = min(4.6 * len(panels), 9.6) if len(panels) > 1 else 5.6
    fig, axes = plt.subplots(1, len(panels), figsize=(width, 3.9), sharey=True, squeeze=False)
    for ax, (title, series) in zip(axes[0], panels.items(), strict=True):
        if logy:
            ax.set_yscale("log")
        if ylim is not None:
            ax.set_ylim(*ylim)
        notes = []
        for label, values in series.items():
            values = np.asarray(values, dtype=float)
            x = np.arange(start, start + len(values))
            ax.plot(x, values, color=colors[label], label=label)
            bad = np.flatnonzero(~np.isfinite(values))
            if bad.size:
                first = bad[0]
                what = "nan" if np.isnan(values[first]) else "inf"
                note = f"{label}: {what} from {xlabel} {x[first]}"
                if first > 0:
                    last = values[first - 1]
                    note += f"\n(last finite value {last:.2g})"
                    shown = last if ylim is None else min(last, ylim[1])
                    ax.plot(x[first - 1], shown, "x", color=colors[label], ms=10, mew=2.5)
                    ax.lines[-1].set_clip_on(False)
                notes.append(note)
        if notes:
            ax.text(
                0.97,
                0.97,
                "\n".join(notes),
                transform=ax.transAxes,
                ha="right",
                va="top",
                fontsize=8,
                bbox={"boxstyle": "round", "fc": "white", "ec": "0.6", "alpha": 0.9},
            )
        ax.set_xlabel(xlabel)
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel(ylabel)
    handles = [plt.Line2D([], [], color=colors[label]) for label in labels]
    fig.legend(
        handles, labels, loc="lower center", ncol=min(len(labels), 4), fontsize=9, frameon=False
    )
    fig.tight_layout(rect=(0, 0.08, 1, 1))
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
    xlim : the interval always shown. A panel widens to hold every iterate, so a
        divergent run shows as one; dashed lines then mark ``xlim``, and when the
        iterates go beyond ten times its extent both axes become symmetric-log.
    """
    half = max(abs(xlim[0]), abs(xlim[1]))
    # at most three panels a row keeps the figure within a notebook's width
    ncols = len(paths) if len(paths) <= 3 else -(-len(paths) // 2)
    nrows = -(-len(paths) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.2 * ncols, 2.8 * nrows), squeeze=False)
    for ax in axes.flat[len(paths) :]:
        fig.delaxes(ax)
    for ax, (title, path) in zip(axes.flat, paths.items(), strict=False):
        path = np.asarray(path, dtype=float)
        lo, hi = min(xlim[0], path.min()), max(xlim[1], path.max())
        grid = np.linspace(lo, hi, 2001)
        ax.plot(grid, f(grid), color="grey", lw=1)
        ax.plot(path, f(path), ".-", color="C3", ms=6, lw=0.8)
        ax.plot(path[:1], f(path[:1]), "o", color="C2", ms=7, label="start")
        if lo < xlim[0] or hi > xlim[1]:
            for edge in xlim:
                ax.axvline(edge, color="k", ls="--", lw=0.6)
            if max(-lo, hi) > 10 * half:
                ax.set_xscale("symlog", linthresh=half, base=100)
                ax.set_yscale("symlog", linthresh=1.0, base=100)
                if f(grid).min() >= 0:
                    ax.set_ylim(bottom=0)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("$w$")
    for ax in axes[:, 0]:
        ax.set_ylabel("$f(w)$")
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


def weight_images(W, shape=(8, 8), ncols=8, titles=None, title=None):
    """The incoming weights of each unit of a dense layer, drawn as an image.

    Parameters
    ----------
    W : array of shape (H * W_img, M), a first-layer weight matrix ``(n_in, n_out)``;
        column ``j`` (the weights of unit ``j``) becomes image ``j``.
    shape : ``(H, W_img)`` of one image, e.g. ``(8, 8)`` for ``load_digits``.
    ncols : images per row.
    titles : optional list of M short strings, one per unit.
    title : optional title over the grid.

    Notes
    -----
    Weights are signed, so each image uses a diverging colormap centred on 0
    (red positive, blue negative, white zero), scaled to its own largest
    ``|w|``: the pattern of one unit matters, not its overall size.
    """
    W = np.asarray(W, dtype=float)
    n_units = W.shape[1]
    nrows = -(-n_units // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.1 * ncols, 1.4 * nrows + 0.4), squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        if k >= n_units:
            ax.axis("off")
            continue
        image = W[:, k].reshape(shape)
        limit = max(float(np.abs(image).max()), 1e-12)
        ax.imshow(image, cmap="RdBu_r", vmin=-limit, vmax=limit)
        if titles is not None:
            ax.set_title(titles[k], fontsize=8)
    if title:
        fig.suptitle(title)
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


def decision_regions(predict, X, y, resolution=200, title=None, ax=None):
    """Like :func:`decision_boundary`, and it marks the points ``predict`` gets wrong.

    Class 0 is drawn as blue circles, class 1 as red triangles; a point is filled
    when it is classified correctly and hollow with a black cross when it is not.
    The shaded regions are the predicted classes, the black line their boundary.

    Parameters
    ----------
    predict : callable on an array of shape (M, 2) returning (M,) labels in {0, 1}.
    X : array of shape (N, 2); y : labels of shape (N,) in {0, 1}.
    ax : an existing axes to draw on (e.g. one panel of a row); a new figure if None.

    Returns
    -------
    The figure; the title ends with how many of the N points are misclassified.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y).astype(int)
    if ax is None:
        fig, ax = plt.subplots(figsize=(4.2, 4.2))
    fig = ax.figure
    pad = 0.5
    x0 = np.linspace(X[:, 0].min() - pad, X[:, 0].max() + pad, resolution)
    x1 = np.linspace(X[:, 1].min() - pad, X[:, 1].max() + pad, resolution)
    g0, g1 = np.meshgrid(x0, x1)
    regions = np.asarray(predict(np.column_stack([g0.ravel(), g1.ravel()]))).reshape(g0.shape)
    ax.contourf(g0, g1, regions, levels=[-0.5, 0.5, 1.5], colors=["#9ecae1", "#fcaeae"], alpha=0.6)
    if regions.min() != regions.max():
        ax.contour(g0, g1, regions, levels=[0.5], colors="k", linewidths=1.2)
    wrong = np.asarray(predict(X)).astype(int) != y
    for label, color, marker in [(0, "C0", "o"), (1, "C3", "^")]:
        ok, bad = (y == label) & ~wrong, (y == label) & wrong
        style = {"marker": marker, "s": 110, "linewidths": 1.5, "zorder": 3}
        ax.scatter(*X[ok].T, color=color, edgecolors="k", label=f"class {label}", **style)
        ax.scatter(*X[bad].T, facecolors="white", edgecolors=color, **style)
    ax.scatter(
        *X[wrong].T, marker="x", color="k", s=80, linewidths=1.8, zorder=4, label="misclassified"
    )
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(
        f"{title + chr(10) if title else ''}{wrong.sum()} of {len(y)} misclassified", fontsize=10
    )
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3, frameon=False)
    fig.tight_layout()
    return fig


def nested_sets(labels, notes=None, title=None):
    """Nested boxes, outermost first, e.g. AI ⊃ machine learning ⊃ deep learning.

    Parameters
    ----------
    labels : names of the sets, from the largest to the smallest.
    notes : optional short texts, one per set, written under its name.

    Returns
    -------
    The figure, with one rounded box (a patch) per label.
    """
    from textwrap import fill

    from matplotlib.patches import FancyBboxPatch

    n = len(labels)
    notes = notes or [""] * n
    fig, ax = plt.subplots(figsize=(9, 0.9 * n + 0.7))
    colors = plt.cm.Blues(np.linspace(0.08, 0.45, n))
    band, side, floor = 0.88 / n, 0.03, 0.025
    for k, (label, note) in enumerate(zip(labels, notes, strict=True)):
        left, bottom, top = k * side, k * floor, 1.0 - k * band
        ax.add_patch(
            FancyBboxPatch(
                (left, bottom),
                1.0 - 2 * left,
                top - bottom,
                boxstyle="round,pad=0,rounding_size=0.02",
                facecolor=colors[k],
                edgecolor="k",
                lw=1,
            )
        )
        ax.text(left + 0.012, top - 0.02, label, va="top", fontsize=11, weight="bold")
        ax.text(left + 0.012, top - 0.075, fill(note, 125 - 6 * k), va="top", fontsize=8.5)
    ax.set_xlim(-0.005, 1.005)
    ax.set_ylim(-0.005, 1.005)
    ax.axis("off")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def computational_graph(nodes: dict, edges, title=None):
    """A computational graph with the forward value and the gradient of every node.

    Parameters
    ----------
    nodes : ``{name: (x, y, label, value, grad)}``: the node's position (data units),
        the text in its box (an input's name or a gate's operation), its output in the
        forward pass and the gradient of the graph's final output with respect to it.
    edges : iterable of ``(src, dst)`` node names, drawn as arrows from ``src`` to ``dst``.
    title : optional title.

    Notes
    -----
    Above each box, in green, ``name = value``; below it, in red, the gradient
    ``d(out)/d(name)``. The axes hold ``3 * len(nodes) + len(edges)`` texts (arrows
    are annotations).
    """
    fig, ax = plt.subplots(figsize=(8.5, 4.2))
    xy = {name: (float(spec[0]), float(spec[1])) for name, spec in nodes.items()}
    for src, dst in edges:
        ax.annotate(
            "",
            xy=xy[dst],
            xytext=xy[src],
            arrowprops={
                "arrowstyle": "-|>",
                "color": "grey",
                "lw": 1.2,
                "shrinkA": 17,
                "shrinkB": 19,
            },
        )
    for name, (x, y, label, value, grad) in nodes.items():
        ax.text(
            x,
            y,
            label,
            ha="center",
            va="center",
            fontsize=12,
            bbox={"boxstyle": "round,pad=0.45", "fc": "#eef3fb", "ec": "k"},
            zorder=3,
        )
        ax.text(
            x, y + 0.32, f"{name} = {value:g}", ha="center", va="bottom", color="C2", fontsize=10
        )
        ax.text(x, y - 0.32, f"{grad:g}", ha="center", va="top", color="C3", fontsize=10)
    xs = [p[0] for p in xy.values()]
    ys = [p[1] for p in xy.values()]
    ax.set_xlim(min(xs) - 0.6, max(xs) + 0.6)
    ax.set_ylim(min(ys) - 0.8, max(ys) + 0.8)
    ax.axis("off")
    ax.set_title(
        (title + "\n" if title else "") + "green: forward value, red: gradient of the output",
        fontsize=10,
    )
    fig.tight_layout()
    return fig


def weighted_network(weights, biases, names=None, values=None, title=None):
    """A small fully connected network with every weight and bias written on it.

    Parameters
    ----------
    weights : list of arrays of shape ``(n_in, n_out)``, one per layer (``W[i, j]`` joins
        unit ``i`` of one layer to unit ``j`` of the next).
    biases : list of arrays of shape ``(n_out,)``, one per layer.
    names : optional list of lists of unit names, one list per layer including the
        inputs; default: the units numbered 1, 2, ... from the first input.
    values : optional list of arrays, one per layer including the inputs, written
        under the units (e.g. the outputs of a forward pass).
    title : optional title.

    Returns the figure; the axes hold one line per weight and one circle per unit.
    Each weight is written on its line, near the unit it leaves.
    """
    weights = [np.asarray(W, dtype=float) for W in weights]
    sizes = [weights[0].shape[0]] + [W.shape[1] for W in weights]
    if names is None:
        first = np.cumsum([0, *sizes])
        names = [[str(first[l] + k + 1) for k in range(n)] for l, n in enumerate(sizes)]
    gap_x, gap_y = 3.0, 1.7
    pos = [
        np.column_stack([np.full(n, gap_x * l), gap_y * (np.arange(n)[::-1] - (n - 1) / 2)])
        for l, n in enumerate(sizes)
    ]
    height = gap_y * (max(sizes) - 1)
    below_room = 1.3 if values is not None else 0.9
    fig, ax = plt.subplots(figsize=(2.6 * len(sizes) + 0.8, 1.1 * max(sizes) + 1.0 + below_room))
    for l, W in enumerate(weights):
        for i, p in enumerate(pos[l]):
            for j, q in enumerate(pos[l + 1]):
                ax.plot([p[0], q[0]], [p[1], q[1]], color="grey", lw=0.8, zorder=1)
                at = p + 0.3 * (q - p)
                ax.text(
                    *at,
                    f"{W[i, j]:g}",
                    ha="center",
                    va="center",
                    fontsize=9,
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none"},
                    zorder=2,
                )
    last = len(sizes) - 1
    for l, P in enumerate(pos):
        color = "C2" if l == 0 else ("C3" if l == last else "C0")
        ax.scatter(P[:, 0], P[:, 1], s=650, color=color, edgecolors="k", zorder=3)
        for k, (x, y) in enumerate(P):
            ax.text(
                x, y, names[l][k], ha="center", va="center", fontsize=11, color="white", zorder=4
            )
            below = []
            if l > 0:
                below.append(f"b = {np.ravel(biases[l - 1])[k]:g}")
            if values is not None:
                below.append(f"o = {np.ravel(values[l])[k]:.3f}")
            if below:
                ax.text(x, y - 0.42, "\n".join(below), ha="center", va="top", fontsize=9)
        name = "input" if l == 0 else ("output" if l == last else "hidden")
        ax.text(gap_x * l, height / 2 + 0.75, name, ha="center", fontsize=10, weight="bold")
    ax.set_xlim(-0.7, gap_x * last + 0.7)
    ax.set_ylim(-height / 2 - below_room, height / 2 + 1.1)
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def _constrained_minimum(loss, norm, radius, center, n=20001):
    """Minimizer of ``loss`` on ``{w : norm(w) <= radius}`` in 2-D, by a search of the boundary."""
    if norm(center) <= radius:
        return np.asarray(center, dtype=float)
    angle = np.linspace(0.0, 2.0 * np.pi, n)
    direction = np.column_stack([np.cos(angle), np.sin(angle)])
    # every norm is positively homogeneous: scaling a direction lands it on the boundary
    boundary = radius * direction / norm(direction.T)[:, None]
    return boundary[np.argmin(loss(*boundary.T))]


def constraint_regions(center, hessian, radius=1.0, levels=8, lim=2.5):
    """Loss contours against the L1 diamond and the L2 disc: why L1 gives sparse weights.

    Parameters
    ----------
    center : shape (2,), the unregularized minimum ``w*``.
    hessian : shape (2, 2), symmetric positive definite ``A`` of the quadratic loss
        ``L(w) = (w - w*)^T A (w - w*)``.
    radius : size of the regions ``|w1| + |w2| <= radius`` and ``w1^2 + w2^2 <= radius^2``.
    levels : number of contour levels drawn inside the touching one.
    lim : both axes span ``[-lim, lim]``.

    Returns
    -------
    The figure, one panel per norm (L1 first). Each panel marks ``w*`` and the
    constrained minimum, the first point of the region the growing contours touch;
    ``fig.constrained_minima`` holds the two points, ``{"L1": (2,), "L2": (2,)}``.
    """
    c = np.asarray(center, dtype=float)
    A = np.asarray(hessian, dtype=float)

    def loss(w1, w2):
        d1, d2 = w1 - c[0], w2 - c[1]
        return A[0, 0] * d1 * d1 + (A[0, 1] + A[1, 0]) * d1 * d2 + A[1, 1] * d2 * d2

    norms = {
        "L1": lambda w: np.abs(w[0]) + np.abs(w[1]),
        "L2": lambda w: np.sqrt(w[0] ** 2 + w[1] ** 2),
    }
    g = np.linspace(-lim, lim, 301)
    g1, g2 = np.meshgrid(g, g)
    fig, axes = plt.subplots(1, 2, figsize=(8.4, 4.2))
    fig.constrained_minima = {}
    for ax, (name, norm) in zip(axes, norms.items(), strict=True):
        w_hat = _constrained_minimum(loss, norm, radius, c)
        fig.constrained_minima[name] = w_hat
        touch = float(loss(*w_hat))
        ax.contourf(g1, g2, norm(np.stack([g1, g2])), levels=[0, radius], colors=["C0"], alpha=0.25)
        ax.contour(g1, g2, norm(np.stack([g1, g2])), levels=[radius], colors=["C0"], linewidths=1.5)
        inner = np.linspace(0, np.sqrt(touch), levels + 1)[1:-1] ** 2 if touch > 0 else []
        if len(inner):
            ax.contour(g1, g2, loss(g1, g2), levels=inner, colors="grey", linewidths=0.7)
        if touch > 0:
            ax.contour(g1, g2, loss(g1, g2), levels=[touch], colors="C3", linewidths=1.5)
        ax.plot(*c, "*", color="k", ms=12, label=f"$w^*$ = ({c[0]:.2f}, {c[1]:.2f})")
        ax.plot(
            *w_hat, "o", color="C3", ms=8, label=f"{name} solution ({w_hat[0]:.2f}, {w_hat[1]:.2f})"
        )
        ax.axhline(0, color="grey", lw=0.5)
        ax.axvline(0, color="grey", lw=0.5)
        ax.set_aspect("equal")
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_xlabel("$w_1$")
        ax.set_ylabel("$w_2$")
        ax.set_title(
            f"{name}: "
            + ("$|w_1| + |w_2|$" if name == "L1" else "$w_1^2 + w_2^2$")
            + r" $\leq$ "
            + (f"{radius:g}" if name == "L1" else f"{radius**2:g}")
        )
        ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    return fig


def coefficient_paths(x, paths: dict, xlabel="", ylabel="weight", logx=False, title=None):
    """Several sets of coefficient paths over the same x.

    One colour per coefficient, one line style per set.

    Parameters
    ----------
    x : values of shape (M,), e.g. training steps or ``1 / alpha``.
    paths : ``{label: array of shape (M, D)}``, e.g. gradient-descent iterates and ridge solutions.
    logx : logarithmic x axis.

    Returns
    -------
    The figure; the legend names the sets (line styles), not the coefficients.
    """
    styles = ["-", "--", ":", "-."]
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for k, (label, values) in enumerate(paths.items()):
        values = np.asarray(values, dtype=float).reshape(len(x), -1)
        for j in range(values.shape[1]):
            ax.plot(
                x,
                values[:, j],
                ls=styles[k % len(styles)],
                color=f"C{j % 10}",
                lw=1.3,
                label=label if j == 0 else None,
            )
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_xlabel(xlabel)
    if logx:
        ax.set_xscale("log")
    leg = ax.legend(fontsize=9)
    for line in leg.get_lines():
        line.set_color("k")
    return _finish(fig, ax, ylabel, False, title)


def count_histogram(counts, pmf=None, xlabel="count", title=None):
    """Relative frequencies of integer counts as bars, with an optional model pmf on top.

    Parameters
    ----------
    counts : integer array of shape (M,), e.g. how many units survived dropout in each of M passes.
    pmf : optional ``(k, p)``, arrays of the same shape: the probability ``p`` of each count ``k``.

    Returns
    -------
    The figure: one bar per observed count, and the pmf as dots joined by a line.
    """
    values, freq = np.unique(np.asarray(counts, dtype=int), return_counts=True)
    fig, ax = plt.subplots(figsize=(6, 3.4))
    ax.bar(
        values,
        freq / freq.sum(),
        width=0.85,
        color="C0",
        alpha=0.6,
        label=f"observed ({len(counts)} draws)",
    )
    if pmf is not None:
        k, p = (np.asarray(a) for a in pmf)
        ax.plot(k, p, ".-", color="C3", lw=1, ms=5, label="model pmf")
    ax.set_xlabel(xlabel)
    ax.legend(fontsize=8)
    return _finish(fig, ax, "relative frequency", False, title)


def bayes_opt_steps(steps, reference=None, xlabel="hyperparameter", ylabel="score", ylim=None):
    """Bayesian optimization in one dimension, one column per step.

    Parameters
    ----------
    steps : records with attributes ``x, y`` (the evaluations so far), ``grid, mean, std``
        (the surrogate's posterior on a grid), ``ei`` (the acquisition on that grid) and
        ``x_next``, e.g. the ``course.tuning.BayesOptStep`` list of ``bayes_opt_1d``.
    reference : optional ``(x, y)``, the score measured on a grid, drawn for comparison.
    ylim : optional ``(low, high)`` of the score axis.

    Returns
    -------
    The figure: on top the posterior mean, a band of two standard deviations and the
    evaluations; below the expected improvement; a dashed line at the value chosen next.
    ``fig.axes`` holds the top row, then the bottom row.
    """
    n = len(steps)
    fig, axes = plt.subplots(
        2, n, figsize=(min(3.2 * n, 9.6), 4.8), sharex=True, squeeze=False, height_ratios=[2, 1]
    )
    for k, step in enumerate(steps):
        top, bottom = axes[0, k], axes[1, k]
        if reference is not None:
            top.plot(*reference, ":", color="grey", lw=1.2, label="measured on a grid")
        low, high = step.mean - 2 * step.std, step.mean + 2 * step.std
        top.fill_between(step.grid, low, high, color="C0", alpha=0.2, label="mean ± 2 std")
        top.plot(step.grid, step.mean, color="C0", label="GP mean")
        top.plot(step.x, step.y, "o", color="k", ms=5, label="evaluated")
        top.axvline(step.x_next, color="C3", ls="--", lw=1, label="next evaluation")
        top.set_title(f"after {len(step.x)} evaluations", fontsize=9)
        if ylim is not None:
            top.set_ylim(*ylim)
        bottom.plot(step.grid, step.ei, color="C2")
        bottom.axvline(step.x_next, color="C3", ls="--", lw=1)
        bottom.set_xlabel(xlabel)
        bottom.ticklabel_format(axis="y", style="sci", scilimits=(-2, 2))
    axes[0, 0].set_ylabel(ylabel)
    axes[1, 0].set_ylabel("expected\nimprovement")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=len(labels), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.94))
    return fig


def roc_pr(curves: dict, title=None):
    """ROC and precision-recall curves side by side, for scored binary predictions.

    Parameters
    ----------
    curves : ``{label: (y_true, y_score)}``, arrays of shape (N,): 0/1 labels (1 is the
        positive class) and scores that are larger for more likely positives.

    Returns
    -------
    The figure: the ROC curve (legend: its AUC) on the left, the precision-recall curve
    (legend: the average precision) on the right; dotted lines show a classifier that
    guesses, the diagonal and a precision equal to the share of positives.
    """
    # only this helper needs scikit-learn's curve computations
    from sklearn.metrics import (
        average_precision_score,
        precision_recall_curve,
        roc_auc_score,
        roc_curve,
    )

    fig, (ax_roc, ax_pr) = plt.subplots(1, 2, figsize=(9, 3.8))
    ax_roc.plot([0, 1], [0, 1], ":", color="grey", lw=1)
    for i, (label, (y_true, score)) in enumerate(curves.items()):
        fpr, tpr, _ = roc_curve(y_true, score)
        auc = roc_auc_score(y_true, score)
        ax_roc.plot(fpr, tpr, color=f"C{i}", label=f"{label} (AUC {auc:.3f})")
        precision, recall, _ = precision_recall_curve(y_true, score)
        ap = average_precision_score(y_true, score)
        ax_pr.plot(
            recall, precision, color=f"C{i}", drawstyle="steps-post", label=f"{label} (AP {ap:.3f})"
        )
        ax_pr.axhline(np.mean(y_true), color=f"C{i}", ls=":", lw=1)
    ax_roc.set_xlabel("false positive rate")
    ax_roc.set_ylabel("true positive rate (recall)")
    ax_roc.set_title("ROC curve")
    ax_roc.legend(fontsize=8, loc="lower right")
    ax_pr.set_xlabel("recall")
    ax_pr.set_ylabel("precision")
    ax_pr.set_ylim(0, 1.02)
    ax_pr.set_title("precision-recall curve")
    ax_pr.legend(fontsize=8, loc="lower left")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
