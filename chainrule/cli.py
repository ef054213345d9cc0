"""The ``chainrule`` command: the article end to end, from the terminal.

    chainrule demo                    the whole article: forward pass, the chain
                                      rule for dC/d(w_22)^2 checked three ways,
                                      training on Iris, out/model.json, drawings
    chainrule explain w2_22           the chain rule for any weight or bias
    chainrule code [w2_22]            the backward pass as code (engine.compile)
    chainrule train --epochs 200 --lr 0.5 --seed 1 --out out/model.json
    chainrule quiz w2_22              derive dC/d(w_22)^2 yourself, factor by factor

Every subcommand uses the worked example of nn/example.py: the seeded 4-4-4-1
network and Fisher's Iris, versicolor (y = 0) vs virginica (y = 1), split
50/50 (stratified) and standardised on the training half, with the first
training flower as the sample. The cost is binary cross-entropy on the
output s, C = ln(1 + e^s) − y·s.

This module wires nn and viz together; nn itself never imports viz.
"""

import argparse
import math
import os
import sys
import time

from chainrule import code
from engine import gradcheck, notation
from nn.datasets import IRIS_FEATURES
from nn.example import CLASSES, WorkedExample
from nn.explain import explain
from nn.matrix import matrix_backprop, to_matrices
from nn.train import DEFAULT_EPOCHS, DEFAULT_LR, accuracy, fit


class UsageError(Exception):
    """A bad argument the parser cannot see (e.g. an unknown parameter name)."""


# -- the article's setting -------------------------------------------------------------

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
        found = error.args[0]  # "no node labelled ...", maybe "; did you mean ...?"
        sizes = "-".join(str(n) for n in net.sizes)
        raise UsageError(f"{found}{'' if found.endswith('?') else '.'} Parameters are named "
                         f"like w2_22 "
                         f"((w_jk)^l, l = 1..{net.num_layers - 1}) or b3_1 ((b_j)^l), "
                         f"j and k within the layer sizes {sizes}") from None


def three_ways(setup, param, cost):
    """dC/dparam by autograd, by the matrix form and by finite differences."""
    net = setup.net
    net.zero_grad()
    cost.backward()
    autograd = param.grad

    # The matrix form: δ^{l+1} from the local-gradient equations, in numpy.
    Ws, bs = to_matrices(net)
    result = matrix_backprop(Ws, bs, setup.x, setup.y, activation=net.activation,
                             cost="binary_cross_entropy",
                             output_activation=net.output_activation)
    matrix = _matrix_partial(net, result, param)

    # Central finite differences (C(p + h) − C(p − h)) / 2h by engine.gradcheck;
    # the cost depends on param through the network, so f ignores its argument.
    numeric = gradcheck(lambda p: setup.cost(), [param]).rows[0].numeric
    return autograd, matrix, numeric


def _matrix_partial(net, result, param):
    """The entry of ∂C/∂W^l or ∂C/∂b^l that belongs to param."""
    for layer_index, layer in enumerate(net.layers, start=1):
        for j, neuron in enumerate(layer.neurons, start=1):
            if neuron.b is param:
                return result.bias_gradient(layer_index, j)
            for k, w in enumerate(neuron.w, start=1):
                if w is param:
                    return result.weight_gradient(layer_index, j, k)
    raise ValueError(f"{param.label!r} is not a parameter of the network")


def print_three_ways(name, autograd, matrix, numeric):
    print(f"dC/d{name}, three ways:")
    rows = [("autograd (C.backward())", autograd),
            ("matrix form (local gradients δ)", matrix),
            ("finite differences (gradcheck)", numeric)]
    for method, value in rows:
        difference = "" if method.startswith("autograd") else \
            f"   |difference| {abs(value - autograd):.1e}"
        print(f"  {method:<34} {value:+.15f}{difference}")


