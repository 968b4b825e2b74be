"""What a visible test accepts in a plain kernel, it accepts at grading: over generated results.

A graded function's result crosses the kernel boundary before a test cell sees it: the agent
encodes it in the kernel (:class:`~autograder.runtime.codec.Encoder`, ``dumps``) and the
grading process decodes it (``loads``, :class:`~autograder.runtime.codec.Decoder`). In a
plain kernel the test sees the object itself. ``tests/test_equivalence.py`` runs the
notebooks both ways; this file needs no kernel: it generates many variants of results, seeded
(hypothesis is not a dependency of the course), sends each through the codec exactly as
grading does, and checks that every predicate a visible test applies answers the same on what
the grader decoded as on the original, at every place inside the value:

- ``isinstance`` against the types a test can name: ``dict``, ``list``, ``tuple``,
  ``np.ndarray``, ``numbers.Number`` and its tower, ``collections.abc.Mapping`` and
  ``Sequence``, ``float``, NumPy's scalar kinds, the standard library's containers (not the
  class of a student's namedtuple, which a test cannot name: the decoded one is a new class
  with the same name and fields);
- ``==`` against an expected value built independently (as a test writes it), ``len``, the keys
  and their order, ``np.shape``, the dtype, ``np.allclose``, ``repr`` (except for sets, whose
  order is the hash table's, and generators, whose repr shows an address);
- the draws of a generator, the default of a ``defaultdict``, which objects are one object;
- one way only, so that grading never refuses what a plain kernel allows: an array that is
  writeable, C- or Fortran-contiguous stays so (a read-only or strided view arrives as a
  writeable, contiguous copy).

The variants cover the kinds listed in ``COVERED``, and the test checks that each was met.
"""

from __future__ import annotations

import collections
import copy
import math
import numbers
import random
import types
import typing
import warnings
from collections import abc

import numpy as np
import pytest

from autograder.runtime import codec

pytestmark = pytest.mark.autograder

SEED = 20_260_421
N_VARIANTS = 600

Pair = collections.namedtuple("Pair", ["first", "second"])


class Fit(typing.NamedTuple):
    loss: float
    params: dict


DTYPES = [
    np.float16,
    np.float32,
    np.float64,
    np.int8,
    np.int16,
    np.int32,
    np.int64,
    np.longlong,
    np.uint8,
    np.uint16,
    np.uint32,
    np.uint64,
    np.bool_,
    np.complex64,
    np.complex128,
]
LAYOUTS = [
    "contiguous",
    "fortran",
    "transposed",
    "strided",
    "reversed",
    "sliced-view",
    "column",
    "read-only",
    "broadcast",
    "zero-d",
    "big-endian",
]
ABSTRACT = (
    dict,
    list,
    tuple,
    set,
    frozenset,
    str,
    bytes,
    int,
    float,
    complex,
    bool,
    np.ndarray,
    np.generic,
    np.number,
    np.integer,
    np.signedinteger,
    np.unsignedinteger,
    np.floating,
    np.complexfloating,
    np.bool_,
    numbers.Number,
    numbers.Complex,
    numbers.Real,
    numbers.Rational,
    numbers.Integral,
    abc.Mapping,
    abc.MutableMapping,
    abc.Sequence,
    abc.MutableSequence,
    abc.Set,
    abc.Iterable,
    abc.Sized,
    abc.Hashable,
    collections.OrderedDict,
    collections.Counter,
    collections.defaultdict,
    collections.deque,
    types.SimpleNamespace,
    np.random.Generator,
    np.random.RandomState,
)
MAPPING_KINDS = ("dict", "OrderedDict", "Counter", "defaultdict", "SimpleNamespace")
MEMOISED = (list, dict, collections.deque, set, types.SimpleNamespace, np.ndarray)
RANDOM = (np.random.Generator, np.random.RandomState)
COVERED = {
    *(f"layout:{name}" for name in LAYOUTS),
    *(f"dtype:{np.dtype(d).char}" for d in DTYPES),
    *(f"scalar:{np.dtype(d).char}" for d in DTYPES),
    *("python:" + k for k in ("int", "float", "complex", "bool", "str", "bytes", "NoneType")),
    *("container:" + k for k in ("list", "tuple", "dict", "OrderedDict", "Counter")),
    *("container:" + k for k in ("defaultdict", "deque", "set", "frozenset")),
    *("container:" + k for k in ("SimpleNamespace", "Pair", "Fit", "aliased")),
    *("random:" + k for k in ("Generator", "RandomState", "own-factory")),
}


