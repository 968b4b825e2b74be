"""The kernel's side of the boundary: answers the grading process's requests.

This file runs inside the student's kernel, after the codec's source, in a module of its
own (``_grader_agent``). It is a convenience for honest kernels, not a defence: a
submission can replace or imitate it, and all it gains is to choose the data its own
functions return. The grading process trusts nothing it receives and judges every answer.

:func:`serve` is what each test cell's ``execute_request`` runs. It asks the grading
process for a request with ``input()`` (Jupyter's stdin channel) and answers each one in
the prompt of the next ``input()``, until it is told to stop. A request works on the
student's namespace (``lookup``) or on a kernel object the grading process holds a handle
to (``call``, ``getattr``, ``len``, ``iter``, ``next``, ``getitem``, ``describe``), or on
the global random state (``seed``, ``random_state``). While a call runs, the student's code
may call back an object of the grading process (``callback``): the agent asks for the
result the same way and returns it.
"""

import linecache
import os
import random
import sys
import sysconfig
import threading
import traceback
import warnings

import numpy as np

if "Encoder" not in globals():  # imported in the grading process; the kernel has the source
    from autograder.runtime.codec import CodecError, Decoder, Encoder, dumps, loads

MAX_ERROR_TEXT = 2000
WARNINGS_KEPT = 20
OBSERVED_OPS = frozenset({"call", "getattr", "len", "iter", "next", "getitem", "describe"})
"""Requests that run the student's code, and so are watched by the :class:`Observer`."""
MAX_SEEN = 200
MAX_LINE = 200


