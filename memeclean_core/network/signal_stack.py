"""Keep a thread's alternate signal stack across native calls that replace it.

OpenVINO's CPU plugin (2026.4) gives the thread that first uses it (to compile a model, import one or read a CPU
property) an alternate signal stack of its own and, when it goes, puts back the stack it found. Two of them that go
in the order they came (the first one first) leave the thread on the first one's stack after it was unmapped.
Signal handlers installed with SA_ONSTACK (every Python handler, e.g. torch's SIGCHLD handler for DataLoader
workers) then run on unmapped memory: the next child process that exits kills the process with SIGSEGV (si_code
SI_KERNEL), far from its cause.

`kept_signal_stack()` saves the calling thread's stack before such a call and sets it back afterwards, so the
plugin later restores a stack that is still there. Where `sigaltstack` is not in the C library (Windows) it does
nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Iterator
from contextlib import contextmanager


class _StackT(ctypes.Structure):  # POSIX stack_t, the same layout on Linux and macOS
    _fields_ = [("ss_sp", ctypes.c_void_p), ("ss_flags", ctypes.c_int), ("ss_size", ctypes.c_size_t)]


def _sigaltstack():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        function = libc.sigaltstack
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.POINTER(_StackT), ctypes.POINTER(_StackT)]
    function.restype = ctypes.c_int
    return function


_SIGALTSTACK = _sigaltstack()


def current_signal_stack() -> tuple[int, int, int] | None:
    """(address, flags, size) of the calling thread's alternate signal stack, None where that cannot be read."""
    if _SIGALTSTACK is None:
        return None
    stack = _StackT()
    if _SIGALTSTACK(None, ctypes.byref(stack)) != 0:
        return None
    return stack.ss_sp or 0, stack.ss_flags, stack.ss_size


@contextmanager
def kept_signal_stack() -> Iterator[None]:
    """Run the body, then give the calling thread back the alternate signal stack it had before."""
    saved = _StackT()
    readable = _SIGALTSTACK is not None and _SIGALTSTACK(None, ctypes.byref(saved)) == 0
    try:
        yield
    finally:
        if readable:
            _SIGALTSTACK(ctypes.byref(saved), None)
