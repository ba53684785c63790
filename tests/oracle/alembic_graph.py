#!/usr/bin/env python3
"""Ask real Alembic for the revision graph of a migrations tree; print JSON.

Used by the test suite as the reference ("oracle") that migfix's static
reader is compared against.  Run it with the interpreter of the test venv
(target/venv/bin/python, see tests/run.sh), which has the pinned Alembic
from tests/oracle/requirements.txt.

Usage:
    alembic_graph.py --ini PATH/alembic.ini [--script-location DIR] [--chdir DIR]
    alembic_graph.py --versions DIR [--versions DIR ...] [--recursive]
    ...  [--stub-missing-imports]

--ini goes through alembic.config.Config and ScriptDirectory.from_config,
exactly like the alembic command does (env.py is never run).  A project that
configures Alembic in code is run as it runs it: --script-location sets
script_location on that Config (Flask-Migrate's
``config.set_main_option('script_location', directory)``, mlflow's too), and
--chdir first changes to the folder it runs from, against which relative
locations resolve.

--versions builds ScriptDirectory(dir=<parent of the first DIR>,
version_locations=[the DIRs], recursive_version_locations=--recursive).

--stub-missing-imports: revision files of real projects import their own
package (``from dagster._core.storage.migration.utils import has_table``),
which is not installed here.  With this flag, a module that cannot be found
and is imported from the migrations tree is
  * loaded from its real source file when it belongs to the package the
    version directories live in and its file is present in the tree (so
    ``branch_labels = (cli.EXPAND_BRANCH,)`` in neutron gets the real value
    of neutron/db/migration/cli.py), and otherwise
  * replaced by an inert stub module, so that Alembic can load the file.
If a graph attribute (revision, down_revision, depends_on, branch_labels)
ends up holding a value taken from a stub, the result is an error naming the
file, because the real value is unknown.  Without the flag a failing import
is an error, as in Alembic.

Output on success (exit 0):
    {"revisions": [{"id", "path", "down_revisions", "depends_on",
                    "branch_labels"}, ...sorted by id],
     "heads": [...], "bases": [...], "warnings": [...]}
  plus "stubbed_modules" and "modules_from_source" (lists of module names)
  when --stub-missing-imports is given.
Output when Alembic raises while building the map (still exit 0):
    {"error": "<ExceptionClass>: <message>", "warnings": [...]}
Exit status 2 means bad command-line usage.

"warnings" holds the messages of the warnings Alembic itself emitted
(duplicate revision ids, files loaded twice, ...).  Other warnings (for
instance SQLAlchemy deprecation warnings raised while importing a revision
file) are written to stderr only.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
import types
import warnings

# never leave __pycache__ directories in the migration trees we read
sys.dont_write_bytecode = True


def _norm(value) -> list:
    """None -> [], str -> [str], tuple/list/other iterable -> list."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple, set, frozenset)):
        return list(value)
    try:
        return list(value)
    except TypeError:
        return [value]


# --------------------------------------------------------------------------
# stubs for modules a revision file imports but that are not installed


class _Stub:
    """Inert stand-in for anything reached through a stubbed module."""

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "_stub_name", name)

    def __getattr__(self, attr: str):
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        return _Stub(f"{self._stub_name}.{attr}")

    def __setattr__(self, attr, value) -> None:
        pass

    def __call__(self, *args, **kwargs):
        return _Stub(f"{self._stub_name}()")

    def __getitem__(self, key):
        return _Stub(f"{self._stub_name}[...]")

    def __iter__(self):
        return iter(())

    def __len__(self) -> int:
        return 0

    def __bool__(self) -> bool:
        return True

    def __mro_entries__(self, bases):
        # ``class Foo(stubbed.Base): ...``
        return (object,)

    def __repr__(self) -> str:
        return f"<stub {self._stub_name}>"

    __str__ = __repr__

    def _same(self, *args, **kwargs):
        return self

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _same
    __truediv__ = __rtruediv__ = __floordiv__ = __mod__ = __or__ = _same
    __ror__ = __and__ = __rand__ = __neg__ = _same


def _stub_module_getattr(modname: str):
    def __getattr__(attr: str):
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        return _Stub(f"{modname}.{attr}")

    return __getattr__


