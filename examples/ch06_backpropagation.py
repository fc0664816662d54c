# %% [markdown]
# # Chapter 6: Backpropagation (Grokking Deep Learning), on gdl
#
# The streetlight problem: from the pattern of three lights, predict walk (1) or
# stop (0). First a single linear layer on one pattern, then on all six patterns
# online (one update per pattern), then the deep 3-4-1 network with a ReLU hidden
# layer, which learns a pattern no single layer can (targets [1, 1, 0, 0] on the
# first four patterns).
#
# Everything runs on gdl tensors in float64. Each step's gradient is computed by
# hand, the book's way (deltas backpropagated through `W.T` and `relu'`), **and**
# by gdl autograd; the two are checked against each other, then the update is
# applied. The book's weight update is `alpha · input · delta`, the gradient of
# half the squared error, so we ask autograd for the gradient of `½ · error`.
#
# The deep network's starting weights are the book's: `np.random.seed(1)` then
# `2 · np.random.random(shape) − 1`. That is NumPy's legacy generator, so we draw
# them with `numpy.random.RandomState(seed)` on the host (this is user code; gdl's
# own generator, `gdl.rand`, is a different stream) and copy them into gdl tensors.

# %%
import _common
import numpy as np  # only for the book's legacy random stream (the initial weights)

import gdl

parser = _common.make_parser("Chapter 6: backpropagation on the streetlight problem")
args = _common.parse_args(parser)
_common.setup(args, "ch06 backpropagation")
f64 = gdl.float64
checks, grad_diffs = [], []


def T(x, requires_grad=False):
    return gdl.tensor(x, dtype=f64, requires_grad=requires_grad)


def check(label, book, ours, **kw):
    checks.append(_common.compare(label, book, ours, **kw))


streetlights = T([[1, 0, 1],
                  [0, 1, 1],
                  [0, 0, 1],
                  [1, 1, 1],
                  [0, 1, 1],
                  [1, 0, 1]])
walk_vs_stop = T([0, 1, 0, 1, 1, 0])

# %% [markdown]
# ## Learning one pattern
#
# A linear network `prediction = input · weights` on pattern 0 (goal 0), alpha 0.1:
# `weights -= alpha · input · delta`. The same weight delta comes out of autograd as
# the gradient of `½ · error`.

# %%
_common.section("one pattern, 20 iterations, alpha 0.1")
weights = T([0.5, 0.48, -0.7])
alpha = 0.1
input, goal_prediction = streetlights[0], walk_vs_stop[0]
log = []
for _iteration in range(20):
    prediction = input @ weights
    error = (goal_prediction - prediction) ** 2
    delta = prediction - goal_prediction
    weight_delta = input * delta                       # by hand
    w = T(weights.tolist(), requires_grad=True)        # by autograd
    (0.5 * (input @ w - goal_prediction) ** 2).backward()
    grad_diffs.append(float((w.grad - weight_delta).abs().max().item()))
    weights = weights - alpha * weight_delta
    log.append((error.item(), prediction.item()))
check("first Error / Prediction", [0.03999999999999998, -0.19999999999999996], list(log[0]))
check("last Error", 8.307674973656916e-06, log[-1][0])
check("last Prediction", -0.002882303761517324, log[-1][1])
one_pattern = (log[0][0], log[-1][0])

# %% [markdown]
# ## Learning the whole data set, online
#
# Loop over all six patterns, one update after each ("stochastic gradient
# descent"), and add up the error over the epoch. Light 2 turns out to be the
# one that matters: the network learns the correlation.

# %%
_common.section("all six patterns, online, 40 epochs")
weights = T([0.5, 0.48, -0.7])
epoch_errors, first_preds = [], []
for iteration in range(40):
    error_for_all_lights = 0.0
    for row_index in range(len(walk_vs_stop)):
        input, goal_prediction = streetlights[row_index], walk_vs_stop[row_index]
        prediction = input @ weights
        error = (goal_prediction - prediction) ** 2
        error_for_all_lights += error.item()
        delta = prediction - goal_prediction
        weights = weights - alpha * (input * delta)
        if iteration == 0:
            first_preds.append(prediction.item())
    epoch_errors.append(error_for_all_lights)
check("epoch 1 predictions", [-0.2, -0.2, -0.56, 0.616, 0.1728, 0.17552], first_preds)
check("epoch 1 Error", 2.6561231104, epoch_errors[0])
check("epoch 40 Error", 0.00053373677328488, epoch_errors[-1])
print("  learned weights (light 2 carries the answer):", _common.fmt([round(v, 4) for v in weights.tolist()]))

