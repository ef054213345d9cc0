"""``chainrule quiz [NAME]``: derive dC/dw yourself, one step at a time.

It states the demo's worked example (the same network, sample and cost),
then walks the path from C down to the parameter, in the article's order:
for each node on it, first the local derivative of the edge into it
(d(a_2)^3/d(z_2)^3, with the op's formula in the names and the operands'
values, never the derivative's value), then its gradient, upstream × local
(skipped where it is the local derivative itself, next to C). nn.check says
whether an answer is right and, if not, which mistake it looks like (the op
table's named mistakes: tanh((z_2)^3) itself, 1 − σ(s), ...); the hints grow
with each wrong try, and the answer is told only after ``--attempts`` wrong
tries (3). A non-number is asked again, with a hint that is no number; end
of input or Ctrl-C stops the quiz.
"""

import argparse

from chainrule.cli import CLASSES, Setup, parameter
from engine import grad, local_derivatives, topological_order
from nn.check import (
    ATTEMPTS,
    gradient_answer,
    gradient_name,
    local_answer,
    param_answer,
    read_number,
    term,
)
from nn.explain import explain

__all__ = ["add_command", "run_quiz"]


def add_command(commands, seed):
    """Register ``quiz`` among the parser's subcommands (seed: the --seed options)."""
    quiz = commands.add_parser("quiz", help="derive dC/dw yourself, one step at a time")
    quiz.add_argument("name", nargs="?", default="w2_22",
                      help="a weight or bias (default w2_22, the article's (w_22)^2)")
    quiz.add_argument("--seed", **seed)
    quiz.add_argument("--attempts", type=_at_least_one, default=ATTEMPTS,
                      help=f"wrong tries before the answer is told (default {ATTEMPTS})")
    quiz.set_defaults(run=run_quiz)


def _at_least_one(text):
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"--attempts must be a whole number >= 1, not {text!r}")
    return number


def run_quiz(args, ask=input):
    """Ask the local derivatives and gradients; returns 0 (130 after Ctrl-C)."""
    setup = Setup(args.seed)
    param = parameter(setup.net, args.name)
    cost = setup.cost()
    explanation = explain(cost, param)
    goal = gradient_name(explanation.name(cost), explanation.name(param))
    _state_the_example(setup, cost, explanation, goal)
    if not explanation.paths:
        print(f"There is no path of factors to ask for here ({explanation.count:,} paths).")
        return 0
    questions = _questions(cost, explanation, getattr(args, "attempts", ATTEMPTS))
    results = []
    try:
        for number, (what, answer) in enumerate(questions, start=1):
            print()
            print(f"question {number} of {len(questions)}: {what}")
            print(f"  {answer.prompt}")
            results.append(_ask(ask, answer))
    except EOFError:
        print("\n(end of input: the quiz stops here)")
        return 0
    except KeyboardInterrupt:
        print("\n(interrupted: the quiz stops here)")
        return 130
    print()
    right = sum(result != "revealed" for result in results)
    first = results.count("first")
    print(f"{right} of {len(questions)} right ({first} at the first try). "
          f"autograd: {goal} = {explanation.autograd:.6g}")
    return 0


def _questions(cost, explanation, attempts):
    """(what is asked, Answer) for each step down the first path: local, then gradient."""
    name = explanation.name
    path = explanation.paths[0]
    consumers = {}  # node -> [(consumer, operand index)]
    for node in topological_order(cost):
        for index, parent in enumerate(node.parents):
            consumers.setdefault(parent, []).append((node, index))
    upstream_of = sorted({c for node in path[1:] for c, _ in consumers[node]} - {cost},
                         key=id)
    upstream = dict(zip(upstream_of, grad(cost, upstream_of))) if upstream_of else {}
    upstream[cost] = 1.0
    gradients = dict(zip(path[1:], grad(cost, list(path[1:]))))
    questions = []
    for factor in path.factors:
        node = factor.parent
        questions.append((f"the local derivative {factor.text}",
                          local_answer(factor.child, factor.index, name, attempts)))
        terms = [term(c, i, upstream[c], local_derivatives(c)[i], name, cost)
                 for c, i in consumers[node]]
        if len(terms) == 1 and terms[0].upstream == 1.0:
            continue  # the gradient is the local derivative just asked
        node_goal = gradient_name(name(cost), name(node))
        if node is explanation.param:
            answer = param_answer(explanation, node_goal)
            answer.attempts = attempts
        else:
            answer = gradient_answer(node_goal, gradients[node], terms, attempts=attempts)
        # The edges off this path were not asked: what they send is given.
        others = [f"{t.upstream_name} · {t.local_name} = {t.contribution:.4g}"
                  for (c, _), t in zip(consumers[node], terms) if c is not factor.child]
        if others:
            answer.prompt += "\n  where the other edges into it send " + ", ".join(others)
        questions.append((f"the gradient {node_goal}, upstream × local", answer))
    return questions


def _ask(ask, answer):
    """Ask until right or out of tries: 'first', 'later' or 'revealed'."""
    tries = 0
    while True:
        diagnosis = answer.diagnose(_number(ask, f"{answer.goal} = "), attempt=tries + 1)
        print(f"  {diagnosis.message}")
        if diagnosis:
            return "first" if tries == 0 else "later"
        tries += 1
        if tries >= answer.attempts:
            print(f"  The answer: {answer.reveal}. On with that.")
            return "revealed"


def _state_the_example(setup, cost, explanation, goal):
    net, name = setup.net, explanation.name
    s = net.a(net.num_layers, 1)
    print(f"The demo's worked example: the 4-4-4-1 network (seed {setup.seed}), one "
          f"training flower, {CLASSES[setup.y]} (y = {setup.y}),")
    print("  x = (" + ", ".join(f"{v:.4f}" for v in setup.x) + ") standardised, "
          f"s = {s.data:.6g}, C = softplus(s) − y·s = {cost.data:.6g}.")
    paths = f"{explanation.count:,} path{'' if explanation.count == 1 else 's'}"
    if explanation.paths:
        route = " ← ".join(name(node) for node in explanation.paths[0])
        print(f"{goal} by the chain rule ({paths}; here {route}):")
        print(f"  {goal} = " + " · ".join(f.text for f in explanation.paths[0].factors))
    print("For each node on the way down: its local derivative, then its gradient. "
          "Type decimals or fractions (4 significant digits are plenty); the answer "
          "comes after a few wrong tries. Ctrl-D or Ctrl-C stops.")


def _number(ask, prompt):
    """A number from ask(prompt), asking again (with a hint that is no number) until it is one."""
    while True:
        try:
            return read_number(ask(prompt))
        except ValueError as error:
            print(f"  {error}")
