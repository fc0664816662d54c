# %% [markdown]
# # Chapters 4 and 5: Gradient descent (Grokking Deep Learning), on gdl
#
# Chapter 4 learns **one weight**: first by "hot and cold" probing (try the weight
# a bit up and a bit down, keep the better one), then by gradient descent (move
# the weight by `delta · input`), shows how a large input makes it diverge, and
# fixes that with a learning rate `alpha`. Chapter 5 learns **several weights at
# once**: 3 inputs → 1 output, the same with one weight frozen, 1 input → 3
# outputs, and 3 → 3.
#
# Every number is computed with gdl tensors in float64 and printed beside the
# book's. Where the book computes a gradient by hand, we also ask gdl's autograd
# for it (`requires_grad=True`, `.backward()`, `.grad`) and check the two agree.
#
# One convention to keep in mind: the book's error is `(pred − goal)²`, whose
# derivative with respect to a weight is `2 · delta · input`. The book's "weight
# delta" is `delta · input`, without the 2: it is the gradient of **half** the
# squared error. So below, `autograd(error).grad == 2 · weight_delta`, exactly.

# %%
import _common

import gdl

parser = _common.make_parser("Chapters 4-5: gradient descent with one and several weights")
args = _common.parse_args(parser)
_common.setup(args, "ch04-05 gradient descent")
f64 = gdl.float64
checks = []        # did each printed figure match?
grad_diffs = []    # |hand-computed gradient - autograd gradient| (relative where > 1), every check


def T(x, requires_grad=False):
    """A float64 gdl tensor (the book's numbers are Python floats)."""
    return gdl.tensor(x, dtype=f64, requires_grad=requires_grad)


def check(label, book, ours, **kw):
    checks.append(_common.compare(label, book, ours, **kw))


def max_abs(a, b):
    """Largest difference, relative to the size of the numbers (1 where they are small)."""
    a, b = _common._flat(a), _common._flat(b)
    return max(abs(x - y) / max(1.0, abs(y)) for x, y in zip(a, b))


def autograd_weight_delta(input, weight, goal):
    """d(error)/d(weight) by gdl autograd, halved: the book's weight delta."""
    w = T(weight.tolist(), requires_grad=True)
    error = ((input * w).sum() - goal) ** 2 if w.ndim else (input * w - goal) ** 2
    error.backward()
    return w.grad / 2


# %% [markdown]
# ## Chapter 4: compare, measure the error
#
# "Mean squared error": square the difference between prediction and goal, so it
# is always positive and big misses count more.

# %%
_common.section("ch4: measuring the error")
knob_weight, input, goal_pred = T(0.5), T(0.5), T(0.8)
pred = input * knob_weight
error = (pred - goal_pred) ** 2
check("error, w=0.5 x=0.5 goal=0.8", 0.30250000000000005, error.item())

# %% [markdown]
# ## Hot and cold: probe the weight up and down
#
# Toes 8.5, goal 1 (won). Try the weight 0.01 higher and 0.01 lower and compare errors.

# %%
_common.section("ch4: hot and cold probes")
weight, input, true = T(0.1), T(8.5), T(1.0)
lr = 0.01


def neural_network(input, weight):
    return input * weight


error = (neural_network(input, weight) - true) ** 2
p_up = neural_network(input, weight + lr)
e_up = (p_up - true) ** 2
p_dn = neural_network(input, weight - lr)
e_dn = (p_dn - true) ** 2
check("error at w=0.1", 0.022499999999999975, error.item())
check("error at w+0.01 (hotter: lower)", 0.004224999999999993, e_up.item())
check("error at w-0.01 (colder: higher)", 0.05522499999999994, e_dn.item())

# %% [markdown]
# ## Hot and cold learning
#
# Repeat: probe up and down by `step_amount`, move toward the lower error (no move
# on a tie). Three predictions per step, and a fixed step: the book points out
# both weaknesses (it lands exactly on 0.8 only because 0.25 + 1100 · 0.0005 = 0.8).

# %%
_common.section("ch4: hot and cold learning (1101 iterations)")
weight, input, goal_prediction = T(0.5), T(0.5), T(0.8)
step_amount = 0.001
first = last = None
for _iteration in range(1101):
    prediction = input * weight
    error = (prediction - goal_prediction) ** 2
    if first is None:
        first = (error.item(), prediction.item())
    last = (error.item(), prediction.item())
    up_error = (goal_prediction - input * (weight + step_amount)) ** 2
    down_error = (goal_prediction - input * (weight - step_amount)) ** 2
    if down_error.item() < up_error.item():
        weight = weight - step_amount
    if down_error.item() > up_error.item():
        weight = weight + step_amount
check("first Error", 0.30250000000000005, first[0])
check("first Prediction", 0.25, first[1])
check("last Error", 1.0799505792475652e-27, last[0])
check("last Prediction", 0.7999999999999672, last[1])