class Observer:
    """Watches which ``course`` functions run while the student's code answers a request.

    A profile hook (``sys.setprofile``, and ``threading.setprofile`` for every thread started
    after the kernel booted) sees each Python function that starts. A function whose code
    comes from a file of the ``course`` package, or from a library function the instructor
    names as an equivalent (:meth:`watch`), is noted by name with the student's line that
    called it, however it was reached: by name, alias, ``getattr``, ``importlib``, a
    registry, a copy of the function object, a ``functools.partial``, or another ``course``
    function that calls it (code is matched by its file, so a reloaded module is the same).
    So is what would blind the hook: setting or clearing profile and trace hooks, walking
    the garbage collector's objects, starting a process or a raw thread; a thread the hook
    cannot watch that ran, and a child process that used the processor, while the request
    was served.

    The grading process decides from this report which points to hold for review. Like the
    rest of the agent it runs in the student's kernel and could be forged by code that
    rewrites it; the grader's static rule (``autograder.pipeline.integrity``) flags code
    that reaches for it, and a missing report is itself held.
    """

    def __init__(self) -> None:
        import course

        folder = os.path.dirname(os.path.abspath(course.__file__))
        self.files = set()
        for root, _dirs, names in os.walk(folder):
            self.files.update(os.path.join(root, n) for n in names if n.endswith(".py"))
        self.files.update(os.path.abspath(m.__file__) for m in list(sys.modules.values())
                          if getattr(m, "__name__", "").startswith("course")
                          and getattr(m, "__file__", None))  # fmt: skip
        self.course_files = frozenset(self.files)
        self.equivalents = {}  # id(code) -> (graded name it stands for, its dotted path)
        self.places = {}  # (file, first line) -> the same, for copies of those codes
        self.seen = {}  # graded name -> (what ran, the student's line that called it)
        self.done = set()  # ids of the codes already noted during this request
        self.alarms = []
        self.active = False
        self.registered = {}  # ident of a thread that carries the hook -> its first frame
        self.tasks = [threading.get_native_id()]  # native ids: the boot thread and those
        self.baseline = set(sys._current_frames())
        self.blinding = self.blinding_functions()
        self.blinding_codes = self.blinding_python_functions()
        self.hook = self.make_hook()
        threading.setprofile(self.thread_start)

    # -- what to watch -----------------------------------------------------------------
    def watch(self, equivalents):
        """Also watch library functions that stand for a graded name: ``{name: [dotted]}``."""
        import importlib
        import inspect

        for name, paths in equivalents.items():
            for path in paths:
                module, _, attr = str(path).rpartition(".")
                try:  # the function itself, not a decorator's wrapper that many share
                    function = inspect.unwrap(getattr(importlib.import_module(module), attr))
                    code = function.__code__
                except Exception:  # a builtin or ufunc: no Python code to watch
                    continue
                self.equivalents[id(code)] = (str(name), str(path))
                self.places[(code.co_filename, code.co_firstlineno)] = (str(name), str(path))
                self.files.add(code.co_filename)

    @staticmethod
    def blinding_functions():
        import gc

        named = {
            "sys.setprofile": sys.setprofile,
            "sys.settrace": sys.settrace,
            "gc.get_objects": gc.get_objects,
            "gc.get_referrers": gc.get_referrers,
            "gc.get_referents": gc.get_referents,
        }
        import _thread

        named["_thread.start_new_thread"] = _thread.start_new_thread
        for name in ("fork", "forkpty", "posix_spawn", "posix_spawnp", "system", "execv",
                     "execve", "spawnv", "spawnve"):  # fmt: skip
            if hasattr(os, name):
                named[f"os.{name}"] = getattr(os, name)
        try:
            import _posixsubprocess

            named["subprocess"] = _posixsubprocess.fork_exec
        except ImportError:
            pass
        return {id(f): (f, text) for text, f in named.items()}

    @staticmethod
    def blinding_python_functions():
        named = {
            "threading.setprofile": threading.setprofile,
            "threading.settrace": threading.settrace,
        }
        return {id(f.__code__): (f.__code__, text) for text, f in named.items()}

    # -- the hook ----------------------------------------------------------------------
    def make_hook(self):
        files, blinding, blinding_codes = self.files, self.blinding, self.blinding_codes
        note, alarm, done = self.note, self.alarm, self.done
        # where the observer clears its hook, and where threading starts a thread (which
        # then carries the hook: ``thread_start``)
        own = (Observer.end.__code__, threading.Thread.start.__code__)

        def hook(frame, event, arg):
            if event == "call":
                code = frame.f_code
                if code.co_filename in files and id(code) not in done:
                    note(frame, code)
                elif id(code) in blinding_codes:
                    alarm(f"called {blinding_codes[id(code)][1]}", frame.f_back)
            elif event == "c_call" and id(arg) in blinding and frame.f_code not in own:
                alarm(f"called {blinding[id(arg)][1]}", frame)
            return None

        return hook

    def thread_start(self, frame, event, arg):
        """The first event of a thread started after boot: carry the hook from now on."""
        self.registered[threading.get_ident()] = id(bottom(frame))
        self.tasks.append(threading.get_native_id())
        sys.setprofile(self.thread_hook)
        self.thread_hook(frame, event, arg)

    def thread_hook(self, frame, event, arg):
        if self.active:
            self.hook(frame, event, arg)
        elif event == "c_call" and id(arg) in self.blinding:
            self.alarm(f"a thread called {self.blinding[id(arg)][1]}", frame)

    def note(self, frame, code):
        self.done.add(id(code))
        found = self.equivalents.get(id(code))
        if found is None:
            found = self.places.get((code.co_filename, code.co_firstlineno))
        if found is None:
            if code.co_filename not in self.course_files:  # a library's other functions
                return
            name = code.co_qualname
            if "<" in name:  # a lambda, comprehension or local function of the reference
                return
            module = frame.f_globals.get("__name__")
            found = (name, f"{module}.{name}" if isinstance(module, str) else name)
        if found[0] in self.seen or len(self.seen) >= MAX_SEEN:
            return
        self.seen[found[0]] = (found[1], caller_line(frame.f_back, self.files))

    def alarm(self, text, frame):
        if len(self.alarms) < MAX_SEEN:
            self.alarms.append(f"{text} ({caller_line(frame, self.files)})")

    # -- one request -------------------------------------------------------------------
    def begin(self):
        self.seen.clear()
        self.done.clear()
        if len(self.tasks) > 32:  # forget threads that have ended
            self.forget_ended_threads()
        self.active = True
        self.threads = self.thread_positions()
        self.helpers = helper_cpu(self.tasks)
        threading.setprofile(self.thread_start)  # again: a scratch cell may have cleared it
        sys.setprofile(self.hook)

    def end(self):
        intact = sys.getprofile() is self.hook
        sys.setprofile(None)
        self.active = False
        if not intact:
            self.alarms.append("the profile hook was replaced during the call")
        after = self.thread_positions()
        moved = [t for t in {*self.threads, *after} if self.threads.get(t) != after.get(t)]
        if moved:
            self.alarms.append(f"{len(moved)} thread(s) the grader cannot watch ran")
        if helper_cpu(self.tasks) != self.helpers:
            self.alarms.append("a child process of the kernel ran during the call")
        report = {
            "ran": [[name, what, line] for name, (what, line) in self.seen.items()],
            "alarms": list(self.alarms),
        }
        self.seen.clear()
        self.alarms.clear()
        return report

    def forget_ended_threads(self):
        try:
            live = {int(t) for t in os.listdir("/proc/self/task")}
        except (OSError, ValueError):
            live = set(self.tasks)
        self.tasks[:] = [t for t in self.tasks if t in live]
        running = sys._current_frames()
        self.registered = {t: f for t, f in self.registered.items() if t in running}

    def thread_positions(self):
        """Where each thread without the hook stands: moved if it ran Python code."""
        out = {}
        main = threading.main_thread().ident
        for ident, frame in sys._current_frames().items():
            if ident == main or ident in self.baseline:
                continue
            if self.registered.get(ident) == id(bottom(frame)):  # not a reused ident
                continue
            out[ident] = (id(frame), frame.f_lasti)
        return out


