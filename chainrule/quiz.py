"""``chainrule quiz [NAME]``: derive dC/dw yourself, one factor at a time.

It states the demo's worked example (the same network, sample and cost),
then asks for each local derivative on the path from C down to the
parameter, in the article's order, and then for their product. nn.check
says whether each answer is right and, if not, which usual mistake it looks
like. A non-number is asked again; end of input or Ctrl-C stops the quiz.
"""

from chainrule.setting import CLASSES, Setup, parameter
from engine import OPS
from nn.check import factor_answer, gradient_name, param_answer
from nn.explain import explain, parenthesized

__all__ = ["add_command", "run_quiz"]


def add_command(commands, seed):
    """Register ``quiz`` among the parser's subcommands (seed: the --seed options)."""
    quiz = commands.add_parser("quiz", help="derive dC/dw yourself, one factor at a time")
    quiz.add_argument("name", nargs="?", default="w2_22",
                      help="a weight or bias (default w2_22, the article's (w_22)^2)")
    quiz.add_argument("--seed", **seed)
    quiz.set_defaults(run=run_quiz)


def run_quiz(args, ask=input):
    """Ask the factors and the product; returns 0 (130 after Ctrl-C)."""
    setup = Setup(args.seed)
    param = parameter(setup.net, args.name)
    cost = setup.cost()
    explanation = explain(cost, param)
    name = explanation.name
    goal = gradient_name(name(cost), name(param))
    _state_the_example(setup, cost, explanation, goal)
    if not explanation.paths:
        print(f"There is no path of factors to ask for here ({explanation.count:,} paths).")
        return 0
    # Every path the sum runs over, in turn; a factor that an earlier path
    # shares (the edges near C) is shown with its number, not asked again.
    asked = set()  # (child, parent, operand index) of the factors asked so far
    right = questions = 0
    paths = explanation.paths
    try:
        for number, path in enumerate(paths, start=1):
            if len(paths) > 1:
                print()
                print(f"path {number} of {len(paths)}: "
                      + " ← ".join(name(node) for node in path))
            for index, factor in enumerate(path.factors):
                edge = (factor.child, factor.parent, factor.index)
                if edge in asked:
                    print(f"  {factor.text} = {factor.value:.6g} (asked on an earlier path)")
                    continue
                asked.add(edge)
                questions += 1
                print()
                print(f"factor {index + 1} of {len(path.factors)}: {factor.text}")
                print(_where(factor.child, name))
                typed = _number(ask, f"{factor.text} = ")
                diagnosis = factor_answer(path.factors, index, name(cost)).diagnose(typed)
                right += bool(diagnosis)
                print(f"  {diagnosis.message}")
                if not diagnosis:
                    print(f"  It is {factor.text} = {factor.formula} = {factor.value:.6g}; "
                          "on with that.")
        print()
        shares = "" if explanation.count == 1 else f" (all {explanation.count} paths)"
        products = [" · ".join(f.text for f in path.factors) for path in paths]
        if len(paths) == 1:
            print(f"Now the product: {goal} = {products[0]}")
        else:
            print(f"Now the sum of the products{shares}: {goal} =\n    "
                  + "\n  + ".join(products))
        diagnosis = param_answer(explanation, goal).diagnose(_number(ask, f"{goal} = "))
        right += bool(diagnosis)
        questions += 1
        print(f"  {diagnosis.message}")
    except EOFError:
        print("\n(end of input: the quiz stops here)")
        return 0
    except KeyboardInterrupt:
        print("\n(interrupted: the quiz stops here)")
        return 130
    print()
    print(f"{right} of {questions} right. "
          f"autograd: {goal} = {explanation.autograd:.6g}")
    return 0


def _state_the_example(setup, cost, explanation, goal):
    net, name = setup.net, explanation.name
    s = net.a(net.num_layers, 1)
    print(f"The demo's worked example: the 4-4-4-1 network (seed {setup.seed}), one "
          f"training flower, {CLASSES[setup.y]} (y = {setup.y}),")
    print("  x = (" + ", ".join(f"{v:.4f}" for v in setup.x) + ") standardised, "
          f"s = {s.data:.6g}, C = softplus(s) − y·s = {cost.data:.6g}.")
    paths = f"{explanation.count:,} path{'' if explanation.count == 1 else 's'}"
    if len(explanation.paths) == 1:
        route = " ← ".join(name(node) for node in explanation.paths[0])
        print(f"{goal} by the chain rule ({paths}; here {route}):")
        print(f"  {goal} = " + " · ".join(f.text for f in explanation.paths[0].factors))
    elif explanation.paths:
        print(f"{goal} by the chain rule: the sum over {paths}, asked one after another "
              "(a factor shared with an earlier path only once):")
        print(f"  {goal} = " + "\n      + ".join(
            " · ".join(f.text for f in path.factors) for path in explanation.paths))
    print("Type each local derivative (4 significant digits are plenty). "
          "Ctrl-D or Ctrl-C stops.")


def _where(node, name):
    """'where (a_2)^3 = tanh((z_2)^3), with (z_2)^3 = 0.4628; (a_2)^3 = 0.4324'."""
    operands = [parenthesized(name(p)) for p in node.parents]
    named = [p for p in node.parents if p.label or p.parents]  # not the constants
    values = ", ".join(f"{name(p)} = {p.data:.4g}" for p in named)
    return (f"  where {name(node)} = {OPS[node.op].show(operands)},\n"
            f"  with {values}; {name(node)} = {node.data:.4g}")


def _number(ask, prompt):
    """A number from ask(prompt), asking again until it is one."""
    while True:
        text = ask(prompt).strip()
        try:
            value = float(text.replace("−", "-"))
        except ValueError:
            value = None
        if value is not None and value - value == 0:  # finite
            return value
        print(f"  {text!r} is not a number; type one, such as -0.178.")