def print_forward_pass(setup, cost):
    net = setup.net
    print(f"Forward pass for the worked example, {setup.describe()}:")
    print("  measurements " + ", ".join(f"{v:g}" for v in setup.raw_x)
          + " cm, standardised:")
    print("  a^1 = x:  " + "  ".join(f"(a_{k})^1 = {net.a(1, k).data:+.4f}"
                                     for k in range(1, 5)))
    last = net.num_layers
    for layer in range(2, last + 1):
        n = net.sizes[layer - 1]
        f = net.output_activation if layer == last else net.activation
        z = [f"(z_{j})^{layer} = {net.z(layer, j).data:+.4f}" for j in range(1, n + 1)]
        a = [f"(a_{j})^{layer} = {net.a(layer, j).data:+.4f}" for j in range(1, n + 1)]
        print(f"  z^{layer} = W^{layer - 1} a^{layer - 1} + b^{layer - 1}:  " + "  ".join(z))
        print(f"  a^{layer} = {f}(z^{layer}):  " + "  ".join(a))
    s = net.a(last, 1).data
    print(f"  s = (a_1)^{last} = {s:+.6f}   (a logit: σ(s) = {1 / (1 + math.exp(-s)):.4f})")
    print(f"  C = ln(1 + e^s) − y·s = {cost.data:.6f}   (binary cross-entropy, y = {setup.y})")


def train(setup, epochs, lr, progress=True, record=False):
    """fit on the training half; prints and returns (history, train accuracy, test accuracy).

    record: keep every epoch's parameters and gradients (for viz.training_replay).
    """
    print(f"Training the 4-4-4-1 network on {len(setup.y_train)} flowers "
          f"({CLASSES[0]} 0, {CLASSES[1]} 1): binary cross-entropy, ε = {lr:g}, "
          f"{epochs} epochs, full batch")
    history = fit(setup.net, setup.X_train, setup.y_train, lr=lr, epochs=epochs,
                  progress=progress, record=record)
    # history's last entry is the trained network, the one the test half is scored on
    train_accuracy = history.accuracy[-1]
    test_accuracy = accuracy(setup.net, setup.X_test, setup.y_test)
    print(f"  C: {history.cost[0]:.4f} -> {history.cost[-1]:.4f} after {len(history)} "
          f"epoch{'' if len(history) == 1 else 's'}")
    print(f"  train accuracy {train_accuracy:.3f} ({len(setup.y_train)} flowers), "
          f"test accuracy {test_accuracy:.3f} ({len(setup.y_test)} flowers)")
    return history, train_accuracy, test_accuracy


def check_out(path, folder=False):
    """Fail now, naming path, if --out cannot be written: before any training.

    path is the model file (train) or, with folder=True, the folder for the
    demo's files. Folders that do not exist yet are made later, so what must
    hold is that the nearest one that exists is a folder we may write in.
    """
    if folder and os.path.exists(path) and not os.path.isdir(path):
        raise OSError(f"cannot write to --out {path}: it is a file, not a folder")
    if not folder and os.path.isdir(path):
        raise OSError(f"cannot write to --out {path}: it is a folder; name a file in it, "
                      f"such as {os.path.join(path, 'model.json')}")
    existing = path if folder else os.path.dirname(path)
    while existing and not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing or "."):
        raise OSError(f"cannot write to --out {path}: {existing} is a file, not a folder")
    if not os.access(existing or ".", os.W_OK | os.X_OK):
        raise OSError(f"cannot write to --out {path}: no permission to write in "
                      f"{existing or 'the current folder'}")


def save_model(net, path):
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    net.save(path)
    print(f"  saved the model to {path}")


def draw(what, path, make_drawing):
    """Render a viz drawing to path; say what was skipped and why instead of failing."""
    try:
        make_drawing().render(path)
    except Exception as error:  # a missing Graphviz must not end the demo
        print(f"  skipped {path}: {type(error).__name__}: {error}")
        return False
    print(f"  drew {what} to {path}")
    return True


# -- subcommands -------------------------------------------------------------------------

def run_demo(args):
    check_out(args.out, folder=True)
    started = time.monotonic()
    setup = Setup(args.seed)
    net = setup.net
    print(f"The article's network, seed {args.seed}:")
    print(net)
    print()

    cost = setup.cost()
    print_forward_pass(setup, cost)
    print()

    w = net.weight(2, 2, 2)
    explanation = explain(cost, w)
    print(explanation)
    print()
    print_three_ways("(w_22)^2", *three_ways(setup, w, cost))
    print()

    os.makedirs(args.out, exist_ok=True)
    try:
        import viz
    except ImportError as error:
        viz = None
        print(f"(viz is not importable, so no drawings: {error})")
    if viz is not None:
        graph_path = os.path.join(args.out, "graph.svg")
        draw("the graph of C for this sample, the path to (w_22)^2 in bold", graph_path,
             lambda: viz.draw_dot(cost, highlight=explanation))
        page = os.path.join(args.out, "backprop.html")
        if draw("the backward pass to step through, with a quiz", page,
                lambda: viz.step_through(cost, around=w, quiz=True)):
            print(f"  open it in a browser: file://{os.path.abspath(page)}")

    history, _, _ = train(setup, args.epochs, args.lr, progress=not args.quiet,
                          record=viz is not None)
    save_model(net, os.path.join(args.out, "model.json"))
    if viz is not None:
        draw("the trained network", os.path.join(args.out, "network.svg"),
             lambda: viz.draw_network(net))
        page = os.path.join(args.out, "training.html")
        if draw("the replay of the training run, epoch by epoch,", page,
                lambda: viz.training_replay(
                    history, setup.X_train, setup.y_train, features=(2, 3),
                    X_test=setup.X_test, y_test=setup.y_test,
                    feature_names=IRIS_FEATURES)):
            print(f"  open it in a browser: file://{os.path.abspath(page)}")
    print(f"done in {time.monotonic() - started:.1f} s")
    return 0


