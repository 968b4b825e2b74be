"""The grading process's side of the kernel boundary: a kernel, its cells and its calls.

A :class:`KernelSession` starts one (sandboxed) kernel, runs the student's cells in it and
collects their outputs, and, while a test cell runs in the grading process, answers for the
kernel's objects with :class:`Handle`\\ s. Everything the kernel says is untrusted data: it
is decoded by :mod:`autograder.runtime.codec` (never unpickled), checked against the caps of
:class:`Limits`, and a kernel that breaks a cap, answers garbage or stops answering is
killed (:class:`KernelLost`); the runner starts a fresh one.

Data crosses by value; anything else stays where it lives and is reached by reference:
student objects by a :class:`Handle` here, and the test's own callables and objects by a
stand-in in the kernel that calls back. Arguments the test passes are brought up to date
from the kernel before each callback and when a call returns, so in-place changes, a
generator's state and rebound dict keys are seen as in one process.
"""

from __future__ import annotations

import builtins
import contextlib
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autograder.runtime import agent as agent_module
from autograder.runtime import codec
from autograder.runtime.codec import CodecError, Decoder, Encoder, dumps, loads
from autograder.runtime.processes import kill_tree, remove_tree
from autograder.runtime.warm import SOURCES, TemplateError, WarmStart
from course.messages import one_line

AGENT_SOURCE = (SOURCES["codec"], SOURCES["agent"])
SERVE = "__import__('_grader_agent').serve()"
ERRSTATE_MODES = {"ignore", "warn", "raise"}
MAX_HANDLE_ID = 2**31
RANDOM = np.random.Generator | np.random.RandomState
"""Random states an argument may be: a call's draws advance the test's own, as in one process."""
MAX_HANDLES = 100_000
"""Object ids the kernel may name: small ints (colliding huge ones would make lookups slow)."""


class SubmissionError(Exception):
    """The submission's code raised an exception that is not one of Python's builtins."""


class KernelLost(Exception):
    """The kernel broke a cap, misbehaved or died; it has been killed. One-line message."""


@dataclass(frozen=True)
class Limits:
    """Caps on one kernel: seconds per call and per cell, output bytes per cell and notebook."""

    call_seconds: float = 10.0
    cell_seconds: float = 60.0
    cell_output_bytes: int = 2**20
    notebook_output_bytes: int = 10 * 2**20
    start_seconds: float = 60.0


@dataclass(frozen=True)
class ArgumentPolicy:
    """What a graded function may do to its arguments, as its docstring says.

    ``names`` are its parameters in order. Changes it makes to an ``in_place`` argument reach
    the test's object, as in one process; a change to a ``read_only`` argument makes the call
    fail with the reason; changes to any other argument stay in the kernel (the call's result
    still shows them). A ``numpy.random.Generator`` or ``RandomState`` argument always comes
    back advanced.
    """

    function: str
    names: tuple[str, ...]
    in_place: frozenset[str] = frozenset()
    read_only: frozenset[str] = frozenset()

    def bound(self, args: tuple, kwargs: dict) -> list[tuple[str, object]]:
        """Each argument with the name of the parameter it binds to (``""`` if unknown)."""
        named = [(self.names[i] if i < len(self.names) else "", a) for i, a in enumerate(args)]
        return named + [(k if k in self.names else "", v) for k, v in kwargs.items()]


WRITE, KEEP = "write", "keep"


def argument_roles(policy: ArgumentPolicy | None, args: tuple, kwargs: dict) -> dict[int, str]:
    """``id`` of every mutable object in the arguments -> ``write``, ``keep`` or the name of
    the read-only parameter it belongs to."""
    roles: dict[int, str] = {}
    named = policy.bound(args, kwargs) if policy else [("", a) for a in (*args, *kwargs.values())]
    for name, value in named:
        role = KEEP
        if policy is not None and name in policy.in_place:
            role = WRITE
        elif policy is not None and name in policy.read_only:
            role = name
        for obj in reachable(value):
            if isinstance(obj, RANDOM):
                roles[id(obj)] = WRITE
            elif roles.get(id(obj)) in (None, KEEP) or role == WRITE:
                roles[id(obj)] = role
    return roles


def reachable(value, limit: int = 100_000) -> list:
    """The containers, arrays and generators in ``value``, as the codec walks it."""
    found, stack, seen = [], [value], set()
    while stack and len(found) < limit:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, np.ndarray | list | dict | RANDOM):
            found.append(obj)
        if isinstance(obj, list | tuple):
            stack.extend(obj)
        elif isinstance(obj, dict):
            stack.extend(obj.values())
    return found


