"""The data that may cross the kernel boundary, and its exact encoding.

Both sides of the boundary use this module: the grading process imports it, and the kernel
gets its source text (it needs only the standard library and NumPy). A value is encoded
into a JSON tree plus a list of binary buffers; nothing is ever pickled.

What crosses as data: ``None``, ``bool``, ``int``, ``float``, ``complex``, ``str``,
``bytes``; NumPy arrays (exactly ``ndarray``) and scalars of bool, integer, float or complex
dtype, as ``.npy`` read back with ``allow_pickle=False``; lists, tuples, namedtuples, dicts
with hashable plain keys, and the standard library's containers a function may return in
their place: ``OrderedDict``, ``Counter``, ``defaultdict``, ``deque``, ``set``,
``frozenset`` and ``types.SimpleNamespace``; NumPy ``Generator``\\ s and legacy
``RandomState``\\ s, by the state of their bit generator. Only these exact classes cross (a
subclass of one is not data), and the decoder builds nothing but them: no class or function
is made or looked up from what a message says.

Types round-trip exactly (``True`` stays ``bool``, ``np.int64`` stays ``np.int64``, an
``OrderedDict`` stays an ``OrderedDict``, a 0-d array stays a 0-d array) and so does
aliasing: an object met twice in one message is sent once and decoded as one object. A
``defaultdict``'s ``default_factory`` crosses by name when it is one of the builtin types of
``DEFAULT_FACTORIES`` (``list``, ``int``, ``set``, ...); any other factory (a lambda, the
student's function) crosses as a reference made by ``export``, so that a missing key still
calls it where it lives. Anything else is left to the caller's ``export`` function, which
turns it into a reference (a handle) and back.

Tree nodes are short lists whose first item is a tag, each with a fixed number of items
(``ARITY``)::

    N none   b bool   i int (hex)   f float (hex)   c complex   s str   y bytes
    u str holding surrogate code points (UTF-8 bytes with "surrogatepass")
    a array  g NumPy scalar (both with an optional dtype character, for np.longlong)
    l list   t tuple   n namedtuple   d dict   O OrderedDict   C Counter
    F defaultdict   q deque   S set   Z frozenset   v SimpleNamespace
    r Generator   R RandomState
    @ an object already sent in this message   h/o a reference made by ``export``
    A an argument of the call this message answers (so aliasing with arguments survives)

The other side may be hostile, so decoding one message has a budget, checked before and
while parsing, and nothing made from a message outlives its :class:`Decoder`:

- **Text**: at most ``MAX_MESSAGE_BYTES`` of data (buffers, strs and the text of ints;
  about 86 MB of ASCII text), checked by the encoder as it writes and by ``loads``. Before
  ``json.loads`` builds anything, a linear scan that skips string literals counts the JSON
  values (at most ``JSON_VALUES_PER_NODE * MAX_NODES``) and the nesting (at most
  ``3 * MAX_DEPTH + 8``): ``json.loads`` never builds more than that.
- **Nodes**: at most ``MAX_NODES``, counted as *expanded* (see :class:`Budget`): a
  reference to an object counts the whole object again, so no walker that ignores aliasing
  (``np.asarray`` on nested lists, ``repr``, ``==``) meets more than the budget; a payload
  (str, bytes, int, array data) counts one node per ``PAYLOAD_BYTES_PER_NODE`` bytes.
- **Depth**: ``MAX_DEPTH`` levels of nodes.
- **Hashing**: a dict (of any kind), set or frozenset refuses more than
  ``MAX_EQUAL_HASHES`` keys of one hash, so building it stays linear (Python's dict and set
  are quadratic in keys that share a hash).
- **Buffers**: each is used by one node, and a ``.npy`` header must describe exactly the
  bytes after it, checked before NumPy allocates anything.
- **Namedtuples**: at most ``MAX_NAMEDTUPLE_CLASSES`` classes per message, of at most
  ``MAX_NAMEDTUPLE_FIELDS`` fields with names Python accepts as written; the classes are
  cached per :class:`Decoder`, never in the module.
- **Time**: each ``decode`` call stops after ``MAX_DECODE_SECONDS``, or at the decoder's
  ``deadline`` (a ``time.monotonic()`` value) if that comes first.

The costliest messages the budget admits (1,000,000 nodes spent on generators or legacy
RandomStates, which count what building them costs, or on sets; 4,000,000 JSON values on
memoised lists, OrderedDicts, defaultdicts or deques; 1,000,000 nodes of references to one
array, then ``np.asarray`` of it) peak at about 450 MB of RSS in the decoding process
(``tests/test_codec.py`` measures it in a subprocess), and take a few seconds each. Honest
grading sends at most 137 nodes and 2.6 MB a message.
"""

