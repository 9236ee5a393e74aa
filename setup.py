"""Only what pyproject.toml cannot say: the top-level specs/, suites/ and fixtures/ go into the wheel.

They stay at the repository's top level (that is where people edit them), and are mapped at build time into
the package `paycert._data`, so an installed paycert carries its built-in specs, suites, catalogue, schemas
and fixtures and runs from any directory (paycert.targets.home.find_home). Everything else is in
pyproject.toml; `find_packages` keeps every paycert subpackage in without a list to keep up to date.
"""

from setuptools import find_packages, setup

DATA = ("specs", "suites", "fixtures")

setup(
    packages=[*find_packages(include=["paycert", "paycert.*"]), *(f"paycert._data.{d}" for d in DATA)],
    package_dir={f"paycert._data.{d}": d for d in DATA},
)
