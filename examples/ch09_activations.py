# %% [markdown]
# # Chapter 9: Modeling probabilities and nonlinearities (Grokking Deep Learning), on gdl
#
# The chapter 8 MNIST setup (first 1,000 training images, all 10,000 test images)
# with better activation functions: **tanh** in the hidden layer (outputs in
# (−1, 1), so a unit can correlate negatively) and **softmax** at the output (ten
# probabilities that sum to 1), with 50 % dropout and mini-batches of 100.
# 784-100-10, 300 epochs. The book reaches 0.8703 test accuracy at its best
# (I:270) and prints 0.8701 at I:290.
#
# gdl pieces used: `nn.Linear(bias=False)`, `nn.Tanh`, `nn.Dropout(0.5)`,
# `nn.CrossEntropyLoss` (softmax and cross-entropy in one stable node, on the
# logits), `optim.SGD`.
#
# ## What we do differently from the book's code
#
# * **Learning rate.** The book's output delta is `(label − softmax)/(batch_size ·
#   batch_size)` = `/10000` with alpha 2. The gradient of the *mean* cross-entropy
#   over a batch with respect to the logits is `(softmax − label)/batch_size`, so
#   the book's step on the output weights equals **SGD with lr = 2/100 = 0.02** on
#   the mean cross-entropy: that is the setting used here (checked numerically below).
# * **Hidden-layer gradient.** The book evaluates `tanh'` on the dropout-*scaled*
#   activations (`1 − (2t)²`, which can be negative) and multiplies by the 0/1
#   mask instead of mask × 2. gdl's autograd uses the true gradient,
#   `(1 − t²) · mask · 2`. Early in training (t ≈ 0) this is about twice the
#   book's step on the first layer, so the curve rises a little faster.
# * **Softmax** is max-shifted inside `cross_entropy` (the book's is not; harmless
#   here, but it overflows for large logits). The test pass takes the argmax of
#   the logits, as the book does.
# * **Random numbers.** Starting weights are the book's (`np.random.seed(1)`,
#   `W01 = 0.02·rand − 0.01`, `W12 = 0.2·rand − 0.1` from NumPy's legacy generator:
#   `--init book`, the default); `--init gdl` draws them from gdl's generator. The
#   dropout masks come from gdl's generator, so the curve is not the book's draw
#   for draw.
#
# **The result.** With the true gradient and the book's equivalent learning rate
# the test accuracy levels off at about 0.867 (0.8666 at I:290 with seed 1), a
# little under the book's 0.8701; the same holds for other dropout draws and for
# lr 0.01-0.1. The book's hidden-layer "gradient" is not one: `1 − (2t)²` turns
# negative for |t| > 0.5 and pushes large activations back, a small accidental
# regulariser worth about 0.003 here. `--book-gradient` runs the book's update
# rule on gdl (its hidden-layer gradient, written with autograd's `detach`, and
# its dropout masks drawn from the same legacy stream) and replays the book's
# printed figures.
#
# Run it whole (`python examples/ch09_activations.py`), with `--quick`, or cell by cell.

# %%
import _common
import numpy as np  # only for the book's legacy random stream (--init book)

import gdl
import gdl.optim
from gdl import nn
from gdl.nn import functional as F

parser = _common.make_parser("Chapter 9: tanh hidden layer, softmax output, dropout, batches of 100", data=True)
parser.add_argument("--init", choices=("book", "gdl"), default="book",
                    help="starting weights: the book's NumPy legacy stream (default) or gdl's generator")
parser.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                    help="float64 (default, as the book's NumPy) or float32")
parser.add_argument("--lr", type=float, default=0.02,
                    help="SGD learning rate on the mean cross-entropy (default 0.02 = the book's alpha 2 / batch 100)")
parser.add_argument("--epochs", type=int, default=None, help="number of epochs (default 300; 10 with --quick)")
parser.add_argument("--book-gradient", action="store_true",
                    help="use the book's hidden-layer gradient and its dropout masks (replays its printed figures)")
args = _common.parse_args(parser)
_common.setup(args, "ch09 activations (MNIST)")
dt = gdl.float64 if args.dtype == "float64" else gdl.float32

HIDDEN, BATCH, EPOCHS = 100, 100, 300
N_TRAIN, N_TEST = 1000, 10_000
if args.quick:
    EPOCHS, N_TEST = 10, 2_000
if args.epochs is not None:
    EPOCHS = args.epochs
full_settings = not args.quick and EPOCHS == 300 and args.lr == 0.02
# The book's printed lines (epoch: (test acc, train acc)), its best and its target.
BOOK = {0: (0.394, 0.156), 10: (0.6867, 0.723), 100: (0.8407, 0.883), 270: (0.8703, 0.951), 290: (0.8701, 0.94)}
BOOK_TARGET = 0.870

