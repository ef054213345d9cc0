"""Bytes per graph node, measured with tracemalloc.

For one graph: the bytes still allocated after building it (the graph is alive),
divided by the nodes the build created. Nodes that existed before the build
(parameters, a chain's leaves) are not counted, nor are their bytes. What a
node costs includes everything it holds: the node object, its float, its
parents (a tuple here, a set in micrograd) and, in micrograd, its closure.
"""

import gc
import tracemalloc
from typing import NamedTuple


class Memory(NamedTuple):
    nodes: int            # nodes created by the build
    bytes: int            # bytes allocated by the build and still held by the graph

    @property
    def bytes_per_node(self):
        return self.bytes / self.nodes


def measure_graph(trainer):
    """Build trainer's graph once under tracemalloc; its Memory."""
    gc.collect()  # no garbage from earlier may be freed during the measurement
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        root = trainer.graph()
        allocated = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    nodes = trainer.count_nodes(root) - trainer.leaves_before_forward()
    del root
    gc.collect()
    return Memory(nodes, allocated)
