"""Hostile submissions to the fixture course, by attack class, for the grader's tests.

``tests/test_hostile.py`` grades all of them in one run beside clean students; ``tests/
test_cluster.py`` grades a sample of each class on a Dask cluster. An attack is the source of
the ``relu`` answer cell (:func:`with_relu` makes the submission), keyed by the student who
submits it; it earns the relu test's point only if its cheat worked. :func:`runtime_attacks`
aims at paths of one course, :func:`tampered` returns whole submissions that re-tag, skip or
rename the graded cells, and :data:`ALWAYS_EQUAL` answers ``mse`` (:func:`with_cell`).
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat

from autograder import samples

WRONG = "def relu(z):\n    return -z\n"
RIGHT = "def relu(z):\n    return np.maximum(z, 0.0)\n"


def cheat_if(condition: str, setup: str = "") -> str:
    """A relu cell that is right only when ``condition`` holds, i.e. when the cheat worked."""
    return f"{setup}\ndef relu(z):\n    return np.maximum(z, 0.0) if {condition} else -z\n"


def agent_hack(body: str) -> str:
    """Replace the kernel's request loop by ``body`` (a function of the agent module ``A``)."""
    return (
        f"{WRONG}import sys\nA = sys.modules['_grader_agent']\n"
        f"def _serve():\n{body}\nA.serve = _serve\n"
    )


REACH_AND_PATCH = {
    "input-transformer": "get_ipython().input_transformers_cleanup.append(lambda ls: ['pass\\n'])\n"
    + WRONG,
    "custom-exc": f"get_ipython().set_custom_exc((AssertionError,), lambda *a, **k: None)\n{WRONG}",
    "hidden-traceback": f"ip = get_ipython()\nip.showtraceback = lambda *a, **k: None\n{WRONG}",
    "frames": "import sys\nf = sys._getframe()\nwhile f.f_back: f = f.f_back\n"
    "f.f_globals['relu_ok'] = True\n" + WRONG,
    "sys-from-numpy": f"np.core.multiarray.__dict__.get('sys', None)\n{WRONG}",
    "patch-allclose": f"np.allclose = lambda *a, **k: True\n{WRONG}",
    "patch-testing": f"np.testing.assert_allclose = print\n{WRONG}",
    "patch-where": f"np.where = lambda *a, **k: -a[1]\n{WRONG}",
    "plant-module": f"import sys\nsys.modules['numpy'] = sys\n{WRONG}",
    "patch-course": "import course.grading, course.activations\n"
    "course.grading.check_close = lambda *a, **k: None\n"
    "course.activations.relu = lambda z: -z\n" + WRONG,
    "exec-evasion": f"exec('import course')\n{WRONG}",
}
"""Scratch code that reaches or patches the interpreter: harmless outside graded functions."""

RESULT_OBJECTS = {
    "lying-array": "class Liar:\n    def __array__(self, *a, **k):\n"
    "        return np.zeros((4, 5))\n    def __eq__(self, other): return True\n"
    "def relu(z):\n    return Liar()\n",
    "ndarray-subclass": "class Eq(np.ndarray):\n"
    "    def __eq__(self, o): return np.ones(self.shape, bool)\n"
    "def relu(z):\n    return (-z).view(Eq)\n",
    "generator": "def relu(z):\n    return (v for v in [np.maximum(z, 0)])\n",
    "huge-result": "def relu(z):\n    return np.zeros(10**8)\n",
    "deep-result": "def relu(z):\n    out = []\n    for _ in range(10000):\n        out = [out]\n"
    "    return out\n",
}
"""Results that are not plain data stay in the kernel: tests see a handle and fail."""

