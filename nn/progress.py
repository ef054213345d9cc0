"""A small progress bar for training: epoch, a bar, the current cost.

On a terminal it redraws one line in place:

    epoch  120/300 [########............]  C = 0.1832  accuracy = 0.940

In Jupyter it does the same (the notebook honours the carriage return). When
the output goes to a file or a CI log, where a redrawn line turns into a
wall of text, it prints a plain line at the first epoch, every tenth of the
way, and the last epoch instead.
"""

import sys
import time

__all__ = ["ProgressBar"]


def _in_jupyter(stream):
    # ipykernel replaces sys.stdout with its own stream, which renders '\r'.
    return type(stream).__module__.startswith("ipykernel")


class ProgressBar:
    """Progress over ``total`` epochs; call ``update(epoch, cost, accuracy)``, then ``close()``.

    file -- where to write; by default standard error on a terminal (as tqdm
            does, keeping standard output for results) and standard output
            in Jupyter (where standard error is shown in red).
    """

    width = 20            # characters in the bar
    redraw_every = 0.1    # seconds between redraws of the live bar

    def __init__(self, total, file=None):
        self.total = total
        if file is None:
            file = sys.stdout if _in_jupyter(sys.stdout) else sys.stderr
        self.file = file
        isatty = getattr(file, "isatty", None)
        self.live = _in_jupyter(file) or bool(isatty and isatty())
        self.last_draw = 0.0
        self.last_line = ""
        self.next_report = 1  # epochs at which a plain line is printed

    def line(self, epoch, cost, accuracy=None):
        """The text shown for an epoch."""
        digits = len(str(self.total))
        filled = int(self.width * epoch / self.total) if self.total else self.width
        bar = "#" * filled + "." * (self.width - filled)
        text = f"epoch {epoch:>{digits}}/{self.total} [{bar}]  C = {cost:.4g}"
        if accuracy is not None and accuracy == accuracy:  # not NaN
            text += f"  accuracy = {accuracy:.3f}"
        return text

    def update(self, epoch, cost, accuracy=None):
        text = self.line(epoch, cost, accuracy)
        if self.live:
            now = time.monotonic()
            if now - self.last_draw >= self.redraw_every or epoch == self.total:
                # Pad with spaces so a shorter line wipes out a longer one.
                padding = " " * max(len(self.last_line) - len(text), 0)
                self.file.write("\r" + text + padding)
                self.file.flush()
                self.last_draw = now
        elif epoch >= self.next_report or epoch == self.total:
            self.file.write(text + "\n")
            self.file.flush()
            step = max(self.total // 10, 1)
            self.next_report = (epoch // step + 1) * step
        self.last_line = text

    def close(self, message=""):
        """End the bar; on a live bar the last state is drawn and the line ended."""
        if self.live:
            if self.last_line:
                self.file.write("\r" + self.last_line)
            self.file.write("\n")
        if message:
            self.file.write(message + "\n")
        self.file.flush()
