"""Bubblewrap's confinement, done in place inside the namespaces that ``unshare`` made.

Where bubblewrap is missing, :mod:`autograder.runtime.sandbox` starts a kernel as::

    unshare --user --map-root-user --mount --net --pid --ipc --uts --kill-child
        --propagation private -- python -I -S -c <this file's text> OPTIONS... -- PROGRAM ARGS...

OPTIONS are the bubblewrap options :func:`~autograder.runtime.sandbox.bwrap_argv` writes, with
bubblewrap's meaning, so both paths confine a kernel from one list:

- ``--ro-bind / /`` (first) makes the whole mount tree read-only in place;
- ``--ro-bind SRC DEST`` and ``--bind SRC DEST`` mount SRC as it was *before* any mount here
  (a hidden folder does not hide its own bound-back parts), read-only or as it was;
- ``--size N --tmpfs DEST``, ``--remount-ro DEST`` (that mount only), ``--dev DEST`` (null,
  zero, full, random, urandom, tty, a private ``shm``), ``--proc DEST``, ``--chdir``,
  ``--setenv``, ``--unsetenv``;
- ``--unshare-pid`` and ``--unshare-net`` are checked (PID 1; no interface but loopback);
  ``--unshare-ipc`` and ``--unshare-uts`` are ``unshare``'s; ``--die-with-parent`` sets the
  parent-death signal; ``--cap-drop ALL`` (required) empties every capability set and sets
  ``no_new_privs`` just before PROGRAM starts.

Any other option, or any step that fails, ends the launcher with status 126 and one line on
stderr: a kernel never starts less confined than under bubblewrap. The text runs in a bare,
isolated interpreter, so it imports only the standard library. Needs Linux 5.12 or later
(``open_tree``, ``move_mount``, ``mount_setattr``).
"""

import ctypes
import os
import signal
import socket
import sys

SYS_OPEN_TREE, SYS_MOVE_MOUNT, SYS_MOUNT_SETATTR = 428, 429, 442  # the same on every arch
AT_FDCWD, AT_RECURSIVE = -100, 0x8000
OPEN_TREE_CLONE = 1
MOVE_MOUNT_F_EMPTY_PATH = 0x4
MOUNT_ATTR_RDONLY = 0x1
MS_NOSUID, MS_NODEV, MS_NOEXEC = 0x2, 0x4, 0x8
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 24, 38
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
CAPABILITY_VERSION_3 = 0x20080522
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
DEV_LINKS = (
    ("fd", "/proc/self/fd"),
    ("stdin", "/proc/self/fd/0"),
    ("stdout", "/proc/self/fd/1"),
    ("stderr", "/proc/self/fd/2"),
)
DEV_BYTES, SHM_BYTES = 64 * 2**10, 64 * 2**20
ARITY = {
    "--ro-bind": 2, "--bind": 2, "--tmpfs": 1, "--size": 1, "--remount-ro": 1, "--dev": 1,
    "--proc": 1, "--chdir": 1, "--unsetenv": 1, "--setenv": 2, "--cap-drop": 1,
    "--die-with-parent": 0, "--unshare-net": 0, "--unshare-pid": 0, "--unshare-ipc": 0,
    "--unshare-uts": 0,
}  # fmt: skip
"""The bubblewrap options this launcher knows, with how many values each takes."""

LIBC = ctypes.CDLL(None, use_errno=True)


class Refused(Exception):
    """A step of the confinement failed: the kernel must not start."""


class MountAttr(ctypes.Structure):
    """``struct mount_attr`` of ``mount_setattr(2)``."""

    _fields_ = [
        (name, ctypes.c_uint64) for name in ("attr_set", "attr_clr", "propagation", "userns_fd")
    ]


def check(result, what):
    """``result`` of a libc call, or ``Refused`` saying ``what`` failed and why."""
    if result < 0:
        raise Refused(f"{what}: {os.strerror(ctypes.get_errno())}")
    return result


def clone_tree(path):
    """A detached copy of the mounts at ``path`` as they are now (a bind's source)."""
    flags = OPEN_TREE_CLONE | os.O_CLOEXEC | AT_RECURSIVE
    return check(LIBC.syscall(SYS_OPEN_TREE, AT_FDCWD, os.fsencode(path), flags), f"open {path}")


def attach(tree, dest):
    """Mount the detached ``tree`` at ``dest``."""
    target = os.fsencode(dest)
    flags = MOVE_MOUNT_F_EMPTY_PATH
    check(LIBC.syscall(SYS_MOVE_MOUNT, tree, b"", AT_FDCWD, target, flags), f"bind {dest}")
    os.close(tree)


def read_only(dest, recursive):
    """Make the mount at ``dest`` (and every mount below it if ``recursive``) read-only."""
    attr = MountAttr(MOUNT_ATTR_RDONLY, 0, 0, 0)
    flags = AT_RECURSIVE if recursive else 0
    size = ctypes.sizeof(attr)
    path = os.fsencode(dest)
    call = LIBC.syscall(SYS_MOUNT_SETATTR, AT_FDCWD, path, flags, ctypes.byref(attr), size)
    check(call, f"make {dest} read-only")


