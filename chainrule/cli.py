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

This module wires nn and viz together; nn itself never imports viz. What the
commands share (the worked example, finding a node by name) is in setting.py,
which code.py and quiz.py import too: the imports point one way.
"""

import argparse
import math
import os
import sys
import time

from chainrule import code, quiz
from chainrule.setting import CLASSES, Setup, UsageError, node, parameter
from engine import OPS, gradcheck, notation, topological_order
from engine.files import check_writable
from nn.datasets import IRIS_FEATURES
from nn.explain import explain
from nn.matrix import matrix_backprop, to_matrices
from nn.train import DEFAULT_EPOCHS, DEFAULT_LR, accuracy, fit

# Setup, UsageError and parameter live in setting.py; named here too, where
# they were first (tests and notebooks import them from chainrule.cli).
__all__ = ["main", "build_parser", "Setup", "UsageError", "parameter", "node"]



def three_ways(setup, target, cost):
    """dC/d(target) by autograd, by the matrix form and by finite differences.

    target is a parameter or any node of cost's graph: a weighted input z (its
    dC/dz is the article's local gradient δ), an activation a, an input x, the
    output s. The matrix form is None where it has no entry (y, C).
    """
    net = setup.net
    net.zero_grad()
    cost.backward()
    autograd = target.grad

    # The matrix form: δ^{l+1} from the local-gradient equations, in numpy.
    Ws, bs = to_matrices(net)
    result = matrix_backprop(Ws, bs, setup.x, setup.y, activation=net.activation,
                             cost="binary_cross_entropy",
                             output_activation=net.output_activation)
    matrix = _matrix_partial(net, result, target, Ws)

    # Central finite differences (C(p + h) − C(p − h)) / 2h. A parameter by
    # engine.gradcheck, which runs the whole forward pass again; any other
    # node by replaying the graph above it with its number moved.
    if any(target is p for p in net.parameters()):
        numeric = gradcheck(lambda p: setup.cost(), [target]).rows[0].numeric
    else:
        numeric = _central_difference(cost, target)
    return autograd, matrix, numeric


def _matrix_partial(net, result, target, Ws):
    """The entry of ∂C/∂W^l, ∂C/∂b^l, δ^l = ∂C/∂z^l or ∂C/∂a^l that belongs to target."""
    for layer_index, layer in enumerate(net.layers, start=1):
        for j, neuron in enumerate(layer.neurons, start=1):
            if neuron.b is target:
                return result.bias_gradient(layer_index, j)
            for k, w in enumerate(neuron.w, start=1):
                if w is target:
                    return result.weight_gradient(layer_index, j, k)
    last = net.num_layers
    parsed = notation.parse(target.label)
    if parsed is not None and parsed.kind == "z":    # δ_j^l
        return float(result.delta[parsed.layer - 1][parsed.j - 1])
    if parsed is not None and parsed.kind == "a":    # a^l feeds z^{l+1}: (W^l)^T δ^{l+1}
        return float((Ws[parsed.layer - 1].T @ result.delta[parsed.layer])[parsed.j - 1])
    k = notation.input_index(target.label)
    if k is not None:                                # x = a^1
        return float((Ws[0].T @ result.delta[1])[k - 1])
    if target is net.a(last, 1) and net.output_activation == "linear":  # s = z^L
        return float(result.delta[last - 1][0])
    return None


def _central_difference(cost, target, eps=1e-6):
    """(C(t + ε) − C(t − ε)) / 2ε for a node t of cost's graph, the nodes above
    it recomputed by their ops' forward functions (the graph is not changed)."""
    order = topological_order(cost)

    def cost_at(number):
        data = {target: number}
        for n in order:
            if n.parents and n not in data and any(p in data for p in n.parents):
                data[n] = OPS[n.op].forward(*[data.get(p, p.data) for p in n.parents])
        return data.get(cost, cost.data)

    return (cost_at(target.data + eps) - cost_at(target.data - eps)) / (2 * eps)


def print_three_ways(name, autograd, matrix, numeric):
    print(f"dC/d{name}, three ways:")
    rows = [("autograd (C.backward())", autograd),
            ("matrix form (local gradients δ)", matrix),
            ("finite differences (gradcheck)", numeric)]
    for method, value in rows:
        if value is None:
            print(f"  {method:<34} (no entry for {name})")
            continue
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
    hold is that the nearest one that exists is a folder we may write in,
    and that each file to write is a file (not a folder, /dev/null or a FIFO).
    """
    if folder and os.path.exists(path) and not os.path.isdir(path):
        raise OSError(f"cannot write to --out {path}: it is a file, not a folder")
    if not folder and os.path.isdir(path):
        raise OSError(f"cannot write to --out {path}: it is a folder; name a file in it, "
                      f"such as {os.path.join(path, 'model.json')}")
    files = [os.path.join(path, name) for name in DEMO_FILES] if folder else [path]
    for file in files:
        try:
            check_writable(file)
        except OSError as error:
            raise OSError(f"cannot write to --out {path}: {error.strerror}") from None


# what `chainrule demo` writes into its --out folder
DEMO_FILES = ("graph.svg", "backprop.html", "model.json", "network.svg", "training.html")


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
    cost = setup.cost()
    target = node(setup.net, cost, args.name)
    explanation = explain(cost, target)
    print(f"The worked example: {setup.describe()}.")
    print()
    print(explanation)
    print()
    name = explanation.name(target)
    parsed = notation.parse(target.label)
    if parsed is not None and parsed.kind == "z":
        print(f"dC/d{name} is (δ_{parsed.j})^{parsed.layer}, the article's local gradient "
              f"of neuron {parsed.j} in layer {parsed.layer}.")
        print()
    print_three_ways(name, *three_ways(setup, target, cost))
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
        "explain", help="the chain rule for one parameter or node, checked three ways")
    explain_command.add_argument(
        "name", help="a weight, bias or node, as labelled or as in the article (quoted "
                     "for the shell): w2_22 or '(w_22)^2', b3_1, z3_2 (its dC/dz is the "
                     "local gradient δ), a3_2, x_1, s")
    explain_command.add_argument("--seed", **seed)
    explain_command.set_defaults(run=run_explain)

    train_command = commands.add_parser("train", help="train on Iris and save the model")
    train_command.add_argument("--seed", **seed)
    training_options(train_command, os.path.join("out", "model.json"))
    train_command.set_defaults(run=run_train)

    code.add_command(commands, seed)
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