from __future__ import annotations

import base64
import collections
import io
import json
import math
import sys
import time
import types
import warnings

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
# the dtype characters an array or NumPy scalar may name, beside its .npy dtype string: NumPy
# has two types for one layout ('q' np.longlong and 'l' np.int64 are both '<i8' on Linux)
NUMERIC_CHARS = frozenset("?" + np.typecodes["AllInteger"] + np.typecodes["AllFloat"])
DEFAULT_FACTORIES = {
    kind.__name__: kind
    for kind in (
        list,
        dict,
        set,
        frozenset,
        tuple,
        int,
        float,
        complex,
        str,
        bytes,
        bool,
        collections.OrderedDict,
        collections.Counter,
        collections.defaultdict,
        collections.deque,
    )
}
"""The ``default_factory`` values of a ``defaultdict`` that cross by name."""
CONTAINER_TAGS = {
    list: "l",
    dict: "d",
    collections.OrderedDict: "O",
    collections.Counter: "C",
    collections.defaultdict: "F",
    collections.deque: "q",
    set: "S",
    types.SimpleNamespace: "v",
}
"""The mutable containers that cross as data, each memoised (an object met again is ``@``)."""
# What a node costs beyond one, in nodes: the memory an empty deque (a 64-item block, 760
# bytes) or set (an 8-slot table, 216 bytes) takes, one node per PAYLOAD_BYTES_PER_NODE; and
# the time building a bit generator takes (30 to 400 us, as a few hundred plain nodes), so that
# a message admits at most ~3,800 generators, decoded in a few seconds
EXTRA_NODES = {"q": 5, "S": 1, "Z": 1, "r": 256, "R": 256}
MAPPINGS = {"d": dict, "O": collections.OrderedDict, "C": collections.Counter}
ARITY = {
    "N": (0,),
    "b": (1,),
    "i": (1,),
    "f": (1,),
    "c": (2,),
    "s": (1,),
    "u": (1,),
    "y": (1,),
    "a": (2, 3),
    "g": (1, 2),
    "l": (2,),
    "d": (2,),
    "O": (2,),
    "C": (2,),
    "F": (3,),
    "q": (3,),
    "S": (2,),
    "Z": (1,),
    "v": (2,),
    "t": (1,),
    "n": (3,),
    "r": (3,),
    "R": (3,),
    "@": (1,),
    "A": (1,),
    "h": (1,),
    "o": (1,),
}
"""The number of items after the tag that each node takes."""


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
        elif kind is tuple or is_namedtuple(item):
            if total + tuple.__len__(item) > limit:  # each item counts at least one
                return limit + 1
            pending.extend(tuple.__iter__(item))
        elif kind in CONTAINER_TAGS or kind is frozenset:
            if kind is types.SimpleNamespace:
                item = vars(item)
            mapping = isinstance(item, dict)
            if total + (1 + mapping) * len(item) > limit:  # a key and a value, or an item
                return limit + 1
            if mapping:
                for key, value in dict.items(item):
                    pending += (key, value)
            else:
                pending.extend(item)
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

    def grow(self, n_bytes: int) -> None:
        """Count ``n_bytes`` of data toward ``MAX_MESSAGE_BYTES``."""
        self.size += n_bytes
        if self.size > MAX_MESSAGE_BYTES:
            raise CodecError(f"the value is larger than {MAX_MESSAGE_BYTES // 2**20} MB")

    def buffer(self, data: bytes) -> int:
        self.grow(len(data))
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
            self.grow(len(text))
            self.budget.charge(payload_nodes(len(text)))
            return ["i", text]
        if kind is float:
            return ["f", obj.hex()]
        if kind is complex:
            return ["c", obj.real.hex(), obj.imag.hex()]
        if kind is str:
            return self.encode_str(obj)
        if kind is bytes:
            self.budget.charge(payload_nodes(len(obj)))
            return ["y", self.buffer(obj)]
        if kind is np.ndarray and is_numeric(obj.dtype):
            seen = self.remember(obj)
            if seen is not None:
                return ["@", seen]
            index = self.memo[id(obj)]
            self.budget.leaf(index, array_weight(obj.shape, obj.itemsize))
            return with_char(["a", index, self.buffer(npy_bytes(obj))], obj.dtype)
        if isinstance(obj, np.generic) and type(obj).__module__ == "numpy":
            if is_numeric(obj.dtype):
                self.budget.charge(payload_nodes(obj.itemsize))
                return with_char(["g", self.buffer(npy_bytes(np.asarray(obj)))], obj.dtype)
        tag = CONTAINER_TAGS.get(kind)
        if tag == "v" and not all(type(name) is str for name in vars(obj)):
            tag = None  # names that are not attribute names: not data
        if tag is not None:
            seen = self.remember(obj)
            if seen is not None:
                return ["@", seen]
            index = self.memo[id(obj)]
            self.budget.charge(EXTRA_NODES.get(tag, 0))
            self.budget.begin(index)
            node = [tag, index, *self.contents(obj, tag, depth + 1)]
            self.budget.finish(index)
            return node
        if kind is tuple:
            return ["t", [self.encode(item, depth + 1) for item in obj]]
        if kind is frozenset:
            self.budget.charge(EXTRA_NODES["Z"])
            return ["Z", [self.encode(item, depth + 1) for item in list(obj)]]
        if is_namedtuple(obj):
            fields = [str(f) for f in kind._fields]
            items = [self.encode(item, depth + 1) for item in tuple.__iter__(obj)]
            return ["n", str(kind.__name__), fields, items]
        if kind is np.random.Generator and type(obj.bit_generator).__name__ in BIT_GENERATORS:
            return self.encode_random(obj, "r", obj.bit_generator.state, depth)
        if kind is np.random.RandomState:
            state = obj.get_state(legacy=False)
            if state["bit_generator"] in BIT_GENERATORS:
                return self.encode_random(obj, "R", state, depth)
        if self.export is not None:
            return self.export(obj)
        raise CodecError(f"a {type(obj).__name__} cannot be sent as data")

    def encode_str(self, text: str) -> list:
        if not text.isascii():
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                # JSON would join a pair of surrogate code points into one character
                data = text.encode("utf-8", "surrogatepass")
                self.budget.charge(payload_nodes(len(data)))
                return ["u", self.buffer(data)]
        self.budget.charge(payload_nodes(len(text)))
        self.grow(len(text))
        return ["s", text]

    def contents(self, obj, tag: str, depth: int) -> list:
        """The items after the index of a container's node (see ``ARITY``)."""
        if tag in "lqS":
            items = [self.encode(item, depth) for item in list(obj)]
            return [obj.maxlen, items] if tag == "q" else [items]
        head = [self.encode_factory(obj.default_factory, depth)] if tag == "F" else []
        mapping = vars(obj) if tag == "v" else obj
        return [*head, [[self.encode(k, depth), self.encode(v, depth)] for k, v in mapping.items()]]

    def encode_factory(self, factory, depth: int) -> list:
        """A ``default_factory``: None, a builtin type by name, else a reference."""
        name = next((n for n, f in DEFAULT_FACTORIES.items() if f is factory), None)
        if factory is None or name is not None:
            return self.encode(name, depth)
        self.budget.charge(1)
        if self.export is None:
            raise CodecError("a defaultdict whose default_factory is not a builtin type")
        return self.export(factory)

    def encode_random(self, obj, tag: str, state: dict, depth: int) -> list:
        """A Generator or RandomState (``tag`` r or R), by the state of its bit generator."""
        seen = self.remember(obj)
        if seen is not None:
            return ["@", seen]
        index = self.memo[id(obj)]
        self.budget.charge(EXTRA_NODES[tag])
        self.budget.begin(index)
        node = [tag, index, state["bit_generator"], self.encode(state, depth + 1)]
        self.budget.finish(index)
        return node


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
        if len(args) not in ARITY.get(tag, ()):
            if tag in ARITY:
                raise CodecError(f"a {tag!r} node with {len(args)} items")
            raise CodecError(f"unknown node {tag[:20]!r}")
        if tag in EXTRA_NODES:
            budget.charge(EXTRA_NODES[tag])
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
            Warning,  # raised by NumPy's state setters where warnings are errors
        ) as exc:
            raise CodecError(f"a malformed {tag!r} node: {type(exc).__name__}") from None

    def decode_tagged(self, tag: str, args: list, depth: int):
        if tag == "N":
            return None
        if tag == "b":
            if check(args[0], int) not in (0, 1):
                raise CodecError("a bool that is neither 0 nor 1")
            return args[0] == 1
        if tag == "i":
            return int(self.text(args[0]), 16)
        if tag == "f":
            return float.fromhex(self.text(args[0]))
        if tag == "c":
            return complex(float.fromhex(self.text(args[0])), float.fromhex(self.text(args[1])))
        if tag == "s":
            return self.text(args[0])
        if tag == "u" or tag == "y":
            data = self.buffer(args[0])
            self.budget.charge(payload_nodes(len(data)))
            return data.decode("utf-8", "surrogatepass") if tag == "u" else bytes(data)
        if tag == "a":
            self.claim(args[0])
            array = retyped(load_npy(self.buffer(args[1])), args[2:])
            self.memo[args[0]] = array
            self.budget.leaf(args[0], array_weight(array.shape, array.itemsize))
            self.budget.check()  # reading a header takes ~1000 times a plain node
            return array
        if tag == "g":
            array = retyped(load_npy(self.buffer(args[0])), args[1:])
            if array.ndim != 0:
                raise CodecError("a NumPy scalar that is not 0-d")
            self.budget.charge(payload_nodes(array.itemsize))
            self.budget.check()
            return array[()]
        if tag == "l" or tag == "q":
            items = check(args[-1], list)
            if tag == "l":
                out = self.store(args[0], [])
            else:
                size = deque_maxlen(args[1], len(items))
                out = self.store(args[0], collections.deque(maxlen=size))
            out.extend(self.decode(item, depth + 1) for item in items)
            self.budget.finish(args[0])
            return out
        if tag in MAPPINGS:
            out = self.store(args[0], MAPPINGS[tag]())
            self.fill(out, args[1], depth)
            self.budget.finish(args[0])
            return out
        if tag == "F":
            out = self.store(args[0], collections.defaultdict())
            out.default_factory = self.factory(args[1], depth)
            self.fill(out, args[2], depth)
            self.budget.finish(args[0])
            return out
        if tag == "v":
            out = self.store(args[0], types.SimpleNamespace())
            self.fill(vars(out), args[1], depth, names=True)
            self.budget.finish(args[0])
            return out
        if tag == "S":
            out = self.store(args[0], set())
            for count, member in enumerate(self.members(args[1], depth), 1):
                out.add(member)
                if len(out) != count:
                    raise CodecError("a set with a repeated member")
            self.budget.finish(args[0])
            return out
        if tag == "Z":
            members = list(self.members(args[0], depth))
            out = frozenset(members)
            if len(out) != len(members):
                raise CodecError("a set with a repeated member")
            return out
        if tag == "t":
            return tuple(self.decode(item, depth + 1) for item in check(args[0], list))
        if tag == "n":
            kind = self.namedtuple_class(check(args[0], str), check(args[1], list))
            items = check(args[2], list)
            if len(items) != len(kind._fields):
                raise CodecError("a namedtuple whose items do not match its fields")
            return kind._make([self.decode(item, depth + 1) for item in items])
        if tag == "r" or tag == "R":
            return self.decode_random(tag, args, depth)
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

    def fill(self, out: dict, pairs, depth: int, names: bool = False) -> None:
        """Put the ``[key, value]`` node ``pairs`` into ``out``, refusing repeated keys and
        more than ``MAX_EQUAL_HASHES`` keys of one hash; with ``names``, keys must be str.

        Python's dict compares a new key with every key of the same hash it holds, so keys
        chosen to share one hash (``k * (2**61 - 1)`` for ints; tuples of them) make building
        it quadratic. Each key is hashed before it goes in, so refusing costs one pass.
        """
        pairs = check(pairs, list)
        hashes: dict[int, int] = {}
        for count, pair in enumerate(pairs, 1):
            if type(pair) is not list or len(pair) != 2:
                raise CodecError("a malformed dict item")
            key = self.decode(pair[0], depth + 1)
            if names and type(key) is not str:
                raise CodecError("a namespace attribute whose name is not a str")
            count_hash(hashes, key)
            out[key] = self.decode(pair[1], depth + 1)
            if len(out) != count:
                raise CodecError("a dict with a repeated key")

    def members(self, items, depth: int):
        """The decoded members of a set, each hashed and counted as a dict's keys are."""
        hashes: dict[int, int] = {}
        for item in check(items, list):
            member = self.decode(item, depth + 1)
            count_hash(hashes, member)
            yield member

    def factory(self, node, depth: int):
        """A ``defaultdict``'s ``default_factory``: none, a builtin type by name, a reference."""
        if type(node) is not list or not node or node[0] not in ("N", "s", "h", "o"):
            raise CodecError("a malformed default_factory")
        factory = self.decode(node, depth + 1)
        if node[0] == "s":
            if factory not in DEFAULT_FACTORIES:
                raise CodecError("a default_factory that is not a builtin type")
            return DEFAULT_FACTORIES[factory]
        if factory is not None and not callable(factory):
            raise CodecError("a default_factory that cannot be called")
        return factory

    def decode_random(self, tag: str, args: list, depth: int):
        """A Generator (``r``) or RandomState (``R``) over a listed bit generator, by state.

        NumPy's setters convert what they are given, with a warning where a value is lossy (a
        complex state): every warning is an error here, so such a state is refused.
        """
        name = check(args[1], str)
        if name not in BIT_GENERATORS:
            raise CodecError(f"unknown bit generator {name[:20]!r}")
        self.claim(args[0])
        self.budget.begin(args[0])
        bit_generator = getattr(np.random, name)()
        state = self.decode(args[2], depth + 1)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            if tag == "r":
                bit_generator.state = state
                out = np.random.Generator(bit_generator)
            else:
                out = np.random.RandomState(bit_generator)
                out.set_state(check(state, dict))
        self.memo[args[0]] = out
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