class Variants:
    """Seeded random results, built the ways a student's function builds them."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.rng = np.random.default_rng(seed)
        self.met: set[str] = set()
        self.shared: list = []  # objects a later part of the same value may hold again

    def value(self):
        self.shared = []
        return self.node(depth=0)

    def node(self, depth: int):
        roll = self.random.random()
        if depth >= 3 or roll < 0.35:
            return self.leaf()
        if roll < 0.42 and self.shared:
            self.met.add("container:aliased")
            return self.random.choice(self.shared)
        return self.container(depth)

    # -- leaves ------------------------------------------------------------------------------
    def leaf(self):
        roll = self.random.random()
        if roll < 0.45:
            return self.array()
        if roll < 0.65:
            return self.numpy_scalar()
        if roll < 0.95:
            return self.python_scalar()
        return self.generator()

    def array(self) -> np.ndarray:
        dtype = np.dtype(self.random.choice(DTYPES))
        layout = self.random.choice(LAYOUTS)
        self.met.update({f"dtype:{dtype.char}", f"layout:{layout}"})
        shape = tuple(self.random.randint(0, 4) for _ in range(self.random.randint(1, 3)))
        if layout == "zero-d":
            return self.numbers(dtype, ())
        if layout == "broadcast":
            return np.broadcast_to(self.numbers(dtype, shape[-1:]), (3, *shape[-1:]))
        if layout in ("strided", "reversed", "column"):
            base = self.numbers(dtype, (5, *shape[1:]))
            view = {"strided": base[::2], "reversed": base[::-1], "column": base[..., :1]}
            return view[layout].T if layout == "column" else view[layout]
        if layout == "sliced-view":
            return self.numbers(dtype, (shape[0] + 2, *shape[1:]))[1:-1]
        array = self.numbers(dtype, shape)
        if layout == "fortran":
            return np.asfortranarray(array)
        if layout == "transposed":
            return array.T
        if layout == "read-only":
            array.flags.writeable = False
        if layout == "big-endian":
            return array.astype(dtype.newbyteorder(">"))
        if layout not in ("contiguous", "read-only"):
            raise AssertionError(layout)
        return array

    def numbers(self, dtype: np.dtype, shape: tuple) -> np.ndarray:
        """Values of ``dtype``: small and extreme ones, and NaN and infinities now and then."""
        size = math.prod(shape)
        if dtype.kind == "b":
            return self.rng.integers(0, 2, size=shape).astype(dtype)
        if dtype.kind in "iu":
            info = np.iinfo(dtype)
            data = self.rng.integers(max(info.min, -5), 6, size=size, dtype=dtype)
            if size and self.random.random() < 0.3:
                data[0] = self.random.choice([info.min, info.max])
            return data.reshape(shape)
        data = self.rng.normal(size=size) * 10.0 ** self.random.randint(-3, 3)
        if dtype.kind == "c":
            data = data + 1j * self.rng.normal(size=size)
        with np.errstate(over="ignore"):
            data = data.astype(dtype)
        if size and self.random.random() < 0.25:
            data[self.random.randrange(size)] = self.random.choice([np.nan, np.inf, -np.inf, -0.0])
        return data.reshape(shape)

    def numpy_scalar(self):
        dtype = np.dtype(self.random.choice(DTYPES))
        self.met.add(f"scalar:{dtype.char}")
        return self.numbers(dtype, (1,))[0]

    def python_scalar(self):
        kind = self.random.choice(["int", "float", "complex", "bool", "str", "bytes", "NoneType"])
        self.met.add(f"python:{kind}")
        special = [0.0, -0.0, math.nan, math.inf, 1e-310, 1.0, 0.1]
        value = {
            "int": lambda: self.random.choice([0, 1, -7, 2**63, -(10**30)]),
            "float": lambda: self.random.choice([*special, self.random.uniform(-1e6, 1e6)]),
            "complex": lambda: complex(self.random.choice(special), self.random.random()),
            "bool": lambda: self.random.random() < 0.5,
            "str": lambda: self.random.choice(["", "relu", "W1", "é漢🙂", "\ud83d\ude42"]),
            "bytes": lambda: self.random.randbytes(self.random.randint(0, 5)),
            "NoneType": lambda: None,
        }
        return value[kind]()

    def generator(self):
        if self.random.random() < 0.5:
            self.met.add("random:Generator")
            generator = np.random.default_rng(self.random.randrange(2**32))
        else:
            self.met.add("random:RandomState")
            generator = np.random.RandomState(self.random.randrange(2**32))
        generator.random(self.random.randint(0, 3))  # drawn from, so not at its seed's state
        return generator

    def hashable(self):
        """A leaf a key or a set member may be: no array, no NaN (a set finds members by ==)."""
        while True:
            value = self.random.choice([self.python_scalar, self.numpy_scalar])()
            if value == value:
                return value

    # -- containers --------------------------------------------------------------------------
    def container(self, depth: int):
        kind = self.random.choice(
            [*MAPPING_KINDS, "list", "tuple", "deque", "set", "frozenset", "Pair", "Fit"]
        )
        self.met.add(f"container:{kind}")
        size = self.random.randint(0, 4)
        items = [self.node(depth + 1) for _ in range(size)]
        keys = [f"k{i}" if self.random.random() < 0.7 else i for i in range(size)]
        if kind == "list":
            out = items
        elif kind == "tuple":
            out = tuple(items)
        elif kind == "dict":
            out = dict(zip(keys, items, strict=True))
        elif kind == "OrderedDict":
            out = collections.OrderedDict(zip(keys[::-1], items, strict=True))
        elif kind == "Counter":
            out = collections.Counter({k: self.random.randint(-2, 5) for k in keys})
        elif kind == "defaultdict":
            out = self.defaultdict(dict(zip(keys, items, strict=True)))
        elif kind == "deque":
            out = collections.deque(items, maxlen=self.random.choice([None, size, size + 2]))
        elif kind in ("set", "frozenset"):
            members = {self.hashable() for _ in range(size)}
            out = members if kind == "set" else frozenset(members)
        elif kind == "SimpleNamespace":
            out = types.SimpleNamespace(**{f"a{k}": v for k, v in zip(keys, items, strict=True)})
        elif kind == "Pair":
            out = Pair(self.node(depth + 1), self.node(depth + 1))
        else:
            out = Fit(float(self.random.random()), dict(zip(keys, items, strict=True)))
        if isinstance(out, MEMOISED):
            self.shared.append(out)
        return out

    def defaultdict(self, items: dict) -> collections.defaultdict:
        roll = self.random.random()
        if roll < 0.15:
            self.met.add("random:own-factory")
            return collections.defaultdict(lambda: "the student's default", items)
        factory = self.random.choice([list, int, float, set, dict, tuple, str, None])
        return collections.defaultdict(factory, items)


# -- the boundary, as grading crosses it -------------------------------------------------------
class Kernel:
    """The export/resolve pair of the two sides: a non-data object (here only a student's own
    default factory) stays where it is and is reached by reference, as a handle calls it."""

    def __init__(self) -> None:
        self.objects: dict[int, object] = {}

    def export(self, obj):
        self.objects[len(self.objects) + 1] = obj
        return ["h", len(self.objects)]

    def resolve(self, tag, ident):
        return self.objects[ident]


def across(value):
    """``value`` as the grader decodes it from the kernel's answer to a call."""
    kernel = Kernel()
    encoder = codec.Encoder(kernel.export)
    text = codec.dumps({"op": "result", "value": encoder.encode(value)}, encoder.buffers)
    message, buffers = codec.loads(text)
    return codec.Decoder(buffers, kernel.resolve).decode(message["value"])


