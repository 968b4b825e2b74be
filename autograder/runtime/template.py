"""The warm template: a process with a kernel's imports loaded, that forks each new kernel.

A kernel started from nothing spends most of a second importing IPython, ipykernel, NumPy and
the course before the student's first cell runs. The template pays that once per worker: it
imports what the assignments' own cells import, then, for each kernel, forks a child that is
confined exactly as :mod:`~autograder.runtime.confine` confines a kernel under ``unshare``
(bubblewrap's options, carried out in place) and only then becomes ipykernel. The template
itself never runs a line of a submission, so every kernel starts from the same pristine state:
no module attribute, environment variable, signal handler, thread, file or descriptor of one
kernel can reach the next, because none of them ever reaches the template.

This file's text runs as ``python -c`` (its top level imports only the standard library); the
grading worker sends it one JSON line to set up, then one per kernel, and reads one JSON line
back for each (:mod:`~autograder.runtime.warm` is that side):

- ``{"sources": {name: text}, "preload": [module, ...], "absent": [module, ...]}``: build the
  grader's modules (limits, confinement, codec and agent) from their text, import ``preload``
  and check that none of ``absent`` came with them; answer ``{"ready": seconds}`` or
  ``{"error": text}``.
- ``{"connection_file": path, "options": [bwrap option, ...], "memory": bytes, "cpu": seconds}``:
  fork a kernel; answer ``{"pid": kernel, "helper": pid}`` once it is confined, or
  ``{"error": text}``.

Each kernel is two processes. The *helper* (a child of the template) makes the namespaces
(user, mount, network, PID, IPC, UTS: what ``unshare --user --mount --net --pid --ipc --uts``
makes) and forks the *kernel*, PID 1 of the new PID namespace: killing it ends every process
the submission started. The kernel mounts its private view of the file system, drops every
capability, sets its limits, and becomes ipykernel with the grading agent installed. The
helper waits for the kernel and exits with it; both die with their parent.
"""

import ctypes
import json
import os
import select
import signal
import sys
import time
import types

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
NAMESPACES = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC
NAMESPACES |= CLONE_NEWUTS
MS_REC, MS_PRIVATE = 0x4000, 0x40000
PR_SET_PDEATHSIG = 1
REPORT_SECONDS = 30
"""How long the template waits for a kernel to say it is confined (a busy machine)."""
GRADER_MODULES = ("_grader_limits", "_grader_confine")
"""The template's own helpers: gone from the kernel's ``sys.modules`` before it starts."""

LIBC = ctypes.CDLL(None, use_errno=True)


def build(name, *texts):
    """A module ``name`` made from source ``texts`` (label, text), in ``sys.modules``."""
    module = types.ModuleType(name)
    for label, text in texts:
        exec(compile(text, label, "exec"), module.__dict__)
    sys.modules[name] = module
    return module


def answer(message):
    """One JSON line to the worker."""
    os.write(1, (json.dumps(message) + "\n").encode())


def set_up(setup):
    """Build the grader's modules and import ``preload``; the ``ready`` or ``error`` answer."""
    import importlib

    start = time.monotonic()
    sources = setup["sources"]
    build("_grader_limits", ("<grader limits>", sources["processes"]))
    build("_grader_confine", ("<grader confine>", sources["confine"]))
    build(
        "_grader_agent", ("<grader codec>", sources["codec"]), ("<grader agent>", sources["agent"])
    )
    for name in setup["preload"]:
        try:
            importlib.import_module(name)
        except Exception as exc:  # the kernel would fail the same way: it is the cell's error
            sys.stderr.write(f"template: preloading {name} failed: {exc!r}\n")
    came = [name for name in setup["absent"] if name in sys.modules]
    if came:
        return {"error": f"preloading brought in {', '.join(sorted(came))}"}
    import threading

    if threading.active_count() != 1:
        return {"error": "the template runs threads after its imports: forking is unsafe"}
    return {"ready": round(time.monotonic() - start, 3)}


def close_descriptors(keep):
    """Standard input from ``/dev/null``, standard output onto standard error (the worker's
    log), and every other descriptor closed but ``keep``."""
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(2, 1)
    for fd in sorted(int(n) for n in os.listdir("/proc/self/fd")):
        if fd > 2 and fd != keep:
            try:
                os.close(fd)
            except OSError:
                pass


def die_with_parent():
    if LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "parent-death signal")


