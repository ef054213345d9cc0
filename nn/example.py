"""The worked example: one network, one flower, one cost, used everywhere.

``chainrule demo``, ``chainrule explain``, the notebooks and the step-through
page all explain the same numbers:

- the seeded 4-4-4-1 network (tanh hidden layers, a linear output s),
- Fisher's Iris, versicolor (y = 0) vs virginica (y = 1), split 50/50
  (stratified, with the same seed) and standardised on the training half,
- the first training flower (x, y),
- binary cross-entropy on the output, C = ln(1 + e^s) − y·s, the cost the
  network is trained with, so dC/ds = σ(s) − y.

    from nn.example import WorkedExample
    example = WorkedExample()         # seed 0
    C = example.cost()                # the forward pass for (x, y)
    C.backward()
    example.net.weight(2, 2, 2).grad  # dC/d(w_22)^2
"""

from nn.datasets import load_iris, standardize, train_test_split
from nn.layers import MLP
from nn.losses import binary_cross_entropy

__all__ = ["WorkedExample", "CLASSES", "SIZES"]

CLASSES = ("versicolor", "virginica")
SIZES = [4, 4, 1]  # nouts of the 4-4-4-1 network


class WorkedExample:
    """The seeded 4-4-4-1 network, the Iris split and one training sample (x, y).

    net                     -- MLP(4, [4, 4, 1], seed=seed)
    X_train, y_train, ...   -- the standardised split (numpy arrays)
    x, y                    -- the first training flower and its label (0 or 1)
    raw_x                   -- its measurements in cm, before standardising
    flower                  -- its species, 'versicolor' or 'virginica'
    """

    cost_name = "binary_cross_entropy"

    def __init__(self, seed=0):
        self.seed = seed
        self.net = MLP(4, SIZES, activation="tanh", output_activation="linear", seed=seed)
        X, y = load_iris(CLASSES)
        X_train, X_test, self.y_train, self.y_test = train_test_split(
            X, y, test_size=0.5, seed=seed)
        self.raw_x = [float(v) for v in X_train[0]]
        self.X_train, self.X_test, self.mean, self.std = standardize(X_train, X_test)
        self.x = [float(v) for v in self.X_train[0]]
        self.y = int(self.y_train[0])
        self.flower = CLASSES[self.y]

    def cost(self):
        """C for the sample (x, y): the forward pass, then C = ln(1 + e^s) − y·s."""
        return binary_cross_entropy(self.net(self.x), self.y)

    def describe(self):
        """One line: which sample, label and cost this is."""
        measurements = ", ".join(f"{v:g}" for v in self.raw_x)
        return (f"the first training flower of seed {self.seed}: a {self.flower} "
                f"(y = {self.y}), {measurements} cm; cost C = ln(1 + e^s) − y·s "
                f"(binary cross-entropy on the logit s)")