def bottom(frame):
    """The outermost frame of ``frame``'s thread."""
    while frame.f_back is not None:
        frame = frame.f_back
    return frame


LIBRARIES = tuple(
    {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")}
)


def caller_line(frame, files):
    """The first line outside ``course`` and the libraries on the stack from ``frame``: the
    student's call."""
    depth = 0
    while frame is not None and depth < 50:
        name = frame.f_code.co_filename
        if name not in files and not name.startswith(LIBRARIES):
            break
        frame, depth = frame.f_back, depth + 1
    if frame is None:
        return ""
    code = frame.f_code
    if code.co_filename == "<grader agent>":  # the graded name is the reference itself
        return ""
    line = linecache.getline(code.co_filename, frame.f_lineno).strip()
    return f"{code.co_qualname}: {line}"[:MAX_LINE]


def helper_cpu(tasks):
    """The processor time of the child processes started by the kernel's threads ``tasks``
    (their native ids), and of those processes' own descendants, by process id."""
    found = {}
    stack = [(os.getpid(), t) for t in tasks]
    while stack and len(found) < 1000:
        pid, task = stack.pop()
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                children = [int(c) for c in f.read().split()]
        except (OSError, ValueError):
            continue
        for child in children:
            try:
                with open(f"/proc/{child}/stat") as f:
                    fields = f.read().rpartition(")")[2].split()
                found[child] = int(fields[11]) + int(fields[12])
            except (OSError, ValueError, IndexError):
                found[child] = -1
            try:
                stack += [(child, int(t)) for t in os.listdir(f"/proc/{child}/task")]
            except (OSError, ValueError):
                pass
    return found


class TrustedObject:
    """A stand-in for an object of the grading process: calls and public methods go back."""

    __slots__ = ("_agent", "_tid")

    def __init__(self, agent, tid) -> None:
        object.__setattr__(self, "_agent", agent)
        object.__setattr__(self, "_tid", tid)

    def __call__(self, *args, **kwargs):
        return self._agent.callback(self._tid, "call", None, args, kwargs)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return self._agent.callback(self._tid, "getattr", name, (), {})

    def __repr__(self) -> str:
        return f"<object of the grader #{self._tid}>"


class Agent:
    """Holds the kernel objects the grading process has handles to, and serves requests."""

    def __init__(self, namespace, ask) -> None:
        self.namespace = namespace
        self.ask = ask  # one stdin round trip: prompt text out, reply text in
        self.objects = {}  # handle id -> kernel object
        self.handles = {}  # id(kernel object) -> handle id
        self.trusted = {}  # trusted id -> TrustedObject, for this test cell
        self.synced = {}  # trusted id -> (kernel copy, its last encoding) for this test cell
        self.observer = Observer()  # made at boot, before any of the student's code runs

    # -- encoding -----------------------------------------------------------------------
    def export(self, obj):
        if isinstance(obj, TrustedObject):
            return ["o", object.__getattribute__(obj, "_tid")]
        key = id(obj)
        if key not in self.handles:
            hid = len(self.objects) + 1
            self.handles[key] = hid
            self.objects[hid] = obj
        return ["h", self.handles[key]]

    def resolve(self, tag, ident):
        if tag == "h":
            if ident not in self.objects:
                raise CodecError("a handle the kernel does not know")
            return self.objects[ident]
        if ident not in self.trusted:
            self.trusted[ident] = TrustedObject(self, ident)
        return self.trusted[ident]

    def pack(self, message, values, arguments=None):
        """``message`` with each of ``values`` (name -> object) encoded, as text.

        ``arguments`` (memo index -> object) are a call's arguments: in the ``value`` they are
        sent as references, so that a result holding an argument holds the caller's own.
        """
        encoder = Encoder(self.export)
        for name, value in values.items():
            if name == "value" and arguments:
                encoder.arguments = {
                    id(obj): index
                    for index, obj in arguments.items()
                    if isinstance(
                        obj, np.ndarray | list | dict | np.random.Generator | np.random.RandomState
                    )
                }
            message[name] = encoder.encode(value)
        return dumps(message, encoder.buffers)

    def unpack(self, text):
        message, buffers = loads(text)
        return message, Decoder(buffers, self.resolve)

    # -- arguments owned by the grading process -----------------------------------------
    def adopt(self, decoder, message):
        """Decode a call's arguments, remembering those the grading process wants back.

        The arguments of earlier calls are forgotten, except generators, which a lazy
        result (an iterator) may go on drawing from.
        """
        args = decoder.decode(message["args"])
        kwargs = decoder.decode(message["kwargs"])
        self.synced = {
            tid: entry
            for tid, entry in self.synced.items()
            if isinstance(entry[0], np.random.Generator | np.random.RandomState)
        }
        for tid, index in message.get("owned", []):
            obj = decoder.memo.get(index)
            if obj is not None:
                self.synced[tid] = (obj, self.encoding(obj))
        return args, kwargs

    def encoding(self, obj):
        try:
            encoder = Encoder(None)
            tree = encoder.encode(obj)
            return dumps({"v": tree}, encoder.buffers)
        except (CodecError, RecursionError):
            return None

    def changes(self):
        """The arguments changed since they were sent or last reported."""
        changed = {}
        for tid, (obj, before) in list(self.synced.items()):
            now = self.encoding(obj)
            if now is not None and now != before:
                changed[str(tid)] = obj
                self.synced[tid] = (obj, now)
        return changed

    # -- the loop -----------------------------------------------------------------------
    def serve(self):
        """Answer requests until the grading process says ``end``."""
        self.trusted, self.synced = {}, {}
        reply = self.pack({"op": "ready"}, {})
        while True:
            text = self.ask(reply)
            try:
                message, decoder = self.unpack(text)
            except CodecError as exc:
                reply = self.pack({"op": "error", "type": "ValueError", "text": str(exc)}, {})
                continue
            if message.get("op") == "end":
                self.trusted, self.synced = {}, {}
                return
            reply = self.answer(message, decoder)

    def answer(self, message, decoder):
        op = message.get("op")
        record = []
        observed = {"ran": [], "alarms": []}
        watched = op in OBSERVED_OPS
        try:
            with warnings.catch_warnings(record=True) as record:
                warnings.simplefilter("always")
                with np.errstate(**message.get("errstate", {})):
                    if watched:
                        self.observer.begin()
                    try:
                        value = self.perform(op, message, decoder)
                    finally:
                        if watched:
                            observed = self.observer.end()
        except BaseException as exc:  # the student's exception, reported as data
            return self.report_error(exc, record, observed)
        try:
            sync = self.changes()
            arguments = decoder.memo if op == "call" else None
            return self.pack(
                {"op": "result", "warnings": warning_list(record), "observed": observed},
                {"sync": sync, "value": value},
                arguments,
            )
        except (CodecError, RecursionError) as exc:
            text = f"the result cannot be returned to the grader: {exc}"
            return self.pack(
                {
                    "op": "error",
                    "type": "ValueError",
                    "builtin": True,
                    "text": text,
                    "observed": observed,
                },
                {},
            )

    def report_error(self, exc, record, observed):
        kind = type(exc)
        text = guarded_str(exc)
        try:
            sync = self.changes()
        except Exception:
            sync = {}
        message = {
            "op": "error",
            "type": kind.__name__,
            "builtin": kind.__module__ == "builtins",
            "text": text,
            "warnings": warning_list(record),
            "observed": observed,
        }
        return self.pack(message, {"sync": sync})

    def perform(self, op, message, decoder):
        if op == "lookup":
            return {n: self.namespace[n] for n in message["names"] if n in self.namespace}
        if op == "seed":
            np.random.seed(message["seed"])
            random.seed(message["seed"])
            return None
        if op == "random_state":
            return np.random.get_state()
        if op == "watch":
            self.observer.watch(message["equivalents"])
            return None
        target = self.objects[message["target"]]
        if op == "call":
            args, kwargs = self.adopt(decoder, message)
            return target(*args, **kwargs)
        if op == "getattr":
            return getattr(target, message["name"])
        if op == "len":
            return len(target)
        if op == "iter":
            return iter(target)
        if op == "next":
            return next(target)
        if op == "getitem":
            return target[decoder.decode(message["key"])]
        if op == "describe":
            return describe(target)
        if op == "release":
            for hid in message["ids"]:
                obj = self.objects.pop(hid, None)
                self.handles.pop(id(obj), None)
            return None
        raise ValueError(f"unknown request {op!r}")

    def callback(self, tid, op, name, args, kwargs):
        """Ask the grading process to call (or get a method of) its object ``tid``."""
        sync = self.changes()
        reply = self.pack(
            {"op": "callback", "target": tid, "kind": op, "name": name},
            {"sync": sync, "args": list(args), "kwargs": dict(kwargs)},
        )
        message, decoder = self.unpack(self.ask(reply))
        if message.get("op") == "return":
            return decoder.decode(message["value"])
        raise rebuild_error(message)


def rebuild_error(message):
    """The exception a callback raised in the grading process, as a builtin exception."""
    import builtins

    kind = getattr(builtins, str(message.get("type")), None)
    text = str(message.get("text", ""))
    if isinstance(kind, type) and issubclass(kind, Exception):
        return kind(text)
    return RuntimeError(text)


def guarded_str(exc) -> str:
    """``str(exc)`` of an exception the student's code raised, which may itself raise.

    The grader's one-line messages live in ``course.messages``; the agent does not use them,
    because in the kernel that module is the student's to patch.
    """
    try:
        text = str(exc)
    except Exception:
        text = "(the exception could not be shown)"
    return text[:MAX_ERROR_TEXT]


def warning_list(record):
    out = []
    for w in record[:WARNINGS_KEPT]:
        try:
            category = w.category.__name__ if w.category.__module__ == "builtins" else "UserWarning"
            out.append([category, str(w.message)[:MAX_ERROR_TEXT]])
        except Exception:
            continue
    return out


def describe(obj, depth=0):
    """A scikit-learn estimator as data: its class's full name and its parameters."""
    if depth > 20:
        raise ValueError("the estimator is nested too deeply")
    kind = type(obj)
    params = obj.get_params(deep=False)
    return {
        "class": f"{kind.__module__}.{kind.__qualname__}",
        "params": {k: describe_value(v, depth) for k, v in params.items()},
        "fitted": is_fitted(obj),
    }


def is_fitted(obj) -> bool:
    """scikit-learn's rule: an estimator is fitted once it has attributes ending in ``_``."""
    try:
        return any(k.endswith("_") and not k.startswith("__") for k in vars(obj))
    except TypeError:
        return False


def describe_value(value, depth):
    if hasattr(value, "get_params") and not isinstance(value, type):
        return {"estimator": describe(value, depth + 1)}
    if isinstance(value, list | tuple):
        return {
            "sequence": [describe_value(v, depth + 1) for v in value],
            "tuple": type(value) is tuple,
        }
    if callable(value):
        return {"callable": value}
    return {"value": value}


def install(namespace, kernel):
    """Create the agent for the user ``namespace``; ``serve()`` is what requests run."""
    agent = Agent(namespace, stdin_exchange(kernel))
    sys.modules[__name__].AGENT = agent
    return agent


def stdin_exchange(kernel):
    """One ``input()`` round trip on the kernel's stdin channel, without ipykernel's flushes.

    ipykernel's ``raw_input`` waits for the output thread and polls every 10 ms; requests
    come in thousands per notebook, so the agent talks to the socket itself when it can.
    """
    try:
        socket, session = kernel.stdin_socket, kernel.session
        kernel._get_shell_context_var(kernel._shell_parent_ident)
    except Exception:  # another ipykernel: fall back to its public raw_input
        return kernel.raw_input

    def ask(prompt):
        ident = kernel._get_shell_context_var(kernel._shell_parent_ident)
        parent = kernel.get_parent("shell")
        content = {"prompt": prompt, "password": False}
        session.send(socket, "input_request", content, parent, ident=ident)
        while True:
            socket.poll()
            _, reply = session.recv(socket, 0)
            if reply is not None:
                return reply["content"]["value"]

    return ask


def serve():
    """Entry point of a test cell's request loop."""
    try:
        sys.modules[__name__].AGENT.serve()
    except BaseException:  # the loop itself failed: say so on stderr, the caller times out
        traceback.print_exc()