# -- what a visible test asks of a value -----------------------------------------------------
def fresh(value):
    """An expected value equal to ``value``, built as a test writes one: no object shared with
    it (so Python's identity shortcut in ``==`` cannot make a NaN equal itself)."""
    kind = type(value)
    if kind is float:
        return float.fromhex(value.hex())
    if kind is complex:
        return complex(fresh(value.real), fresh(value.imag))
    if isinstance(value, np.ndarray):
        return np.array(value, copy=True)
    if isinstance(value, np.generic):
        return np.array(value)[()]
    if isinstance(value, RANDOM):
        return copy.deepcopy(value)
    if codec.is_namedtuple(value):
        return kind(*map(fresh, value))
    if kind in (list, tuple, set, frozenset):
        return kind(map(fresh, value))
    if kind is collections.deque:
        return collections.deque(map(fresh, value), maxlen=value.maxlen)
    if kind is types.SimpleNamespace:
        return types.SimpleNamespace(**{k: fresh(v) for k, v in vars(value).items()})
    if kind is collections.defaultdict:
        return collections.defaultdict(
            value.default_factory, {fresh(k): fresh(v) for k, v in value.items()}
        )
    if isinstance(value, dict):
        return kind({fresh(k): fresh(v) for k, v in value.items()})
    return value