# %% [markdown]
# ## The data
#
# As in chapter 8: 784 pixels / 255; the labels are kept as class indices
# (0-9) for `cross_entropy`.

# %%
train_x, train_y, test_x, test_y = _common.mnist_arrays(args, N_TRAIN, N_TEST)
images = gdl.tensor(train_x, dtype=dt) / 255
test_images = gdl.tensor(test_x, dtype=dt) / 255
labels = gdl.tensor(train_y)
test_labels = gdl.tensor(test_y)
print(f"train images {images.shape}, test images {test_images.shape}, dtype {args.dtype}")

# %% [markdown]
# ## The network
#
# `Linear(784, 100) → Tanh → Dropout(0.5) → Linear(100, 10)`; the softmax is part
# of the loss. The book's matrices are `(inputs × outputs)`, `nn.Linear` stores
# `(outputs × inputs)`: they go in transposed.

# %%
class BookTanhDropout(nn.Module):
    """``tanh`` then the book's dropout, with the book's hidden-layer gradient (``--book-gradient``).

    Forward (training): ``layer_1 = tanh(z) · mask · 2``, the mask drawn with
    ``randint(2)`` from the book's legacy stream ``rs``. Backward: the book's
    ``layer_1_delta = delta · (1 − layer_1²) · mask`` (tanh' taken on the scaled
    output, the 0/1 mask). ``out + (z − z.detach()) · slope`` has the value ``out``
    and the gradient ``slope`` with respect to ``z``. In ``eval()`` mode: ``tanh(z)``.
    """

    def __init__(self, rs):
        super().__init__()
        self.rs = rs

    def forward(self, z):
        t = gdl.tanh(z)
        if not self.training:
            return t
        mask = gdl.tensor(self.rs.randint(2, size=z.shape), dtype=z.dtype)
        out = (t * mask * 2).detach()
        slope = ((1 - out ** 2) * mask).detach()
        return out + (z - z.detach()) * slope


rs = np.random.RandomState(args.seed)                         # np.random.seed(1)
if args.book_gradient:
    hidden_layers = [BookTanhDropout(rs)]
else:
    hidden_layers = [nn.Tanh(), nn.Dropout(0.5)]
model = nn.Sequential(
    nn.Linear(784, HIDDEN, bias=False, dtype=dt),
    *hidden_layers,
    nn.Linear(HIDDEN, 10, bias=False, dtype=dt),
)
if args.init == "book":
    weights_0_1 = 0.02 * rs.random_sample((784, HIDDEN)) - 0.01
    weights_1_2 = 0.2 * rs.random_sample((HIDDEN, 10)) - 0.1
    model[0].weight = nn.Parameter(gdl.tensor(weights_0_1.T, dtype=dt))
    model[-1].weight = nn.Parameter(gdl.tensor(weights_1_2.T, dtype=dt))
else:
    nn.init.uniform_(model[0].weight, -0.01, 0.01)
    nn.init.uniform_(model[-1].weight, -0.1, 0.1)
print(model)

# %% [markdown]
# ## Hand-computed gradients vs autograd, on the first batch
#
# The book backpropagates by hand: `layer_2_delta = (label − softmax)/10000`,
# `layer_1_delta = layer_2_delta · W12ᵀ ⊙ tanh'(layer_1) ⊙ mask`, then
# `W += alpha · layerᵀ · delta` with alpha 2. Here we write the *correct* hand
# gradient of the mean cross-entropy, compare it with gdl autograd, and compare
# the book's own step with `lr × gradient` to find the equivalent learning rate.

# %%
_common.section("hand-computed gradient vs autograd (first batch)")
W01 = model[0].weight.detach().T      # book orientation: (784, 100)
W12 = model[-1].weight.detach().T     # (100, 10)
x, y = images[:BATCH], labels[:BATCH]
onehot = gdl.eye(10, dtype=dt)[y]
mask = (gdl.rand(BATCH, HIDDEN, dtype=dt) < 0.5).to(dtype=dt)   # 1 = keep
# forward, by hand
t = gdl.tanh(x @ W01)
layer_1 = t * mask * 2
logits = layer_1 @ W12
softmax = gdl.exp(logits) / gdl.exp(logits).sum(axis=1, keepdims=True)
# backward, by hand (correct): d(mean CE)/d(logits) = (softmax − onehot)/batch
d2 = (softmax - onehot) / BATCH
d1 = (d2 @ W12.T) * (1 - t ** 2) * mask * 2
hand_g12, hand_g01 = layer_1.T @ d2, x.T @ d1
# autograd
w01 = W01.detach().requires_grad_()
w12 = W12.detach().requires_grad_()
F.cross_entropy((gdl.tanh(x @ w01) * mask * 2) @ w12, y).backward()
diff = max((w01.grad - hand_g01).abs().max().item(), (w12.grad - hand_g12).abs().max().item())
print(f"  max |hand − autograd| over both weight gradients: {diff:.3g}")
# the book's step (its deltas, alpha 2) against lr × autograd gradient
book_d2 = (onehot - softmax) / (BATCH * BATCH)
book_d1 = (book_d2 @ W12.T) * (1 - layer_1 ** 2) * mask     # tanh' on the scaled output, 0/1 mask
book_step12, book_step01 = 2 * (layer_1.T @ book_d2), 2 * (x.T @ book_d1)
ratio12 = (book_step12.abs().sum() / (args.lr * w12.grad).abs().sum()).item()
ratio01 = (book_step01.abs().sum() / (args.lr * w01.grad).abs().sum()).item()
_common.compare("book's W12 step / (lr 0.02 × gradient)", 1.0, ratio12)
print(f"  book's W01 step / (lr × true gradient): {ratio01:.3f}  (its tanh' and mask bugs: about half)")
grad_check = diff