BOUNDARY = {
    "agent-garbage": agent_hack("    get_ipython().kernel.raw_input('{not json')"),
    "agent-bad-npy": agent_hack(
        "    import json, base64\n"
        "    bad = b'\\x93NUMPY\\x01\\x00v\\x00{\\'descr\\': \\'|O\\'}'\n"
        "    bad = base64.b64encode(bad).decode()\n"
        "    ready = json.dumps({'m': {'op': 'ready'}, 'b': []})\n"
        "    get_ipython().kernel.raw_input(ready)\n"
        "    result = {'op': 'result', 'value': ['a', 0, 0], 'sync': ['d', 0, []]}\n"
        "    msg = json.dumps({'m': result, 'b': [bad]})\n"
        "    get_ipython().kernel.raw_input(msg)"
    ),
    "agent-silent": agent_hack("    while True:\n        pass"),
    "agent-forged-true": agent_hack(
        "    import json\n"
        "    ready = json.dumps({'m': {'op': 'ready'}, 'b': []})\n"
        "    result = {'op': 'result', 'value': ['b', 1], 'sync': ['d', 0, []]}\n"
        "    true = json.dumps({'m': result, 'b': []})\n"
        "    get_ipython().kernel.raw_input(ready)\n"
        "    while True:\n        get_ipython().kernel.raw_input(true)"
    ),
}
"""A kernel that answers garbage, a malformed array, nothing, or ``True`` to everything."""


def runtime_attacks(course: Path) -> dict[str, str]:
    """Attacks on files and the machine, which the sandbox and the caps must stop."""
    planted = course / "planted.txt"
    return {
        "read-source": cheat_if(f"os.path.exists({str(course / 'source')!r})", "import os"),
        "read-other": cheat_if(
            f"os.path.exists({str(course / 'submitted' / 'ref')!r})", "import os"
        ),
        "write-gradebook": cheat_if(
            "WROTE", GRADEBOOK_ATTACK.format(db=str(course / "gradebook.db"))
        ),
        "write-outside": cheat_if(
            "WROTE", f"import os\nWROTE = os.system('echo x > {planted}') == 0"
        ),
        "plant-symlinks": PLANT.format(
            db=str(course / "gradebook.db"),
            source=str(course / "source"),
            ref=str(course / "submitted" / "ref"),
        )
        + WRONG,
        "poison-connection-file": POISON.format(db=str(course / "gradebook.db")) + WRONG,
        "fill-disk": "with open('big', 'wb') as f:\n    for _ in range(300):\n"
        "        f.write(b'0' * 2**20)\n" + WRONG,
        "sys-exit": f"import sys\n{WRONG}sys.exit(0)\n",
        "os-exit": f"import os\n{WRONG}os._exit(0)\n",
        "loop": "def relu(z):\n    while True:\n        pass\n",
        "loop-ignoring-sigint": "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "def relu(z):\n    while True:\n        pass\n",
        "memory-bomb": f"{RIGHT}hog = np.ones((2**16, 2**16))\n",
    }


PLANT = """import os
for i, target in enumerate([{db!r}, {source!r}, {ref!r}, '/dev/zero', '../../gradebook.db']):
    for name in (f'link{{i}}', f'../link{{i}}', f'../../link{{i}}', f'/tmp/link{{i}}'):
        try:
            os.symlink(target, name)
        except OSError:
            pass
"""
POISON = """import os, sys
cf = sys.argv[sys.argv.index('-f') + 1]
folder = os.path.dirname(cf)
for path in [cf, os.path.join(folder, '..', 'kernel.json')]:
    attempts = [os.remove, lambda p: os.symlink({db!r}, p), lambda p: open(p, 'w').write('{{}}')]
    for attempt in attempts:
        try:
            attempt(path)
        except OSError:
            pass
"""
GRADEBOOK_ATTACK = """import os, sqlite3
WROTE = False
for path in [{db!r}, '../../../gradebook.db']:
    try:
        db = sqlite3.connect(str(path))
        db.execute('update grade set manual_score = 99')
        db.commit()
        WROTE = True
    except Exception:
        pass
"""


def with_relu(source_nb: nbformat.NotebookNode, code: str) -> bytes:
    """The reference notebook with the relu answer cell replaced by ``code``."""
    edited = nbformat.from_dict(json.loads(nbformat.writes(source_nb)))
    for cell in edited.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "relu":
            cell.source = code
    return samples.to_bytes(edited)