class _StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Last-resort finder for modules imported from the migrations tree.

    A missing module ``pkg.sub.mod`` that belongs to the package the version
    directories live in (some ancestor directory D of a version directory
    has ``D/pkg`` on the way down to it) is loaded from its real source file
    ``D/pkg/sub/mod.py`` (or ``.../mod/__init__.py``) when that file exists,
    so that constants defined next to the migrations have their real value.
    Anything else is replaced by an inert stub module.
    """

    def __init__(self, roots: list[str]) -> None:
        self.roots = [os.path.realpath(r) for r in roots]
        self._prefixes = [os.path.join(r, "") for r in self.roots]
        self.stubbed: set[str] = set()
        self.loaded_from_source: set[str] = set()
        self._real_files: set[str] = set()
        self._seen: dict[str, bool] = {}

    def _in_roots(self, filename: str) -> bool:
        hit = self._seen.get(filename)
        if hit is None:
            real = os.path.realpath(filename)
            hit = real in self._real_files or any(
                real.startswith(p) for p in self._prefixes
            )
            self._seen[filename] = hit
        return hit

    def _imported_from_revision_file(self) -> bool:
        frame = sys._getframe(1)
        while frame is not None:
            if self._in_roots(frame.f_code.co_filename):
                return True
            frame = frame.f_back
        return False

    def _source_of(self, fullname: str):
        parts = fullname.split(".")
        for root in self.roots:
            anc = root
            while True:
                parent = os.path.dirname(anc)
                if parent == anc:
                    break
                if os.path.basename(anc) == parts[0]:
                    base = os.path.join(parent, *parts)
                    init = os.path.join(base, "__init__.py")
                    if os.path.isfile(init):
                        return init, True
                    if os.path.isfile(base + ".py"):
                        return base + ".py", False
                anc = parent
        return None, False

    def find_spec(self, fullname, path, target=None):
        if not self._imported_from_revision_file():
            return None
        source, is_pkg = self._source_of(fullname)
        if source is not None:
            self.loaded_from_source.add(fullname)
            if is_pkg:
                # its submodules are found by the normal path finder
                self._prefixes.append(
                    os.path.join(os.path.dirname(os.path.realpath(source)), "")
                )
            else:
                self._real_files.add(os.path.realpath(source))
            self._seen.clear()
            return importlib.util.spec_from_file_location(
                fullname,
                source,
                submodule_search_locations=(
                    [os.path.dirname(source)] if is_pkg else None
                ),
            )
        self.stubbed.add(fullname)
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def modules_from_source(self) -> list[str]:
        """Modules loaded from the migrations tree (by us or, for the
        submodules of such packages, by the normal path finder)."""
        names = set(self.loaded_from_source)
        for name, mod in list(sys.modules.items()):
            origin = getattr(getattr(mod, "__spec__", None), "origin", None)
            if origin and os.path.isabs(origin):
                real = os.path.realpath(origin)
                if real in self._real_files or any(
                    real.startswith(p) for p in self._prefixes
                ):
                    names.add(name)
        return sorted(names)

    def create_module(self, spec):
        module = types.ModuleType(spec.name)
        module.__path__ = []
        module.__getattr__ = _stub_module_getattr(spec.name)
        return module

    def exec_module(self, module) -> None:
        pass


def _is_stubbed(value) -> bool:
    # a stub itself, or a string formatted from one (f"{cli.BRANCH}@head")
    return isinstance(value, _Stub) or (
        isinstance(value, str) and "<stub " in value
    )


def _stub_values(value) -> list:
    if isinstance(value, (list, tuple, set, frozenset)):
        return [v for v in value if _is_stubbed(v)]
    return [value] if _is_stubbed(value) else []


class StubbedValue(Exception):
    pass


def _checked(generator):
    """Wrap the revision generator: refuse graph values that came from stubs."""

    def gen():
        for script in generator():
            mod = script.module
            for attr in ("revision", "down_revision", "depends_on",
                         "branch_labels"):
                bad = _stub_values(getattr(mod, attr, None))
                if bad:
                    raise StubbedValue(
                        f"{attr} in {script.path} is taken from a stubbed "
                        f"module ({', '.join(repr(b) for b in bad)}); "
                        "its real value is unknown"
                    )
            yield script

    return gen


# --------------------------------------------------------------------------


def _build(args, finder_holder: list):
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    if args.ini:
        cfg = Config(args.ini)
        if args.script_location:
            cfg.set_main_option("script_location", args.script_location)
        script = ScriptDirectory.from_config(cfg)
    else:
        dirs = [os.path.abspath(d) for d in args.versions]
        script = ScriptDirectory(
            dir=os.path.dirname(dirs[0]),
            version_locations=dirs,
            recursive_version_locations=args.recursive,
        )

    if args.stub_missing_imports:
        roots = [str(p) for p in script._version_locations]
        finder = _StubFinder(roots)
        sys.meta_path.append(finder)
        finder_holder.append(finder)
        script.revision_map._generator = _checked(
            script.revision_map._generator
        )

    from alembic.script.base import Script

    rmap = script.revision_map._revision_map  # builds and validates the map
    revisions = []
    for key, rev in rmap.items():
        # the map also holds branch labels and None/() -> None entries
        if not isinstance(rev, Script) or key != rev.revision:
            continue
        revisions.append(
            {
                "id": rev.revision,
                "path": os.path.realpath(rev.path),
                "down_revisions": _norm(rev.module.down_revision),
                "depends_on": _norm(getattr(rev.module, "depends_on", None)),
                "branch_labels": sorted(_norm(rev._orig_branch_labels)),
            }
        )
    revisions.sort(key=lambda r: r["id"])
    return {
        "revisions": revisions,
        "heads": sorted(script.get_heads()),
        "bases": sorted(script.get_bases()),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--ini", metavar="PATH", help="path of an alembic.ini")
    src.add_argument("--versions", metavar="DIR", action="append",
                     help="a version location (repeatable)")
    ap.add_argument("--script-location", metavar="DIR",
                    help="set script_location on the Config (with --ini), as "
                         "a project that configures Alembic in code does")
    ap.add_argument("--chdir", metavar="DIR",
                    help="run from DIR, where relative locations resolve")
    ap.add_argument("--recursive", action="store_true",
                    help="recursive_version_locations (with --versions)")
    ap.add_argument("--stub-missing-imports", action="store_true",
                    help="stub modules that revision files import but that "
                         "are not installed")
    args = ap.parse_args(argv)
    if args.recursive and not args.versions:
        ap.error("--recursive goes with --versions")
    if args.script_location and not args.ini:
        ap.error("--script-location goes with --ini")
    if args.chdir:
        # paths given are the caller's; locations in the ini are the project's
        if args.ini:
            args.ini = os.path.abspath(args.ini)
        if args.versions:
            args.versions = [os.path.abspath(v) for v in args.versions]
        os.chdir(args.chdir)

    real_stdout = sys.stdout
    finder_holder: list = []
    result: dict
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # revision files may print or log at import time: keep stdout clean
        with contextlib.redirect_stdout(sys.stderr):
            try:
                result = _build(args, finder_holder)
            except (KeyboardInterrupt, MemoryError):
                raise
            except BaseException as exc:  # noqa: BLE001 - report any failure
                result = {"error": f"{type(exc).__name__}: {exc}"}

    import alembic

    alembic_dir = os.path.join(os.path.dirname(alembic.__file__), "")
    mine = []
    for w in caught:
        if os.path.realpath(w.filename).startswith(alembic_dir):
            mine.append(str(w.message))
        else:
            print(f"alembic_graph.py: other warning: {w.filename}:{w.lineno}: "
                  f"{w.category.__name__}: {w.message}", file=sys.stderr)
    result["warnings"] = mine
    if args.stub_missing_imports and "error" not in result:
        stubbed = finder_holder[0].stubbed if finder_holder else set()
        result["stubbed_modules"] = sorted(stubbed)
        result["modules_from_source"] = (
            finder_holder[0].modules_from_source() if finder_holder else []
        )

    json.dump(result, real_stdout, indent=1, sort_keys=False)
    real_stdout.write("\n")
    real_stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
