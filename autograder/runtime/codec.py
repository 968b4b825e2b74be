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

The other side may be hostile, so decoding one message has a budget, checked before and
while parsing, and nothing made from a message outlives its :class:`Decoder`:

- **Text**: at most ``MAX_MESSAGE_BYTES`` of data (about 86 MB of ASCII text). Before
  ``json.loads`` builds anything, a linear scan that skips string literals counts the JSON
  values (at most ``JSON_VALUES_PER_NODE * MAX_NODES``) and the nesting (at most
  ``3 * MAX_DEPTH + 8``): ``json.loads`` never builds more than that.
- **Nodes**: at most ``MAX_NODES``, counted as *expanded* (see :class:`Budget`): a
  reference to an object counts the whole object again, so no walker that ignores aliasing
  (``np.asarray`` on nested lists, ``repr``, ``==``) meets more than the budget; a payload
  (str, bytes, int, array data) counts one node per ``PAYLOAD_BYTES_PER_NODE`` bytes.
- **Depth**: ``MAX_DEPTH`` levels of nodes.
- **Hashing**: a dict refuses more than ``MAX_EQUAL_HASHES`` keys of one hash, so building
  it stays linear (Python's dict is quadratic in keys that share a hash).
- **Buffers**: each is used by one node, and a ``.npy`` header must describe exactly the
  bytes after it, checked before NumPy allocates anything.
- **Namedtuples**: at most ``MAX_NAMEDTUPLE_CLASSES`` classes per message, of at most
  ``MAX_NAMEDTUPLE_FIELDS`` fields with names Python accepts as written; the classes are
  cached per :class:`Decoder`, never in the module.
- **Time**: each ``decode`` call stops after ``MAX_DECODE_SECONDS``, or at the decoder's
  ``deadline`` (a ``time.monotonic()`` value) if that comes first.

The costliest messages the budget admits (4,000,000 JSON values spent on generators or on
memoised lists, or 1,000,000 nodes of references to one array, then ``np.asarray`` of it)
peak at 374 MB of RSS in the decoding process (``tests/test_codec.py`` measures it in a
subprocess; a message of generators just past the budget peaks at 417 MB before it is
refused), and take a few seconds. Honest grading sends at most 137 nodes and 2.6 MB a
message.
"""

from __future__ import annotations

import base64
import collections
import io
import json
import math
import sys
import time

import numpy as np

MAX_DEPTH = 200
# The largest message of the reference solutions holds 137 nodes (module 08; every other
# module under 40), since arrays cross as buffers. The largest an honest student could send
# is the biggest data set of the course returned as nested lists (module 08's 1,797 x 64
# digits: 117,000 nodes). A million leaves room for both, and the worst message it admits
# decodes well under 1 GB.
MAX_NODES = 1_000_000
MAX_MESSAGE_BYTES = 64 * 2**20
# A node takes 3 to 7 JSON values (its list, the tag, the fields, the comma after it; 7 for an
# empty namedtuple), so every message of up to 570,000 nodes passes the scan of ``loads``.
JSON_VALUES_PER_NODE = 4
# So that a 64 MB message of arrays (524,288 nodes) fits the node budget, and no walker that
# copies every alias (``np.asarray`` of a list of one array met again and again) meets more
# than 128 MB of payload.
PAYLOAD_BYTES_PER_NODE = 128
# A naive recursive walker (``==`` on lists, a recursive helper) goes round a cycle until
# Python's recursion limit stops it, after up to ~1000 turns: each reference that closes a
# cycle counts that many copies of the object it returns to.
CYCLE_COST = 1000
# hash(-1) == hash(-2), and 2**60 is the hash of 0.5: two honest keys may share a hash.
MAX_EQUAL_HASHES = 8
MAX_NAMEDTUPLE_CLASSES = 64
MAX_NAMEDTUPLE_FIELDS = 64
MAX_NAME_CHARS = 100
MAX_DECODE_SECONDS = 10.0
CHECK_EVERY = 4096  # nodes between two looks at the clock
SCAN_CHUNK = 2**20  # characters of text the scan of ``loads`` reads at a time
NUMERIC_KINDS = frozenset("biufc")
BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


class CodecError(ValueError):
    """A value cannot be encoded, or a message is malformed; the message is one line."""


class Budget:
    """The expanded size of one message, in nodes, checked as it grows; shared by both sides.

    Each node counts one, and its payload (the bytes of a str, bytes, int or array) one more
    per ``PAYLOAD_BYTES_PER_NODE``. Objects that may be met again (lists, dicts, arrays,
    generators) are bracketed by :meth:`begin` and :meth:`finish` (or recorded whole by
    :meth:`leaf`), which record their expanded size; a later reference to a finished object
    counts that size again (:meth:`reference`), as a walker that ignores aliasing meets it.

    A reference to an object still in progress (the object itself or one of its ancestors)
    closes a cycle. It counts one when met, and ``CYCLE_COST`` times the object's size when
    the object finishes, for walkers that go round the cycle until the recursion limit stops
    them. An object whose contents reach back to one of its ancestors (not to itself) is left
    *open* when it finishes: walked from anywhere but that ancestor it is larger than its
    size (a few such objects referencing each other unfold to factorially many paths, even
    for ``repr``, which stops only at an object it is already inside), so a later reference to
    it is refused. References to closed objects are counted exactly as a walker meets them.
    """

    def __init__(self) -> None:
        self.nodes = 0
        self.sizes: dict[int, int] = {}  # finished object -> its expanded size
        self.open: set[int] = set()  # finished objects holding a reference to an ancestor
        self.stack: list[list[int]] = []  # in progress: [start, lowest, back references]
        self.position: dict[int, int] = {}  # in progress: index -> place in the stack
        self.until = math.inf
        self.seconds = 0.0
        self.next_check = min(CHECK_EVERY, MAX_NODES + 1)

    def charge(self, nodes: int) -> None:
        self.nodes += nodes
        if self.nodes >= self.next_check:
            self.check()

    def check(self) -> None:
        """Past ``MAX_NODES`` or the time limit, ``CodecError``; every ``CHECK_EVERY`` nodes."""
        if self.nodes > MAX_NODES:
            raise CodecError(
                f"the value has more than {MAX_NODES:,} parts (each reference counted as a copy)"
            )
        if time.monotonic() > self.until:
            raise CodecError(f"decoding took longer than {self.seconds:.3g} s")
        self.next_check = min(self.nodes + CHECK_EVERY, MAX_NODES + 1)

    def time_limit(self, seconds: float, until: float) -> None:
        """Stop at ``until`` (a ``time.monotonic()`` value), said to be ``seconds`` away."""
        self.seconds, self.until = seconds, until

    def begin(self, index: int) -> None:
        """Object ``index`` starts; its own node is already charged."""
        self.position[index] = place = len(self.stack)
        self.stack.append([self.nodes, place, 0])

    def finish(self, index: int) -> None:
        start, lowest, back_references = self.stack.pop()
        place = self.position.pop(index)
        size = self.nodes - start + 1
        if back_references:
            self.charge(back_references * CYCLE_COST * size)
            size = self.nodes - start + 1
        self.sizes[index] = size
        if lowest < place:
            self.open.add(index)
            parent = self.stack[-1]
            parent[1] = min(parent[1], lowest)

    def leaf(self, index: int, weight: int) -> None:
        """Object ``index`` (an array) is whole: its node and payload are ``weight``."""
        self.charge(weight - 1)
        self.sizes[index] = weight

    def reference(self, index: int) -> None:
        """An ``@`` node: object ``index`` met again; its own node is already charged."""
        if index in self.position:
            target = self.position[index]
            self.stack[target][2] += 1
            self.stack[-1][1] = min(self.stack[-1][1], target)
        elif index in self.open:
            raise CodecError("a reference to an object inside a cycle through another object")
        else:
            self.charge(self.sizes[index] - 1)


def payload_nodes(n_bytes: int) -> int:
    return n_bytes // PAYLOAD_BYTES_PER_NODE


def array_weight(shape: tuple[int, ...], itemsize: int) -> int:
    """The nodes of an array: one, plus its data; an empty axis counts as one element.

    A (10**18, 0) array holds nothing, but ``tolist()`` or iterating over its rows would not.
    """
    return 1 + payload_nodes(itemsize * math.prod(max(n, 1) for n in shape))


def expanded_weight(obj, limit: int) -> int:
    """The nodes ``obj`` would count if sent with every alias copied; ``limit + 1`` past ``limit``.

    For the call's own arguments, which an ``A`` node references without sending them.
    """
    total, pending = 0, [obj]
    while pending:
        item = pending.pop()
        kind = type(item)
        total += 1
        if kind is str or kind is bytes:
            total += payload_nodes(len(item))
        elif kind is int:
            total += payload_nodes(item.bit_length() // 4)
        elif kind is np.ndarray:
            total += array_weight(item.shape, item.itemsize) - 1
        elif kind is list or kind is tuple or is_namedtuple(item):
            if total + len(item) > limit:  # each item counts at least one
                return limit + 1
            pending.extend(item if kind is list else tuple.__iter__(item))
        elif kind is dict:
            if total + 2 * len(item) > limit:
                return limit + 1
            for key, value in item.items():
                pending += (key, value)
        if total > limit:
            return limit + 1
    return total


class Encoder:
    """Encode one message; ``export(obj)`` returns a ``[tag, id]`` node for non-data objects."""

    def __init__(self, export=None) -> None:
        self.export = export
        self.arguments: dict[int, int] = {}  # id(argument object) -> its index in the request
        self.buffers: list[bytes] = []
        self.memo: dict[int, int] = {}
        self.keep: list[object] = []  # keeps memoised objects alive, so ids stay unique
        self.budget = Budget()  # the decoder's, so that what encodes also decodes
        self.size = 0

    @property
    def nodes(self) -> int:
        return self.budget.nodes

    def buffer(self, data: bytes) -> int:
        self.size += len(data)
        if self.size > MAX_MESSAGE_BYTES:
            raise CodecError(f"the value is larger than {MAX_MESSAGE_BYTES // 2**20} MB")
        self.buffers.append(data)
        return len(self.buffers) - 1

    def remember(self, obj) -> int | None:
        """The memo index of ``obj`` if it was sent already; else record it and return None."""
        if id(obj) in self.memo:
            index = self.memo[id(obj)]
            self.budget.reference(index)
            return index
        self.memo[id(obj)] = len(self.memo)
        self.keep.append(obj)
        return None

    def encode(self, obj, depth: int = 0):
        self.budget.charge(1)
        if depth > MAX_DEPTH:
            raise CodecError(f"the value is nested more than {MAX_DEPTH} levels deep")
        kind = type(obj)
        if obj is None:
            return ["N"]
        if self.arguments and id(obj) in self.arguments:
            self.budget.charge(expanded_weight(obj, MAX_NODES - self.budget.nodes + 1) - 1)
            return ["A", self.arguments[id(obj)]]
        if kind is bool:
            return ["b", int(obj)]
        if kind is int:
            text = hex(obj)
            self.budget.charge(payload_nodes(len(text)))
            return ["i", text]
        if kind is float:
            return ["f", obj.hex()]
        if kind is complex:
            return ["c", obj.real.hex(), obj.imag.hex()]
        if kind is str:
            self.size += len(obj)
            self.budget.charge(payload_nodes(len(obj)))
            return ["s", obj]
        if kind is bytes:
            self.budget.charge(payload_nodes(len(obj)))
            return ["y", self.buffer(obj)]
        if kind is np.ndarray and is_numeric(obj.dtype):
            seen = self.remember(obj)
            if seen is not None:
                return ["@", seen]
            index = self.memo[id(obj)]
            self.budget.leaf(index, array_weight(obj.shape, obj.itemsize))
            return ["a", index, self.buffer(npy_bytes(obj))]
        if isinstance(obj, np.generic) and type(obj).__module__ == "numpy":
            if is_numeric(obj.dtype):
                self.budget.charge(payload_nodes(obj.itemsize))
                return ["g", self.buffer(npy_bytes(np.asarray(obj)))]
        if kind is list or kind is dict:
            seen = self.remember(obj)
            if seen is not None:
                return ["@", seen]
            index = self.memo[id(obj)]
            self.budget.begin(index)
            if kind is list:
                node = ["l", index, [self.encode(item, depth + 1) for item in list(obj)]]
            else:
                items = [
                    [self.encode(k, depth + 1), self.encode(v, depth + 1)] for k, v in obj.items()
                ]
                node = ["d", index, items]
            self.budget.finish(index)
            return node
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
            index = self.memo[id(obj)]
            self.budget.begin(index)
            state = obj.bit_generator.state
            node = ["r", index, state["bit_generator"], self.encode(state, depth + 1)]
            self.budget.finish(index)
            return node
        if self.export is not None:
            return self.export(obj)
        raise CodecError(f"a {type(obj).__name__} cannot be sent as data")


class Decoder:
    """Decode one message; ``resolve(tag, id)`` turns an ``h``/``o`` node into an object.

    ``arguments`` are the objects a request sent, by memo index (for ``A`` nodes).
    Each call of :meth:`decode` stops with ``CodecError`` after ``MAX_DECODE_SECONDS``, or
    at ``deadline`` (a ``time.monotonic()`` value) if that comes first. The budget (nodes,
    buffers, namedtuple classes) is for the whole message, across calls.
    """

    def __init__(
        self, buffers: list[bytes], resolve=None, arguments=None, *, deadline: float | None = None
    ) -> None:
        self.buffers = buffers
        self.resolve = resolve
        self.arguments = arguments or []
        self.deadline = deadline
        self.memo: dict[int, object] = {}
        self.budget = Budget()
        self.used: set[int] = set()  # buffers already decoded
        self.classes: dict[tuple, type] = {}  # (name, fields) -> namedtuple class
        self.weights: dict[int, int] = {}  # argument index -> its expanded weight

    @property
    def nodes(self) -> int:
        return self.budget.nodes

    def buffer(self, index) -> bytes:
        if type(index) is not int or not 0 <= index < len(self.buffers):
            raise CodecError("a reference to a missing buffer")
        if index in self.used:
            raise CodecError("a buffer used twice")
        self.used.add(index)
        return self.buffers[index]

    def decode(self, node, depth: int = 0):
        budget = self.budget
        if depth == 0:
            now = time.monotonic()
            until = now + MAX_DECODE_SECONDS
            if self.deadline is not None:
                until = min(until, self.deadline)
            budget.time_limit(until - now, until)
            if now > until:
                raise CodecError("decoding took longer than its time limit")
        budget.nodes += 1  # budget.charge(1), inline: this runs for every node
        if budget.nodes >= budget.next_check:
            budget.check()
        if depth > MAX_DEPTH:
            raise CodecError(f"the message is nested more than {MAX_DEPTH} levels deep")
        if type(node) is not list or not node or type(node[0]) is not str:
            raise CodecError("a malformed node")
        tag, args = node[0], node[1:]
        try:
            return self.decode_tagged(tag, args, depth)
        except CodecError:
            raise
        except (
            ValueError,
            TypeError,
            KeyError,
            IndexError,
            OverflowError,
            AttributeError,
            RecursionError,
        ) as exc:
            raise CodecError(f"a malformed {tag!r} node: {type(exc).__name__}") from None

    def decode_tagged(self, tag: str, args: list, depth: int):
        if tag == "N":
            return None
        if tag == "b":
            return bool(check(args[0], int))
        if tag == "i":
            return int(self.text(args[0]), 16)
        if tag == "f":
            return float.fromhex(self.text(args[0]))
        if tag == "c":
            return complex(float.fromhex(self.text(args[0])), float.fromhex(self.text(args[1])))
        if tag == "s":
            return self.text(args[0])
        if tag == "y":
            data = self.buffer(args[0])
            self.budget.charge(payload_nodes(len(data)))
            return bytes(data)
        if tag == "a":
            self.claim(args[0])
            array = load_npy(self.buffer(args[1]))
            self.memo[args[0]] = array
            self.budget.leaf(args[0], array_weight(array.shape, array.itemsize))
            self.budget.check()  # reading a header takes ~1000 times a plain node
            return array
        if tag == "g":
            array = load_npy(self.buffer(args[0]))
            if array.ndim != 0:
                raise CodecError("a NumPy scalar that is not 0-d")
            self.budget.charge(payload_nodes(array.itemsize))
            self.budget.check()
            return array[()]
        if tag == "l":
            items = check(args[1], list)
            out = self.store(args[0], [])
            out.extend(self.decode(item, depth + 1) for item in items)
            self.budget.finish(args[0])
            return out
        if tag == "d":
            return self.decode_dict(args, depth)
        if tag == "t":
            return tuple(self.decode(item, depth + 1) for item in check(args[0], list))
        if tag == "n":
            kind = self.namedtuple_class(check(args[0], str), check(args[1], list))
            items = check(args[2], list)
            if len(items) != len(kind._fields):
                raise CodecError("a namedtuple whose items do not match its fields")
            return kind._make([self.decode(item, depth + 1) for item in items])
        if tag == "r":
            name = check(args[1], str)
            if name not in BIT_GENERATORS:
                raise CodecError(f"unknown bit generator {name!r}")
            self.claim(args[0])
            self.budget.begin(args[0])
            bit_generator = getattr(np.random, name)()
            bit_generator.state = self.decode(args[2], depth + 1)
            self.memo[args[0]] = out = np.random.Generator(bit_generator)
            self.budget.finish(args[0])
            return out
        if tag == "@":
            if type(args[0]) is not int or args[0] not in self.memo:
                raise CodecError("a reference to an object not yet sent")
            self.budget.reference(args[0])
            return self.memo[args[0]]
        if tag == "A":
            if type(args[0]) is not int or not 0 <= args[0] < len(self.arguments):
                raise CodecError("a reference to an argument that was not sent")
            if args[0] not in self.weights:
                obj = self.arguments[args[0]]
                self.weights[args[0]] = expanded_weight(obj, MAX_NODES - self.budget.nodes + 1)
            self.budget.charge(self.weights[args[0]] - 1)
            return self.arguments[args[0]]
        if tag in ("h", "o") and self.resolve is not None:
            return self.resolve(tag, args[0])
        raise CodecError(f"unknown node {tag!r}")

    def decode_dict(self, args: list, depth: int) -> dict:
        """A dict, refusing repeated keys and more than ``MAX_EQUAL_HASHES`` keys of one hash.

        Python's dict compares a new key with every key of the same hash it holds, so keys
        chosen to share one hash (``k * (2**61 - 1)`` for ints; tuples of them) make building
        it quadratic. Each key is hashed before it goes in, so refusing costs one pass.
        """
        pairs = check(args[1], list)
        out = self.store(args[0], {})
        hashes: dict[int, int] = {}
        for count, pair in enumerate(pairs, 1):
            if type(pair) is not list or len(pair) != 2:
                raise CodecError("a malformed dict item")
            key = self.decode(pair[0], depth + 1)
            # counted modulo the hash modulus: an int in [0, modulus) is its own hash, so the
            # count is free of collisions itself (a tuple's hash may be any 64-bit value)
            code = hash(key) % sys.hash_info.modulus  # TypeError if it cannot be hashed
            hashes[code] = hashes.get(code, 0) + 1
            if hashes[code] > MAX_EQUAL_HASHES:
                raise CodecError(f"a dict with more than {MAX_EQUAL_HASHES} keys of one hash")
            out[key] = self.decode(pair[1], depth + 1)
            if len(out) != count:
                raise CodecError("a dict with a repeated key")
        self.budget.finish(args[0])
        return out

    def namedtuple_class(self, name: str, fields: list) -> type:
        """The class for a namedtuple ``name`` with ``fields``, made once per message.

        Python must accept every name as written: ``rename=True`` turns a name it does not
        (a keyword, a duplicate, one starting with ``_``) into ``_<index>``, and the fields
        must then be unchanged, which keeps an honest ``rename=True`` class's ``_1``.
        """
        if len(fields) > MAX_NAMEDTUPLE_FIELDS:
            raise CodecError(f"a namedtuple with more than {MAX_NAMEDTUPLE_FIELDS} fields")
        if len(name) > MAX_NAME_CHARS or any(
            type(f) is not str or len(f) > MAX_NAME_CHARS for f in fields
        ):
            raise CodecError("a malformed namedtuple name or field")
        key = (name, tuple(fields))
        if key not in self.classes:
            if len(self.classes) >= MAX_NAMEDTUPLE_CLASSES:
                raise CodecError(f"more than {MAX_NAMEDTUPLE_CLASSES} kinds of namedtuple")
            try:
                kind = collections.namedtuple(name, fields, rename=True)
            except (ValueError, TypeError, SyntaxError):  # SyntaxError: '\\ufb01', 'fi'
                raise CodecError("a namedtuple with names Python does not accept") from None
            if kind._fields != key[1]:
                raise CodecError("a namedtuple with names Python does not accept")
            self.classes[key] = kind
        return self.classes[key]

    def text(self, value) -> str:
        """``value`` if it is a str, with its payload charged."""
        self.budget.charge(payload_nodes(len(check(value, str))))
        return value

    def claim(self, index) -> None:
        """Check that ``index`` may name a new object: an unused int below ``MAX_NODES``.

        The range also keeps the memo's keys apart: ints chosen to share a hash would make
        it quadratic (an int in [0, 2**61 - 1) is its own hash).
        """
        if (
            type(index) is not int
            or not 0 <= index < MAX_NODES
            or index in self.memo
            or index in self.budget.position
        ):
            raise CodecError("a malformed object index")

    def store(self, index, obj):
        """Record ``obj`` (a list or dict about to be filled) as object ``index``."""
        self.claim(index)
        self.memo[index] = obj
        self.budget.begin(index)
        return obj


def check(value, kind):
    """``value`` if it is exactly of type ``kind``, else a ``CodecError``."""
    if type(value) is not kind:
        raise CodecError(f"expected {kind.__name__}, got {type(value).__name__}")
    return value


def is_numeric(dtype: np.dtype) -> bool:
    """Whether arrays of ``dtype`` may cross: bool, integer, float or complex, not structured."""
    return (
        dtype.kind in NUMERIC_KINDS
        and dtype.fields is None
        and dtype.subdtype is None
        and not dtype.hasobject
    )


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


def npy_bytes(array: np.ndarray) -> bytes:
    """``array`` in ``.npy`` format."""
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def load_npy(data: bytes) -> np.ndarray:
    """An array from ``.npy`` bytes: a numeric dtype, and exactly the data its header declares.

    The header is read and checked first: ``np.load`` would allocate the declared shape
    before it finds the data missing. Pickles and non-numeric dtypes are refused.
    """
    fmt = np.lib.format
    stream = io.BytesIO(data)
    try:
        version = fmt.read_magic(stream)
        if version == (1, 0):
            shape, fortran_order, dtype = fmt.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, fortran_order, dtype = fmt.read_array_header_2_0(stream)
        else:
            raise ValueError(version)
    except Exception as exc:  # NumPy raises many types on a malformed header
        raise CodecError(f"a malformed .npy buffer ({type(exc).__name__})") from None
    if not is_numeric(dtype):
        raise CodecError("an array of a dtype that may not cross")
    if not all(type(n) is int and n >= 0 for n in shape):
        raise CodecError("a malformed .npy buffer (shape)")
    count, offset = math.prod(shape), stream.tell()
    if len(data) - offset != count * dtype.itemsize:
        raise CodecError("a .npy buffer whose data does not match its shape")
    try:
        array = np.frombuffer(data, dtype=dtype, count=count, offset=offset).copy()
        if fortran_order:
            return array.reshape(shape[::-1]).transpose()
        return array.reshape(shape)
    except (ValueError, MemoryError) as exc:
        raise CodecError(f"a malformed .npy buffer ({type(exc).__name__})") from None


def dumps(message: dict, buffers: list[bytes]) -> str:
    """A message and its buffers as one JSON text (buffers in base64)."""
    payload = {"m": message, "b": [base64.b64encode(b).decode("ascii") for b in buffers]}
    text = json.dumps(payload, separators=(",", ":"), allow_nan=False)
    if len(text) > max_text_chars():
        raise CodecError(f"the message is larger than {MAX_MESSAGE_BYTES // 2**20} MB")
    return text


def max_text_chars() -> int:
    return MAX_MESSAGE_BYTES * 4 // 3 + 2**20


def loads(text: str) -> tuple[dict, list[bytes]]:
    """The message and buffers of a :func:`dumps` text; ``CodecError`` if malformed.

    The text is scanned (:func:`json_shape`) before ``json.loads`` builds anything.
    """
    if type(text) is not str:
        raise CodecError("a message that is not text")
    if len(text) > max_text_chars():
        raise CodecError(f"a message larger than {MAX_MESSAGE_BYTES // 2**20} MB")
    if not text.isascii():  # dumps writes ASCII only
        raise CodecError("a message that is not ASCII")
    json_shape(text)
    try:
        payload = json.loads(text)
        message, encoded = payload["m"], payload["b"]
        if type(message) is not dict or type(encoded) is not list:
            raise TypeError
        buffers = [base64.b64decode(check(b, str), validate=True) for b in encoded]
    except (ValueError, TypeError, KeyError, RecursionError) as exc:
        raise CodecError(f"a malformed message ({type(exc).__name__})") from None
    return message, buffers


# JSON text outside strings: +1 opens a list or object, -1 closes one; the scan keeps only
# these bytes, quotes, commas and colons
STEPS = np.zeros(256, dtype=np.int8)
STEPS[[ord("["), ord("{")]] = 1
STEPS[[ord("]"), ord("}")]] = -1
STRUCTURE = frozenset(b'"[]{},:')
OTHER_BYTES = bytes(b for b in range(256) if b not in STRUCTURE)


def json_shape(text: str) -> tuple[int, int]:
    """An upper bound of the values ``json.loads(text)`` builds, and its nesting depth.

    ``CodecError`` past ``JSON_VALUES_PER_NODE * MAX_NODES`` values or ``3 * MAX_DEPTH + 8``
    levels (a tree level takes at most 3: a dict's node, its items and a pair). In linear time
    and memory of one chunk, on ASCII text: in each chunk, escaped backslashes and then
    escaped quotes are dropped, so that every quote left opens or closes a string; then the
    brackets, commas and colons outside strings are counted (a container holds at most one
    value more than its commas). On text that is not valid JSON the bound holds for the part
    that ``json.loads`` reads before it fails, which is all it builds.
    """
    max_values, max_depth = JSON_VALUES_PER_NODE * MAX_NODES, 3 * MAX_DEPTH + 8
    values, depth, deepest, inside, carry = 1, 0, 0, 0, ""
    for start in range(0, len(text), SCAN_CHUNK):
        chunk = carry + text[start : start + SCAN_CHUNK]
        if start + SCAN_CHUNK < len(text):  # a run of backslashes goes on in the next chunk
            body = chunk.rstrip("\\")
            carry = "\\" if (len(chunk) - len(body)) % 2 else ""
            chunk = body
        if "\\" in chunk:
            chunk = chunk.replace("\\\\", "").replace('\\"', "")
        kept = chunk.encode("ascii").translate(None, OTHER_BYTES)
        if b'"' in kept:
            data = np.frombuffer(kept, dtype=np.uint8)
            # the parity of a running count of quotes (mod 256) says what is inside a string
            parity = np.cumsum(data == ord('"'), dtype=np.uint8) & 1
            outside = data[parity == inside]
            inside ^= int(parity[-1])
        elif inside:
            continue
        else:
            outside = np.frombuffer(kept, dtype=np.uint8)
        counts = np.bincount(outside, minlength=128)
        opens = int(counts[ord("[")] + counts[ord("{")])
        values += opens + int(counts[ord(",")] + counts[ord(":")])
        if values > max_values:
            raise CodecError(f"a message of more than {max_values:,} JSON values")
        if depth + opens > max_depth:  # else no level in this chunk can pass the limit
            levels = depth + np.cumsum(STEPS[outside], dtype=np.int64)
            deepest = max(deepest, int(levels.max()))
            if deepest > max_depth:
                raise CodecError(f"a message nested more than {max_depth} levels deep")
        else:
            deepest = max(deepest, depth + opens)
        depth += opens - int(counts[ord("]")] + counts[ord("}")])
        if depth < 0:
            raise CodecError("a malformed message (unbalanced brackets)")
    return values, deepest


def encode(obj, export=None) -> tuple[object, list[bytes]]:
    """``obj`` as a (tree, buffers) pair."""
    encoder = Encoder(export)
    return encoder.encode(obj), encoder.buffers


def decode(tree, buffers: list[bytes], resolve=None, deadline: float | None = None):
    """The object of a (tree, buffers) pair."""
    return Decoder(buffers, resolve, deadline=deadline).decode(tree)