# %% [markdown]
# ## The deep network: 3 → 4 (ReLU) → 1
#
# Targets [1, 1, 0, 0] for the first four patterns: no light on its own correlates
# with them, so a single layer cannot learn it. A hidden layer with ReLU
# (`relu(x) = (x > 0) · x`, derivative `output > 0`) creates the intermediate
# correlation. Backpropagation, by hand:
#
# * `layer_2_delta = layer_2 − goal`
# * `layer_1_delta = layer_2_delta · W12ᵀ ⊙ relu'(layer_1)`
# * `W12 -= alpha · layer_1ᵀ · layer_2_delta`, `W01 -= alpha · layer_0ᵀ · layer_1_delta`
#
# Autograd on `½ · Σ(layer_2 − goal)²` gives the same two weight gradients.

# %%
_common.section("deep 3-4-1 ReLU network, alpha 0.2, 60 epochs, online")
rs = np.random.RandomState(args.seed)            # the book's np.random.seed(1)
weights_0_1 = T(2 * rs.random_sample((3, 4)) - 1)  # the book's 2*np.random.random((3,4)) - 1
weights_1_2 = T(2 * rs.random_sample((4, 1)) - 1)
lights = streetlights[:4]
walk = T([[1, 1, 0, 0]]).T
alpha = 0.2


def relu(x):
    return (x > 0) * x


def relu2deriv(output):
    return output > 0


errors_every_10 = []
for iteration in range(60):
    layer_2_error = 0.0
    for i in range(len(lights)):
        layer_0 = lights[i:i + 1]
        layer_1 = relu(layer_0 @ weights_0_1)
        layer_2 = layer_1 @ weights_1_2
        layer_2_error += ((layer_2 - walk[i:i + 1]) ** 2).sum().item()
        # backpropagation by hand, the book's way
        layer_2_delta = layer_2 - walk[i:i + 1]
        layer_1_delta = (layer_2_delta @ weights_1_2.T) * relu2deriv(layer_1)
        grad_1_2 = layer_1.T @ layer_2_delta
        grad_0_1 = layer_0.T @ layer_1_delta
        # the same by autograd: gradients of ½·error with respect to both matrices
        w01 = T(weights_0_1, requires_grad=True)
        w12 = T(weights_1_2, requires_grad=True)
        (0.5 * ((gdl.relu(layer_0 @ w01) @ w12 - walk[i:i + 1]) ** 2).sum()).backward()
        grad_diffs.append(max((w01.grad - grad_0_1).abs().max().item(), (w12.grad - grad_1_2).abs().max().item()))
        weights_1_2 = weights_1_2 - alpha * grad_1_2
        weights_0_1 = weights_0_1 - alpha * grad_0_1
    if iteration % 10 == 9:
        print(f"  Error:{layer_2_error!r}")
        errors_every_10.append(layer_2_error)

book_deep = [0.6342311598444467, 0.35838407676317513, 0.0830183113303298,
             0.006467054957103705, 0.0003292669000750734, 1.5055622665134859e-05]
if args.seed == 1:
    check("Error every 10 epochs (seed 1)", book_deep, errors_every_10)
check("last Error below 0.0002", 0.0002, errors_every_10[-1], at_most=True)
with gdl.no_grad():
    final = relu(lights @ weights_0_1) @ weights_1_2
print("  predictions for the 4 patterns (targets 1, 1, 0, 0):", _common.fmt([round(v, 4) for v in final[:, 0].tolist()]))

# %%
n_ok = sum(checks)
print(f"\n{n_ok} of {len(checks)} printed figures reproduced; "
      f"hand-computed vs autograd gradients: {len(grad_diffs)} checks, largest difference {max(grad_diffs):.3g}")
_common.result("book_figures_mismatched", len(checks) - n_ok, target=0, better="lower", checked=len(checks))
_common.result("max_hand_vs_autograd_diff", max(grad_diffs), target=1e-12, better="lower", checks=len(grad_diffs))
_common.result("one_pattern_error", one_pattern[1], start=one_pattern[0], book=8.307674973656916e-06, better="lower")
_common.result("deep_net_last_error", errors_every_10[-1], start=errors_every_10[0], book=book_deep[-1],
               target=0.0002, better="lower", seed=args.seed, epochs=60, alpha=alpha)
