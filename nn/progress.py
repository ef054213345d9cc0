"""fit's progress bar: tqdm, with C and the accuracy after each epoch.

    epoch 100/100 |████████████████████| C = 0.02091  accuracy = 1.000

tqdm.auto draws a widget in Jupyter and redraws one line on a terminal.
Where nothing can be redrawn (a log file, a pipe, pytest's capture) only the
final line is written, once, when training ends.
"""

import math
import sys

from tqdm.auto import tqdm

__all__ = ["Progress"]

FORMAT = "epoch {n_fmt}/{total_fmt} |{bar:20}| {desc}"


def describe(cost, accuracy):
    """The text after the bar: C, and the accuracy when there are classes."""
    text = f"C = {cost:.4g}"
    if not math.isnan(accuracy):
        text += f"  accuracy = {accuracy:.3f}"
    return text


def _widget():
    """True when tqdm.auto chose Jupyter's widget (in a kernel, with ipywidgets)."""
    notebook = sys.modules.get("tqdm.notebook")
    return notebook is not None and issubclass(tqdm, notebook.tqdm)


class Progress:
    """A bar over ``total`` epochs, starting from the untrained network's cost.

    Call ``update(cost, accuracy)`` after each epoch and ``close()`` at the end.
    file -- where a text bar goes (default: standard error, as for tqdm)
    """

    def __init__(self, total, cost, accuracy, file=None):
        options = dict(total=total, bar_format=FORMAT, desc=describe(cost, accuracy))
        self.file = sys.stderr if file is None else file
        self.handle = None
        self.live = _widget() or _isatty(self.file)
        if _widget():
            # The widget's plain-text form, which a saved notebook shows (nbconvert,
            # GitHub), is frozen when it is displayed; displayed with an id, close()
            # updates it to the final line.
            from IPython.display import display
            self.bar = tqdm(**options, display=False)
            self.handle = display(self.bar.container, display_id=True)
        else:
            # Off a terminal a redraw would be a new line each time: stay silent
            # (an infinite delay) and let close() write the final line.
            self.bar = tqdm(**options, file=self.file, delay=0 if self.live else math.inf)

    def update(self, cost, accuracy):
        self.bar.set_description_str(describe(cost, accuracy), refresh=False)
        self.bar.update()

    def close(self):
        self.bar.close()
        if self.handle is not None:
            self.handle.update(self.bar.container)
        elif not self.live:
            print(self.bar, file=self.file, flush=True)


def _isatty(file):
    isatty = getattr(file, "isatty", None)
    return bool(isatty and isatty())
