"""Ready-made scikit-learn pipelines around ``course.estimators``.

``make_model()`` is the reference answer of module 08's capstone exercise: an
*unfitted* pipeline (scaling, then ``course.estimators.MLPClassifier`` with early
stopping) that reaches at least 0.95 test accuracy on any stratified 75/25 split
of ``load_digits`` in a few seconds.
"""

from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from course.estimators import MLPClassifier


def make_model() -> Pipeline:
    """An unfitted pipeline for the 8x8 digits: standardize, then a one-hidden-layer MLP.

    Returns
    -------
    ``Pipeline([StandardScaler(), MLPClassifier(...)])``: 256 ReLU units, Adam with
    learning rate 1e-3, L2 strength ``alpha=1.0``, early stopping on 10 % of the
    training data with a patience of 20 epochs, at most 300 epochs, ``random_state=0``.

    Notes
    -----
    Standardizing puts every pixel (0..16, some constant at 0) on a unit scale, so one
    learning rate suits all weights; the strong L2 penalty and early stopping keep the
    wide layer from overfitting the ~1200 training images.
    """
    mlp = MLPClassifier(
        hidden_layer_sizes=(256,),
        alpha=1.0,
        learning_rate_init=1e-3,
        max_iter=300,
        early_stopping=True,
        n_iter_no_change=20,
        random_state=0,
    )
    return make_pipeline(StandardScaler(), mlp)
