"""Grad mode: whether operations record a graph, per thread (as in PyTorch).

    with no_grad():        # evaluation, parameter updates: results are leaves
        ...
    with enable_grad():    # record again, even inside no_grad
        ...

Each thread has its own mode, so ``no_grad`` in one thread never turns
gradients off in another (two threads can each train their own network).
The mode is that of the innermost context still open, True when none is:
contexts may be left in any order, and each exit removes only its own entry.
"""

import threading

__all__ = ["no_grad", "enable_grad", "is_grad_enabled"]


class _ThreadMode(threading.local):
    """This thread's grad mode; threading.local runs __init__ once per thread."""

    def __init__(self):
        self.enabled = True  # read by every op that builds a node: one attribute
        self.open = []       # (context, enabled) of each context open in this thread


_mode = _ThreadMode()


class _OpenAnywhere:
    """How many grad-mode contexts are open, in all threads together.

    While none is, every thread records, so the ops can skip the per-thread
    lookup (``not _anywhere.open or _mode.enabled``): most programs never
    leave the default mode while they build graphs.
    """

    __slots__ = ("open",)

    def __init__(self):
        self.open = 0


_anywhere = _OpenAnywhere()
_count_lock = threading.Lock()


class _GradMode:
    """A context manager that sets this thread's grad mode to ``enabled`` inside."""

    enabled = True

    def __enter__(self):
        with _count_lock:
            _anywhere.open += 1
        _mode.open.append((self, self.enabled))
        _mode.enabled = self.enabled
        return self

    def __exit__(self, *exc_info):
        # Remove this context's own (innermost) entry, wherever it is: contexts
        # left out of order (a enters, b enters, a exits) leave b's mode in force.
        open_contexts = _mode.open
        for i in range(len(open_contexts) - 1, -1, -1):
            if open_contexts[i][0] is self:
                del open_contexts[i]
                with _count_lock:
                    _anywhere.open -= 1
                break
        _mode.enabled = open_contexts[-1][1] if open_contexts else True
        return False


class no_grad(_GradMode):
    """Context manager: operations inside record no graph (like torch.no_grad).

    Use it for evaluation and for parameter updates, w ← w − ε ∂C/∂w:
    inside it, ``p -= lr * p.grad`` changes p itself, as in PyTorch. Its
    results have no graph, so backward() from them raises; ``x.detach()``
    gives such a constant outside it. It affects only the thread that enters it.
    """

    enabled = False


class enable_grad(_GradMode):
    """Context manager: operations inside record a graph, even within no_grad."""

    enabled = True


def is_grad_enabled():
    """True unless inside ``no_grad()`` (in this thread)."""
    return _mode.enabled
