#!/usr/bin/env python3
"""Ask real Django for the migration graph of some apps; print JSON.

Used by the test suite as the reference ("oracle") that migfix's static
reader of Django migrations is compared against.  Run it with the
interpreter of the test venv (target/venv/bin/python, see tests/run.sh),
which has the pinned Django from tests/oracle/requirements.txt.

Usage:
    django_graph.py graph --root DIR --app LABEL=REL/PATH/migrations [--app ...]
                          [--stub-missing-imports] [--setting NAME=VALUE ...]
    django_graph.py plan  --root DIR --app ... [--stub-missing-imports]
                          [--setting NAME=VALUE ...]
    django_graph.py check --root DIR --app ... [--setting NAME=VALUE ...]

Every mode writes a minimal settings module of its own (in a temporary
directory, never in the tree) with
  * INSTALLED_APPS: the django.contrib apps the given migrations name (a
    pair of strings whose first is "admin", "auth", "contenttypes",
    "sessions", "sites", "flatpages" or "redirects", as in a dependency
    ("sites", "__first__") or apps.get_model("auth", "Group"), or a mention
    of AUTH_USER_MODEL), with what those need themselves (admin:
    auth, contenttypes, messages, sessions; auth: contenttypes; flatpages and
    redirects: sites), then the given apps, in command-line order;
  * MIGRATION_MODULES: each LABEL -> the dotted module of its folder
    (REL/PATH/migrations -> REL.PATH.migrations, DIR on sys.path);
  * a SQLite database in the temporary directory, the TEMPLATES and
    MIDDLEWARE of `startproject`, DEFAULT_AUTO_FIELD = BigAutoField, and
    each --setting NAME=VALUE (a string; e.g. WAGTAIL_PAGE_MODEL, which a
    real Wagtail project gets from swapper when wagtail.models is imported,
    or AUTH_USER_MODEL=users.User).  In graph and plan, a value that names
    a model of a given app ("users.User") is set once django.setup() is
    done, since the synthetic apps have no models and
    django.contrib.auth's ready() looks the user model up.
The folder's module is always read from the given folder, even when a
package of that name is installed (the Django wheel's own contrib apps are
read from the corpus, not from the installed Django).

graph and plan install each given app through a synthetic AppConfig with the
given label (its package is the folder's parent, models are not imported, so
only the migrations folder and its imports matter); an app that is one of
Django's contrib apps (django/contrib/auth, or a copy vendored in the tree:
kolibri/dist/django/contrib/auth) is installed through the installed Django's
real django.contrib AppConfig instead, its migrations read from the given
folder.  check installs
the apps as real packages (INSTALLED_APPS = REL.PATH, Django picks the
AppConfig of its apps.py) and fails when the label Django gives an app is not
the given LABEL.

--stub-missing-imports: migration files of reusable apps import their own
package (``import wagtail.fields``), which is not installed.  With this flag
  * a directory of the tree without __init__.py (the app packages, of which
    only migrations/ and apps.py are kept) is a package whose unknown
    attributes are inert stubs, and whose real submodules present in the
    tree are loaded from their source (allauth/app_settings.py, so that
    allauth's ``if app_settings.SITES_ENABLED`` has its real value);
  * a module that cannot be found and is imported by a file of the tree
    (the import statement is in that file) is replaced by an inert stub
    module; an installed package's own failing imports fail as they would.
A stub unpacks into as many stubs as asked (``forward, reverse =
stubbed_helper()``), into two as the arguments of a call
(``RunPython(*stubbed_helper())``), and is true.  If a graph attribute of a
Migration class (dependencies, replaces, run_before, initial) holds a value
taken from a
stub, or the truth of a stub is tested in a statement of the Migration class
body that sets or changes a graph attribute (``dependencies = [...] if
stub else [...]``), the result is an error naming the file, because the real
value is unknown.  Other truth tests of stubs made by migration files while
they are imported (cms's module-level ``x = A if get_cms_setting(...) else
B``, wagtail's ``if fts5_available():`` around operations) are listed in
"stub_truth_tests".  Without the flag a failing import is an error, as in
Django.

graph: MigrationLoader(None, ignore_no_migrations=True), as makemigrations
builds it without a database (every squash whose replaced migrations are not
applied is used).  Output (exit 0, also when Django raises):
    {"nodes": [{"app", "name", "path",
                "dependencies": [[app, name], ...],  sorted; as Django
                    resolved them while building the graph: swappable
                    dependencies and __first__/__latest__ of other apps
                    resolved with check_key(), a __first__ of the own app and
                    a __first__ of an unmigrated app dropped (Django ignores
                    them); edges to replaced migrations are NOT re-pointed
                    here (see parents)
                "declared_dependencies": [...], as written, in file order:
                    [app, name], or ["__setting__", NAME] for
                    swappable_dependency(settings.NAME), or
                    ["__swappable__", VALUE] for a swappable_dependency of a
                    value that does not come from a Django setting
                    (oauth2_settings.APPLICATION_MODEL)
                "parents", "children": [[app, name], ...] sorted, from
                    loader.graph.node_map after build_graph (replacements
                    applied; may name nodes of other apps)
                "replaces", "run_before": [[app, name], ...] in file order
                "initial": true | false | null}, ... sorted by (app, name);
               only nodes of the given apps present in the final graph],
     "replaced_removed": [[app, name], ...]  replaced migrations that were on
         disk and that Django removed from the graph,
     "replacements_used": [[app, name], ...] squashes Django used,
     "leaf_nodes", "root_nodes": [[app, name], ...] of the given apps,
     "conflicts": {app: [name, ...]}  (loader.detect_conflicts()),
     "installed_apps": [label, ...], "django": "<version>"}
  plus, with the flag, "stubbed_modules", "modules_from_source" (modules
  of the tree loaded from their source, other than migrations),
  "stub_truth_tests" (["<file> line N: <stub ...>", ...]) and
  "stubbed_settings": settings that migration files read as
  ``settings.NAME`` while imported, that the settings module does not have
  (a project's own, which its models would set: weblate's
  NEARBY_MESSAGES), given as stubs.  Django 5's removals that older
  migrations import and that play no part in the graph are restored
  (django.utils.timezone.utc).
  When Django raises: {"error": "<ExceptionClass>: <message>", "django": ...}.

plan: `manage.py migrate --plan` on a fresh SQLite file, in a child process:
    {"plan": {"exit": N, "output": "<stdout+stderr>",
              "applied": [[app, name], ...] the planned migrations in order},
     "django": "<version>"}

check: for fixture projects whose apps are real packages (models.py):
`manage.py makemigrations --check --dry-run`, then `manage.py migrate` (the
whole graph) on a fresh SQLite file, each in a child process:
    {"makemigrations": {"exit": N, "output": "..."},
     "migrate": {"exit": N, "output": "..."}, "django": "<version>"}

Exit status 2 means bad command-line usage.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import types

# never leave __pycache__ directories in the migration trees we read
sys.dont_write_bytecode = True

SETTINGS_MODULE = "migfix_django_oracle_settings"
SYNTHETIC_MODULE = "migfix_django_oracle_apps"

# django.contrib apps that have migrations, and what each needs installed
CONTRIB_NEEDS = {
    "admin": ["auth", "contenttypes", "messages", "sessions"],
    "auth": ["contenttypes"],
    "contenttypes": [],
    "sessions": [],
    "sites": [],
    "flatpages": ["sites"],
    "redirects": ["sites"],
    "messages": [],
}
CONTRIB_ORDER = ["admin", "auth", "contenttypes", "sessions", "messages",
                 "sites", "flatpages", "redirects"]
_CONTRIB_RE = re.compile(
    r"""[(\[]\s*["'](admin|auth|contenttypes|sessions|sites|flatpages|redirects)["']"""
    r"""\s*,\s*["'][\w.-]*["']"""
)


class UsageError(Exception):
    pass


class StubbedValue(Exception):
    pass


# --------------------------------------------------------------------------
# stubs for modules a migration file imports but that are not installed

# the migration module being imported (if any), the tree, and the truth
# tests of stubs made at the module level of migration files
_STATE = {"loading": None, "root": "/", "truth_tests": [],
          "stubbed_settings": set()}


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
        # ``forward, reverse = stubbed_helper(...)``: as many stubs as the
        # unpacking wants; nothing for a loop or list()
        return iter([_Stub(f"{self._stub_name}[{i}]")
                     for i in range(_unpack_count(sys._getframe(1)))])

    def __len__(self) -> int:
        return 0

    def __bool__(self) -> bool:
        # ``dependencies = [...] if app_settings.SITES_ENABLED else []``:
        # a truth test in the body of a Migration class is refused; one at
        # the module level of a migration file is only recorded (cms's
        # ``template_default = ... if get_cms_setting(...) else ...``).
        frame = sys._getframe(1)
        if _STATE["loading"] is not None and _under(
            frame.f_code.co_filename, _STATE["root"]
        ):
            where = f"{frame.f_code.co_filename} line {frame.f_lineno}"
            if frame.f_code.co_name == "Migration" and _in_graph_statement(
                frame.f_code.co_filename, frame.f_lineno
            ):
                raise StubbedValue(
                    f"the Migration class in {where} tests the truth of "
                    f"{self!r}, a value taken from a stubbed module; "
                    "its real value is unknown"
                )
            _STATE["truth_tests"].append(f"{where}: {self!r}")
        return True

    def __mro_entries__(self, bases):
        # ``class Foo(stubbed.Base): ...``
        return (object,)

    def __repr__(self) -> str:
        return f"<stub {self._stub_name}>"

    __str__ = __repr__

    def __add__(self, other):
        return repr(self) + other if isinstance(other, str) else self

    def __radd__(self, other):
        return other + repr(self) if isinstance(other, str) else self

    def _same(self, *args, **kwargs):
        return self

    __sub__ = __rsub__ = __mul__ = __rmul__ = _same
    __truediv__ = __rtruediv__ = __floordiv__ = __mod__ = __or__ = _same
    __ror__ = __and__ = __rand__ = __neg__ = _same


GRAPH_ATTRS = ("dependencies", "replaces", "run_before", "initial")
_SPANS: dict[str, list] = {}


def _in_graph_statement(filename: str, line: int) -> bool:
    """Whether line is in a statement of the body of a top-level class
    Migration that sets or changes a graph attribute (``dependencies =
    [...] if x else [...]``, or an ``if x:`` whose block does
    ``dependencies.append(...)``)."""
    import ast

    spans = _SPANS.get(filename)
    if spans is None:
        spans = []
        try:
            with open(filename, encoding="utf-8") as fh:
                tree = ast.parse(fh.read())
        except (OSError, SyntaxError, ValueError):
            tree = None
        for cls in getattr(tree, "body", []):
            if not (isinstance(cls, ast.ClassDef) and cls.name == "Migration"):
                continue
            for stmt in cls.body:
                for node in ast.walk(stmt):
                    targets = []
                    if isinstance(node, ast.Assign):
                        targets = node.targets
                    elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
                        targets = [node.target]
                    elif isinstance(node, ast.Call) and isinstance(
                        node.func, ast.Attribute
                    ):
                        targets = [node.func.value]
                    names = [n.id for t in targets for n in ast.walk(t)
                             if isinstance(n, ast.Name)]
                    if any(n in GRAPH_ATTRS for n in names):
                        spans.append((stmt.lineno, stmt.end_lineno))
                        break
        _SPANS[filename] = spans
    return any(a <= line <= b for a, b in spans)


def _opname(frame) -> str:
    """The instruction frame is executing."""
    import dis

    for ins in dis.get_instructions(frame.f_code):
        if ins.offset == frame.f_lasti:
            return ins.opname
    return ""


def _unpack_count(frame) -> int:
    """The number of targets when frame is executing ``a, b = value``."""
    import dis

    for ins in dis.get_instructions(frame.f_code):
        if ins.offset == frame.f_lasti:
            if ins.opname == "UNPACK_SEQUENCE":
                return ins.arg
            if ins.opname == "UNPACK_EX":  # a, *b, c: before + after
                return (ins.arg & 0xFF) + (ins.arg >> 8)
            if ins.opname in ("CALL_FUNCTION_EX", "LIST_EXTEND"):
                # RunPython(*helper(...)): a helper's (code, reverse_code)
                return 2
            return 0
    return 0


class _StubModule(types.ModuleType):
    """A stubbed module: unknown attributes are stubs, and it is callable
    (``from wagtail.images import get_image_model`` may land on a stub
    module when the name is a submodule that does not exist)."""

    def __getattr__(self, attr: str):
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        return _Stub(f"{self.__name__}.{attr}")

    def __call__(self, *args, **kwargs):
        return _Stub(f"{self.__name__}()")

    def __iter__(self):
        return iter(())


class _TreePackage(types.ModuleType):
    """A directory of the tree without __init__.py: a package whose real
    submodules in the tree are imported on attribute access and whose other
    attributes are stubs."""

    def __getattr__(self, attr: str):
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        for d in self.__path__:
            sub = os.path.join(d, attr)
            if os.path.isfile(sub + ".py") or os.path.isdir(sub):
                return importlib.import_module(f"{self.__name__}.{attr}")
        return _Stub(f"{self.__name__}.{attr}")


def _under(path: str, root: str) -> bool:
    real = os.path.realpath(path)
    return real == root or real.startswith(os.path.join(root, ""))


class _TreeFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """First on sys.meta_path.

    * The migrations module of each given app is read from the given folder
      (even when a package of that name is installed: django.contrib).
    * With stubs: a directory of the tree without __init__.py is a
      _TreePackage.
    """

    def __init__(self, root: str, redirects: dict, stub: bool) -> None:
        self.root = root
        self.redirects = redirects
        self.stub = stub

    def find_spec(self, fullname, path, target=None):
        folder = self.redirects.get(fullname)
        if folder is not None:
            init = os.path.join(folder, "__init__.py")
            if os.path.isfile(init):
                return importlib.util.spec_from_file_location(
                    fullname, init, submodule_search_locations=[folder]
                )
            return None  # a namespace package: Django ignores it
        if not self.stub:
            return None
        last = fullname.rpartition(".")[2]
        if path is None:
            # an installed top-level package wins over a directory of the
            # tree without __init__.py (django/ of the django-contrib corpus)
            others = [p for p in sys.path
                      if isinstance(p, str) and not _under(p or ".", self.root)]
            if importlib.machinery.PathFinder.find_spec(fullname, others):
                return None
            candidates = [os.path.join(self.root, fullname)]
        else:
            candidates = [os.path.join(p, last) for p in path
                          if isinstance(p, str) and _under(p, self.root)]
        for d in candidates:
            if os.path.isfile(d + ".py") or os.path.isfile(
                os.path.join(d, "__init__.py")
            ):
                return None  # a real module: the path finder loads it
            if os.path.isdir(d):
                spec = importlib.machinery.ModuleSpec(
                    fullname, self, is_package=True
                )
                spec.submodule_search_locations = [d]
                return spec
        return None

    def create_module(self, spec):
        module = _TreePackage(spec.name)
        module.__path__ = list(spec.submodule_search_locations)
        return module

    def exec_module(self, module) -> None:
        pass


class _StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Last on sys.meta_path: a missing module imported from a file of the
    tree becomes an inert stub module."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.stubbed: set[str] = set()
        self._seen: dict[str, bool] = {}

    def _from_tree(self) -> bool:
        """Whether the import statement that asks is in a file of the tree
        (the first frame outside the import machinery and this finder).
        An installed package's own imports are left to fail as they would:
        psycopg, imported by django.contrib.postgres, tries optional
        modules and expects ImportError."""
        frame = sys._getframe(1)
        while frame is not None:
            name = frame.f_code.co_filename
            if not (name.startswith("<frozen importlib")
                    or name == __file__
                    or os.path.basename(os.path.dirname(name)) == "importlib"):
                hit = self._seen.get(name)
                if hit is None:
                    hit = self._seen[name] = _under(name, self.root)
                return hit
            frame = frame.f_back
        return False

    def find_spec(self, fullname, path, target=None):
        if not self._from_tree():
            return None
        self.stubbed.add(fullname)
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec):
        module = _StubModule(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module) -> None:
        pass


def _is_stubbed(value) -> bool:
    if isinstance(value, (_Stub, _StubModule)):
        return True
    if isinstance(value, str):
        return "<stub " in value
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(_is_stubbed(v) for v in value)
    return False


# --------------------------------------------------------------------------
# setup


class _SettingStr(str):
    """The value of a settings.NAME, remembering NAME, so that
    swappable_dependency(settings.NAME) can be reported as NAME."""

    setting_name: str


def _setting_str(value: str, name: str) -> _SettingStr:
    s = _SettingStr(value)
    s.setting_name = name
    return s


def _parse_apps(root: str, specs: list[str]) -> list[dict]:
    apps = []
    seen = set()
    for spec in specs:
        label, sep, rel = spec.partition("=")
        rel = rel.strip("/")
        if not sep or not label or not rel:
            raise UsageError(f"--app wants LABEL=REL/PATH/migrations, got {spec!r}")
        if not label.isidentifier():
            raise UsageError(f"--app {spec}: {label!r} is not a valid app label")
        if label in seen:
            raise UsageError(f"--app {spec}: label {label!r} given twice")
        seen.add(label)
        parts = rel.split("/")
        if len(parts) < 2 or not all(p.isidentifier() for p in parts):
            raise UsageError(
                f"--app {spec}: the path must be a package path of at least "
                "two identifiers (app/migrations)"
            )
        folder = os.path.realpath(os.path.join(root, rel))
        if not os.path.isdir(folder):
            raise UsageError(f"--app {spec}: {folder} is not a directory")
        apps.append({
            "label": label,
            "folder": folder,
            "module": ".".join(parts),
            "package": ".".join(parts[:-1]),
            "package_dir": os.path.dirname(folder),
        })
    return apps


_VENDORED_CONTRIB = re.compile(r"(?:^|\.)django\.contrib\.(\w+)$")


def _contrib_package(a: dict) -> str | None:
    """django.contrib.NAME for a given app that is one of Django's contrib
    apps, in the installed Django's place or vendored in the tree
    (kolibri/dist/django/contrib/auth): it is installed through the real
    AppConfig, its migrations read from the given folder."""
    m = _VENDORED_CONTRIB.search(a["package"])
    return f"django.contrib.{m.group(1)}" if m else None


def _contrib_needed(apps: list[dict]) -> list[str]:
    given = {_contrib_package(a) or a["package"] for a in apps}
    want: set[str] = set()
    for a in apps:
        for dirpath, dirnames, filenames in os.walk(a["folder"]):
            dirnames[:] = [d for d in dirnames if d != "__pycache__"]
            for f in filenames:
                if not f.endswith(".py"):
                    continue
                with open(os.path.join(dirpath, f), encoding="utf-8",
                          errors="replace") as fh:
                    text = fh.read()
                want.update(_CONTRIB_RE.findall(text))
                if "AUTH_USER_MODEL" in text:
                    want.add("auth")
    todo = list(want)
    while todo:
        for dep in CONTRIB_NEEDS[todo.pop()]:
            if dep not in want:
                want.add(dep)
                todo.append(dep)
    return [c for c in CONTRIB_ORDER
            if c in want and f"django.contrib.{c}" not in given]


def _write_settings(tmp: str, apps: list[dict], real_apps: bool,
                    extra: dict, db: str) -> list[str]:
    contrib = _contrib_needed(apps)
    installed = [f"django.contrib.{c}" for c in contrib]
    lines = [f"# written by {os.path.basename(__file__)}; throwaway"]
    for i, a in enumerate(apps):
        if real_apps:
            installed.append(a["package"])
        elif _contrib_package(a):
            installed.append(_contrib_package(a))
        else:
            installed.append(f"{SYNTHETIC_MODULE}.App{i}")
    lines += [
        f"INSTALLED_APPS = {installed!r}",
        "MIGRATION_MODULES = %r" % {a["label"]: a["module"] for a in apps},
        f"DATABASES = {{'default': {{'ENGINE': 'django.db.backends.sqlite3', "
        f"'NAME': {db!r}}}}}",
        "SECRET_KEY = 'migfix-django-oracle-not-secret'",
        "DEBUG = False",
        "USE_TZ = True",
        "DEFAULT_AUTO_FIELD = 'django.db.models.BigAutoField'",
        "MIDDLEWARE = [",
        "    'django.middleware.security.SecurityMiddleware',",
        "    'django.contrib.sessions.middleware.SessionMiddleware',",
        "    'django.middleware.common.CommonMiddleware',",
        "    'django.middleware.csrf.CsrfViewMiddleware',",
        "    'django.contrib.auth.middleware.AuthenticationMiddleware',",
        "    'django.contrib.messages.middleware.MessageMiddleware',",
        "    'django.middleware.clickjacking.XFrameOptionsMiddleware',",
        "]",
        "TEMPLATES = [{",
        "    'BACKEND': 'django.template.backends.django.DjangoTemplates',",
        "    'DIRS': [], 'APP_DIRS': True,",
        "    'OPTIONS': {'context_processors': [",
        "        'django.template.context_processors.request',",
        "        'django.contrib.auth.context_processors.auth',",
        "        'django.contrib.messages.context_processors.messages',",
        "    ]},",
        "}]",
    ]
    for k, v in extra.items():
        lines.append(f"{k} = {v!r}")
    with open(os.path.join(tmp, SETTINGS_MODULE + ".py"), "w") as fh:
        fh.write("\n".join(lines) + "\n")
    return installed


def _synthetic_module(apps: list[dict]) -> None:
    from django.apps import AppConfig

    mod = types.ModuleType(SYNTHETIC_MODULE)

    def import_models(self):
        # only the migrations folder matters: never import models.py
        self.models = self.apps.all_models[self.label]
        self.models_module = None

    for i, a in enumerate(apps):
        cls = type(f"App{i}", (AppConfig,), {
            "name": a["package"],
            "label": a["label"],
            "path": a["package_dir"],
            "default_auto_field": "django.db.models.BigAutoField",
            "import_models": import_models,
            "__module__": SYNTHETIC_MODULE,
        })
        setattr(mod, cls.__name__, cls)
    sys.modules[SYNTHETIC_MODULE] = mod


class Env:
    """Everything set up before django.setup(); holds the finders."""

    def __init__(self, args, real_apps: bool, db: str | None = None) -> None:
        self.root = os.path.realpath(args.root)
        if not os.path.isdir(self.root):
            raise UsageError(f"--root {args.root}: not a directory")
        self.apps = _parse_apps(self.root, args.app)
        self.extra = {}
        for s in args.setting or []:
            k, sep, v = s.partition("=")
            if not sep or not k.isidentifier() or not k.isupper():
                raise UsageError(f"--setting wants NAME=VALUE, got {s!r}")
            self.extra[k] = v
        self.stub = bool(getattr(args, "stub_missing_imports", False))
        self.real_apps = real_apps
        _STATE["root"] = self.root
        self.tmp = tempfile.mkdtemp(prefix="migfix-django-oracle.")
        self.db = db or os.path.join(self.tmp, "db.sqlite3")
        self.tree_finder = None
        self.stub_finder = None

    def cleanup(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    def setup(self) -> None:
        # A model setting that names a given app (AUTH_USER_MODEL =
        # "users.User") is set once the apps are ready: the synthetic
        # AppConfigs import no models, and django.contrib.auth's ready()
        # looks the user model up.
        labels = {a["label"] for a in self.apps}
        deferred = {} if self.real_apps else {
            k: v for k, v in self.extra.items()
            if v.split(".")[0] in labels
        }
        written = {k: v for k, v in self.extra.items() if k not in deferred}
        self.installed = _write_settings(
            self.tmp, self.apps, self.real_apps, written, self.db
        )
        # before the finders, so that django is never taken from the tree
        import django

        sys.path.insert(0, self.tmp)
        sys.path.insert(1, self.root)
        os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS_MODULE
        redirects = {a["module"]: a["folder"] for a in self.apps}
        self.tree_finder = _TreeFinder(self.root, redirects, self.stub)
        sys.meta_path.insert(0, self.tree_finder)
        if self.stub:
            self.stub_finder = _StubFinder(self.root)
            sys.meta_path.append(self.stub_finder)
        if not self.real_apps:
            _synthetic_module(self.apps)

        from django.apps import apps as registry

        django.setup()
        from django.conf import settings

        for k, v in deferred.items():
            setattr(settings, k, v)
        for a in self.apps:
            try:
                conf = registry.get_app_config(a["label"])
            except LookupError:
                conf = None
            wanted = (_contrib_package(a) if not self.real_apps else None) \
                or a["package"]
            if conf is None or conf.name != wanted:
                got = sorted(
                    f"{c.name} (label {c.label})"
                    for c in registry.get_app_configs()
                    if c.name == a["package"]
                )
                raise UsageError(
                    f"app {a['package']} is not installed with the label "
                    f"{a['label']!r} (installed: {', '.join(got) or 'nothing'})"
                )

    def modules_from_source(self) -> list[str]:
        folders = [os.path.join(a["folder"], "") for a in self.apps]
        names = []
        for name, mod in list(sys.modules.items()):
            f = getattr(mod, "__file__", None)
            if not f or not _under(f, self.root):
                continue
            real = os.path.realpath(f)
            if any(real.startswith(d) for d in folders):
                continue  # a migrations package or migration file
            names.append(name)
        return sorted(names)


# --------------------------------------------------------------------------
# graph


def _pair(key) -> list:
    return [key[0], key[1]]


def _declared(dep) -> list:
    from django.db.migrations.migration import SwappableTuple

    if isinstance(dep, SwappableTuple):
        name = getattr(dep.setting, "setting_name", None)
        if name is not None:
            return ["__setting__", name]
        return ["__swappable__", str(dep.setting)]
    return [dep[0], dep[1]]


def _make_loader_class(env: Env):
    from django.db.migrations.loader import MigrationLoader

    class Loader(MigrationLoader):
        def load_disk(self):
            # tell the stubs which migration file is being imported
            real_import = importlib.import_module

            def tracking_import(name, package=None):
                prev = _STATE["loading"]
                _STATE["loading"] = name
                try:
                    return real_import(name, package)
                finally:
                    _STATE["loading"] = prev

            from django.db.migrations import loader as loader_mod

            loader_mod.import_module = tracking_import
            try:
                super().load_disk()
            finally:
                loader_mod.import_module = real_import
            self.resolved = {}
            for key, migration in self.disk_migrations.items():
                path = sys.modules[type(migration).__module__].__file__
                for attr in GRAPH_ATTRS:
                    value = getattr(type(migration), attr, None)
                    if _is_stubbed(value):
                        raise StubbedValue(
                            f"{attr} in {path} is taken from a stubbed "
                            f"module ({value!r}); its real value is unknown"
                        )

        def add_internal_dependencies(self, key, migration):
            self.resolved[key] = [
                tuple(p) for p in migration.dependencies
                if p[0] == key[0] and p[1] != "__first__"
            ]
            super().add_internal_dependencies(key, migration)

        def add_external_dependencies(self, key, migration):
            for parent in migration.dependencies:
                if parent[0] == key[0]:
                    continue
                resolved = self.check_key(parent, key[0])
                if resolved is not None:
                    self.resolved[key].append(tuple(resolved))
            super().add_external_dependencies(key, migration)

    return Loader


def _stub_missing_settings(settings, root: str) -> None:
    """A project's own settings that a migration file reads in its
    operations (weblate's ``default=settings.NEARBY_MESSAGES``, which its
    models' AppConf would set) are stubs: only when the file itself reads
    them, as ``settings.NAME``, while it is imported (``getattr(settings,
    NAME, default)`` still gets its default).  A stub that reaches a graph
    attribute is refused like any other."""
    wrapped = type(settings._wrapped)

    def missing(self, name):
        frame = sys._getframe(2)  # past LazySettings.__getattr__
        if (name.isupper() and _STATE["loading"] is not None
                and _under(frame.f_code.co_filename, root)
                and f"{os.sep}migrations{os.sep}" in frame.f_code.co_filename
                and _opname(frame) == "LOAD_ATTR"):
            _STATE["stubbed_settings"].add(name)
            return _Stub(f"settings.{name}")
        raise AttributeError(name)

    wrapped.__getattr__ = missing


def _django_compat() -> None:
    """What Django 5 removed that migrations written for Django 3 and 4
    import, and that plays no part in the graph: django.utils.timezone.utc
    (an alias of datetime.timezone.utc)."""
    import datetime

    import django.utils.timezone as tz

    if not hasattr(tz, "utc"):
        tz.utc = datetime.timezone.utc


def cmd_graph(env: Env) -> dict:
    import django

    env.setup()
    from django.conf import settings

    # remember which setting a swappable dependency names
    for name in ["AUTH_USER_MODEL", *env.extra]:
        value = getattr(settings, name, None)
        if isinstance(value, str):
            setattr(settings, name, _setting_str(value, name))
    if env.stub:
        _stub_missing_settings(settings, env.root)

    _django_compat()
    Loader = _make_loader_class(env)
    loader = Loader(None, ignore_no_migrations=True)
    labels = {a["label"] for a in env.apps}
    graph = loader.graph

    nodes = []
    for key in sorted(graph.nodes):
        if key[0] not in labels:
            continue
        migration = graph.nodes[key]
        node = graph.node_map[key]
        path = sys.modules[type(migration).__module__].__file__
        nodes.append({
            "app": key[0],
            "name": key[1],
            "path": os.path.realpath(path),
            "dependencies": sorted(
                _pair(d) for d in set(loader.resolved.get(key, []))
            ),
            "declared_dependencies": [
                _declared(d) for d in type(migration).dependencies
            ],
            "parents": sorted(_pair(p.key) for p in node.parents),
            "children": sorted(_pair(c.key) for c in node.children),
            "replaces": [_pair(r) for r in migration.replaces],
            "run_before": [_pair(r) for r in migration.run_before],
            "initial": migration.initial,
        })
    removed = set()
    used = []
    for key, migration in loader.replacements.items():
        if key in graph.nodes:
            used.append(_pair(key))
        for r in migration.replaces:
            r = tuple(r)
            if r in loader.disk_migrations and r not in graph.nodes:
                removed.add(r)
    return {
        "nodes": nodes,
        "replaced_removed": sorted(_pair(r) for r in removed
                                   if r[0] in labels),
        "replacements_used": sorted(u for u in used if u[0] in labels),
        "leaf_nodes": [_pair(k) for k in graph.leaf_nodes()
                       if k[0] in labels],
        "root_nodes": [_pair(k) for k in graph.root_nodes()
                       if k[0] in labels],
        "conflicts": dict(sorted(loader.detect_conflicts().items())),
        "installed_apps": [c.label for c in _registry().get_app_configs()],
        "django": django.get_version(),
    }


def _registry():
    from django.apps import apps

    return apps


# --------------------------------------------------------------------------
# check / plan: manage.py commands in a child process


def _child_argv(args, mode_real: bool, db: str, command: list[str]) -> list:
    argv = [sys.executable, os.path.abspath(__file__), "_manage",
            "--root", os.path.abspath(args.root), "--db", db]
    for a in args.app:
        argv += ["--app", a]
    for s in args.setting or []:
        argv += ["--setting", s]
    if getattr(args, "stub_missing_imports", False):
        argv.append("--stub-missing-imports")
    if mode_real:
        argv.append("--real-apps")
    return argv + ["--", *command]


def _run_child(argv: list, cwd: str) -> dict:
    env = dict(os.environ)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env["NO_COLOR"] = "1"
    p = subprocess.run(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    return {"exit": p.returncode, "output": p.stdout}


def cmd_check(args) -> dict:
    import django

    _parse_apps(os.path.realpath(args.root), args.app)  # usage errors early
    tmp = tempfile.mkdtemp(prefix="migfix-django-oracle-db.")
    try:
        db = os.path.join(tmp, "db.sqlite3")
        mm = _run_child(_child_argv(args, True, db, [
            "makemigrations", "--check", "--dry-run", "--no-color"]), tmp)
        mig = _run_child(_child_argv(args, True, db, [
            "migrate", "--no-input", "--no-color"]), tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"makemigrations": mm, "migrate": mig,
            "django": django.get_version()}


_PLAN_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\.(\S+)$")


def cmd_plan(args) -> dict:
    import django

    _parse_apps(os.path.realpath(args.root), args.app)
    tmp = tempfile.mkdtemp(prefix="migfix-django-oracle-db.")
    try:
        db = os.path.join(tmp, "db.sqlite3")
        res = _run_child(_child_argv(args, False, db, [
            "migrate", "--plan", "--no-color"]), tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    applied = []
    if res["exit"] == 0:
        lines = res["output"].splitlines()
        if "Planned operations:" in lines:
            for line in lines[lines.index("Planned operations:") + 1:]:
                m = _PLAN_LINE.match(line)
                if m:
                    applied.append([m.group(1), m.group(2)])
    res["applied"] = applied
    return {"plan": res, "django": django.get_version()}


def cmd_manage(args) -> int:
    env = Env(args, real_apps=args.real_apps, db=args.db)
    try:
        env.setup()
        _django_compat()
        from django.core.management import execute_from_command_line

        execute_from_command_line(["manage.py", *args.command])
    finally:
        env.cleanup()
    return 0


# --------------------------------------------------------------------------


def _add_common(p, stub: bool = True) -> None:
    p.add_argument("--root", required=True, metavar="DIR",
                   help="the directory the app paths are relative to "
                        "(put on sys.path)")
    p.add_argument("--app", action="append", required=True,
                   metavar="LABEL=REL/PATH/migrations",
                   help="an app label and its migrations folder (repeatable)")
    p.add_argument("--setting", action="append", metavar="NAME=VALUE",
                   help="an extra (string) setting (repeatable)")
    if stub:
        p.add_argument("--stub-missing-imports", action="store_true",
                       help="stub modules that migration files import but "
                            "that are not installed")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="mode", required=True)
    _add_common(sub.add_parser("graph", help="the migration graph as JSON"))
    _add_common(sub.add_parser("plan", help="migrate --plan"))
    _add_common(sub.add_parser("check", help="makemigrations --check, migrate"),
                stub=False)
    m = sub.add_parser("_manage")  # internal: the child process
    _add_common(m)
    m.add_argument("--db", required=True)
    m.add_argument("--real-apps", action="store_true")
    m.add_argument("command", nargs=argparse.REMAINDER)
    args = ap.parse_args(argv)

    if args.mode == "_manage":
        if args.command and args.command[0] == "--":
            args.command = args.command[1:]
        try:
            return cmd_manage(args)
        except UsageError as exc:
            print(f"django_graph.py: {exc}", file=sys.stderr)
            return 2

    real_stdout = sys.stdout
    result: dict
    # migration files may print at import time: keep stdout clean
    with contextlib.redirect_stdout(sys.stderr):
        env = None
        try:
            if args.mode == "graph":
                env = Env(args, real_apps=False)
                result = cmd_graph(env)
            elif args.mode == "check":
                result = cmd_check(args)
            else:
                result = cmd_plan(args)
        except UsageError as exc:
            print(f"django_graph.py: {exc}", file=sys.stderr)
            return 2
        except (KeyboardInterrupt, MemoryError):
            raise
        except BaseException as exc:  # noqa: BLE001 - report any failure
            result = {"error": f"{type(exc).__name__}: {exc}"}
            try:
                import django

                result["django"] = django.get_version()
            except ImportError:
                pass
        if env is not None and env.stub and "error" not in result:
            result["stubbed_modules"] = sorted(env.stub_finder.stubbed)
            result["modules_from_source"] = env.modules_from_source()
            result["stub_truth_tests"] = _STATE["truth_tests"]
            result["stubbed_settings"] = sorted(_STATE["stubbed_settings"])
        if env is not None:
            env.cleanup()

    json.dump(result, real_stdout, indent=1)
    real_stdout.write("\n")
    real_stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
