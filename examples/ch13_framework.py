# %% [markdown]
# # Chapter 13: Introducing automatic optimization: let's build a deep learning framework (Grokking Deep Learning), on gdl
#
# The chapter builds a `Tensor` class that remembers how it was made and
# backpropagates by itself, then layers, losses and an optimizer on top of it,
# and ends with a recurrent network on the bAbI data. gdl *is* such a
# framework, so here the chapter's tour runs on gdl's real API:
#
# 1. tensors that add, and whose `backward()` fills `.grad`;
# 2. a tensor used twice gets the *sum* of both gradients (the book's
#    child-counting fix), including through matrix products (where the book's
#    final engine still double-counts);
# 3. `sum` and `expand` and their gradients;
# 4. the chapter's toy trainings, printing the book's losses exactly (the
#    starting weights are drawn as the book drew them, see below);
# 5. `Embedding` backward adding up repeated rows (`index_select`);
# 6. the bAbI model: `Embedding(V, 16)` → `RNNCell(16, 16, nonlinearity="sigmoid")`
#    → `Linear(16, V)`, `CrossEntropyLoss`, SGD alpha 0.05, batches of 100,
#    1000 iterations. The book reaches 37 % accuracy.
#
# ## What we do differently from the book's code
#
# * **Autograd.** The book's final engine forgets to pass the `origin` in the
#   backward of `mm`, `sigmoid`, `tanh`, `index_select`, `cross_entropy`…, so a
#   tensor feeding two of them re-sends its accumulated gradient (2·g₁ + g₂).
#   gdl walks the graph once in topological order: every gradient is exact.
# * **The book's random numbers, replayed.** Every book `Tensor` draws a random
#   id from NumPy's global generator, which shifts the weights drawn after it.
#   To print the book's exact losses we replay that stream (`BookRandom` below:
#   `np.random.seed(0)`, one `randint(0, 100000)` per tensor the book creates, in
#   the book's order) and copy the weights into gdl layers. The training itself
#   is gdl's.
# * **Cross-entropy gradient.** The book's `cross_entropy` backward is
#   `softmax − onehot`: the gradient of the *summed* loss, while the loss it
#   prints is the *mean*. We train on `CrossEntropyLoss(reduction="sum")` with
#   the book's alpha (the same step) and print the mean.
# * **The book's RNNCell** (with a tanh activation that never worked: `==`
#   instead of `=`) holds its own output layer; here that is
#   `nn.RNNCell(16, 16, nonlinearity="sigmoid")` + `nn.Linear(16, V)`.
# * **bAbI: which rows and which accuracy.** The book trains 1000 times on rows
#   0-99 and scores those same rows. Those 100 rows hold only 22 distinct
#   5-word contexts, and a network sees only the context, so **0.37 is the best
#   any model can score on them** (each context's most frequent last word); the
#   book's network reached that ceiling. We do the same (`--rows book`, the
#   default, to reach the book's figure), printing the ceiling next to it. Then
#   a second run (`--rows all`) trains on all 1000 rows, 10 batches in turn, and
#   scores all 1000 rows (ceiling 0.191: over 1000 rows the contexts repeat
#   more) and the next 1000 lines of the file, never trained on.
# * **Vocabulary order** is sorted, not `set` order (which changes from process
#   to process), and the model is seeded before it is built (the book's is not).
#
# Run it whole (`python examples/ch13_framework.py`), with `--quick`, or cell by cell.

# %%
import math
from collections import Counter, defaultdict

import _common
import numpy as np  # only to replay the book's legacy random stream

import gdl
import gdl.optim
from gdl import nn
from gdl.data.datasets import BAbI

parser = _common.make_parser("Chapter 13: the framework tour, and an RNN on bAbI", data=True, seed=1)
parser.add_argument("--rows", choices=("book", "all", "both"), default="both",
                    help="bAbI training rows: the book's rows 0-99 every iteration, all 1000 rows in turn, "
                         "or both runs (default)")
parser.add_argument("--iterations", type=int, default=None, help="bAbI iterations (default 1000; 300 with --quick)")
args = _common.parse_args(parser)
_common.setup(args, "ch13 the framework")
f64 = gdl.float64
mismatches = []   # the book's printed figures that gdl did not repeat


