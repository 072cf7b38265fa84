"""A guard against a reference-count bug in PySide6 6.12 on CPython 3.11.

PySide6's abi3 wheels are built for interpreters where None, True and False are immortal
(CPython 3.12+, PEP 683) and, in two places, hand those objects back without taking a reference:
``SignalInstance.emit()`` returns True without one, and each call of a Python slot from a C++
signal with arguments (``clicked``, ``toggled``, ``textChanged``…) drops one reference to None.
On 3.11 these singletons are ordinary objects, so every emit and every such slot call lowers
their count by one; after a few hundred emits (True starts with a few hundred references) the
interpreter aborts with "Fatal Python error: bool_dealloc" (or none_dealloc). See
tests/test_gui_refcount.py, which shows both leaks and that this guard neutralises them.

The guard does what 3.12 does: it gives the three singletons a reference count so large that
no leak can bring it to zero. They are never freed in a running interpreter anyway, so the only
effect is on ``sys.getrefcount``. On 3.12+ (or another implementation) it does nothing.
"""

from __future__ import annotations

import sys

#: About a billion: at a thousand lost references per second, 12 days of continuous use.
BOOST = 1 << 30


def singletons_are_immortal() -> bool:
    return sys.implementation.name != "cpython" or sys.version_info >= (3, 12)


def protect_singletons() -> bool:
    """Raise the reference counts of None, True and False once; True if it did."""
    if singletons_are_immortal():
        return False
    import ctypes

    changed = False
    for singleton in (None, True, False):
        # In CPython the object's address is id(), and ob_refcnt is its first field.
        count = ctypes.c_ssize_t.from_address(id(singleton))
        if count.value < BOOST:
            count.value += BOOST
            changed = True
    return changed