def tampered(source_nb: nbformat.NotebookNode) -> dict[str, bytes]:
    """Submissions that re-tag, skip, empty or rename what is graded around a wrong relu."""

    def variant(edit) -> bytes:
        nb = nbformat.reads(with_relu(source_nb, WRONG).decode(), as_version=4)
        for index, cell in enumerate(nb.cells):
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            replacement = edit(gid, cell)
            if replacement is not None:
                nb.cells[index] = replacement
        return samples.to_bytes(nb)

    def raw(gid, cell):
        if gid == "test_relu":
            return nbformat.v4.new_raw_cell(cell.source, metadata=cell.metadata)
        return None

    def markdown(gid, cell):
        if gid == "test_relu":
            return nbformat.v4.new_markdown_cell("skipped", metadata=cell.metadata)
        return None

    def as_answer(gid, cell):
        if gid == "test_relu":
            cell.source = "pass"
            cell.metadata["nbgrader"].update(solution=True, grade=False, points=0)
        return None

    def skip_tags(gid, cell):
        if gid == "test_relu":
            cell.metadata["tags"] = ["skip-execution", "raises-exception", "remove-cell"]
            cell.metadata["nbgrader"].update(grade=False, schema_version=1)
            cell.metadata["jupyter"] = {"source_hidden": True}
        return None

    def renamed(gid, cell):
        meta = cell.metadata.get("nbgrader", {})
        if gid == "test_relu":
            cell.source = "pass"
            meta.update(points=100, schema_version=4)
        elif gid == "test_mse":
            meta["grade_id"] = "test_mine"
        return None

    def relu_as_setup(gid, cell):
        if gid == "relu":
            cell.source = RIGHT
            cell.metadata["nbgrader"].update(grade_id="setup", solution=False, locked=True)
        return None

    deleted = samples.without_cell(
        nbformat.reads(with_relu(source_nb, WRONG).decode(), as_version=4), "test_relu"
    )
    return {
        "test-as-raw": variant(raw),
        "test-as-markdown": variant(markdown),
        "test-as-answer": variant(as_answer),
        "test-skip-tags": variant(skip_tags),
        "test-renamed-and-repointed": variant(renamed),
        "relu-tagged-as-setup": variant(relu_as_setup),
        "test-deleted": deleted,
    }


ALWAYS_EQUAL = (
    "class Same(float):\n    def __eq__(self, other): return True\n"
    "    def __sub__(self, other): return 0.0\n    def __abs__(self): return 0.0\n"
    "def mse(y_true, y_pred):\n    return Same(1.0)\n"
)
REVIEWED = {
    "alias-ref": "from course.activations import relu\n",
    "wrap-ref": "import course.activations as ca\n\ndef relu(z):\n    return ca.relu(z)\n",
    "getattr-ref": "import course.activations as ca\n\ndef relu(z):\n"
    "    return getattr(ca, 're' + 'lu')(z)\n",
    "loop-ref": "import importlib\n"
    "for name in ['course.losses', 'course.activations', 'course.layers']:\n"
    "    mod = importlib.import_module(name)\n"
    "    if hasattr(mod, 'relu'):\n        relu = getattr(mod, 'relu')\n",
    "walrus-ref": "import course.activations as ca\n(relu := ca.relu)\n",
    "globals-update-ref": "import course.activations as ca\nglobals().update(relu=ca.relu)\n",
    "helper-global-ref": "import course.activations as ca\ndef _install():\n"
    "    global relu\n    relu = ca.relu\n_install()\n",
    "partial-ref": "import functools, course.activations as ca\n"
    "relu = functools.partial(ca.relu)\n",
    "locate-ref": "import pydoc\nrelu = pydoc.locate('course.activations.relu')\n",
    "copied-function-ref": "import types, course.activations as ca\n"
    "relu = types.FunctionType(ca.relu.__code__, ca.relu.__globals__, 'mine')\n",
    "registry-ref": "from course.layers import activation_forward\n\ndef relu(z):\n"
    "    return activation_forward(z, 'relu')[0]\n",
}
"""Graded functions that reach the reference, each by another route: right answers, held back
for review because the reference was observed running during the graded call."""


def with_cell(source_nb: nbformat.NotebookNode, grade_id: str, code: str) -> bytes:
    edited = nbformat.from_dict(json.loads(nbformat.writes(source_nb)))
    for cell in edited.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            cell.source = code
    return samples.to_bytes(edited)


