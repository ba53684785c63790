# pre-commit installs a `language: python` hook's repository with pip; this
# one holds no code: the hooks' additional_dependencies bring the migfix wheel.
from setuptools import setup

setup(name="migfix-pre-commit", version="@VERSION@", py_modules=[])
