"""The data that may cross the kernel boundary, and its exact encoding.

Both sides of the boundary use this module: the grading process imports it, and the kernel
gets its source text (it needs only the standard library and NumPy). A value is encoded
into a JSON tree plus a list of binary buffers; nothing is ever pickled.

What crosses as data: ``None``, ``bool``, ``int``, ``float``, ``complex``, ``str``,
``bytes``; NumPy arrays (exactly ``ndarray``) and scalars of bool, integer, float or complex
dtype, as ``.npy`` read back with ``allow_pickle=False``; lists, tuples, namedtuples and
dicts with hashable plain keys; NumPy ``Generator``\\ s, by the state of their bit generator.
Types round-trip exactly (``True`` stays ``bool``, ``np.int64`` stays ``np.int64``, a 0-d
array stays a 0-d array) and so does aliasing: an object met twice in one message is sent
once and decoded as one object. Anything else is left to the caller's ``export`` function,
which turns it into a reference (a handle) and back.

Tree nodes are short lists whose first item is a tag::

    N none   b bool   i int (hex)   f float (hex)   c complex   s str   y bytes
    a array  g NumPy scalar   l list   t tuple   n namedtuple   d dict   r Generator
    @ an object already sent in this message   h/o a reference made by ``export``
    A an argument of the call this message answers (so aliasing with arguments survives)
"""

from __future__ import annotations

import base64
import io
import json

import numpy as np

MAX_DEPTH = 200
MAX_NODES = 2_000_000
MAX_MESSAGE_BYTES = 64 * 2**20
NUMERIC_KINDS = frozenset("biufc")
BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


class CodecError(ValueError):
    """A value cannot be encoded, or a message is malformed; the message is one line."""


class Encoder:
    """Encode one message; ``export(obj)`` returns a ``[tag, id]`` node for non-data objects."""

    def __init__(self, export=None) -> None:
        self.export = export
        self.arguments: dict[int, int] = {}  # id(argument object) -> its index in the request
        self.buffers: list[bytes] = []
        self.memo: dict[int, int] = {}
        self.keep: list[object] = []  # keeps memoised objects alive, so ids stay unique
        self.nodes = 0
        self.size = 0

    def buffer(self, data: bytes) -> int:
        self.size += len(data)
        if self.size > MAX_MESSAGE_BYTES:
            raise CodecError(f"the value is larger than {MAX_MESSAGE_BYTES // 2**20} MB")
        self.buffers.append(data)
        return len(self.buffers) - 1

    def remember(self, obj) -> int | None:
        """The memo index of ``obj`` if it was sent already; else record it and return None."""
        if id(obj) in self.memo:
            return self.memo[id(obj)]
        self.memo[id(obj)] = len(self.memo)
        self.keep.append(obj)
        return None

    def encode(self, obj, depth: int = 0):
        self.nodes += 1
        if depth > MAX_DEPTH:
            raise CodecError(f"the value is nested more than {MAX_DEPTH} levels deep")
        if self.nodes > MAX_NODES:
            raise CodecError(f"the value has more than {MAX_NODES} parts")
        kind = type(obj)
        if obj is None:
            return ["N"]
        if self.arguments and id(obj) in self.arguments:
            return ["A", self.arguments[id(obj)]]
        if kind is bool:
            return ["b", int(obj)]
        if kind is int:
            return ["i", hex(obj)]
        if kind is float:
            return ["f", obj.hex()]
        if kind is complex:
            return ["c", obj.real.hex(), obj.imag.hex()]
        if kind is str:
            self.size += len(obj)
            return ["s", obj]
        if kind is bytes:
            return ["y", self.buffer(obj)]
        if kind is np.ndarray and is_numeric(obj.dtype):
            seen = self.remember(obj)
            if seen is not None:
                return ["@", seen]
            return ["a", self.memo[id(obj)], self.buffer(npy_bytes(obj))]
        if isinstance(obj, np.generic) and type(obj).__module__ == "numpy":
            if is_numeric(obj.dtype):
                return ["g", self.buffer(npy_bytes(np.asarray(obj)))]
        if kind is list or kind is dict:
            seen = self.remember(obj)
            if seen is not None:
                return ["@", seen]
            index = self.memo[id(obj)]
            if kind is list:
                return ["l", index, [self.encode(item, depth + 1) for item in list(obj)]]
            items = [[self.encode(k, depth + 1), self.encode(v, depth + 1)] for k, v in obj.items()]
            return ["d", index, items]
        if kind is tuple:
            return ["t", [self.encode(item, depth + 1) for item in obj]]
        if is_namedtuple(obj):
            fields = [str(f) for f in kind._fields]
            items = [self.encode(item, depth + 1) for item in tuple.__iter__(obj)]
            return ["n", str(kind.__name__), fields, items]
        if kind is np.random.Generator and type(obj.bit_generator).__name__ in BIT_GENERATORS:
            seen = self.remember(obj)
            if seen is not None:
                return ["@", seen]
            state = obj.bit_generator.state
            return ["r", self.memo[id(obj)], state["bit_generator"], self.encode(state, depth + 1)]
        if self.export is not None:
            return self.export(obj)
        raise CodecError(f"a {type(obj).__name__} cannot be sent as data")