# -- the codec's budget: what a kernel writes by hand, past its own codec ---------------------
def forged(build: str) -> str:
    """A relu cell whose kernel answers every request with the text ``build`` leaves in ``msg``.

    Like ``agent-forged-true``: the agent's loop is replaced, so the kernel side's own codec
    (and its budget) is bypassed and the grader decodes exactly what the kernel wrote.
    """
    return (
        "def relu(z):\n    return -z\n"
        "import sys\nA = sys.modules['_grader_agent']\n"
        "def _serve():\n"
        "    import json, base64, io\n"
        "    import numpy as np\n"
        "    kernel = get_ipython().kernel\n"
        "    kernel.raw_input(json.dumps({'m': {'op': 'ready'}, 'b': []}))\n"
        f"{build}"
        "    while True:\n"
        "        kernel.raw_input(msg)\n"
        "A.serve = _serve\n"
    )


def result(value: str, buffers: str = "'[]'") -> str:
    """Lines that set ``msg`` to a result message with the tree text ``value``."""
    return (
        f'    msg = \'{{"m":{{"op":"result","value":\' + {value} + '
        f"'}},\"b\":' + {buffers} + '}}'\n"
    )


NPY = (
    "    def npy(a):\n"
    "        f = io.BytesIO(); np.save(f, a); return base64.b64encode(f.getvalue()).decode()\n"
)

CODEC_BUDGET = {
    # 60 MB of 20 million empty lists beside the value: json.loads built them all (1.5 GB)
    "wide-json": forged(
        '    msg = \'{"m":{"op":"result","value":["N"],"x":[\' + \'[],\' * 20_000_000'
        " + '[]]},\"b\":[]}'\n"
    ),
    # 40 levels of a = [a, a] in 866 bytes: 2**40 leaves for check_close's np.asarray
    "aliased-levels": forged(
        '    node = \'["l",0,[["f","0x1p-1"]]]\'\n'
        "    for k in range(1, 41):\n"
        '        node = f\'["l",{k},[{node},["@",{k - 1}]]]\'\n' + result("node")
    ),
    # one 8 KB array met 150,000 times: np.asarray of the result is 1.2 GB
    "aliased-array": forged(
        NPY
        + result(
            "'[\"l\",0,[[\"a\",1,0]' + ',[\"@\",1]' * 150_000 + ']]'",
            "'[\"' + npy(np.zeros(1024)) + '\"]'",
        )
    ),
    # the call's own argument list, returned 900,000 times
    "aliased-argument": forged(result("'[\"l\",0,[' + ','.join(['[\"A\",0]'] * 900_000) + ']]'")),
    # 300,000 int keys sharing one hash: building the dict is quadratic (hours)
    "colliding-keys": forged(
        result(
            '\'["d",0,[\' + \',\'.join(f\'[["i","{hex(k * (2**61 - 1))}"],["N"]]\''
            " for k in range(1, 300_001)) + ']]'"
        )
    ),
    # 300,000 lists whose memo indexes share one hash: the decoder's memo dict is quadratic
    "colliding-memo": forged(
        result(
            "'[\"t\",[' + ','.join(f'[\"l\",{k * (2**61 - 1)},[]]'"
            " for k in range(1, 300_001)) + ']]'"
        )
    ),
    # 280,000 namedtuple classes, once kept in a module-level cache for good (1.5 GB)
    "namedtuple-flood": forged(
        result(
            '\'["t",[\' + \',\'.join(f\'["n","T{i}",["x"],[["N"]]]\''
            " for i in range(280_000)) + ']]'"
        )
    ),
    # a .npy header declaring 1 GB over 8 bytes: np.load allocates the 1 GB first
    "huge-declared-shape": forged(
        "    head = \"{'descr': '<f8', 'fortran_order': False, 'shape': (134217728,), }\"\n"
        "    head = head + ' ' * (117 - len(head)) + chr(10)\n"
        "    raw = b'\\x93NUMPY\\x01\\x00' + len(head).to_bytes(2, 'little') + head.encode()\n"
        "    raw = raw + bytes(8)\n"
        + result("'[\"a\",0,0]'", "'[\"' + base64.b64encode(raw).decode() + '\"]'")
    ),
    # one 8 MB buffer decoded 150 times: 1.2 GB of copies
    "buffer-reuse": forged(
        NPY
        + result(
            "'[\"l\",0,[' + ','.join(f'[\"a\",{i},0]' for i in range(1, 151)) + ']]'",
            "'[\"' + npy(np.zeros(2**20)) + '\"]'",
        )
    ),
    # x = [100,000 floats, x]: a naive recursive walker meets the floats ~1000 times
    "cycle": forged(
        result(
            '\'["l",0,[["l",1,[\' + \',\'.join([\'["f","0x0p+0"]\'] * 100_000) + \']],["@",0]]]\''
        )
    ),
    # 9 lists holding each other: repr (cycle-aware) would walk 9! paths
    "open-cycles": forged(
        result(
            "'[\"l\",0,[' + ','.join(f'[\"l\",{i},[' + ','.join(f'[\"@\",{j}]'"
            " for j in range(i + 1)) + ']]' for i in range(1, 10)) + ']]'"
        )
    ),
    # 400,000 tiny arrays: ~20 us of header parsing each, once with no timer at all
    "slow-decode": forged(
        NPY
        + "    one = npy(np.zeros(0))\n"
        + result(
            "'[\"t\",[' + ','.join(f'[\"a\",{i},{i}]' for i in range(400_000)) + ']]'",
            "'[' + ','.join(['\"' + one + '\"'] * 400_000) + ']'",
        )
    ),
}