@dataclass
class CellRun:
    """What a cell did in the kernel: its outputs, and the error it raised or why it stopped."""

    outputs: list
    error: str | None = None
    stopped: str | None = None


class Handle:
    """A kernel object the test holds: calls, attributes, ``len``, iteration and indexing."""

    __slots__ = ("__weakref__", "_hid", "_policy", "_session")

    def __init__(self, session: KernelSession, hid: int) -> None:
        object.__setattr__(self, "_session", session)
        object.__setattr__(self, "_hid", hid)
        object.__setattr__(self, "_policy", None)

    def __call__(self, *args, **kwargs):
        return self._session.call(self, args, kwargs)

    def __getattr__(self, name: str):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self._session.request({"op": "getattr", "target": self._hid, "name": name})

    def __setattr__(self, name, value):
        raise AttributeError("attributes of the submission's objects cannot be set by tests")

    def __len__(self) -> int:
        n = self._session.request({"op": "len", "target": self._hid})
        if type(n) is not int or n < 0:
            raise TypeError("len() of the submission's object is not a non-negative int")
        return n

    def __iter__(self):
        iterator = self._session.request({"op": "iter", "target": self._hid})
        if not isinstance(iterator, Handle):
            raise TypeError("the submission's object did not return an iterator")
        return _Iteration(iterator)

    def __next__(self):
        return self._session.request({"op": "next", "target": self._hid})

    def __getitem__(self, key):
        return self._session.request({"op": "getitem", "target": self._hid}, key=key)

    def __bool__(self) -> bool:
        return True

    def __copy__(self):
        return self  # a handle is a reference: a copy refers to the same kernel object

    def __deepcopy__(self, memo):
        return self

    def __reduce__(self):
        raise TypeError("a handle to the submission's object cannot be pickled")

    def __repr__(self) -> str:
        return f"<object #{self._hid} of the submission>"


class _Iteration:
    """Python's iterator protocol over a handle to a kernel iterator."""

    def __init__(self, handle: Handle) -> None:
        self.handle = handle

    def __iter__(self):
        return self

    def __next__(self):
        return self.handle.__next__()