def check(label, book, ours, **kw):
    if not _common.compare(label, book, ours, **kw):
        mismatches.append(label)


# %% [markdown]
# ## Tensors that add, and backpropagate
#
# `x + x`: a gdl tensor is an array plus the recipe that made it. `backward()`
# on `c = a + b` sends the gradient (ones) to both `a` and `b`.

# %%
_common.section("tensors and the gradient of add")
x = gdl.tensor([1, 2, 3, 4, 5])
check("x + x", [2, 4, 6, 8, 10], x + x)
a = gdl.tensor([1.0, 2, 3, 4, 5], requires_grad=True)
b = gdl.tensor([2.0, 2, 2, 2, 2], requires_grad=True)
c = a + b
c.backward(gdl.ones(5))
check("(a + b).backward(ones): a.grad", [1, 1, 1, 1, 1], a.grad)
check("b.grad", [1, 1, 1, 1, 1], b.grad)

# %% [markdown]
# ## A tensor used more than once
#
# `d = a + b; e = b + c; f = d + e`: `b` is used twice, so its gradient is the sum
# of both paths, 2. The book's first Tensor overwrote instead of adding (`False`);
# its child counter fixed it (`True`). With negation, −2.

# %%
_common.section("a tensor used twice accumulates")
a, b, c = (gdl.tensor([1.0, 2, 3, 4, 5], requires_grad=True) for _ in range(3))
f = (a + b) + (b + c)
f.backward(gdl.ones(5))
check("b.grad == 2 (book: True with child counting)", True, b.grad.tolist() == [2.0] * 5)
a, b, c = (gdl.tensor([1.0, 2, 3, 4, 5], requires_grad=True) for _ in range(3))
f = (a + (-b)) + ((-b) + c)
f.backward(gdl.ones(5))
check("with negation: b.grad == -2", True, b.grad.tolist() == [-2.0] * 5)

# The case the book's final engine still gets wrong: a tensor feeding two matrix
# products (here `h`, feeding two layers). The true gradient is g1 + g2; the
# book's engine gives 2·g1 + g2. gdl against the hand-written sum:
x = gdl.tensor([[1.0, 2.0]], dtype=f64)
w0 = gdl.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]], dtype=f64, requires_grad=True)
w1 = gdl.tensor([[1.0], [2.0], [3.0]], dtype=f64)
w2 = gdl.tensor([[-1.0], [0.5], [4.0]], dtype=f64)
h = x @ w0                                  # used by two matmuls
((h @ w1) + (h @ w2).sigmoid()).sum().backward()
s = gdl.sigmoid(h.detach() @ w2)
g_h = w1.T + (s * (1 - s)) * w2.T           # g1 + g2, by hand
fan_out_diff = (w0.grad - x.T @ g_h).abs().max().item()
check("fan-out through mm + sigmoid: |autograd − (g1 + g2)|", 0.0, fan_out_diff, rel=1e-12)

# %% [markdown]
# ## sum and expand
#
# `sum(dim)` adds along an axis; its backward copies the gradient back along it.
# The book's `expand(dim, copies)` adds a new axis and repeats: in gdl (as in
# PyTorch) that is `unsqueeze(dim).expand(shape)`; its backward sums the copies.

# %%
_common.section("sum and expand")
x = gdl.tensor([[1, 2, 3], [4, 5, 6]])
check("x.sum(0)", [5, 7, 9], x.sum(0))
check("x.sum(1)", [6, 15], x.sum(1))
xe = x.unsqueeze(2).expand((2, 3, 4))            # the book's x.expand(dim=2, copies=4)
print(f"  x.expand(dim=2, copies=4) =\n{xe.numpy()}")
check("expand repeats each element 4 times", [[[v] * 4 for v in row] for row in [[1, 2, 3], [4, 5, 6]]], xe)
xf = gdl.tensor([[1.0, 2, 3], [4, 5, 6]], requires_grad=True)
xf.unsqueeze(2).expand((2, 3, 4)).backward(gdl.ones(2, 3, 4))
check("backward of expand sums the 4 copies", [[4.0] * 3] * 2, xf.grad)

