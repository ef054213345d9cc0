"""draw_network: the network itself, as the article draws it, with numbers on it.

Neurons are circles, one column per layer (layer 1, the input, on the left;
neuron 1 at the top). The edge from neuron k of layer l to neuron j of layer
l+1 is the weight (w_jk)^l; its colour is the sign (blue +, red −), its width
the size of the weight, and its label — the weight's value and, after
backward, its gradient ∂C/∂w — sits on the edge itself, 80% of the way to
neuron j. At that point the edges between two layers are all at different
heights (at least a fifth of the neuron spacing apart, whatever k and j), so
no two labels overlap; a level edge's label sits further back, clear of
neuron j. Each label has a white background, drawn over the edges. Each
neuron shows its activation (after a forward pass); its bias and the bias's
gradient are written at its lower right (under it, in the last layer).

Positions are computed here and pinned (Graphviz's neato engine), so the
picture has the article's regular grid whatever the weights.

The network is read by duck typing, so viz does not import nn: anything with
``net.layers[i].neurons[j].w[k]`` and ``.b`` (Values) will do; ``net.a(l, j)``
supplies the activations when it has them.
"""

import graphviz

from viz.dot import COLUMN_INCHES
from viz.drawing import Drawing
from viz.labels import html_label, html_text, number

__all__ = ["draw_network"]

FONT = "Helvetica"
POSITIVE = "#1f77b4"
NEGATIVE = "#d62728"
LAYER_GAP = 2.6      # inches between columns: four layers fit an 840-px column
NEURON_GAP = 1.8     # inches between neurons of a column
# Where on an edge its label sits: 0 at neuron k, 1 at neuron j. Two edges
# meet at height t only where t = Δk/(Δk − Δj) (1/4, 1/3, 1/2, ... for the
# 4-neuron layers); 0.8 is a fifth of NEURON_GAP from every such crossing.
LABEL_AT = 0.8
# A level edge (neuron k to the neuron j at its height) would put its label
# right against neuron j: it goes further back, where it is the only label,
# since every other label of the column is at LABEL_AT.
LEVEL_LABEL_AT = 0.55
LABEL_FONT = "8"     # points: 10.7 px