def mount(source, dest, kind, flags, data):
    """``mount(2)``."""
    data = data.encode() if data else None
    call = LIBC.mount(source.encode(), os.fsencode(dest), kind.encode(), flags, data)
    check(call, f"mount {kind} on {dest}")


def make_target(dest, directory):
    """Create ``dest`` (a folder, or an empty file) where it is missing, as bubblewrap does."""
    if directory:
        os.makedirs(dest, mode=0o755, exist_ok=True)
    elif not os.path.lexists(dest):
        os.makedirs(os.path.dirname(dest), mode=0o755, exist_ok=True)
        os.close(os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))


def tmpfs(dest, size):
    """An empty tmpfs at ``dest``, of at most ``size`` bytes if given."""
    make_target(dest, True)
    options = "mode=0755" + (f",size={size}" if size else "")
    mount("tmpfs", dest, "tmpfs", MS_NOSUID | MS_NODEV, options)


def parse(args):
    """The steps of OPTIONS (tuples of an option and its values) and the program after ``--``."""
    steps, index = [], 0
    while index < len(args) and args[index] != "--":
        option = args[index]
        if option not in ARITY:
            raise Refused(f"unknown option {option}")
        values = tuple(args[index + 1 : index + 1 + ARITY[option]])
        if len(values) != ARITY[option]:
            raise Refused(f"{option} needs {ARITY[option]} value(s)")
        steps.append((option, *values))
        index += 1 + ARITY[option]
    program = args[index + 1 :]
    if not program:
        raise Refused("no program after --")
    if ("--cap-drop", "ALL") not in steps:
        raise Refused("--cap-drop ALL is missing")
    return steps, program


def confine(steps):
    """Carry out ``steps`` in this process's namespaces; return the program's environment."""
    sources = {}  # every bind's source before anything is mounted over it, and its kind
    for index, step in enumerate(steps):
        if step[0] in ("--ro-bind", "--bind") and step[1] != "/":
            sources[index] = (clone_tree(step[1]), os.path.isdir(step[1]))
    devices = {name: clone_tree(f"/dev/{name}") for name in DEVICES}
    env, folder, size = dict(os.environ), "/", None
    for index, (option, *values) in enumerate(steps):
        if option in ("--ro-bind", "--bind") and values[0] == "/":
            if values != ["/", "/"] or index != 0 or option != "--ro-bind":
                raise Refused("the root may only be bound read-only onto itself, first")
            read_only("/", recursive=True)
        elif option in ("--ro-bind", "--bind"):
            tree, directory = sources[index]
            make_target(values[1], directory)
            attach(tree, values[1])
            if option == "--ro-bind":
                read_only(values[1], recursive=True)
        elif option == "--size":
            size = int(values[0])
        elif option == "--tmpfs":
            tmpfs(values[0], size)
            size = None
        elif option == "--remount-ro":
            read_only(values[0], recursive=False)
        elif option == "--dev":
            dev(values[0], devices)
        elif option == "--proc":
            make_target(values[0], True)
            mount("proc", values[0], "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
        elif option == "--chdir":
            folder = values[0]
        elif option == "--unsetenv":
            env.pop(values[0], None)
        elif option == "--setenv":
            env[values[0]] = values[1]
        elif option == "--unshare-pid" and os.getpid() != 1:
            raise Refused("not in a PID namespace of its own")
        elif option == "--unshare-net" and [n for _, n in socket.if_nameindex()] != ["lo"]:
            raise Refused("a network interface besides loopback is visible")
        elif option == "--die-with-parent":
            check(LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "parent-death signal")
    os.chdir(folder)  # after the mounts: a folder mounted over would still be the host's
    return env


def dev(dest, devices):
    """A minimal ``/dev``: the harmless devices, the usual links, a private ``shm``."""
    tmpfs(dest, DEV_BYTES)
    for name, tree in devices.items():
        make_target(os.path.join(dest, name), False)
        attach(tree, os.path.join(dest, name))
    for name, target in DEV_LINKS:
        os.symlink(target, os.path.join(dest, name))
    tmpfs(os.path.join(dest, "shm"), SHM_BYTES)
    read_only(dest, recursive=False)


def drop_capabilities():
    """Empty the bounding, ambient, inheritable, permitted and effective sets; no_new_privs."""
    with open("/proc/sys/kernel/cap_last_cap") as handle:
        last = int(handle.read())
    for cap in range(last + 1):
        check(LIBC.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), f"drop capability {cap}")
    check(LIBC.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "clear ambient caps")
    check(LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "set no_new_privs")
    header = (ctypes.c_uint32 * 2)(CAPABILITY_VERSION_3, 0)
    check(LIBC.capset(header, (ctypes.c_uint32 * 6)()), "capset")
    with open("/proc/self/status") as handle:
        caps = [line.split() for line in handle if line.startswith("Cap")]
    if any(int(value, 16) for _, value in caps):
        raise Refused("capabilities remain: " + " ".join(f"{k}{v}" for k, v in caps))


def main(args):
    """Confine this process as ``args`` say, then become the program; 126 if refused."""
    try:
        steps, program = parse(args)
        env = confine(steps)
        drop_capabilities()
        os.execve(program[0], program, env)
    except (Refused, OSError, ValueError) as exc:
        sys.stderr.write(f"confine: refused: {exc}\n")
        return 126


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