# %% [markdown]
# ## The toy trainings, with the book's starting weights
#
# `BookRandom` replays `np.random.seed(0)` as the book's cells consumed it: each
# book `Tensor` takes one `randint(0, 100000)` for its id, in the order the
# book creates them (data, target, then each layer's weight and bias), and the
# weights take `rand`/`randn` in between. The layers are gdl's; the weights are
# copied in (a gdl `Linear` stores `W` transposed: `(out, in)`).

# %%


class BookRandom:
    """The book's ``np.random.seed(s)`` stream, with the id draw of every book ``Tensor``."""

    def __init__(self, seed=0):
        self.rs = np.random.RandomState(seed)

    def tensor(self, value=None):
        """A book ``Tensor(value)`` was created: it drew an id."""
        self.rs.randint(0, 100000)
        return value

    def linear(self, layer: nn.Linear, n_in, n_out):
        """The book's ``Linear(n_in, n_out)``: ``W = randn(n_in, n_out)·sqrt(2/n_in)``, bias zeros."""
        w = self.tensor(self.rs.randn(n_in, n_out) * np.sqrt(2.0 / n_in))
        self.tensor()  # the bias tensor
        layer.weight = nn.Parameter(gdl.tensor(w.T, dtype=f64))
        nn.init.zeros_(layer.bias)

    def embedding(self, layer: nn.Embedding, vocab, dim):
        """The book's ``Embedding(vocab, dim)``: ``(rand(vocab, dim) − 0.5)/dim``."""
        w = self.tensor((self.rs.rand(vocab, dim) - 0.5) / dim)
        layer.weight = nn.Parameter(gdl.tensor(w, dtype=f64))


data = gdl.tensor([[0.0, 0], [0, 1], [1, 0], [1, 1]], dtype=f64)
target = gdl.tensor([[0.0], [1], [0], [1]], dtype=f64)
toy = {}   # name: (first loss, last loss)


def train(name, model, params, loss_fn, alpha, x, y, shown=None, book=None, iterations=10):
    """The book's loop: predict, compare, learn (SGD), ten times; print every loss."""
    opt = gdl.optim.SGD(params, lr=alpha)
    losses = []
    for _ in range(iterations):
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append((shown or (lambda v: v))(loss.item()))
    print(f"  {name}: " + " ".join(f"{v:.8f}" for v in losses))
    toy[name] = (losses[0], losses[-1])
    if book:
        check(f"{name}: first, last loss", list(book), [losses[0], losses[-1]], rel=1e-7)
    return losses


_common.section("toy trainings (seed 0; data [[0,0],[0,1],[1,0],[1,1]], targets [0,1,0,1])")
sum_sq = nn.MSELoss(reduction="sum")   # the book's MSELoss: Σ over the batch of (pred − target)²

# (1) Plain NumPy in the book, no ×2 in the gradient: SGD at alpha/2 on the true gradient.
rs = np.random.RandomState(0)
w0 = gdl.tensor(rs.rand(2, 3), dtype=f64, requires_grad=True)
w1 = gdl.tensor(rs.rand(3, 1), dtype=f64, requires_grad=True)
train("plain 2-3-1, gradient without ×2 (alpha 0.1 = lr 0.05)", lambda v: v @ w0 @ w1, [w0, w1], sum_sq, 0.05,
      data, target, book=(5.066439994622395, 0.11613979792168384))

# (2) The same model with autograd: now the tensors' ids shift the weights.
br = BookRandom(0)
br.tensor(), br.tensor()                                   # data, target
w0 = gdl.tensor(br.tensor(br.rs.rand(2, 3)), dtype=f64, requires_grad=True)
w1 = gdl.tensor(br.tensor(br.rs.rand(3, 1)), dtype=f64, requires_grad=True)
train("autograd 2-3-1, alpha 0.1", lambda v: v @ w0 @ w1, [w0, w1], sum_sq, 0.1, data, target,
      book=(0.58128304, 0.06849361))

