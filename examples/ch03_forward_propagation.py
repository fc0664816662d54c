# %% [markdown]
# # Chapter 3: Forward propagation (Grokking Deep Learning), on gdl
#
# A neural network that only *predicts*: multiply the input by a weight (or a
# weighted sum, or a matrix) and read off the output. No learning yet.
#
# The book's data are four games of a hockey team: the average number of toes per
# player, the win/loss record and the number of fans (millions). Only game 0 is
# used as input. Every prediction is computed with gdl tensors in float64 (the
# precision of the book's Python floats and NumPy arrays) and printed beside the
# number the book printed.
#
# Run it whole (`python examples/ch03_forward_propagation.py`) or cell by cell.

# %%
import _common
import numpy as np  # only to print an array the way the book's NumPy did

import gdl
from gdl import nn

parser = _common.make_parser("Chapter 3: forward propagation (the toes/win/fans predictions)")
args = _common.parse_args(parser)
_common.setup(args, "ch03 forward propagation")
f64 = gdl.float64  # the book's numbers are Python floats / NumPy float64
checks = []  # (matched?, |gdl - book|) for every printed figure

# The four games (the book's lists). gdl.tensor copies them onto the chosen backend.
toes = gdl.tensor([8.5, 9.5, 9.9, 9.0], dtype=f64)
wlrec = gdl.tensor([0.65, 0.8, 0.8, 0.9], dtype=f64)
nfans = gdl.tensor([1.2, 1.3, 0.5, 1.0], dtype=f64)


def check(label, book, ours, **kw):
    """Print book vs gdl and remember the largest difference for the final RESULT."""
    ok = _common.compare(label, book, ours, **kw)
    b, o = _common._flat(book), _common._flat(ours)
    if isinstance(b[0], str):  # a printed string: equal or not
        checks.append((ok, 0.0 if ok else float("inf")))
    else:
        checks.append((ok, max(abs(x - y) for x, y in zip(b, o))))
    return ok


# %% [markdown]
# ## A network with one input and one output
#
# "The network multiplies the input by a knob, the weight": `prediction = input · weight`.

# %%
_common.section("1 input -> 1 output: prediction = input * weight")
weight = gdl.tensor(0.1, dtype=f64)


def neural_network(input, weight):
    prediction = input * weight
    return prediction


pred = neural_network(toes[0], weight)
check("toes 8.5 * weight 0.1", 0.8500000000000001, pred.item())

# %% [markdown]
# ## Several inputs: a weighted sum
#
# With three inputs (toes, win rate, fans) the network multiplies each input by
# its own weight and adds them up: a *weighted sum*, or *dot product*. The book
# writes `w_sum` by hand first, then uses `np.dot`; here it is `(a * b).sum()`
# and then the `@` operator.

# %%
_common.section("3 inputs -> 1 output: a weighted sum (dot product)")
weights = gdl.tensor([0.1, 0.2, 0.0], dtype=f64)


def w_sum(a, b):
    """The book's hand-written weighted sum: multiply elementwise, add up."""
    return (a * b).sum()


input = gdl.stack([toes[0], wlrec[0], nfans[0]])  # game 0: [8.5, 0.65, 1.2]
check("w_sum([8.5, 0.65, 1.2], [0.1, 0.2, 0])", 0.9800000000000001, w_sum(input, weights).item())
check("the same with @ (np.dot)", 0.9800000000000001, (input @ weights).item())

# %% [markdown]
# ## One input, several outputs: elementwise multiplication
#
# One input (the win rate) predicts three things: is the team hurt, will it win,
# is it sad. Each output has its own weight: `ele_mul(input, weights)`.

# %%
_common.section("1 input -> 3 outputs (hurt, win, sad): elementwise multiply")
weights = gdl.tensor([0.3, 0.2, 0.9], dtype=f64)
pred = wlrec[0] * weights
check("0.65 * [0.3, 0.2, 0.9]", [0.195, 0.13, 0.5850000000000001], pred.tolist())

# %% [markdown]
# ## Several inputs, several outputs: a matrix
#
# Three weighted sums at once. The book writes the weights one **row per output**
# (hurt, win, sad) and one column per input (toes, %win, fans), and
# `vect_mat_mul` takes one weighted sum per row. That is exactly a matrix-vector
# product `W @ x`, and exactly how `gdl.nn.Linear` stores its weight
# (`out_features × in_features`), so no transpose is needed.