def enter_namespaces():
    """New user, mount, network, PID, IPC and UTS namespaces, this user mapped onto itself,
    mounts private: what ``unshare`` does before the confinement (the next child is PID 1)."""
    uid, gid = os.geteuid(), os.getegid()
    if LIBC.unshare(NAMESPACES) != 0:
        raise OSError(ctypes.get_errno(), "unshare")
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"),
                       ("gid_map", f"{gid} {gid} 1")):  # fmt: skip
        with open(f"/proc/self/{name}", "w") as handle:
            handle.write(text)
    if LIBC.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        raise OSError(ctypes.get_errno(), "make the mounts private")


def confined(request):
    """In the kernel process: mounts, capabilities, environment and caps, as a cold kernel's."""
    confine = sys.modules["_grader_confine"]
    limits = sys.modules["_grader_limits"]
    steps, _ = confine.parse([*request["options"], "--", "ipykernel"])
    env = confine.confine(steps)
    confine.drop_capabilities()
    os.environ.clear()
    os.environ.update(env)
    limits.cap_memory(request["memory"])
    limits.cap_cpu(request["cpu"])


def become_kernel(request):
    """Become ipykernel with the grading agent installed (returns when the kernel stops)."""
    for name in GRADER_MODULES:
        sys.modules.pop(name, None)
    reseed()
    from ipykernel.kernelapp import IPKernelApp

    sys.argv = ["ipykernel_launcher", "-f", request["connection_file"]]
    app = IPKernelApp.instance()
    app.initialize(sys.argv[1:])
    sys.modules["_grader_agent"].install(app.shell.user_ns, app.kernel)
    app.start()


def reseed():
    """Fresh random states, as a kernel started from nothing would have: every fork begins
    with the template's (Python's ``random`` and NumPy's global generator)."""
    import random

    random.seed()
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed()


def helper(request, report):
    """In the helper process: namespaces, the kernel forked as their PID 1, then wait."""
    die_with_parent()
    enter_namespaces()
    pid = os.fork()
    if pid == 0:
        try:
            die_with_parent()
            confined(request)
        except BaseException as exc:  # any failure: say so, never run unconfined
            try:
                os.write(report, (json.dumps({"error": f"{exc!r}"[:500]}) + "\n").encode())
            except OSError:
                pass
            os._exit(126)
        os.write(report, b'{"confined": true}\n')
        os.close(report)  # before any request of the grader's can reach the kernel
        status = 0
        try:
            become_kernel(request)
        except BaseException:  # the kernel failed or exited: never back into the helper's code
            status = 1
        os._exit(status)
    os.write(report, (json.dumps({"pid": pid}) + "\n").encode())
    os.close(report)
    _, status = os.waitpid(pid, 0)
    os._exit(os.waitstatus_to_exitcode(status) & 0xFF)


def spawn(request):
    """Fork one kernel; the answer for the worker."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            os.close(read)
            close_descriptors(keep=write)
            os.setsid()
            helper(request, write)
        except BaseException as exc:
            try:
                os.write(write, (json.dumps({"error": f"{exc!r}"[:500]}) + "\n").encode())
            except OSError:
                pass
        os._exit(126)
    os.close(write)
    reply, text, deadline = {"helper": pid}, b"", time.monotonic() + REPORT_SECONDS
    while "error" not in reply and not (reply.get("confined") and "pid" in reply):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([read], [], [], left)[0]:
            reply["error"] = "the kernel did not report within the time allowed"
            break
        chunk = os.read(read, 4096)
        if not chunk:
            reply.setdefault("error", "the kernel ended before it was confined")
            break
        text += chunk
        while b"\n" in text:
            line, text = text.split(b"\n", 1)
            reply.update(json.loads(line))
    os.close(read)
    if "error" in reply:
        for target in (reply.get("pid"), pid):
            if target:
                try:
                    os.kill(target, signal.SIGKILL)
                except OSError:
                    pass
        return {"error": reply["error"]}
    return {"pid": reply["pid"], "helper": pid}


def main():
    """Set up, then serve one kernel per request until standard input closes."""
    die_with_parent()
    if sys.path and sys.path[0] == "":  # as ipykernel's launcher: IPython puts it back
        del sys.path[0]
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # helpers are reaped as they end
    requests = os.fdopen(0, "r", encoding="utf-8")
    answer(set_up(json.loads(requests.readline())))
    for line in requests:
        try:
            answer(spawn(json.loads(line)))
        except Exception as exc:  # one bad request never stops the template
            answer({"error": f"{exc!r}"[:500]})


if __name__ == "__main__":
    main()
