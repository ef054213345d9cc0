"""The backward pass at one step, for drawing it frame by frame.

A record from ``root.backward_steps()`` (engine.BackwardStep) names the node
being processed and its place in the order. From the record alone we rebuild
what this pass has added to every gradient by that step, so a list of
records (e.g. under a slider) draws each frame right, not just the latest one.

A node's gradient is final once every node that sends to it (every node
computed from it) has been processed; until then it is *pending*. A leaf is
never processed itself, so it stops being pending as soon as its last
consumer has sent.
"""

import engine

__all__ = ["local_derivatives", "StepState", "step_state"]


def local_derivatives(value):
    """d value / d parent for each operand, as backward uses them (None if undefined)."""
    try:
        return engine.local_derivatives(value)
    except FloatingPointError:
        return (None,) * len(value.parents)


class StepState:
    """Where the backward pass stands at one step.

    current   -- the node being processed: it sends gradient × local derivative
                 to each of its inputs
    done      -- nodes processed before it
    pending   -- nodes whose gradient is still growing: some node that sends
                 to them has not been processed yet
    gradients -- {node: what this pass has sent to it so far}
    sends     -- the record's Sends, one per operand of current
    """

    def __init__(self, current, done, pending, gradients, sends, index, total):
        self.current = current
        self.done = done
        self.pending = pending
        self.gradients = gradients
        self.sends = sends
        self.index = index
        self.total = total


def step_state(record):
    """The StepState of a BackwardStep record."""
    order = record.order
    unit = dict.fromkeys(order, 0.0)
    unit[order[0]] = 1.0
    for node in order[:record.index + 1]:
        g = unit[node]
        for parent, local in zip(node.parents, local_derivatives(node)):
            unit[parent] += g * (local or 0.0)
    # The pass was seeded with ``gradient`` (1.0 unless given), which the
    # record carries: every gradient so far is that seed times the unit one.
    seed = record.seed
    gradients = {node: seed * g for node, g in unit.items()}
    last_sender = {}   # node -> the step at which its last consumer sends to it
    for step, node in enumerate(order):
        for parent in node.parents:
            last_sender[parent] = step
    pending = {node for node in order if last_sender.get(node, -1) > record.index}
    return StepState(current=record.node, done=set(order[:record.index]),
                     pending=pending, gradients=gradients,
                     sends=record.sends, index=record.index, total=len(order))