# (3) Sequential(Linear(2, 3), Linear(3, 1)), MSE, alpha 0.05
br = BookRandom(0)
br.tensor(), br.tensor()
model = nn.Sequential(nn.Linear(2, 3, dtype=f64), nn.Linear(3, 1, dtype=f64))
br.linear(model[0], 2, 3), br.linear(model[1], 3, 1)
train("Sequential(Linear(2,3), Linear(3,1)), alpha 0.05", model, model.parameters(), sum_sq, 0.05, data, target,
      book=(2.33428272, 0.00889602))

# (4) Linear-Tanh-Linear-Sigmoid, alpha 1
br = BookRandom(0)
br.tensor(), br.tensor()
model = nn.Sequential(nn.Linear(2, 3, dtype=f64), nn.Tanh(), nn.Linear(3, 1, dtype=f64), nn.Sigmoid())
br.linear(model[0], 2, 3), br.linear(model[2], 3, 1)
train("Linear-Tanh-Linear-Sigmoid, alpha 1", model, model.parameters(), sum_sq, 1.0, data, target,
      book=(1.06372865, 0.04700013))

# (5) Embedding(5, 3)-Tanh-Linear(3, 1)-Sigmoid on word indices [1, 2, 1, 2], MSE, alpha 0.5
words = gdl.tensor([1, 2, 1, 2])
br = BookRandom(0)
br.tensor(), br.tensor()
model = nn.Sequential(nn.Embedding(5, 3, dtype=f64), nn.Tanh(), nn.Linear(3, 1, dtype=f64), nn.Sigmoid())
br.embedding(model[0], 5, 3), br.linear(model[2], 3, 1)
train("Embedding(5,3)-Tanh-Linear(3,1)-Sigmoid, alpha 0.5", model, model.parameters(), sum_sq, 0.5, words, target,
      book=(0.98874126, 0.07387834))

# (6) Embedding(3, 3)-Tanh-Linear(3, 4) with cross-entropy, targets [0, 1, 0, 1], alpha 0.1.
# The book steps on the gradient of the summed loss and prints the mean: so do we.
labels = gdl.tensor([0, 1, 0, 1])
br = BookRandom(0)
br.tensor(), br.tensor()
model = nn.Sequential(nn.Embedding(3, 3, dtype=f64), nn.Tanh(), nn.Linear(3, 4, dtype=f64))
br.embedding(model[0], 3, 3), br.linear(model[2], 3, 4)
train("Embedding(3,3)-Tanh-Linear(3,4), cross-entropy, alpha 0.1", model, model.parameters(),
      nn.CrossEntropyLoss(reduction="sum"), 0.1, words, labels, shown=lambda v: v / 4,
      book=(1.3885032434928422, 0.16527389263866668))

# %% [markdown]
# ## Embedding backward: repeated rows add up
#
# The book's `index_select` check: rows `[[1, 2, 3], [2, 3, 4]]` of `eye(5)`,
# backward with ones. Rows 2 and 3 are used twice, so their gradient is 2.

# %%
_common.section("index_select (Embedding) backward")
table = gdl.eye(5, dtype=f64).requires_grad_()
picked = nn.functional.embedding(gdl.tensor([[1, 2, 3], [2, 3, 4]]), table)
picked.backward(gdl.ones(*picked.shape, dtype=f64))
check("grad rows (each × ones(5))", [0.0, 1.0, 2.0, 2.0, 1.0], table.grad[:, 0])
check("every column the same", True, all(len(set(row)) == 1 for row in table.grad.tolist()))

# %% [markdown]
# ## The bAbI data
#
# The first 1000 lines of `qa1_single-supporting-fact_train.txt`, lower-cased,
# split on spaces, without the line number. Punctuation stays on the words, and
# a question's answer and supporting-line number stay one token
# (`'\tbathroom\t1'`). Every line is left-padded with `'-'` to 6 tokens.
#
# The network sees tokens 0-4 and predicts token 5, the line's last word. It
# sees nothing else, so two rows with the same 5-token context get the same
# prediction: the best possible accuracy on a set of rows is the share of rows
# whose last word is their context's most frequent one. We print it.

