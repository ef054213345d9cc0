"""What every ``chainrule`` command shares: the worked example and its names.

cli.py, code.py and quiz.py all import this module, and it imports none of
them, so the imports point one way:

    setting  <-  code, quiz  <-  cli

Setup is the worked example (nn/example.py); ``parameter`` finds a weight or
bias by name and ``node`` any node of the cost's graph (a weighted input z,
an activation a, an input x, the output s), each with the nearest names
suggested when there is none.
"""

from engine import notation, topological_order
from nn.example import CLASSES, WorkedExample

__all__ = ["UsageError", "Setup", "CLASSES", "parameter", "node"]


class UsageError(Exception):
    """A bad argument the parser cannot see (e.g. an unknown parameter name)."""


# The article's setting: the one worked example (nn/example.py) that the
# notebooks and the step-through page use too.
Setup = WorkedExample


def parameter(net, name):
    """The parameter called name, as labelled (w2_22) or as in the article ((w_22)^2).

    An unknown name is a UsageError that suggests the nearest labels.
    """
    try:
        return notation.find(name, net.parameters())
    except KeyError as error:
        raise UsageError(_unknown(error, net)) from None


def node(net, cost, name):
    """The node of cost's graph called name: a parameter, or z3_2, a3_2, x_1, s, C.

    An unknown name is a UsageError that suggests the nearest labels.
    """
    parsed = notation.parse(notation.from_article(name))
    if parsed is not None and parsed.kind in ("w", "b"):
        return parameter(net, name)  # suggests the nearest parameters, not z or a
    try:
        return notation.find(name, topological_order(cost))
    except KeyError as error:
        raise UsageError(_unknown(error, net, nodes=True)) from None


def _unknown(error, net, nodes=False):
    found = error.args[0]  # "no node labelled ...", maybe "; did you mean ...?"
    sizes = "-".join(str(n) for n in net.sizes)
    last = net.num_layers
    what = (f"Nodes are named like w2_22 ((w_jk)^l, l = 1..{last - 1}), b3_1 ((b_j)^l), "
            f"z3_2 ((z_j)^l, l = 2..{last - 1}), a3_2 ((a_j)^l), x_1, s and C"
            if nodes else
            f"Parameters are named like w2_22 ((w_jk)^l, l = 1..{last - 1}) or b3_1 "
            f"((b_j)^l)")
    return (f"{found}{'' if found.endswith('?') else '.'} {what}, j and k within the "
            f"layer sizes {sizes}")