class Decoder:
    """Decode one message; ``resolve(tag, id)`` turns an ``h``/``o`` node into an object."""

    def __init__(self, buffers: list[bytes], resolve=None, arguments=None) -> None:
        self.buffers = buffers
        self.resolve = resolve
        self.arguments = arguments or []  # the objects a request sent, by memo index
        self.memo: dict[int, object] = {}
        self.nodes = 0

    def buffer(self, index) -> bytes:
        if type(index) is not int or not 0 <= index < len(self.buffers):
            raise CodecError("a reference to a missing buffer")
        return self.buffers[index]

    def decode(self, node, depth: int = 0):
        self.nodes += 1
        if depth > MAX_DEPTH or self.nodes > MAX_NODES:
            raise CodecError("the message is nested too deeply or has too many parts")
        if type(node) is not list or not node or type(node[0]) is not str:
            raise CodecError("a malformed node")
        tag, args = node[0], node[1:]
        try:
            return self.decode_tagged(tag, args, depth)
        except CodecError:
            raise
        except (ValueError, TypeError, KeyError, IndexError, OverflowError, AttributeError) as exc:
            raise CodecError(f"a malformed {tag!r} node: {type(exc).__name__}") from None

    def decode_tagged(self, tag: str, args: list, depth: int):
        if tag == "N":
            return None
        if tag == "b":
            return bool(check(args[0], int))
        if tag == "i":
            return int(check(args[0], str), 16)
        if tag == "f":
            return float.fromhex(check(args[0], str))
        if tag == "c":
            return complex(float.fromhex(check(args[0], str)), float.fromhex(check(args[1], str)))
        if tag == "s":
            return check(args[0], str)
        if tag == "y":
            return bytes(self.buffer(args[0]))
        if tag == "a":
            array = load_npy(self.buffer(args[1]))
            return self.store(args[0], array)
        if tag == "g":
            array = load_npy(self.buffer(args[0]))
            if array.ndim != 0:
                raise CodecError("a NumPy scalar that is not 0-d")
            return array[()]
        if tag == "l":
            out = self.store(args[0], [])
            out.extend(self.decode(item, depth + 1) for item in check(args[1], list))
            return out
        if tag == "d":
            out = self.store(args[0], {})
            for pair in check(args[1], list):
                if type(pair) is not list or len(pair) != 2:
                    raise CodecError("a malformed dict item")
                key = self.decode(pair[0], depth + 1)
                hash(key)
                out[key] = self.decode(pair[1], depth + 1)
            return out
        if tag == "t":
            return tuple(self.decode(item, depth + 1) for item in check(args[0], list))
        if tag == "n":
            return make_namedtuple(
                check(args[0], str),
                check(args[1], list),
                [self.decode(item, depth + 1) for item in check(args[2], list)],
            )
        if tag == "r":
            name = check(args[1], str)
            if name not in BIT_GENERATORS:
                raise CodecError(f"unknown bit generator {name!r}")
            bit_generator = getattr(np.random, name)()
            bit_generator.state = self.decode(args[2], depth + 1)
            return self.store(args[0], np.random.Generator(bit_generator))
        if tag == "@":
            if type(args[0]) is not int or args[0] not in self.memo:
                raise CodecError("a reference to an object not yet sent")
            return self.memo[args[0]]
        if tag == "A":
            if type(args[0]) is not int or not 0 <= args[0] < len(self.arguments):
                raise CodecError("a reference to an argument that was not sent")
            return self.arguments[args[0]]
        if tag in ("h", "o") and self.resolve is not None:
            return self.resolve(tag, args[0])
        raise CodecError(f"unknown node {tag!r}")

    def store(self, index, obj):
        if type(index) is not int or index in self.memo:
            raise CodecError("a malformed object index")
        self.memo[index] = obj
        return obj


