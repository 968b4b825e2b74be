"""Benchmark: course.estimators.MLPClassifier against scikit-learn's MLPClassifier.

Both train the same network (64-100-10, ReLU, Adam, batch 200, the same number
of epochs, no early stopping) on the same split of ``load_digits``. Prints the
best-of-``--repeat`` wall time of each fit, their ratio, and both test accuracies.

    .venv/bin/python benchmarks/mlp_vs_sklearn.py [--epochs 100] [--repeat 3]
"""

import argparse
import time
import warnings

from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.preprocessing import StandardScaler

from course.estimators import MLPClassifier


def best_fit_time(make, X, y, repeat: int):
    """Fit a fresh ``make()`` ``repeat`` times; return the fastest time and the last model."""
    best = float("inf")
    for _ in range(repeat):
        model = make()
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, y)
        best = min(best, time.perf_counter() - start)
    return best, model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    shared = dict(
        hidden_layer_sizes=(100,),
        activation="relu",
        solver="adam",
        alpha=1e-4,
        batch_size=200,
        learning_rate_init=1e-3,
        max_iter=args.epochs,
        tol=0.0,
        n_iter_no_change=args.epochs + 1,
        random_state=0,
    )
    ours_time, ours = best_fit_time(lambda: MLPClassifier(**shared), X_train, y_train, args.repeat)
    sk_time, sk = best_fit_time(lambda: SkMLPClassifier(**shared), X_train, y_train, args.repeat)
    print(f"load_digits, 64-100-10 ReLU, Adam, batch 200, {args.epochs} epochs")
    print(
        f"course.MLPClassifier : {ours_time:6.3f} s  test accuracy {ours.score(X_test, y_test):.4f}"
    )
    print(f"sklearn MLPClassifier: {sk_time:6.3f} s  test accuracy {sk.score(X_test, y_test):.4f}")
    print(f"time ratio (course / sklearn): {ours_time / sk_time:.2f}")


if __name__ == "__main__":
    main()