def outcome(ask, value):
    """What ``ask(value)`` returns, or the name of what it raises (a test's assert fails on
    either the same way); silent, as test cells must be."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return ask(value)
    except Exception as exc:
        return f"raises {type(exc).__name__}"


def holds(value, kinds: tuple) -> bool:
    """Whether ``value`` holds, anywhere inside, an object of one of ``kinds``."""
    if isinstance(value, kinds):
        return True
    if isinstance(value, dict):
        return any(holds(k, kinds) or holds(v, kinds) for k, v in value.items())
    if isinstance(value, types.SimpleNamespace):
        return holds(vars(value), kinds)
    if isinstance(value, list | tuple | set | frozenset | collections.deque):
        return any(holds(item, kinds) for item in value)
    return False


def answers(value, expected) -> dict:
    """Every predicate of a visible test, asked of ``value`` (``expected`` built apart)."""
    out = {
        "isinstance": tuple(isinstance(value, kind) for kind in ABSTRACT),
        "type name": type(value).__name__,
        "==": outcome(lambda v: bool(v == expected), value),
        "!=": outcome(lambda v: bool(v != expected), value),
        "len": outcome(len, value),
        "shape": outcome(np.shape, value),
        "dtype": outcome(lambda v: np.asarray(v).dtype.str, value),
        "dtype attribute": str(getattr(value, "dtype", None)),
        "allclose": outcome(lambda v: bool(np.allclose(v, expected)), value),
        "array_equal": outcome(lambda v: np.array_equal(v, expected, equal_nan=True), value),
        "keys": outcome(lambda v: [repr(k) for k in v.keys()], value),
        "key set": outcome(lambda v: set(v) == set(expected), value),
        "fields": getattr(value, "_fields", None),
        "factory": outcome(lambda v: v.default_factory, value),
        "missing key": outcome(lambda v: fresh(v)["no such key"], value),
        "maxlen": outcome(lambda v: v.maxlen, value),
        "attributes": outcome(lambda v: sorted(vars(v)), value),
    }
    if not holds(value, (set, frozenset, *RANDOM)):
        out["repr"] = repr(value)
        out["str"] = str(value)
    if isinstance(value, RANDOM):
        draw = np.random.Generator.random if isinstance(value, np.random.Generator) else None
        twin = copy.deepcopy(value)
        out["draws"] = (draw(twin, 4) if draw else twin.random_sample(4)).tolist()
        out["gaussians"] = copy.deepcopy(value).standard_normal(3).tolist()
    return out


def one_way(value) -> dict:
    """What a plain kernel allows that grading must allow too (True there implies True here)."""
    if not isinstance(value, np.ndarray):
        return {}
    flags = value.flags
    return {
        "writeable": flags.writeable,
        "C order": flags.c_contiguous,
        "F order": flags.f_contiguous,
    }


def places(original, decoded, expected, path="result"):
    """(path, original, decoded, expected) at every place inside the value, in step."""
    yield path, original, decoded, expected
    if type(original) is not type(decoded) and not codec.is_namedtuple(original):
        return  # the mismatch is reported at this place
    if isinstance(original, dict):
        for (key, item), expected_item in zip(original.items(), expected.values(), strict=True):
            yield from places(item, decoded[key], expected_item, f"{path}[{key!r}]")
    elif isinstance(original, types.SimpleNamespace):
        for name, item in vars(original).items():
            yield from places(
                item, getattr(decoded, name), getattr(expected, name), f"{path}.{name}"
            )
    elif isinstance(original, list | tuple | collections.deque):
        for i, (item, twin, expected_item) in enumerate(
            zip(original, decoded, expected, strict=True)
        ):
            yield from places(item, twin, expected_item, f"{path}[{i}]")


def differences(original, decoded) -> list[str]:
    """Every predicate that answers differently, and every broken identity, by place."""
    found, identities = [], {}
    expected = fresh(original)
    for path, o, d, e in places(original, decoded, expected):
        before, after = answers(o, e), answers(d, e)
        found += [
            f"{path}: {name}: {before[name]!r} became {after.get(name)!r}"
            for name in before
            if before[name] != after.get(name)
        ]
        allowed = one_way(d)
        found += [
            f"{path}: {name} in a plain kernel, not at grading"
            for name, value in one_way(o).items()
            if value and not allowed.get(name)
        ]
        if isinstance(o, MEMOISED + RANDOM):
            if identities.setdefault(id(o), d) is not d:
                found.append(f"{path}: one object in the result, two at grading")
    if len({id(d) for d in identities.values()}) != len(identities):
        found.append("two objects in the result, one at grading")
    return found


def test_visible_predicates_answer_alike_on_generated_results():
    variants = Variants(SEED)
    failures = []
    for index in range(N_VARIANTS):
        value = variants.value()
        failures += [f"variant {index}: {line}" for line in differences(value, across(value))]
    assert not failures, "\n".join(failures[:20])
    assert COVERED <= variants.met, f"never generated: {sorted(COVERED - variants.met)}"


CASES = {
    # the two results of issue 21 that failed the visible "returns a dict" test at grading
    "xor_params as an OrderedDict": collections.OrderedDict(
        W1=np.array([[20.0, -20.0], [20.0, -20.0]]),
        b1=np.array([-10.0, 30.0]),
        W2=np.array([[20.0], [20.0]]),
        b2=np.array([-30.0]),
    ),
    "sgd_step as an OrderedDict": collections.OrderedDict(W1=np.ones((3, 2)) - 0.1, b1=np.zeros(2)),
    "gradients in a defaultdict": collections.defaultdict(
        float, {"W1": np.zeros((2, 2)), "b1": np.zeros(2)}
    ),
    "a layer as a namespace": types.SimpleNamespace(W=np.eye(2), b=np.zeros(2)),
    "counts": collections.Counter({0: 3, 1: 5}),
    "history in a deque": collections.deque([0.5, 0.25, 0.125], maxlen=3),
    "a seeded RandomState": np.random.RandomState(0),
    "a cache of views": (np.arange(12.0).reshape(3, 4)[:, ::2], np.eye(3).T, np.float32(1.5)),
}


@pytest.mark.parametrize("value", CASES.values(), ids=CASES.keys())
def test_the_results_that_once_differed_answer_alike(value):
    decoded = across(value)
    assert differences(value, decoded) == []
    assert type(decoded) is type(value)
    if isinstance(value, dict):
        assert isinstance(decoded, dict) and set(decoded) == set(value)


def advanced(state: np.random.RandomState) -> np.random.RandomState:
    twin = copy.deepcopy(state)
    twin.random_sample()
    return twin


SHARED = [1.0]
LOSSY = {
    # what a boundary that loses a type, a dtype, a layout or an identity would hand the test
    "OrderedDict as dict": (collections.OrderedDict(b=1, a=2), dict),
    "defaultdict as dict": (collections.defaultdict(list, a=[1]), dict),
    "Counter as dict": (collections.Counter(a=1), dict),
    "deque without its maxlen": (collections.deque([1], maxlen=2), collections.deque),
    "tuple as list": ((1, 2), list),
    "namedtuple as tuple": (Pair(1, 2), tuple),
    "set as frozenset": ({1, 2}, frozenset),
    "namespace as dict": (types.SimpleNamespace(a=1), vars),
    "np.float64 as float": (np.float64(0.5), float),
    "float as np.float64": (0.5, np.float64),
    "np.longlong as np.int64": (np.longlong(3), np.int64),
    "0-d array as scalar": (np.array(2.0), lambda a: a[()]),
    "int64 as int32": (np.arange(3), lambda a: a.astype(np.int32)),
    "big-endian as native": (np.arange(3.0).astype(">f8"), lambda a: a.astype("<f8")),
    "C order lost": (np.ones((2, 3)), lambda a: np.asfortranarray(a)),
    "Fortran order lost": (np.asfortranarray(np.ones((2, 3))), np.ascontiguousarray),
    "writeable lost": (np.ones(2), lambda a: np.broadcast_to(a, a.shape)),
    "-0.0 as 0.0": (-0.0, abs),
    "NaN as 0": (np.array([np.nan, 1.0]), np.nan_to_num),
    "aliasing lost": ([SHARED, SHARED], lambda v: [v[0], list(v[1])]),
    "aliasing made up": ([[1.0], [1.0]], lambda v: [v[0], v[0]]),
    "RandomState advanced": (np.random.RandomState(0), advanced),
    "RandomState as Generator": (np.random.RandomState(0), lambda s: np.random.default_rng(0)),
}


@pytest.mark.parametrize(("value", "lossy"), LOSSY.values(), ids=LOSSY.keys())
def test_the_check_sees_what_a_lossy_boundary_would_change(value, lossy):
    """The control: each loss a boundary could make is a difference the check reports."""
    assert differences(value, across(value)) == []
    assert differences(value, lossy(across(value))) != []