def count_hash(hashes: dict[int, int], key) -> None:
    """Count ``key``'s hash in ``hashes``; ``CodecError`` past ``MAX_EQUAL_HASHES`` of one.

    Counted modulo the hash modulus: an int in [0, modulus) is its own hash, so the count is
    free of collisions itself (a tuple's hash may be any 64-bit value).
    """
    code = hash(key) % sys.hash_info.modulus  # TypeError if it cannot be hashed
    hashes[code] = hashes.get(code, 0) + 1
    if hashes[code] > MAX_EQUAL_HASHES:
        raise CodecError(f"a dict or set with more than {MAX_EQUAL_HASHES} keys of one hash")


def deque_maxlen(value, n_items: int) -> int | None:
    """A deque's ``maxlen`` as sent: none, or a whole number at least its length."""
    if value is not None and (type(value) is not int or value < n_items):
        raise CodecError("a deque whose maxlen is not None or at least its length")
    return value


def with_char(node: list, dtype: np.dtype) -> list:
    """``node`` (a or g) with ``dtype``'s character where its .npy string names another type."""
    if dtype.char != np.dtype(dtype.str).char:
        node.append(dtype.char)
    return node


def retyped(array: np.ndarray, extra: list) -> np.ndarray:
    """``array`` viewed as the dtype character in ``extra`` (at most one), if any."""
    if not extra:
        return array
    char = check(extra[0], str)
    if len(char) != 1 or char not in NUMERIC_CHARS:
        raise CodecError("a malformed dtype character")
    dtype = np.dtype(char).newbyteorder(array.dtype.byteorder)
    if dtype.str != array.dtype.str:
        raise CodecError("a dtype character that does not match the data")
    return array.view(dtype)


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