class KernelSession:
    """One kernel for one submission; see the module docstring."""

    def __init__(
        self,
        runtime: Path,
        limits: Limits,
        kernel_name: str = "python3",
        launcher: Callable[[Path, Path], list[str]] | None = None,
        warm: WarmStart | None = None,
    ) -> None:
        self.kernel_name = kernel_name
        self.launcher = launcher
        self.warm = warm
        self.runtime = runtime
        self.limits = limits
        self.manager = None
        self.client = None
        self.handles: dict[int, Handle] = {}
        self.trusted: dict[int, object] = {}
        self.owned: dict[int, object] = {}
        self.call_seconds = limits.call_seconds
        self.output_bytes = 0
        self.serving = False
        self.next_id = 0
        self.cell_deadline = float("inf")
        self.folder: Path | None = None
        self.scrub: Callable[[str], str] = str
        """Takes the names of the test's own helpers out of a text bound for the kernel."""
        self.observed: list[tuple[str, str, str, str]] = []
        """What the kernel's observer reported during requests, until the runner takes it."""

    # -- life cycle -----------------------------------------------------------------------
    def start(self) -> None:
        """Start the kernel and load the agent; ``KernelLost`` if it does not come up."""
        import zmq
        from jupyter_client import KernelManager
        from jupyter_client.kernelspec import KernelSpec

        context = zmq.Context()
        context.setsockopt(zmq.MAXMSGSIZE, codec.MAX_MESSAGE_BYTES * 2)
        context.setsockopt(zmq.RECONNECT_IVL, 10)  # the kernel binds a moment after we connect
        self.runtime.mkdir(parents=True, exist_ok=True)
        self.runtime.chmod(0o700)  # an unconfined kernel may have locked it: ours to undo
        # A fresh folder per kernel, made here and removed when it dies: its sockets and
        # connection file, and its working folder. A confined kernel sees this folder and
        # nothing else of the grader's, so nothing it leaves can reach the next kernel.
        self.folder = Path(tempfile.mkdtemp(prefix="kernel-", dir=self.runtime))
        work = self.folder / "work"
        work.mkdir()
        if self.warm is not None:
            try:
                self.manager = self.warm.start(self.folder, work, context)
            except TemplateError:
                self.manager = None  # the template failed (logged): this kernel starts cold
        if self.manager is not None:
            self.connect()
            return
        self.manager = KernelManager(
            kernel_name=self.kernel_name,
            transport="ipc",
            ip=str(self.folder / "kernel"),
            connection_file=str(self.folder / "kernel.json"),
            context=context,
        )
        if self.launcher is not None:
            self.manager._kernel_spec = KernelSpec(  # this kernel's own command line
                argv=self.launcher(work, self.folder),
                display_name="grading kernel",
                language="python",
                interrupt_mode="message",  # a signal would stop at the sandbox
            )
        try:
            self.manager.start_kernel(cwd=str(work))
        except Exception as exc:
            self.kill()
            raise KernelLost(f"the kernel did not start: {one_line(exc)}") from None
        self.connect()
        codec_source, agent_source = AGENT_SOURCE
        boot = (
            "def _grader_boot(codec_source, agent_source):\n"
            "    import sys, types\n"
            "    module = types.ModuleType('_grader_agent')\n"
            "    exec(compile(codec_source, '<grader codec>', 'exec'), module.__dict__)\n"
            "    exec(compile(agent_source, '<grader agent>', 'exec'), module.__dict__)\n"
            "    sys.modules['_grader_agent'] = module\n"
            "    module.install(get_ipython().user_ns, get_ipython().kernel)\n"
            f"_grader_boot({codec_source!r}, {agent_source!r})\n"
            "del _grader_boot\n"
        )
        run = self.execute(boot, silent=True, timeout=self.limits.start_seconds)
        if run.error or run.stopped:
            self.kill()
            raise KernelLost(
                f"the kernel could not load the grading agent: {run.error or run.stopped}"
            )

    def connect(self) -> None:
        """Open the channels and wait until the kernel answers on shell and IOPub alike."""
        try:
            self.client = self.manager.blocking_client()
            self.client.start_channels()
            self.wait_until_ready(self.limits.start_seconds)
        except Exception as exc:
            self.kill()
            raise KernelLost(f"the kernel did not start: {one_line(exc)}") from None

    def wait_until_ready(self, seconds: float) -> None:
        """``kernel_info`` until it is answered and its status reaches us on IOPub.

        jupyter_client's ``wait_for_ready`` does the same with fixed waits of 0.2 s (a fifth
        of a warm kernel's start); this one returns as soon as both arrived. The request is
        sent again while IOPub is not connected yet (its status would be lost).
        """
        deadline = time.monotonic() + seconds
        while True:
            msg_id = self.client.kernel_info()
            replied = self.await_message(self.client.get_shell_msg, msg_id, 1.0, deadline)
            if replied and self.await_message(self.client.get_iopub_msg, msg_id, 0.1, deadline):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {seconds:g} seconds")

    def await_message(self, get, msg_id: str, seconds: float, deadline: float) -> bool:
        """Whether ``get`` yields a reply, or an idle status, to ``msg_id`` within ``seconds``."""
        from queue import Empty

        until = min(deadline, time.monotonic() + seconds)
        while time.monotonic() < until:
            try:
                msg = get(timeout=0.02)
            except Empty:
                if not self.manager.is_alive():
                    raise RuntimeError("Kernel died before replying to kernel_info") from None
                continue
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if msg.get("msg_type") != "status":
                return True
            if msg.get("content", {}).get("execution_state") == "idle":
                return True
        return False

    def kill(self) -> None:
        """Kill the kernel at once (nothing it holds is needed any more)."""
        if self.client is not None:
            with contextlib.suppress(Exception):
                self.client.stop_channels()
        if self.manager is not None:
            kill_kernel_process(getattr(self.manager.provisioner, "process", None))
            with contextlib.suppress(Exception):
                self.manager.cleanup_resources()
            with contextlib.suppress(Exception):
                self.manager.context.destroy(linger=0)
        self.manager = self.client = None
        self.handles.clear()
        self.serving = False
        if self.folder is not None:
            remove_tree(self.folder)  # whatever the kernel did to it; no link followed
            self.folder = None

    @property
    def alive(self) -> bool:
        return self.manager is not None and self.client is not None

    # -- cells ------------------------------------------------------------------------------
    def execute(self, code: str, silent: bool = False, timeout: float | None = None) -> CellRun:
        """Run ``code`` as a cell; collect its outputs within the caps."""
        from nbformat.v4 import output_from_msg

        timeout = timeout or self.limits.cell_seconds
        msg_id = self.client.execute(
            code, silent=silent, store_history=not silent, allow_stdin=False
        )
        deadline = time.monotonic() + timeout
        run = CellRun(outputs=[])
        cell_bytes = 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                run.stopped = f"the cell ran longer than {timeout:g} s"
                return run
            try:
                msg = self.client.get_iopub_msg(timeout=min(remaining, 1.0))
            except Exception:
                if not self.manager.is_alive():
                    self.kill()
                    run.stopped = "the kernel died (os._exit, a crash or too much memory)"
                    return run
                continue
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = msg.get("msg_type")
            if kind == "status" and msg["content"].get("execution_state") == "idle":
                return run
            if kind in ("stream", "display_data", "execute_result", "error"):
                size = message_size(msg)
                cell_bytes += size
                self.output_bytes += size
                if cell_bytes > self.limits.cell_output_bytes:
                    self.kill()
                    run.stopped = (
                        f"the cell printed more than {self.limits.cell_output_bytes // 2**20} MB"
                    )
                    return run
                if self.output_bytes > self.limits.notebook_output_bytes:
                    self.kill()
                    run.stopped = self.too_much_output()
                    return run
                try:
                    output = output_from_msg(msg)
                except (ValueError, KeyError):
                    continue
                if kind == "error":
                    run.error = f"{msg['content'].get('ename')}: {msg['content'].get('evalue')}"
                run.outputs.append(output)

    def too_much_output(self) -> str:
        return f"the notebook printed more than {self.limits.notebook_output_bytes // 2**20} MB"

    # -- requests while a test cell runs -----------------------------------------------------
    @contextlib.contextmanager
    def serving_cell(self):
        """Open the kernel's request loop for one test cell; close it afterwards."""
        self.trusted, self.owned, self.owned_ids = {}, {}, {}
        self.roles, self.changed, self.violations = {}, {}, []
        self.cell_deadline = time.monotonic() + self.limits.cell_seconds
        self.serve_id = self.client.execute(
            SERVE, silent=True, store_history=False, allow_stdin=True
        )
        self.serving = True
        try:
            ready, _ = self.receive()
            if ready.get("op") != "ready":
                self.lose("the kernel did not start answering requests")
            yield self
        finally:
            if self.alive and self.serving:
                self.finish_serving()
            self.trusted, self.owned = {}, {}

    def finish_serving(self) -> None:
        self.serving = False
        try:
            self.reply(dumps({"op": "end"}, []))
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                msg = self.client.get_shell_msg(timeout=deadline - time.monotonic())
                if msg.get("parent_header", {}).get("msg_id") == self.serve_id:
                    return
        except Exception:
            pass
        self.kill()

    def lose(self, reason: str):
        self.kill()
        raise KernelLost(reason)

    def receive(self, limit: float | None = None) -> tuple[dict, Decoder]:
        """The kernel's next message on the stdin channel, within ``limit`` seconds."""
        import zmq

        if not self.alive or not self.serving:
            raise KernelLost("the kernel is gone")
        limit = self.call_seconds if limit is None else limit
        deadline = time.monotonic() + limit
        stdin = self.client.stdin_channel.socket
        iopub = self.client.iopub_channel.socket
        poller = zmq.Poller()
        poller.register(stdin, zmq.POLLIN)
        poller.register(iopub, zmq.POLLIN)
        while True:
            now = time.monotonic()
            if now > deadline:
                self.lose(f"a call to the submission ran longer than {limit:g} s")
            if now > self.cell_deadline:
                self.lose(f"the test cell ran longer than {self.limits.cell_seconds:g} s")
            ready = dict(poller.poll(timeout=int(min(deadline - now, 0.5) * 1000) + 1))
            if iopub in ready:
                self.drain_output()
            if stdin not in ready:
                if not ready and not self.manager.is_alive():
                    self.lose("the kernel died (os._exit, a crash or too much memory)")
                continue
            try:
                _, msg = self.client.session.recv(stdin, mode=zmq.NOBLOCK)
            except Exception:
                self.lose("the kernel sent a message that is not a valid Jupyter message")
            if msg is None or msg.get("msg_type") != "input_request":
                continue
            try:
                message, buffers = loads(msg["content"]["prompt"])
            except (CodecError, KeyError, TypeError):
                self.lose("the kernel answered with a malformed message")
            return message, Decoder(buffers, self.resolve, deadline=self.cell_deadline)

    def drain_output(self) -> None:
        """Read (and drop) what the kernel printed, within the notebook's output cap."""
        import zmq

        iopub = self.client.iopub_channel.socket
        while True:
            try:
                frames = iopub.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            self.output_bytes += sum(len(f) for f in frames)
            if self.output_bytes > self.limits.notebook_output_bytes:
                self.lose(self.too_much_output())

    def send(self, message: dict, values: dict, roles: dict | None = None) -> Encoder:
        encoder = Encoder(self.export)
        for name, value in values.items():
            message[name] = encoder.encode(value)
        if roles is not None:
            message["owned"] = self.own(encoder, roles)
        self.reply(dumps(message, encoder.buffers))
        return encoder

    def reply(self, text: str) -> None:
        """Answer the kernel's pending ``input()`` with ``text``."""
        session = self.client.session
        session.send(self.client.stdin_channel.socket, session.msg("input_reply", {"value": text}))

    def own(self, encoder: Encoder, roles: dict[int, str]) -> list:
        """Register the mutable objects just encoded, with what their changes may do."""
        pairs = []
        for obj, index in zip(encoder.keep, range(len(encoder.keep)), strict=True):
            if isinstance(obj, np.ndarray | list | dict | RANDOM):
                tid = self.owned_ids.get(id(obj))
                if tid is None or self.owned.get(tid) is not obj:
                    tid = self.owned_ids[id(obj)] = self.new_id()
                self.owned[tid] = obj
                self.roles[tid] = roles.get(id(obj), KEEP)
                pairs.append([tid, index])
        return pairs

    def request(self, message: dict, **values):
        """Send a request about a kernel object; return the decoded answer."""
        message["errstate"] = current_errstate()
        self.send(message, values)
        return self.answer(None, message["op"])

    def call(self, handle: Handle, args: tuple, kwargs: dict):
        """Call a kernel function with data; what it changes in its arguments is treated as
        its :class:`ArgumentPolicy` says."""
        message = {"op": "call", "target": handle._hid, "errstate": current_errstate()}
        roles = argument_roles(handle._policy, args, kwargs)
        outer = self.changed, self.violations  # a callback may call the kernel again
        self.changed, self.violations = {}, []
        values = {"args": list(args), "kwargs": dict(kwargs)}
        try:
            encoder = self.send(message, values, roles=roles)
            result = self.answer(encoder, "call")
            violations = self.violations
        finally:
            self.changed, self.violations = outer
        if violations:
            policy = handle._policy
            names = ", ".join(f"`{n}`" for n in dict.fromkeys(violations))
            raise AssertionError(
                f"{policy.function} changed its argument {names} in place; "
                "its docstring asks it to leave its arguments unchanged"
            )
        return result

    def answer(self, encoder: Encoder | None, op_sent: str):
        spent_in_callbacks = 0.0
        start = time.monotonic()
        while True:
            limit = self.call_seconds + spent_in_callbacks - (time.monotonic() - start)
            message, decoder = self.receive(max(limit, 0.001))
            op = message.get("op")
            try:
                self.apply_sync(message, decoder)
            except CodecError as exc:
                self.lose(f"the kernel sent malformed data ({exc})")
            if op == "callback":
                begun = time.monotonic()
                self.run_callback(message, decoder)
                spent_in_callbacks += time.monotonic() - begun
                continue
            reemit(message.get("warnings"))
            if op in ("result", "error") and op_sent in agent_module.OBSERVED_OPS:
                self.take_observation(message.get("observed"))
            if op == "result":
                decoder.arguments = self.current(encoder.keep) if encoder is not None else []
                try:
                    return decoder.decode(message.get("value"))
                except CodecError as exc:
                    self.lose(f"the kernel sent a malformed result ({exc})")
            if op == "error":
                raise rebuild_exception(message)
            self.lose("the kernel answered with an unknown message")

    def take_observation(self, report) -> None:
        """Keep what the kernel's observer saw during a request (see ``agent.Observer``).

        The report is the kernel's word, checked for form: a missing or malformed one is
        itself an alarm, for the runner to hold the test cell's points for review.
        """
        if (
            type(report) is not dict
            or type(report.get("ran")) is not list
            or type(report.get("alarms")) is not list
        ):
            self.observed.append(
                ("alarm", "", "", "the kernel's answer carried no report of what ran")
            )
            return
        for entry in report["ran"][: agent_module.MAX_SEEN]:
            if type(entry) is list and len(entry) == 3 and all(type(e) is str for e in entry):
                name, what, line = entry
                self.observed.append(("ran", name[:200], what[:200], line[: agent_module.MAX_LINE]))
            else:
                self.observed.append(("alarm", "", "", "a malformed report of what ran"))
        for text in report["alarms"][: agent_module.MAX_SEEN]:
            text = text if type(text) is str else "a malformed alarm"
            self.observed.append(("alarm", "", "", text[: agent_module.MAX_LINE * 2]))
        del self.observed[agent_module.MAX_SEEN * 4 :]

    def take_observed(self) -> list[tuple[str, str, str, str]]:
        """What the observer reported since the last time: ``(kind, graded name, what ran,
        line)``; an alarm has only its text, as the line."""
        out, self.observed = self.observed, []
        return out

    def watch(self, equivalents: dict[str, list[str]]) -> None:
        """Ask the observer to watch library functions that stand for graded names."""
        if equivalents:
            with self.serving_cell():
                self.request({"op": "watch", "equivalents": equivalents})

    def apply_sync(self, message: dict, decoder: Decoder) -> None:
        if "sync" not in message:
            return
        changes = decoder.decode(message["sync"])
        if type(changes) is not dict:
            raise CodecError("a malformed update of the arguments")
        for key, value in changes.items():
            tid = int(key) if type(key) is str and key.isascii() and key.isdigit() else None
            target = self.owned.get(tid)
            if target is None:
                continue
            role = self.roles.get(tid, KEEP)
            if role == WRITE:
                sync_into(target, value)
                continue
            self.changed[tid] = value  # the kernel's value, for the result to show
            if role != KEEP:
                self.violations.append(role)

    def current(self, kept: list) -> list:
        """The call's arguments as the kernel now holds them: changed copies where changed."""
        return [self.changed.get(self.owned_ids.get(id(obj)), obj) for obj in kept]

    def run_callback(self, message: dict, decoder: Decoder) -> None:
        """Call the test's own object for the kernel, with data only, and send the outcome."""
        target = self.trusted.get(message.get("target"))
        try:
            if target is None:
                raise TypeError("the kernel asked for an object the test did not pass")
            args = decoder.decode(message.get("args"))
            kwargs = decoder.decode(message.get("kwargs"))
            if type(args) is not list or type(kwargs) is not dict:
                raise TypeError("malformed callback arguments")
            if not all(type(k) is str for k in kwargs):
                raise TypeError("keyword names must be strings")
            if message.get("kind") == "getattr":
                name = message.get("name")
                if type(name) is not str or name.startswith("_"):
                    raise AttributeError("only public methods of the test's objects can be used")
                value = getattr(target, name)
                if not callable(value):
                    raise AttributeError(f"{name!r} is not a method the submission may use")
            else:
                if not callable(target):
                    raise TypeError("the test's object is not callable")
                value = target(*args, **kwargs)
            self.send({"op": "return"}, {"value": value})
        except CodecError as exc:
            self.send({"op": "raise", "type": "ValueError", "text": str(exc)}, {})
        except Exception as exc:
            kind = type(exc)
            name = kind.__name__ if kind.__module__ == "builtins" else "RuntimeError"
            text = one_line(exc) if kind.__module__ == "builtins" else "the test's object failed"
            self.send({"op": "raise", "type": name, "text": self.scrub(text)}, {})

    # -- references --------------------------------------------------------------------------
    def export(self, obj):
        if isinstance(obj, Handle):
            if obj._session is not self:
                raise CodecError("a handle from another kernel")
            return ["h", obj._hid]
        tid = self.new_id()
        self.trusted[tid] = obj
        return ["o", tid]

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def resolve(self, tag: str, ident):
        if type(ident) is not int or not 0 < ident <= MAX_HANDLE_ID:
            raise CodecError("a malformed reference")
        if tag == "o":
            if ident not in self.trusted:
                raise CodecError("a reference to an object the test did not pass")
            return self.trusted[ident]
        if ident not in self.handles:
            if len(self.handles) >= MAX_HANDLES:
                raise CodecError(f"more than {MAX_HANDLES:,} objects of the submission")
            self.handles[ident] = Handle(self, ident)
        return self.handles[ident]

    # -- the kernel's global state -------------------------------------------------------------
    def lookup(self, names: list[str]) -> dict:
        """The current value (data or handle) of each of ``names`` the kernel defines."""
        found = self.request({"op": "lookup", "names": list(names)})
        if type(found) is not dict:
            self.lose("the kernel answered a lookup with something that is not a dict")
        return {k: v for k, v in found.items() if k in names}

    def describe(self, handle: Handle):
        """The kernel's description of an estimator: class names and parameters, as data."""
        return self.request({"op": "describe", "target": handle._hid})

    def seed(self, seed: int) -> None:
        self.request({"op": "seed", "seed": int(seed)})

    def random_state(self):
        return self.request({"op": "random_state"})

    @contextlib.contextmanager
    def call_limit(self, seconds: float):
        """Allow calls up to ``seconds`` inside the block (e.g. fitting a model)."""
        before, self.call_seconds = self.call_seconds, float(seconds)
        try:
            yield
        finally:
            self.call_seconds = before


