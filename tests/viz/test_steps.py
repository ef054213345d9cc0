"""draw_dot(root, step=record): the backward pass frame by frame."""

import pytest

from engine import Value
from viz import draw_dot


def _expression():
    """L = tanh(a·b + a): a reused, five nodes in the backward order."""
    a, b = Value(0.5, label="a"), Value(-1.5, label="b")
    product = a * b
    total = product + a
    loss = total.tanh()
    loss.label = "L"
    return loss


def _grad_text(dot, drawing, value):
    """The grad cell of a Value's box: 'grad 0.25' or 'grad 0.25 so far' (pending)."""
    cells = dot.node_text(drawing.node_id(value)).split(" | ")
    (cell,) = [c for c in cells if c.startswith("grad")]
    return cell


def test_current_node_is_marked(parse):
    loss = _expression()
    records = list(loss.backward_steps())
    record = records[2]
    drawing = draw_dot(loss, step=record)
    dot = parse(drawing.source)
    assert dot.nodes("current") == {drawing.node_id(record.node)}
    assert dot.node_attr(drawing.node_id(record.node), "penwidth") == "4"


def test_done_and_pending_nodes_follow_the_record(parse):
    loss = _expression()
    records = list(loss.backward_steps())
    record = records[1]
    drawing = draw_dot(loss, step=record)
    dot = parse(drawing.source)
    assert dot.nodes("done") == {drawing.node_id(v) for v in record.order[:record.index]}
    # pending: a node that sends to it is not processed yet, so its gradient still grows
    still_to_send = record.order[record.index + 1:]
    growing = {p for node in still_to_send for p in node.parents}
    assert dot.nodes("pending") == {drawing.node_id(v) for v in growing}


def test_a_leaf_is_not_pending_once_its_last_consumer_has_sent(parse):
    x = Value(2.0, label="x")
    w = Value(3.0, label="w")
    y = (w * x).tanh()
    records = list(y.backward_steps())
    product_step = [r for r in records if r.node.op == "mul"][0]
    drawing = draw_dot(y, step=product_step)
    dot = parse(drawing.source)
    assert w in product_step.pending() and x in product_step.pending()  # not processed
    assert not dot.nodes("pending")                                   # but final
    assert _grad_text(dot, drawing, w) == f"grad {x.data * records[0].grad * (1 - y.data ** 2):.4g}"


def test_contributions_are_written_on_the_current_nodes_edges(parse):
    loss = _expression()
    records = list(loss.backward_steps())
    record = [r for r in records if r.node.op == "add"][0]   # a·b + a sends to a·b and a
    drawing = draw_dot(loss, step=record, precision=6)
    dot = parse(drawing.source)
    sends = [e for e in dot.edges("send")]
    assert len(sends) == 2
    for (tail, head, key), send in zip(sorted(sends, key=lambda e: e[2]), record.sends):
        assert tail == drawing.node_id(send.parent)
        grad, rest = dot.edge_text(tail, head, key).split(" × ")
        local, contribution = rest.split(" = ")
        assert float(grad) == pytest.approx(record.grad, rel=1e-5)
        assert float(local) == pytest.approx(send.local_derivative, rel=1e-5)
        assert float(contribution) == pytest.approx(send.contribution, rel=1e-5)


def test_pending_gradients_are_what_has_arrived_so_far(parse):
    loss = _expression()
    records = list(loss.backward_steps())   # run to the end: .grad is final now
    a = [v for v in records[0].order if v.label == "a"][0]
    for index, record in enumerate(records):
        if not any(a in node.parents for node in record.pending()):
            continue   # every node that sends to a has sent
        # what the records so far have sent to a, added up independently
        arrived = sum(send.contribution for r in records[:index + 1]
                      for send in r.sends if send.parent is a)
        drawing = draw_dot(loss, step=record, precision=8)
        text = _grad_text(parse(drawing.source), drawing, a)
        assert text.endswith("so far")
        assert float(text.split()[1]) == pytest.approx(arrived, rel=1e-7, abs=1e-12)


def test_processed_nodes_show_their_complete_gradient(parse):
    loss = _expression()
    records = list(loss.backward_steps())
    last = records[-1]
    drawing = draw_dot(loss, step=last, precision=8)
    dot = parse(drawing.source)
    for record in records[:-1]:
        text = _grad_text(dot, drawing, record.node)
        assert float(text.split()[1]) == pytest.approx(record.grad, rel=1e-7)


def test_first_step_has_only_the_root_done_with_grad_one(parse):
    loss = _expression()
    first = next(loss.backward_steps())
    drawing = draw_dot(loss, step=first)
    dot = parse(drawing.source)
    assert _grad_text(dot, drawing, loss) == "grad 1"
    # the root's inputs have their gradient now; everything above them is still growing
    assert dot.nodes("pending") == {drawing.node_id(v) for v in first.order
                                    if v is not loss and v not in loss.parents}
    assert "backward step 1 of" in dot.caption()


def test_step_of_another_graph_is_refused():
    loss = _expression()
    other = Value(2.0, label="z").exp()
    with pytest.raises(ValueError, match="backward pass of"):
        draw_dot(loss, step=next(other.backward_steps()))


def test_step_that_is_not_a_record_is_a_type_error():
    loss = _expression()
    with pytest.raises(TypeError, match="backward_steps"):
        draw_dot(loss, step=3)


def test_a_step_of_a_pass_seeded_with_3_shows_three_times_the_gradients_even_through_a_zero():
    # relu at a negative input sends 0: the step's own gradient is 0, which used
    # to make the frame guess the seed as 1
    from viz.steps import step_state

    a, b = Value(0.5, label="a"), Value(-2.0, label="b")
    dead = (a * b).relu()
    dead.label = "dead"
    out = dead + a
    out.label = "out"
    records = list(out.backward_steps(3.0))
    by_node = {r.node: r for r in records}
    state = step_state(by_node[dead])           # dead's gradient is 3, what it sends is 0
    assert state.gradients[a] == 3.0            # out sent 3 · 1 to a already
    relu_input = dead.parents[0]
    state = step_state(by_node[relu_input])     # a node whose own gradient is 0
    assert by_node[relu_input].grad == 0.0
    assert state.gradients[a] == 3.0 and state.gradients[dead] == 3.0