def draw_network(net, precision=3, show_grad=None, show_weights=True):
    """Draw an MLP: neurons by layer, weights (and their gradients) on the edges.

    show_grad     True / False, or None: only once a backward pass has left a
                  gradient on some parameter
    show_weights  write each weight (and gradient) on its edge
    """
    layers = getattr(net, "layers", None)
    if not layers or not all(hasattr(layer, "neurons") for layer in layers):
        raise TypeError("draw_network draws a network with .layers, each with "
                        ".neurons that have weights .w and a bias .b (such as "
                        f"nn.MLP); got {type(net).__name__}")
    sizes = [len(layers[0].neurons[0].w)] + [len(layer.neurons) for layer in layers]
    if show_grad is None:
        show_grad = any(p.grad != 0.0 for layer in layers for neuron in layer.neurons
                        for p in (*neuron.w, neuron.b))
    graph = graphviz.Digraph("network", engine="neato", graph_attr={
        "layout": "neato", "splines": "line", "outputorder": "edgesfirst",
        "fontname": FONT, "size": f"{COLUMN_INCHES:.3f},1000"},
        node_attr={"fontname": FONT, "fontsize": "9", "shape": "circle",
                   "style": "filled", "width": "0.5", "margin": "0.01"},
        edge_attr={"fontname": FONT, "arrowsize": "0.6"})

    def position(l, j):
        x = (l - 1) * LAYER_GAP
        y = ((sizes[l - 1] - 1) / 2 - (j - 1)) * NEURON_GAP
        return x, y

    last = len(sizes)
    top = max(position(l, 1)[1] for l in range(1, last + 1)) + NEURON_GAP * 0.5
    for l, size in enumerate(sizes, start=1):
        role = "input" if l == 1 else "output" if l == last else "hidden"
        graph.node(f"title{l}", html_label(html_text(f"layer {l}\n({role})")),
                   shape="plaintext", style="", fontsize="11", fixedsize="false",
                   pos=_pin(position(l, 1)[0], top), **{"class": "layer-title"})
        for j in range(1, size + 1):
            x, y = position(l, j)
            graph.node(_neuron_id(l, j), _neuron_label(net, l, j, last, precision),
                       pos=_pin(x, y), fillcolor="#e8e8e8" if l == 1 else "#cfe2ff",
                       **{"class": f"neuron layer{l}"})
            if l > 1:
                bias = layers[l - 2].neurons[j - 1].b
                # at the neuron's lower right; under the last layer's, so the
                # drawing ends at its neurons
                bias_x, bias_y = ((x, y - 0.85) if l == last
                                  else (x + 0.6, y - NEURON_GAP * 0.25))
                graph.node(f"b{l}_{j}", _bias_label(bias, precision, show_grad),
                           pos=_pin(bias_x, bias_y), shape="plaintext",
                           style="filled", fillcolor="#ffffffd0", width="0", height="0",
                           margin="0.01", fixedsize="false", fontsize=LABEL_FONT,
                           **{"class": "bias-label"})

    largest = max((abs(w.data) for layer in layers for neuron in layer.neurons
                   for w in neuron.w), default=0.0) or 1.0
    for l, layer in enumerate(layers, start=1):
        for j, neuron in enumerate(layer.neurons, start=1):
            for k, w in enumerate(neuron.w, start=1):
                colour = POSITIVE if w.data >= 0 else NEGATIVE
                graph.edge(_neuron_id(l, k), _neuron_id(l + 1, j), color=colour,
                           penwidth=f"{0.6 + 2.4 * abs(w.data) / largest:.2f}",
                           **{"class": "weight"})
                if show_weights:
                    # A label node pinned on the edge, near its head: Graphviz
                    # would put every label of a column at the same midpoint.
                    (x0, y0), (x1, y1) = position(l, k), position(l + 1, j)
                    t = LEVEL_LABEL_AT if y0 == y1 else LABEL_AT
                    graph.node(f"w{l}_{j}_{k}", _weight_label(w, l, j, k, precision,
                                                               show_grad),
                               pos=_pin(x0 + t * (x1 - x0), y0 + t * (y1 - y0)),
                               shape="plaintext", style="filled", fillcolor="#ffffffd0",
                               width="0", height="0", margin="0.01", fixedsize="false",
                               fontsize=LABEL_FONT, fontcolor=colour,
                               tooltip=w.label or f"w{l}_{j}{k}", **{"class": "weight-label"})
    n_weights = sum(len(neuron.w) for layer in layers for neuron in layer.neurons)
    caption = (f"network {'-'.join(map(str, sizes))}: {sum(sizes)} neurons, "
               f"{n_weights} weights")
    key = "on each edge (w_jk)^l, from neuron k to neuron j: its value; by each neuron: its bias"
    key += "\n∂: the gradient ∂C/∂w or ∂C/∂b; blue +, red −" if show_grad else "; blue +, red −"
    graph.attr(label=html_label(html_text(key)), labelloc="b",
               fontsize="10")
    return Drawing(graph, caption=caption)


def _pin(x, y):
    return f"{x:.3f},{y:.3f}!"


def _neuron_id(l, j):
    return f"n{l}_{j}"


def _activation(net, l, j):
    """(a_j)^l of the last forward pass, or None if the net has none to give."""
    try:
        return net.a(l, j)
    except Exception:  # no forward pass yet, or a network without .a(l, j)
        return None


def _neuron_label(net, l, j, last, precision):
    """'a3_2' and its activation (after a forward pass)."""
    if l == 1:
        name = f"x_{j}"
    elif l == last:
        name = "s" if len(net.layers[-1].neurons) == 1 else f"s_{j}"
    else:
        name = f"a{l}_{j}"
    lines = [f"<b>{html_text(name)}</b>"]
    activation = _activation(net, l, j)
    if activation is not None:
        lines.append(html_text(number(activation.data, precision)))
    return html_label("<br/>".join(lines))


def _bias_label(bias, precision, show_grad):
    lines = [html_text(f"{bias.label or 'b'} = {number(bias.data, precision)}")]
    if show_grad:
        lines.append(html_text(f"∂ {number(bias.grad, precision)}"))
    return html_label("<br/>".join(lines))


def _weight_label(w, l, j, k, precision, show_grad):
    """The weight's value and, under it, '∂ ' and its gradient: short, so it fits its edge."""
    lines = [html_text(number(w.data, precision))]
    if show_grad:
        lines.append(html_text(f"∂ {number(w.grad, precision)}"))
    return html_label("<br/>".join(lines))
