"""Limits on a process, and what ends it: the one place either is done.

:func:`cap_memory` and :func:`cap_cpu` are set by a kernel's launcher before it becomes
ipykernel (:mod:`autograder.runtime.sandbox` runs this file's text in a bare, isolated
interpreter, so its top level imports only the standard library), by a grading worker on
itself, and by the pre-flight's process. :func:`kill_tree` ends a kernel, a worker or a
pre-flight process together with everything it started, and :func:`remove_tree` removes
the folder a kernel could write, whatever it did to it.
"""

import os
import resource
import signal
import stat


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
    Returns once our own children among them are reaped, or after ``wait_seconds``; the
    others are left to whoever reaps orphans (waiting for those would wait on that reaper).
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
    ours = []
    for process in family:
        try:
            if process.ppid() == os.getpid():
                ours.append(process)
            process.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(ours, timeout=wait_seconds)


def remove_tree(path):
    """Remove the folder ``path`` that a kernel could write, never following a link.

    A kernel may have taken the permissions off its folders (as the same user, it can): they
    are given back, folder by folder and without following symlinks, before the removal.
    """
    import shutil

    try:
        if stat.S_ISLNK(os.lstat(path).st_mode):
            os.unlink(path)
            return
    except FileNotFoundError:
        return
    try:
        os.chmod(path, 0o700)
    except OSError:
        pass
    for folder, dirs, _ in os.walk(path, topdown=True, followlinks=False):
        for name in dirs:
            child = os.path.join(folder, name)
            try:
                if stat.S_ISDIR(os.lstat(child).st_mode):
                    os.chmod(child, 0o700)
            except OSError:
                pass
    shutil.rmtree(path, ignore_errors=True)
