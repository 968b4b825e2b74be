"""Limits on a process, and the end of one: the one place either is done.

:func:`cap_memory` and :func:`cap_cpu` are set by a kernel's launcher before it becomes
ipykernel (:mod:`autograder.runtime.sandbox` runs this file's text in a bare, isolated
interpreter, so its top level imports only the standard library), by a grading worker on
itself, and by the pre-flight's process. :func:`kill_tree` ends a kernel, a worker or a
pre-flight process together with everything it started.
"""

import os
import resource
import signal


def cap_memory(limit_bytes):
    """Cap this process's address space at ``limit_bytes`` (a falsy limit: no cap).

    macOS refuses ``RLIMIT_AS``; the data segment is capped there instead (weaker).
    """
    if not limit_bytes:
        return
    limit = int(limit_bytes)
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ValueError, OSError):
        try:
            resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
        except (ValueError, OSError):
            pass


def cap_cpu(seconds):
    """Cap this process's CPU time: the kernel gets SIGXCPU, then SIGKILL, past it."""
    resource.setrlimit(resource.RLIMIT_CPU, (int(seconds), int(seconds)))


def kill_tree(pid, wait_seconds=5.0):
    """SIGKILL process ``pid``, its process group if it leads one, and all its descendants.

    The group catches what a kernel started and then left (a daemon re-parented away from
    it); the descendants catch children in other groups. Our own group is never signalled.
    Returns once they are gone, or after ``wait_seconds``.
    """
    import psutil

    if pid is None:
        return
    try:
        parent = psutil.Process(pid)
        family = [*parent.children(recursive=True), parent]
    except psutil.Error:
        family = []
    try:
        group = os.getpgid(pid)
        if group == pid and group != os.getpgid(0):
            os.killpg(group, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        pass
    for process in family:
        try:
            process.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(family, timeout=wait_seconds)