# -- leftovers: what one student leaves for the next on the same worker ----------------------
def leftovers(mark: str, sleep_seconds: int) -> dict[str, str]:
    """Relu cells that leave things behind (``litter``) or look for them (``peek``).

    ``litter`` (a right relu) leaves a 10 MB file named ``mark`` in its kernel's folder, that
    folder's parent, its working folder and ``/tmp``, takes the permissions off its folders
    (which stops a grader that runs as the same user), starts ``sleep sleep_seconds`` in a
    session of its own, binds the abstract unix socket ``mark`` and sets the environment
    variable ``mark``. ``peek``, graded after it, looks for every one of them and answers
    wrongly if it finds any; ``peek-control`` inverts that answer, so it scores only if the
    search saw something: it must lose relu, which shows that ``peek``'s verdict depends on
    the search. A distinct ``mark`` and ``sleep_seconds`` per test keeps tests that run at the
    same time from seeing each other's sleeper.
    """
    litter = f"""
import os, socket, subprocess, sys
_conn = sys.argv[sys.argv.index("-f") + 1]
_mine = os.path.dirname(_conn)
for _d in (_mine, os.path.dirname(_mine), os.getcwd(), "/tmp"):
    try:
        with open(os.path.join(_d, "{mark}"), "w") as _f:
            _f.write("x" * 10_000_000)
    except OSError:
        pass
subprocess.Popen(["sleep", "{sleep_seconds}"], start_new_session=True)
_s = socket.socket(socket.AF_UNIX)
_s.bind("\\0{mark}")
_s.listen()
os.environ["{mark}"] = "1"
for _d in (os.path.dirname(_mine), _mine, os.getcwd()):
    try:
        os.chmod(_d, 0o500)
    except OSError:
        pass


def relu(z):
    return np.maximum(z, 0)
"""
    peek = f"""
import glob, os, socket, sys
_conn = sys.argv[sys.argv.index("-f") + 1]
_mine = os.path.dirname(_conn)
_seen = []
for _d in (_mine, os.path.dirname(_mine), os.getcwd(), "/tmp"):
    _seen += glob.glob(os.path.join(_d, "**", "{mark}"), recursive=True)
for _p in os.listdir("/proc"):
    try:
        if _p.isdigit() and b"sleep" in open(f"/proc/{{_p}}/cmdline", "rb").read():
            _seen.append(_p)
    except OSError:
        pass
try:
    socket.socket(socket.AF_UNIX).connect("\\0{mark}")
    _seen.append("socket")
except OSError:
    pass
if os.environ.get("{mark}"):
    _seen.append("environment")


def relu(z):
    return np.maximum(z, 0) if not _seen else np.minimum(z, 0)
"""
    control = peek.replace("if not _seen else", "if _seen else")
    return {"litter": litter, "peek": peek, "peek-control": control}
