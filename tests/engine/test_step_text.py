"""print(record) of a backward step: one line for the node, one line per send."""

from engine import Value


def test_a_step_prints_one_line_per_send_in_the_article_names():
    x, w = Value(2.0, label="a2_2"), Value(-0.5, label="w2_22")
    z = w * x
    z.label = "z3_2"
    out = z.tanh()
    out.label = "a3_2"
    steps = list(out.backward_steps())
    lines = str(steps[1]).splitlines()
    assert lines[0] == f"step 1: (z_2)^3, gradient {steps[1].grad:.6g}"
    assert lines[1:] == [
        f"  → (w_22)^2: {steps[1].grad:.6g} × 2 = {steps[1].grad * 2.0:.6g}",
        f"  → (a_2)^2: {steps[1].grad:.6g} × -0.5 = {steps[1].grad * -0.5:.6g}",
    ]
    assert str(steps[-1]).count("\n") == 0   # a leaf sends nothing


def test_an_unlabelled_node_is_named_by_its_formula():
    x = Value(3.0, label="x")
    out = x * 2.0 + 1.0
    first = str(next(out.backward_steps()))
    assert first.startswith("step 0: (6 + 1 = 7), gradient 1")
    assert "  → (x · 2 = 6): 1 × 1 = 1" in first


def test_sends_to_constants_are_left_out_of_the_text():
    x = Value(3.0, label="x")
    out = x ** 2
    out.label = "q"
    first = next(out.backward_steps())
    assert len(first.sends) == 2          # the record keeps both operands
    assert str(first).splitlines()[1:] == ["  → x: 1 × 6 = 6"]