def kill_kernel_process(process) -> None:
    """Kill a kernel and everything it started (:func:`kill_tree`), then reap it."""
    if process is None:
        return
    kill_tree(process.pid)
    with contextlib.suppress(Exception):
        process.wait(timeout=5)


def sync_into(target, value) -> None:
    """Make ``target`` equal to ``value`` in place, keeping the identity of what it holds."""
    if isinstance(target, np.ndarray):
        if isinstance(value, np.ndarray) and value.shape == target.shape and target.flags.writeable:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                target[...] = value
    elif isinstance(target, dict) and isinstance(value, dict):
        for key in [k for k in target if k not in value]:
            del target[key]
        for key, new in value.items():
            old = target.get(key)
            if key in target and syncable(old, new):
                sync_into(old, new)
            else:
                target[key] = new
    elif isinstance(target, list) and isinstance(value, list):
        del target[len(value) :]
        for i, new in enumerate(value):
            if i < len(target) and syncable(target[i], new):
                sync_into(target[i], new)
            elif i < len(target):
                target[i] = new
            else:
                target.append(new)
    elif isinstance(target, np.random.Generator) and isinstance(value, np.random.Generator):
        if type(target.bit_generator) is type(value.bit_generator):
            target.bit_generator.state = value.bit_generator.state
    elif isinstance(target, np.random.RandomState) and isinstance(value, np.random.RandomState):
        old, new = target.get_state(legacy=False), value.get_state(legacy=False)
        if old["bit_generator"] == new["bit_generator"]:
            target.set_state(new)


