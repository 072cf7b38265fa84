"""The desktop window (PySide6). Importing this package guards against a PySide6 reference-count
bug on CPython 3.11 first; see gui/_refcount.py."""

from gui._refcount import protect_singletons

protect_singletons()