# %%
_common.section("3 inputs -> 3 outputs: vector-matrix multiplication")
weights = gdl.tensor([[0.1, 0.1, -0.3],   # hurt?
                      [0.1, 0.2, 0.0],    # win?
                      [0.0, 1.3, 0.1]],   # sad?
                     dtype=f64)


def vect_mat_mul(vect, matrix):
    """The book's loop: one weighted sum per row of the matrix."""
    return gdl.stack([w_sum(vect, matrix[i]) for i in range(matrix.shape[0])])


book_3x3 = [0.555, 0.9800000000000001, 0.9650000000000001]
check("vect_mat_mul (one w_sum per row)", book_3x3, vect_mat_mul(input, weights).tolist())
check("the same as W @ x", book_3x3, (weights @ input).tolist())

# %% [markdown]
# ## Stacking networks: a hidden layer
#
# The output of one network is the input of the next. The book's NumPy version
# writes both matrices one row per output, then transposes them so that
# `input · W` works; with `W @ x` (or `nn.Linear`) the rows can be used as
# written. There is no activation function yet, so this is still a linear map.

# %%
_common.section("3 -> 3 hidden -> 3 (linear, no activation)")
ih_wgt = gdl.tensor([[0.1, 0.2, -0.1],   # hid[0]
                     [-0.1, 0.1, 0.9],   # hid[1]
                     [0.1, 0.4, 0.1]],   # hid[2]
                    dtype=f64)
hp_wgt = gdl.tensor([[0.3, 1.1, -0.3],   # hurt?
                     [0.1, 0.2, 0.0],    # win?
                     [0.0, 1.3, 0.1]],   # sad?
                    dtype=f64)
hid = ih_wgt @ input
pred = hp_wgt @ hid
# The book printed this NumPy array with NumPy's default 8 significant digits.
check("hidden layer, book's rows (W @ x twice)", [0.2135, 0.145, 0.5065], pred.tolist(),
      rel=1e-12, book_text="[0.2135 0.145 0.5065]")
# And as NumPy prints it (8 significant digits; spacing normalised):
printed = " ".join(np.array2string(pred.numpy()).split())
check("printed as NumPy prints it", "[0.2135 0.145 0.5065]", printed)
# The book's NumPy version: input (1×3) · W.T, layer by layer.
pred_np_style = (input[None, :] @ ih_wgt.T) @ hp_wgt.T
check("the book's NumPy version: x . W.T twice", [0.2135, 0.145, 0.5065], pred_np_style[0].tolist(),
      rel=1e-12, book_text="[0.2135 0.145 0.5065]")

# %% [markdown]
# ## The same network as gdl layers
#
# `nn.Sequential(nn.Linear(3, 3, bias=False), nn.Linear(3, 3, bias=False))` is
# this network; we put the book's weights in place. Layers take a *batch* of
# inputs, one row per example, so all four games are predicted in one call.

# %%
_common.section("the same network built from gdl.nn layers")
net = nn.Sequential(nn.Linear(3, 3, bias=False, dtype=f64), nn.Linear(3, 3, bias=False, dtype=f64))
with gdl.no_grad():
    net[0].weight.data = ih_wgt.data
    net[1].weight.data = hp_wgt.data
    games = gdl.stack([toes, wlrec, nfans], axis=1)  # 4 games × 3 inputs
    all_preds = net(games)
check("nn.Sequential, game 0", [0.2135, 0.145, 0.5065], all_preds[0].tolist(),
      rel=1e-12, book_text="[0.2135 0.145 0.5065]")
print("  predictions for all four games (hurt, win, sad):")
for g, row in enumerate(all_preds.tolist()):
    print(f"    game {g}: " + ", ".join(f"{v:.4f}" for v in row))

# %%
n_ok = sum(ok for ok, _ in checks)
worst = max(d for _, d in checks)
print(f"\n{n_ok} of {len(checks)} printed figures reproduced; largest |gdl - book| = {worst:.3g}")
_common.result("book_figures_mismatched", len(checks) - n_ok, target=0, better="lower", checked=len(checks))
_common.result("max_abs_diff_vs_book", worst, target=1e-12, better="lower", backend=args.backend)
