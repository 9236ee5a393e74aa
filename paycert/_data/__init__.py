"""paycert's built-in data, as an installed wheel carries it.

The repository keeps `specs/`, `suites/` and `fixtures/` at its top level; the build maps them in here
(`setup.py`: `paycert._data.specs` is built from `specs/`, and so on), so a `pip install paycert` outside
the checkout finds them at `paycert/_data/{specs,suites,fixtures}`. In a checkout this folder holds only
this file: `paycert.targets.home.find_home` finds the checkout first.
"""