def check(value, kind):
    """``value`` if it is exactly of type ``kind``, else a ``CodecError``."""
    if type(value) is not kind:
        raise CodecError(f"expected {kind.__name__}, got {type(value).__name__}")
    return value


def is_numeric(dtype: np.dtype) -> bool:
    """Whether arrays of ``dtype`` may cross: bool, integer, float or complex, not structured."""
    return dtype.kind in NUMERIC_KINDS and dtype.fields is None and not dtype.hasobject


def is_namedtuple(obj) -> bool:
    """Whether ``obj`` is an instance of a class made by ``collections.namedtuple``."""
    kind = type(obj)
    return (
        isinstance(obj, tuple)
        and kind.__bases__ == (tuple,)
        and isinstance(getattr(kind, "_fields", None), tuple)
        and all(type(f) is str for f in kind._fields)
        and len(kind._fields) == tuple.__len__(obj)
    )


_NAMEDTUPLES: dict[tuple, type] = {}


def make_namedtuple(name: str, fields: list, items: list):
    """An instance of a namedtuple class called ``name`` with ``fields`` (classes are reused)."""
    import collections

    if len(fields) != len(items) or not all(type(f) is str for f in fields):
        raise CodecError("a malformed namedtuple")
    key = (name, tuple(fields))
    if key not in _NAMEDTUPLES:
        try:
            _NAMEDTUPLES[key] = collections.namedtuple(name, fields)
        except (ValueError, TypeError):
            _NAMEDTUPLES[key] = collections.namedtuple("Record", fields, rename=True)
    return _NAMEDTUPLES[key](*items)


def npy_bytes(array: np.ndarray) -> bytes:
    """``array`` in ``.npy`` format."""
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def load_npy(data: bytes) -> np.ndarray:
    """An array from ``.npy`` bytes, refusing pickles and non-numeric dtypes."""
    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except Exception as exc:  # NumPy raises many types on a malformed header
        raise CodecError(f"a malformed .npy buffer ({type(exc).__name__})") from None
    if type(array) is not np.ndarray or not is_numeric(array.dtype):
        raise CodecError("an array of a dtype that may not cross")
    return array


def dumps(message: dict, buffers: list[bytes]) -> str:
    """A message and its buffers as one JSON text (buffers in base64)."""
    payload = {"m": message, "b": [base64.b64encode(b).decode("ascii") for b in buffers]}
    text = json.dumps(payload, separators=(",", ":"), allow_nan=False)
    if len(text) > MAX_MESSAGE_BYTES * 4 // 3 + 2**20:
        raise CodecError(f"the message is larger than {MAX_MESSAGE_BYTES // 2**20} MB")
    return text


def loads(text: str) -> tuple[dict, list[bytes]]:
    """The message and buffers of a :func:`dumps` text; ``CodecError`` if malformed."""
    if type(text) is not str:
        raise CodecError("a message that is not text")
    if len(text) > MAX_MESSAGE_BYTES * 4 // 3 + 2**20:
        raise CodecError(f"a message larger than {MAX_MESSAGE_BYTES // 2**20} MB")
    try:
        payload = json.loads(text)
        message, encoded = payload["m"], payload["b"]
        if type(message) is not dict or type(encoded) is not list:
            raise TypeError
        buffers = [base64.b64decode(check(b, str), validate=True) for b in encoded]
    except (ValueError, TypeError, KeyError, RecursionError) as exc:
        raise CodecError(f"a malformed message ({type(exc).__name__})") from None
    return message, buffers


def encode(obj, export=None) -> tuple[object, list[bytes]]:
    """``obj`` as a (tree, buffers) pair."""
    encoder = Encoder(export)
    return encoder.encode(obj), encoder.buffers


def decode(tree, buffers: list[bytes], resolve=None):
    """The object of a (tree, buffers) pair."""
    return Decoder(buffers, resolve).decode(tree)
