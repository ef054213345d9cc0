"""viz: draw a graph of Values, or a network, with data and grad on every node.

    from viz import draw_dot, draw_network
    draw_dot(C)                              # the computation graph (SVG in Jupyter)
    draw_dot(C, highlight=net.weight(2, 2, 2), group="neuron")
    draw_dot(C, step=record)                 # backprop, one frame of backward_steps()
    draw_network(net)                        # neurons by layer, weights and gradients
    step_through(C, around=w, quiz=True)     # a page to step backprop through yourself
    training_replay(fit(net, X, y, record=True), X, y)   # watch gradient descent learn
    draw_dot(C).render("graph.png")          # or .svg / .pdf; .source is the DOT text

Rendering needs Graphviz: the `dot` program when it is on PATH, otherwise
pygraphviz (its wheels bundle Graphviz). CHAINRULE_RENDERER=dot|pygraphviz
forces one.
"""

from viz.dot import draw_dot
from viz.drawing import Drawing
from viz.network import draw_network
from viz.render import RendererNotFound, RenderError, choose_renderer
from viz.replay import TrainingReplay, training_replay
from viz.select import GraphTooLarge
from viz.step_through import StepThrough, step_through

__all__ = ["draw_dot", "draw_network", "step_through", "StepThrough", "Drawing",
           "GraphTooLarge", "RenderError", "RendererNotFound", "choose_renderer",
           "training_replay", "TrainingReplay"]
