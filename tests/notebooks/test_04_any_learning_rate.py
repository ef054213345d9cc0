"""Notebook 04 keeps its promise: change the learning rate or the seed and every cell runs.

Each run executes every cell of the committed notebook (nbclient) with the two
assignments a learner would edit, ``seed = ...`` and ``learning_rate = ...``,
replaced; the closing check (the gradients) must pass, and a run that fails to
train must say why instead of stopping the notebook.

To be economical, the five learning rates of one seed share a kernel, its
namespace emptied (``%reset -f``) before each run, as a learner's Run All
after editing a number; modules stay imported, which saves most of the time.
(nbmake runs the notebook as committed in a fresh kernel as well.)
"""

import pathlib
import re

import pytest

nbformat = pytest.importorskip("nbformat", reason="the notebooks extra is not installed")
nbclient = pytest.importorskip("nbclient", reason="the notebooks extra is not installed")
pytest.importorskip("ipykernel", reason="the notebooks extra is not installed")

NOTEBOOK = pathlib.Path(__file__).resolve().parents[2] / "notebooks" / "04_gradient_descent.ipynb"
LEARNING_RATES = (0.01, 0.05, 0.5, 2, 20)   # ε; 20 is the notebook's own "too large"
SEEDS = (0, 1, 2, 3)


def with_parameters(learning_rate, seed):
    """The notebook with its two parameters set, as a learner would type them."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    replaced = {"seed": 0, "learning_rate": 0}
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        for name, value in (("seed", seed), ("learning_rate", learning_rate)):
            cell.source, count = re.subn(rf"(?m)^{name} = [^#\n]*", f"{name} = {value!r} ",
                                         cell.source)
            replaced[name] += count
    assert replaced == {"seed": 1, "learning_rate": 1}, \
        f"the notebook should assign seed and learning_rate once each: {replaced}"
    return notebook


def printed_by(cell):
    return "".join(output.get("text", "") for output in cell.outputs)


def printed(notebook):
    return "".join(printed_by(cell) for cell in notebook.cells if cell.cell_type == "code")


@pytest.mark.parametrize("seed", SEEDS)
def test_every_cell_runs_for_every_learning_rate(seed, tmp_path):
    client = nbclient.NotebookClient(with_parameters(LEARNING_RATES[0], seed), timeout=300,
                                     kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    with client.setup_kernel():
        for learning_rate in LEARNING_RATES:
            notebook = with_parameters(learning_rate, seed)
            client.nb = notebook
            client.execute_cell(nbformat.v4.new_code_cell("%reset -f"), 0)
            for index, cell in enumerate(notebook.cells):
                try:
                    client.execute_cell(cell, index)
                except nbclient.exceptions.CellExecutionError as error:
                    pytest.fail(f"ε = {learning_rate}, seed {seed}: cell {index} failed:\n"
                                f"{error}")
            text = printed(notebook)
            assert "engine gradient = matrix form at the trained weights (45 parameters)" \
                in text, (learning_rate, seed)
            assert f"ε = {learning_rate!r}, seed {seed}: C went from" in text
            # a run that did not lower C says so (asked of the kernel, not rounded)
            asked = nbformat.v4.new_code_cell("print(history.cost[-1] < history.cost[0])")
            notebook.cells.append(asked)
            client.execute_cell(asked, len(notebook.cells) - 1)
            if printed_by(asked) == "False\n":
                assert "Training did not lower C" in text, (learning_rate, seed)
            else:
                assert printed_by(asked) == "True\n" and "Training did not" not in text