def syncable(old, new) -> bool:
    """Whether ``old`` can take ``new``'s value in place."""
    if isinstance(old, np.ndarray) and isinstance(new, np.ndarray):
        return old.shape == new.shape and old.dtype == new.dtype and old.flags.writeable
    return type(old) is type(new) and isinstance(old, dict | list | RANDOM)


def current_errstate() -> dict:
    """The caller's NumPy floating-point error handling, as the kernel should apply it."""
    return {k: (v if v in ERRSTATE_MODES else "warn") for k, v in np.geterr().items()}


def reemit(record) -> None:
    """Warn here, under the test's own filters, what the submission's code warned."""
    if type(record) is not list:
        return
    for item in record[:20]:
        if type(item) is not list or len(item) != 2 or not all(type(x) is str for x in item):
            continue
        category = getattr(builtins, item[0], None)
        if not (isinstance(category, type) and issubclass(category, Warning)):
            category = UserWarning
        warnings.warn_explicit(item[1][:2000], category, "<submission>", 1)


def rebuild_exception(message: dict) -> Exception:
    """The exception to raise in the test for an error the submission's code raised."""
    name, text = str(message.get("type", "Exception")), str(message.get("text", ""))[:2000]
    kind = getattr(builtins, name, None) if message.get("builtin") is True else None
    if isinstance(kind, type) and issubclass(kind, Exception) and kind is not SubmissionError:
        try:
            return kind(text)
        except Exception:
            pass
    return SubmissionError(f"{name[:100]}: {text}")


def message_size(msg: dict) -> int:
    content = msg.get("content", {})
    size = len(str(content.get("text", "")))
    for value in (content.get("data") or {}).values():
        size += len(str(value))
    size += sum(len(str(t)) for t in content.get("traceback", []) or [])
    return size