# %%
_common.section("bAbI qa1: the data")
babi = BAbI(_common.data_dir(args.data_dir), task=1, split="train")
raw = babi.path.read_text(encoding="utf-8").splitlines()
tokens = [line.lower().split(" ")[1:] for line in raw[0:2000]]
tokens = [["-"] * (6 - len(t)) + t for t in tokens]
train_tokens, held_tokens = tokens[:1000], tokens[1000:]
vocab = sorted({w for sent in train_tokens for w in sent})
word2index = {w: i for i, w in enumerate(vocab)}
held_tokens = [t for t in held_tokens if all(w in word2index for w in t)]
data = gdl.tensor([[word2index[w] for w in sent] for sent in train_tokens])
held = gdl.tensor([[word2index[w] for w in sent] for sent in held_tokens])
print(f"{babi.path.name}: tokens[0:3] = {train_tokens[0:3]}")
print(f"vocabulary {len(vocab)} tokens; data {data.shape}; held-out lines 1000-1999 with known words: {held.shape}")


def ceiling(rows, fit_rows=None):
    """Best accuracy any model of the 5-token context can reach on ``rows`` (contexts counted on ``fit_rows``)."""
    counts = defaultdict(Counter)
    for t in (rows if fit_rows is None else fit_rows):
        counts[tuple(t[:5])][t[5]] += 1
    best = {ctx: c.most_common(1)[0][0] for ctx, c in counts.items()}
    return sum(best.get(tuple(t[:5])) == t[5] for t in rows) / len(rows), len(counts)


ceil_book, n_ctx = ceiling(train_tokens[:100])
ceil_all, n_ctx_all = ceiling(train_tokens)
ceil_held, _ = ceiling(held_tokens)
print(f"best possible accuracy: rows 0-99 {ceil_book} ({n_ctx} distinct contexts); all 1000 rows {ceil_all} "
      f"({n_ctx_all} contexts); held-out rows {ceil_held:.3f}")

# %% [markdown]
# ## The recurrent network
#
# `Embedding(V, 16)` (the book's `(rand − 0.5)/16`), then five steps of
# `RNNCell(16, 16, nonlinearity="sigmoid")` (`h' = σ(W_ih x + b_ih + W_hh h + b_hh)`,
# the book's He-initialised Linear layers), and the book's output layer
# `Linear(16, V)` on the last hidden state. `CrossEntropyLoss(reduction="sum")` and
# SGD with alpha 0.05: the book's step. One iteration = one batch of 100 rows.

# %%
ITERATIONS = args.iterations or (300 if args.quick else 1000)
BATCH, DIM = 100, 16
V = len(vocab)


class BabiRNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(V, DIM)
        self.cell = nn.RNNCell(DIM, DIM, nonlinearity="sigmoid")
        self.out = nn.Linear(DIM, V)
        nn.init.uniform_(self.embed.weight, -0.5 / DIM, 0.5 / DIM)
        for w in (self.cell.weight_ih, self.cell.weight_hh, self.out.weight):
            nn.init.normal_(w, 0.0, math.sqrt(2.0 / DIM))
        for bias in (self.cell.bias_ih, self.cell.bias_hh, self.out.bias):
            nn.init.zeros_(bias)

    def forward(self, context):
        """``context`` (B, 5) token ids → logits (B, V) for the next token."""
        h = gdl.zeros(context.shape[0], DIM)          # the book's init_hidden
        for t in range(context.shape[1]):
            h = self.cell(self.embed(context[:, t]), h)
        return self.out(h)


def accuracy(model, rows):
    with gdl.no_grad():
        return (model(rows[:, :5]).argmax(axis=1) == rows[:, 5]).sum().item() / rows.shape[0]


