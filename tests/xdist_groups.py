"""pytest plugin: under ``pytest -n N``, the tests that share an ``xdist_group`` mark run on one
worker, in collection order; every other test is spread over the workers as with ``--dist load``.

Grouped are a test module marked ``pytestmark = pytest.mark.xdist_group("name")``, whose
module-scoped fixtures (a graded course, a browser) are then built once, on one worker; and
the cells of a notebook, which ``tests/nbval_course.py`` marks with the notebook's path (nbval
runs them in order, in one kernel). Every ``-n 2`` target of the Makefile loads this plugin
(``-p tests.xdist_groups``), and ``tests/nbval_course.py`` loads it too.

xdist's own ``--dist loadgroup`` reads the same mark but groups nothing under pytest 9: a
worker appends ``@name`` to ``item._nodeid``, which pytest 9 no longer reads, so the
controller never sees the group. ``--dist loadfile`` would keep every module on one worker,
serializing the long ones. Here the scheduler is xdist's ``LoadScopeScheduling`` (one unit of
work per scope, its tests sent to one worker in order) with a group as one scope and any other
test as a scope of its own. The controller collects nothing: the workers' collections reach it
as node ids only. So each worker, once it has collected, writes ``{node id: group}`` into a
folder the controller gave it (``workerinput``); the scheduler reads those files when every
worker has reported its collection. Node ids stay as they are.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest

WORKER_INPUT = "xdist_groups_folder"
FOLDER = pytest.StashKey[Path]()


def group_of(item: pytest.Item) -> str | None:
    """The group named by ``item``'s ``xdist_group`` marks (several joined as xdist joins them)."""
    names = {
        str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
        for mark in item.iter_markers("xdist_group")
    }
    return "_".join(sorted(names)) if names else None


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """On the controller: name the folder where each worker writes its groups."""
    stash = node.config.stash
    if FOLDER not in stash:
        stash[FOLDER] = Path(tempfile.mkdtemp(prefix="xdist-groups-"))
    node.workerinput[WORKER_INPUT] = str(stash[FOLDER])


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On a worker: write the group of every grouped test it collected, before it reports."""
    workerinput = getattr(config, "workerinput", {})
    if WORKER_INPUT not in workerinput:
        return
    groups = {item.nodeid: group for item in items if (group := group_of(item))}
    folder = Path(workerinput[WORKER_INPUT])
    partial = folder / f"{workerinput['workerid']}.partial"
    partial.write_text(json.dumps(groups), encoding="utf-8")
    partial.replace(folder / f"{workerinput['workerid']}.json")


def pytest_unconfigure(config: pytest.Config) -> None:
    folder = config.stash.get(FOLDER, None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    if config.getvalue("dist") not in ("load", "loadgroup"):
        return None  # another distribution asked for by name: xdist's own
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        """``--dist load``, except that the tests of one ``xdist_group`` are one unit of work."""

        groups: dict[str, str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            if self.groups is None:
                # the workers wrote their files before reporting their collections
                self.groups = {}
                for path in sorted(config.stash[FOLDER].glob("*.json")):
                    self.groups.update(json.loads(path.read_text(encoding="utf-8")))
            group = self.groups.get(nodeid)
            return nodeid if group is None else f"xdist_group {group}"

    return GroupScheduling(config, log)