# %% [markdown]
# ## Gradient descent: one weight
#
# Instead of probing, compute the direction and amount at once:
# `delta = pred − goal`, `weight_delta = delta · input` ("pure error" scaled by
# the input: stopping, negative reversal and scaling), then `weight -= weight_delta`.
#
# The helper below runs the book's loop with gdl tensors: it computes the book's
# weight delta by hand, checks it against autograd, and records what the book
# printed (error, prediction, weight before the update).

# %%
def gradient_descent(weight, input, goal, iterations, alpha=1.0):
    """The book's one-weight loop; returns lists of errors, predictions, weights."""
    weight, input, goal = T(weight), T(input), T(goal)
    errors, preds, weights = [], [], []
    for _ in range(iterations):
        pred = input * weight
        error = (pred - goal) ** 2
        delta = pred - goal
        weight_delta = input * delta          # by hand, as the book
        # The same by autograd: d(error)/dw = 2·delta·input.
        w = T(weight.item(), requires_grad=True)
        ((input * w - goal) ** 2).backward()
        grad_diffs.append(max_abs(w.grad.item(), 2 * weight_delta.item()))
        errors.append(error.item())
        preds.append(pred.item())
        weights.append(weight.item())
        weight = weight - alpha * weight_delta if alpha != 1.0 else weight - weight_delta
    return errors, preds, weights


_common.section("ch4: gradient descent, w=0.5 x=0.5 goal=0.8, 20 iterations")
errors, preds, _ = gradient_descent(0.5, 0.5, 0.8, 20)
check("iteration 1 Error / Prediction", [0.30250000000000005, 0.25], [errors[0], preds[0]])
check("iteration 2 Error / Prediction", [0.17015625000000004, 0.3875], [errors[1], preds[1]])
check("iteration 20 Error", 5.408208020258491e-06, errors[-1])
check("iteration 20 Prediction", 0.7976744445781151, preds[-1])

_common.section("ch4: the same from w=0, x=0.5 (4 iterations)")
errors, preds, _ = gradient_descent(0.0, 0.5, 0.8, 4)
check("errors", [0.64, 0.36, 0.2025, 0.11390625], errors)
check("predictions", [0.0, 0.2, 0.35, 0.4625], preds)

_common.section("ch4: the same from w=0, x=1.1 (4 iterations)")
errors, preds, weights = gradient_descent(0.0, 1.1, 0.8, 4)
check("weights", [0.0, 0.88, 0.6952, 0.734008], weights)
check("predictions", [0.0, 0.968, 0.76472, 0.8074088], preds)
check("last Error", 5.4890317439999896e-05, errors[-1])

# %% [markdown]
# ## Breaking gradient descent, and alpha
#
# With input 2 the weight delta overshoots: each step lands further away and
# the prediction explodes. Multiplying the weight delta by a small `alpha`
# (here 0.1) fixes it.

# %%
_common.section("ch4: divergence with input 2 (no alpha, 20 iterations)")
errors, preds, _ = gradient_descent(0.5, 2.0, 0.8, 20)
check("first predictions", [1.0, 0.2, 2.6, -4.6, 17.0], preds[:5])
check("last Error", 5.403406870691965e+16, errors[-1])
check("last Prediction", -232452292.5999999, preds[-1])

_common.section("ch4: fixed with alpha = 0.1 (20 iterations)")
errors, preds, _ = gradient_descent(0.5, 2.0, 0.8, 20, alpha=0.1)
check("last Error", 1.485277170987127e-10, errors[-1])
check("last Prediction", 0.8000121871948003, preds[-1])
alpha_result = (errors[0], errors[-1])

# %% [markdown]
# ## Chapter 5: several inputs → one output
#
# Toes, win rate and fans of game 0 predict win (1). The network is a weighted
# sum; each weight's delta is `delta · its input` (`ele_mul(delta, input)`),
# the same `delta` shared by all three. Then `weights -= alpha · weight_deltas`.

# %%
_common.section("ch5: 3 inputs -> 1 output, alpha 0.01")
input = T([8.5, 0.65, 1.2])          # toes[0], wlrec[0], nfans[0]
true = 1.0                           # win_or_lose_binary[0]
weights = T([0.1, 0.2, -0.1])
alpha = 0.01


def w_sum(a, b):
    return (a * b).sum()


pred = w_sum(input, weights)
error = (pred - true) ** 2
delta = pred - true
weight_deltas = delta * input                           # by hand
auto = autograd_weight_delta(input, weights, true)      # autograd, halved
grad_diffs.append(max_abs(weight_deltas, auto))
check("Pred", 0.86, pred.item())
check("Error", 0.0196, error.item())
check("Delta", -0.14, delta.item())
check("Weight deltas (delta * input)", [-1.19, -0.091, -0.168], weight_deltas.tolist())
check("  ... and by autograd (grad / 2)", [-1.19, -0.091, -0.168], auto.tolist())
weights = weights - alpha * weight_deltas
check("Weights after one step", [0.1119, 0.20091, -0.09832], weights.tolist())