# %% [markdown]
# ## Training
#
# Batches of 100, SGD with lr 0.02 on the mean cross-entropy, 300 epochs. The
# training accuracy is counted on the training forward passes (dropout on), the
# test accuracy on all test images at once in `eval()` mode under `no_grad()`,
# every 10 epochs, as the book prints it.

# %%
_common.section(f"training: 784-{HIDDEN}-10 tanh + dropout, softmax; batch {BATCH}, lr {args.lr}, {EPOCHS} epochs")
loss_fn = nn.CrossEntropyLoss()
opt = gdl.optim.SGD(model.parameters(), lr=args.lr)
xs = [images[i:i + BATCH] for i in range(0, N_TRAIN, BATCH)]
ys = [labels[i:i + BATCH] for i in range(0, N_TRAIN, BATCH)]


def test_accuracy():
    model.eval()
    with gdl.no_grad():
        correct = (model(test_images).argmax(axis=1) == test_labels).sum().item()
    model.train()
    return correct / N_TEST


start_acc = test_accuracy()
print(f"  before training: Test-Acc:{start_acc}")
logged = {}
with _common.Timer() as timer:
    for j in range(EPOCHS):
        correct = None
        for x, y in zip(xs, ys):
            logits = model(x)
            loss = loss_fn(logits, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            hits = (logits.detach().argmax(axis=1) == y).sum()
            correct = hits if correct is None else correct + hits
        if j % 10 == 0 or j == EPOCHS - 1:
            train_acc = correct.item() / N_TRAIN
            test_acc = test_accuracy()
            logged[j] = (test_acc, train_acc)
            print(f"  I:{j} Test-Acc:{test_acc} Train-Acc:{train_acc}", flush=True)
print(f"  {EPOCHS * len(xs)} steps in {_common.fmt_seconds(timer.seconds)}")

# %% [markdown]
# ## Book figure vs gdl figure
#
# Different dropout draws and the corrected hidden-layer gradient mean the curve
# is not the book's number for number; the figure to reach is the book's 0.870.

# %%
replay = args.book_gradient and args.init == "book" and args.seed == 1 and args.lr == 0.02
if replay:
    _common.section("book vs gdl (the book's update rule and random stream: its figures)")
else:
    _common.section("book vs gdl (not expected to repeat the book's numbers: see the notes at the top)")
for epoch, (b_test, b_train) in BOOK.items():
    if epoch in logged:
        _common.compare(f"I:{epoch} Test-Acc / Train-Acc", [b_test, b_train], list(logged[epoch]),
                        info=not replay)
# The best of the epochs the book printed (every 10th), to compare like with like.
printed = [e for e in logged if e % 10 == 0] if full_settings else list(logged)
best_epoch = max(printed, key=lambda e: logged[e][0])
_common.compare("best printed Test-Acc (epoch)", [0.8703, 270], [logged[best_epoch][0], best_epoch],
                info=not (replay and full_settings))
at = 290 if 290 in logged else max(logged)
value = logged[at][0]
target = BOOK_TARGET if full_settings else None
if target is not None:
    _common.compare(f"I:{at} Test-Acc, the book's figure to reach", BOOK_TARGET, value, at_least=True)
_common.result(
    "test_acc", value, start=start_acc, book=0.8701, target=target, better="higher",
    epoch=at, final_test_acc=logged[max(logged)][0], peak_test_acc=logged[best_epoch][0], peak_epoch=best_epoch,
    train_acc=logged[at][1], seconds=round(timer.seconds, 1),
    settings=dict(hidden=HIDDEN, batch=BATCH, lr=args.lr, epochs=EPOCHS, init=args.init, seed=args.seed,
                  dtype=args.dtype, book_gradient=args.book_gradient, n_test=N_TEST, backend=args.backend),
)
_common.result("hand_vs_autograd_diff", grad_check, target=1e-10, better="lower")
