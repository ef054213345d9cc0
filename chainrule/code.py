"""``chainrule code [NAME]``: the article's backward pass, as the code engine.compile writes.

The seeded 4-4-4-1 network and the demo's training sample, compiled with the
45 parameters as arguments (x and y are constants in the code): the forward
pass line by line, then one chain-rule step per line, with the line that
computes dC/d(w_22)^2 (or NAME) marked and its number checked against
backward().
"""

from chainrule.setting import parameter
from engine import Value, compile, notation
from nn.example import WorkedExample
from nn.losses import binary_cross_entropy


def add_command(commands, seed):
    """Register ``code`` on the CLI's subparsers (seed: the shared --seed options)."""
    command = commands.add_parser(
        "code", help="the backward pass as straight-line Python, one chain-rule step a line")
    command.add_argument("name", nargs="?", default="w2_22",
                         help="the parameter whose line to mark (default w2_22, the "
                              "article's (w_22)^2)")
    command.add_argument("--seed", **seed)
    command.set_defaults(run=run_code)


def run_code(args):
    example = WorkedExample(args.seed)
    net = example.net
    param = parameter(net, args.name)
    # the example's cost, with y labelled so that the code names it: max(s, 0.0) - y * s + ...
    cost = binary_cross_entropy(net(example.x), Value(example.y, label="y"))
    f = compile(cost, net.parameters())
    marked = f.line_of(param)
    wanted = f"dC/d{notation.article_name(param.label)}"
    print(f"engine.compile of {example.describe()}:")
    print(f"the 45 parameters are the arguments; x and y are constants. "
          f"The line for {wanted} is marked <<<.")
    print()
    for line in f.source.splitlines():
        print(f"{line}   # <<< {wanted}" if line == marked else line)
    value, gradients = f(*[p.data for p in net.parameters()])
    net.zero_grad()
    cost.backward()
    compiled = gradients[net.parameters().index(param)]
    print(f"{wanted} = {compiled!r} from the compiled code; backward() gives "
          f"{param.grad!r}: {'equal' if compiled == param.grad else 'DIFFERENT'}")
    return 0 if compiled == param.grad and value == cost.data else 1
