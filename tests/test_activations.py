"""course.activations against closed forms, SciPy and numerical gradients."""

import numpy as np
import pytest
from scipy.special import log_softmax as sp_log_softmax
from scipy.special import softmax as sp_softmax
from scipy.stats import norm

from course import activations as A
from course.gradcheck import numerical_gradient_array, rel_error

pytestmark = pytest.mark.course

ELEMENTWISE = [name for name in A.ACTIVATIONS if name != "softmax"]
SMOOTH = ["identity", "sigmoid", "tanh", "softsign", "gelu", "softplus"]
KINKED = ["relu", "leaky_relu", "elu", "binary_step"]

CLOSED_FORMS = {
    "identity": lambda z: z,
    "binary_step": lambda z: np.where(z >= 0, 1.0, 0.0),
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "tanh": lambda z: (np.exp(z) - np.exp(-z)) / (np.exp(z) + np.exp(-z)),
    "softsign": lambda z: z / (1.0 + np.abs(z)),
    "relu": lambda z: np.where(z > 0, z, 0.0),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
    "elu": lambda z: np.where(z > 0, z, np.exp(z) - 1.0),
    "gelu": lambda z: z * norm.cdf(z),
    "softplus": lambda z: np.log(1.0 + np.exp(z)),
}


def moderate(seed, shape=(7, 5), bound=5.0):
    """Values in [-bound, bound] kept away from 0, where every closed form is exact."""
    z = np.random.default_rng(seed).uniform(-bound, bound, size=shape)
    return np.where(np.abs(z) < 0.05, 0.5, z)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_values_match_closed_form(name):
    z = moderate(0)
    assert rel_error(A.ACTIVATIONS[name][0](z), CLOSED_FORMS[name](z)) < 1e-12


@pytest.mark.parametrize("name", [*SMOOTH, "relu", "leaky_relu", "elu"])
@pytest.mark.parametrize("shape", [(1,), (4, 3), (2, 3, 2)])
def test_derivative_matches_numerical_gradient(name, shape):
    g, dg = A.ACTIVATIONS[name]
    # Beyond |z| ~ 4 GELU's tail is ~1e-6 and finite differences lose digits to rounding;
    # test_gelu_derivative_is_cdf_plus_z_pdf covers the tail against SciPy.
    z = moderate(1, shape, bound=3.0)
    dout = np.ones_like(z)
    assert rel_error(dg(z), numerical_gradient_array(g, z, dout)) < 1e-7


def test_gelu_derivative_is_cdf_plus_z_pdf_not_the_slide_formula():
    z = np.linspace(-8, 8, 33)
    assert rel_error(A.gelu_grad(z), norm.cdf(z) + z * norm.pdf(z)) < 1e-12
    slide = norm.cdf(z) + 0.5 * z * norm.pdf(z)
    assert rel_error(A.gelu_grad(z), slide) > 1e-2


@pytest.mark.parametrize("alpha", [0.1, 0.3])
def test_parametric_activations_use_alpha(alpha):
    z = np.array([-2.0, -0.5, 0.5, 2.0])
    assert np.allclose(A.leaky_relu(z, alpha), np.where(z > 0, z, alpha * z))
    assert np.allclose(A.leaky_relu_grad(z, alpha), np.where(z > 0, 1.0, alpha))
    assert np.allclose(A.elu(z, alpha), np.where(z > 0, z, alpha * (np.exp(z) - 1)))
    assert np.allclose(A.elu_grad(z, alpha), np.where(z > 0, 1.0, alpha * np.exp(z)))


def test_conventions_at_zero():
    assert A.binary_step(0.0) == 1.0
    assert A.relu_grad(0.0) == 0.0
    assert A.relu(0.0) == 0.0
    assert A.sigmoid(0.0) == 0.5


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_integer_input_gives_floats(name):
    g, dg = A.ACTIVATIONS[name]
    z = np.array([-2, 0, 3])
    assert g(z).dtype == np.float64 and dg(z).dtype == np.float64
    assert np.allclose(g(z), g(z.astype(float)))


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_float32_is_kept(name):
    assert A.ACTIVATIONS[name][0](np.ones(3, dtype=np.float32)).dtype == np.float32


@pytest.mark.parametrize("name", [*ELEMENTWISE, "softmax"])
def test_extreme_inputs_are_finite_and_silent(name):
    g, dg = A.ACTIVATIONS[name]
    z = np.array([[-1e4, -1e3, -50.0, 0.0, 50.0, 1e3, 1e4]])
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        assert np.isfinite(g(z)).all()
        assert np.isfinite(dg(z)).all()


def test_limits_for_large_inputs():
    z = np.array([-1e4, 1e4])
    assert np.allclose(A.sigmoid(z), [0.0, 1.0])
    assert np.allclose(A.softplus(z), [0.0, 1e4])
    assert np.allclose(A.gelu(z), [0.0, 1e4])
    assert np.allclose(A.elu(z), [-1.0, 1e4])


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_softmax_matches_scipy(axis):
    z = np.random.default_rng(2).normal(0, 3, size=(4, 6))
    assert rel_error(A.softmax(z, axis=axis), sp_softmax(z, axis=axis)) < 1e-12
    assert rel_error(A.log_softmax(z, axis=axis), sp_log_softmax(z, axis=axis)) < 1e-12


def test_softmax_is_shift_invariant_and_stable():
    z = np.array([[1000.0, 1001.0, 1002.0]])
    with np.errstate(over="raise", invalid="raise"):
        assert rel_error(A.softmax(z), A.softmax(z - 1000.0)) < 1e-12
        assert np.isfinite(A.log_softmax(np.array([[-1e4, 0.0, 1e4]]))).all()


def test_softmax_jacobian_matches_numerical():
    z = np.random.default_rng(3).normal(size=(3, 5))
    J = A.softmax_jacobian(z)
    assert J.shape == (3, 5, 5)
    for n in range(3):
        for k in range(5):
            dout = np.zeros((5,))
            dout[k] = 1.0
            numeric = numerical_gradient_array(lambda v: A.softmax(v), z[n].copy(), dout)
            assert rel_error(J[n, k], numeric) < 1e-7