def train_babi(rows_mode):
    gdl.manual_seed(args.seed)
    model = BabiRNN()
    loss_fn = nn.CrossEntropyLoss(reduction="sum")
    opt = gdl.optim.SGD(model.parameters(), lr=0.05)
    start = accuracy(model, data[:BATCH] if rows_mode == "book" else data)
    log = []
    with _common.Timer() as timer:
        for it in range(ITERATIONS):
            b = 0 if rows_mode == "book" else it % (len(train_tokens) // BATCH)
            batch = data[b * BATCH:(b + 1) * BATCH]
            logits = model(batch[:, :5])
            loss = loss_fn(logits, batch[:, 5])
            opt.zero_grad()
            loss.backward()
            opt.step()
            if it % 200 == 0 or it == ITERATIONS - 1:
                correct = (logits.detach().argmax(axis=1) == batch[:, 5]).sum().item() / BATCH
                mean_loss = loss.item() / BATCH
                log.append((it, mean_loss, correct))
                print(f"  iteration {it}: Loss: {mean_loss / 10} (mean cross-entropy {mean_loss:.4f} / 10, "
                      f"as the book prints) % Correct: {correct}")
    print(f"  {ITERATIONS} iterations in {_common.fmt_seconds(timer.seconds)}")
    return model, log, start, timer.seconds


results = {}
if args.rows in ("book", "both"):
    _common.section("bAbI RNN, the book's way: rows 0-99 every iteration, scored on rows 0-99")
    model, log, start, secs = train_babi("book")
    acc = accuracy(model, data[:BATCH])
    results["book"] = (acc, start, log, secs)
    ctx = data[0:1, :5]
    pred = model(ctx).argmax(axis=1).item()
    print(f"  Context: {' '.join(train_tokens[0][:5])}  True: {train_tokens[0][5]}  Pred: {vocab[pred]}"
          f"   (book: Context: - mary moved to the, True: bathroom., Pred: office.)")
if args.rows in ("all", "both"):
    _common.section("bAbI RNN on all 1000 rows (10 batches in turn), scored on all 1000 and on held-out lines")
    model_all, log_all, start_all, secs_all = train_babi("all")
    acc_all = accuracy(model_all, data)
    acc_held = accuracy(model_all, held)
    results["all"] = (acc_all, start_all, log_all, secs_all)
    print(f"  accuracy on the 1000 training rows {acc_all:.4f} (best possible {ceil_all}); on "
          f"{held.shape[0]} held-out rows {acc_held:.4f} (best possible {ceil_held:.3f})")

# %% [markdown]
# ## Book figure vs gdl figure

# %%
_common.section("book vs gdl")
book_log = {0: (0.47631100976371393, 0.01), 200: (0.1719, 0.28), 400: (0.1461, 0.37), 600: (0.1385, 0.37),
            800: (0.135574472565278, 0.37)}
if "book" in results:
    acc, start, log, secs = results["book"]
    for it, mean_loss, correct in log:
        if it in book_log:
            _common.compare(f"iteration {it}: loss/10, % correct", list(book_log[it]), [mean_loss / 10, correct],
                            info=True)
    full = not args.quick and ITERATIONS == 1000
    if full:
        _common.compare("accuracy on rows 0-99 (their ceiling: 0.37)", 0.37, acc, at_least=True)
    _common.result("babi_accuracy", acc, start=start, book=0.37, target=0.37 if full else None, better="higher",
                   ceiling=ceil_book, final_mean_loss=log[-1][1], seconds=round(secs, 1),
                   settings=dict(rows="0-99 every iteration (the book's)", batch=BATCH, iterations=ITERATIONS,
                                 lr=0.05, loss="cross-entropy summed over the batch", nonlinearity="sigmoid",
                                 seed=args.seed, backend=args.backend))
if "all" in results:
    acc_all, start_all, log_all, secs_all = results["all"]
    _common.result("babi_accuracy_all_rows", acc_all, start=start_all, better="higher", ceiling=ceil_all,
                   heldout_accuracy=acc_held, heldout_ceiling=round(ceil_held, 4), final_mean_loss=log_all[-1][1],
                   seconds=round(secs_all, 1),
                   settings=dict(rows="all 1000, 10 batches in turn", batch=BATCH, iterations=ITERATIONS, lr=0.05,
                                 seed=args.seed, backend=args.backend))
_common.result("toy_losses_fell", sum(last < first for first, last in toy.values()), target=len(toy),
               better="higher")
_common.result("book_figures_mismatched", len(mismatches), target=0, better="lower", which=mismatches)