def run_explain(args):
    setup = Setup(args.seed)
    param = parameter(setup.net, args.name)
    cost = setup.cost()
    explanation = explain(cost, param)
    print(f"The worked example: {setup.describe()}.")
    print()
    print(explanation)
    print()
    print_three_ways(explanation.name(param), *three_ways(setup, param, cost))
    return 0


def run_train(args):
    check_out(args.out)
    setup = Setup(args.seed)
    train(setup, args.epochs, args.lr, progress=not args.quiet)
    save_model(setup.net, args.out)
    return 0


# -- the parser ------------------------------------------------------------------------

def _whole_number(text, minimum):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
    return value


def positive_int(text):
    return _whole_number(text, minimum=1)


def non_negative_int(text):
    return _whole_number(text, minimum=0)


def positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def build_parser():
    parser = argparse.ArgumentParser(
        prog="chainrule",
        description="Backpropagation on the article's 4-4-4-1 network, end to end.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def training_options(command, out):
        command.add_argument("--epochs", type=positive_int, default=DEFAULT_EPOCHS,
                             help=f"the epoch budget (default {DEFAULT_EPOCHS})")
        command.add_argument("--lr", type=positive_float, default=DEFAULT_LR,
                             help=f"the learning rate ε (default {DEFAULT_LR})")
        command.add_argument("--quiet", action="store_true", help="no progress bar")
        command.add_argument("--out", default=out, help=f"where to write (default {out})")

    seed = dict(type=non_negative_int, default=0,
                help="seed of the network's weights and of the data split (default 0)")

    demo = commands.add_parser("demo", help="the article end to end")
    demo.add_argument("--seed", **seed)
    training_options(demo, "out")
    demo.set_defaults(run=run_demo)

    explain_command = commands.add_parser(
        "explain", help="the chain rule for one parameter, checked three ways")
    explain_command.add_argument(
        "name", help="a weight or bias, as labelled or as in the article (quoted for "
                     "the shell): w2_22 or '(w_22)^2', b3_1 or '(b_1)^3'")
    explain_command.add_argument("--seed", **seed)
    explain_command.set_defaults(run=run_explain)

    train_command = commands.add_parser("train", help="train on Iris and save the model")
    train_command.add_argument("--seed", **seed)
    training_options(train_command, os.path.join("out", "model.json"))
    train_command.set_defaults(run=run_train)

    code.add_command(commands, seed)
    from chainrule import quiz  # imported here: quiz.py uses this module's Setup
    quiz.add_command(commands, seed)
    return parser


def main(argv=None):
    """Run the command; returns the exit status (2 for bad names or options)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit:  # argparse has printed its message (or --help)
        return exit.code
    if args.command is None:  # bare `chainrule`: say what there is to run
        parser.print_help()
        return 0
    try:
        status = args.run(args)
        sys.stdout.flush()  # a reader that went away shows up here at the latest
        return status
    except BrokenPipeError:
        # `chainrule explain b3_1 | head -5`: the reader has all it wanted. Point
        # stdout at devnull so that Python's flush at exit has nowhere to fail.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except UsageError as error:
        print(f"chainrule {args.command}: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"chainrule {args.command}: error: {error}", file=sys.stderr)
        return 1
    except (ArithmeticError, ValueError) as error:
        # A number that went wrong, e.g. training that diverges with a huge --lr:
        # the engine's message says where, so no traceback.
        hint = "; a smaller --lr may help" if hasattr(args, "lr") else ""
        print(f"chainrule {args.command}: error: {type(error).__name__}: {error}{hint}",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