# Three iterations from the start, as the book's loop prints them.
weights = T([0.1, 0.2, -0.1])
preds, errors = [], []
for _it in range(3):
    pred = w_sum(input, weights)
    error = (pred - true) ** 2
    delta = pred - true
    weight_deltas = delta * input
    grad_diffs.append(max_abs(weight_deltas, autograd_weight_delta(input, weights, true)))
    preds.append(pred.item())
    errors.append(error.item())
    weights = weights - alpha * weight_deltas
check("Preds over 3 iterations", [0.8600000000000001, 0.9637574999999999, 0.9906177228125002], preds)
check("Errors over 3 iterations", [0.0196, 0.0013135188, 8.802712522307997e-05], errors)

# %% [markdown]
# ## Freezing one weight
#
# Force the first weight's delta to 0 (alpha 0.3): the other two still learn to
# bring the error down, because the error is shared. "a" never learned, yet the
# network still got the prediction right: a warning about what a network finds
# important. In gdl you would freeze a weight by zeroing its gradient (or masking
# it); here the mask multiplies the autograd gradient and the hand delta alike.

# %%
_common.section("ch5: freezing weight 0, alpha 0.3")
weights = T([0.1, 0.2, -0.1])
freeze = T([0.0, 1.0, 1.0])
alpha = 0.3
preds, errors, weights_seen = [], [], []
for _it in range(3):
    pred = w_sum(input, weights)
    error = (pred - true) ** 2
    delta = pred - true
    weight_deltas = delta * input * freeze            # weight_deltas[0] = 0
    grad_diffs.append(max_abs(weight_deltas, autograd_weight_delta(input, weights, true) * freeze))
    preds.append(pred.item())
    errors.append(error.item())
    weights_seen.append(weights.tolist())
    weights = weights - alpha * weight_deltas
check("Preds", [0.86, 0.938225, 0.97274178125], preds)
check("Errors", [0.0196, 0.003816, 0.000743010489422852], errors)
check("Weights at iteration 3", [0.1, 0.239346125, -0.02736100000000008], weights_seen[2])

# %% [markdown]
# ## One input → several outputs
#
# The win rate (0.65) predicts hurt, win and sad. Each output has its own delta;
# each weight's delta is `input · its output's delta`.

# %%
_common.section("ch5: 1 input -> 3 outputs, alpha 0.1")
weights = T([0.3, 0.2, 0.9])
input = T(0.65)
true = T([0.1, 1.0, 0.1])     # hurt[0], win[0], sad[0]
alpha = 0.1
pred = input * weights
delta = pred - true
weight_deltas = input * delta                          # ele_mul(input, delta)
w = T(weights.tolist(), requires_grad=True)
((input * w - true) ** 2).sum().backward()             # the summed error of the 3 outputs
grad_diffs.append(max_abs(weight_deltas, w.grad / 2))
weights = weights - alpha * weight_deltas
check("Weight Deltas", [0.061750000000000006, -0.5655, 0.3152500000000001], weight_deltas.tolist())
check("  ... and by autograd (grad / 2)", [0.061750000000000006, -0.5655, 0.3152500000000001], (w.grad / 2).tolist())
check("Weights", [0.293825, 0.25655, 0.868475], weights.tolist())

# %% [markdown]
# ## Several inputs → several outputs
#
# The chapter 3 matrix (one row per output). Each weight `W[i][j]` connects
# input j to output i, so its delta is `delta_i · input_j`: the outer product
# `outer(delta, input)`. Autograd of the summed error gives twice that matrix.

# %%
_common.section("ch5: 3 inputs -> 3 outputs, alpha 0.01")
W = T([[0.1, 0.1, -0.3],
       [0.1, 0.2, 0.0],
       [0.0, 1.3, 0.1]])
input = T([8.5, 0.65, 1.2])
true = T([0.1, 1.0, 0.1])
alpha = 0.01
pred = W @ input
delta = pred - true
weight_deltas = delta[:, None] * input[None, :]          # outer(delta, input), by hand
Wg = T(W.tolist(), requires_grad=True)
((Wg @ input - true) ** 2).sum().backward()
grad_diffs.append(max_abs(weight_deltas, Wg.grad / 2))
new_W = W - alpha * weight_deltas
check("new weights, row hurt", [0.061325, 0.0970425, -0.30546], new_W[0].tolist())
check("new weights, row win", [0.1017, 0.20013, 0.00024], new_W[1].tolist())
check("new weights, row sad", [-0.073525, 1.2943775, 0.08962], new_W[2].tolist())

# %%
n_ok = sum(checks)
print(f"\n{n_ok} of {len(checks)} printed figures reproduced; "
      f"hand-computed vs autograd gradients: {len(grad_diffs)} checks, largest (relative) difference {max(grad_diffs):.3g}")
_common.result("book_figures_mismatched", len(checks) - n_ok, target=0, better="lower", checked=len(checks))
_common.result("max_hand_vs_autograd_diff", max(grad_diffs), target=1e-12, better="lower", checks=len(grad_diffs))
_common.result("alpha_run_error", alpha_result[1], start=alpha_result[0], book=1.485277170987127e-10,
               better="lower")
