# %% [markdown]
# # Chapter 11: Neural networks that understand language (Grokking Deep Learning), on gdl
#
# IMDB movie reviews, in three parts:
#
# 1. **Sentiment with an embedding layer.** Each review is the *set* of its words.
#    The first layer sums the rows of a (vocabulary × 100) matrix, one row per
#    word (an embedding layer: the same as multiplying a bag-of-words vector by
#    the matrix, without the zeros), then sigmoid, then one sigmoid output.
#    Trained online for 2 epochs on the first 24,000 reviews, tested on the last
#    1,000.
# 2. **Comparing word embeddings.** The rows of that matrix are word vectors:
#    words the network uses the same way end up close together
#    (`similar('beautiful')`, `similar('terrible')`).
# 3. **Filling in the blank.** A CBOW word2vec with negative sampling: predict
#    each word from the mean of the vectors of its neighbours (window 2), against
#    5 random "negative" words; embedding size 50, alpha 0.05. Then the
#    "king − man + woman" style analogies on the review vectors.
#
# gdl pieces used: `gdl.data.datasets.IMDB`, `gdl.data.tokenize`, `gdl.data.Vocab`,
# `nn.Embedding` (its backward scatter-adds, so a word used twice in one batch
# gets both gradients), `nn.Linear`, `F.binary_cross_entropy_with_logits`,
# `optim.SGD`, `gdl.no_grad`.
#
# ## What we do differently from the book's code
#
# * **Data.** The book's `reviews.txt`/`labels.txt` are the 25,000 aclImdb
#   training reviews, lower-cased, one per line, alternating positive and
#   negative, each class in the order of its file names sorted as text
#   (`0_9.txt`, `10000_8.txt`, `10001_10.txt`, ...: the first six lines of
#   `reviews.txt` are those files). We build the same list from the real archive
#   with `gdl.data.datasets.IMDB`, so the last 1,000 (test) reviews are the
#   book's. The order matters: with the reviews sorted by number instead, the
#   same network scores 0.835 instead of 0.863. We strip the `<br />`
#   line-break markup and tokenise with `gdl.data.tokenize` (lower case,
#   punctuation split off). `reviews.txt` kept only letters and full stops, and
#   the book split on single spaces, which left `''` and `'\n'` tokens: we have
#   none, and keep digits and punctuation (`!`, `10`) as words. Letters and full
#   stops only give 0.856.
# * **Vocabulary.** The book's vocabulary came in `set` order, which changes from
#   one Python process to the next. `Vocab.build` orders words by frequency
#   (ties by first appearance): the same indices every run.
# * **Sentiment gradient.** The book's hidden-layer delta omits the sigmoid
#   derivative. Here autograd backpropagates through the sigmoid. The output
#   delta `pred − label` is the book's: it is the gradient of binary
#   cross-entropy with respect to the output logit, so we train on that loss.
# * **word2vec.** The book's right-hand context is off by one (2 words on the
#   left, 1 on the right): we use 2 and 2. Its negative samples can be the target
#   word itself: we draw again when they are. Its fancy-index `-=` applies a word
#   repeated in one context only once: `nn.Embedding` accumulates. The book adds
#   the full hidden delta to every context row (word2vec's C code does the same);
#   autograd gives the true gradient of the mean, i.e. divided by the number of
#   context words.
# * **word2vec, batched.** One pass of the book's loop visits every word of every
#   review, ~6.7 million steps of a few tiny matrix products each: hours in any
#   framework's Python loop on a CPU. We take `--w2v-batch` consecutive target
#   positions of the shuffled corpus (512 by default) as one batch: one
#   forward, one backward (scatter-adds into the embedding tables) and one SGD
#   step on the *summed* loss, so every position still contributes its own
#   alpha-0.05 step, computed from weights at most one batch old. The number of
#   passes is `--w2v-passes` (book: 2). The batch cannot grow much: a frequent
#   word ("the", ".") occurs hundreds of times in a batch and gets all those steps
#   at once, not one after the other as online. At alpha 0.05, batches of 2,048
#   diverge (NaN) within the first pass, 1,024 blow up now and then (the loss
#   jumps to ~200 and the vectors are spoiled); 512 trains smoothly (loss per
#   position 4.16 → 1.94 over the 2 passes, 13.5 million positions in 79 s
#   on 2 CPU cores).
# * **Sparse gradients.** Both parts use `nn.Embedding(..., sparse=True)`: the
#   gradient holds only the rows a step used (`RowSparseGrad`), and SGD updates
#   those rows in place, as the book's `weights_0_1[x] -= ...` does. With dense
#   gradients every online step zeroed, filled and applied an 81,510 × 100 table:
#   the sentiment net took 5.3 minutes instead of 13 s, word2vec 7.5 minutes
#   instead of 79 s, for the same numbers.
# * **Analogy.** The book's "normalisation" multiplies each row by its squared
#   norm instead of dividing by its norm, and compares the query with the
#   *un-normalised* rows (hence its scores near −200). We divide each row by its
#   length, and rank words by cosine similarity to the query, leaving out the
#   query's own words.
#
# Run it whole (`python examples/ch11_word_embeddings.py`), with `--quick`, or
# cell by cell. Full settings on 2 CPU cores: about 15 s for the sentiment net
# and 80 s for word2vec (see `examples/README.md`).
#
# ## What to expect
#
# * Sentiment: about 0.86 test accuracy (0.863 with seed 1; 0.856-0.864 over
#   seeds 1-5). The book printed no figure (the issue asks for 0.85).
# * Neighbours of 'terrible' by what the sentiment net learned: boring,
#   annoying, fails, dull, disappointing, disappointment, unfortunately, poor ...;
#   after word2vec: horrible, dreadful, lame, pathetic, lousy, atrocious, horrid,
#   and also fantastic and brilliant (word2vec puts words used in the same places
#   together).
# * terrible + good − bad: fantastic, brilliant, terrific, wonderful, superb, but
#   also dreadful and horrible (book: terrific, perfect, worth, good, terrible
#   ...); elizabeth + he − she: first names, men's and women's (ian, karl, sarah,
#   walter, charles ...; the book's list was no better: simon, obsessed,
#   stanwyck ...). Analogies from 2 passes over 25,000 reviews are rough.

# %%

import _common

import gdl
import gdl.optim
from gdl import nn
from gdl.data import Vocab, tokenize
from gdl.data.datasets import IMDB
from gdl.nn import functional as F

parser = _common.make_parser("Chapter 11: word embeddings, sentiment and word2vec on IMDB", data=True)
parser.add_argument("--parts", default="sentiment,word2vec",
                    help="which parts to run, comma-separated: sentiment, word2vec (default: both)")
parser.add_argument("--reviews", type=int, default=None,
                    help="use only the first N reviews of the book's list (default: all 25,000; 1,200 with --quick)")
parser.add_argument("--epochs", type=int, default=None, help="sentiment epochs (default 2, the book's)")
parser.add_argument("--alpha", type=float, default=None, help="sentiment learning rate (default 0.01, the book's)")
parser.add_argument("--w2v-passes", type=int, default=None, help="word2vec passes over the reviews (default 2)")
parser.add_argument("--w2v-batch", type=int, default=512,
                    help="word2vec target positions per SGD step (default 512; the book: 1)")
parser.add_argument("--w2v-reviews", type=int, default=None,
                    help="word2vec on only the first N shuffled reviews (default: all; 400 with --quick)")
parser.add_argument("--save-embeddings", default=None,
                    help="save the sentiment net's embedding and vocabulary here (gdl.save, for ch12 Part A)")
args = _common.parse_args(parser)
_common.setup(args, "ch11 word embeddings (IMDB)")
parts = set(args.parts.split(","))
if not parts <= {"sentiment", "word2vec"}:
    raise SystemExit(f"--parts: unknown part(s) {sorted(parts - {'sentiment', 'word2vec'})}")
RUN_SENTIMENT, RUN_WORD2VEC = "sentiment" in parts, "word2vec" in parts

# The book's settings, and the quick ones used by the tests.
N_REVIEWS, N_TEST, HIDDEN, ALPHA, EPOCHS = 25_000, 1_000, 100, 0.01, 2
W2V_DIM, W2V_WINDOW, W2V_NEGATIVE, W2V_ALPHA, W2V_PASSES = 50, 2, 5, 0.05, 2
W2V_REVIEWS = None   # all of them
if args.quick:
    N_REVIEWS, N_TEST, EPOCHS, W2V_PASSES, W2V_REVIEWS = 1_200, 200, 2, 1, 400
if args.reviews is not None:
    N_REVIEWS = args.reviews
    N_TEST = min(N_TEST, N_REVIEWS // 5)
EPOCHS = args.epochs if args.epochs is not None else EPOCHS
ALPHA = args.alpha if args.alpha is not None else ALPHA
W2V_PASSES = args.w2v_passes if args.w2v_passes is not None else W2V_PASSES
W2V_REVIEWS = args.w2v_reviews if args.w2v_reviews is not None else W2V_REVIEWS
full_settings = N_REVIEWS == 25_000 and EPOCHS == 2 and ALPHA == 0.01 and not args.quick
BOOK_TARGET = 0.85  # test accuracy to reach (the book printed no figure: its code sat in a markdown cell)


# %% [markdown]
# ## The data: the book's `reviews.txt` and `labels.txt`, from the real archive
#
# `IMDB(root, split="train")` reads `aclImdb/train/{neg,pos}/*.txt`, extracting
# `aclImdb_v1.tar.gz` first if only the archive is there. The shared data folder
# is read-only, so gdl extracts the archive into its own cache folder
# (`~/.cache/gdl`, or `$GDL_CACHE_DIR`), once (~25 s).

# %%
# gdl's loaders extract an archive found in a read-only folder (like the shared data)
# into ``$GDL_CACHE_DIR/extracted`` (default ``~/.cache/gdl``), once.
DATA_ROOT = _common.data_dir(args.data_dir)


with _common.Timer() as t_load:
    imdb = IMDB(DATA_ROOT, split="train")
    reviews, labels = _common.book_reviews(imdb)    # positive, negative, ... in reviews.txt's order
    reviews, labels = reviews[:N_REVIEWS], labels[:N_REVIEWS]
    tokens = [tokenize(r.replace("<br />", " ")) for r in reviews]
    vocab = Vocab.build(tokens)
print(f"{len(reviews)} reviews ({sum(labels)} positive), {sum(map(len, tokens))} tokens, "
      f"vocabulary of {len(vocab)} words (most common first: {vocab.itos[1:8]}), {_common.fmt_seconds(t_load.seconds)}")
print("review 0:", " ".join(tokens[0][:20]), "...")


# %% [markdown]
# ## Part 1: predicting sentiment with an embedding layer
#
# "Instead of multiplying a one-hot (or bag-of-words) vector by a matrix, we
# select the rows of the words present and sum them": `nn.Embedding` then
# `.sum(axis=0)`. The network: sigmoid(Σ rows) → 100 hidden → sigmoid output.
# The book initialises both layers uniformly in (−0.1, 0.1).

# %%
class SentimentNet(nn.Module):
    def __init__(self, vocab_size, hidden):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, hidden, sparse=True)   # the book's weights_0_1
        self.out = nn.Linear(hidden, 1, bias=False)          # the book's weights_1_2 (transposed)
        nn.init.uniform_(self.embed.weight, -0.1, 0.1)
        nn.init.uniform_(self.out.weight, -0.1, 0.1)

    def forward(self, word_ids):
        """The output logit for one review, given the indices of its (unique) words."""
        layer_1 = gdl.sigmoid(self.embed(word_ids).sum(axis=0))
        return self.out(layer_1)


n_train = len(reviews) - N_TEST
# Each review as its set of word indices (sorted, so the order is reproducible).
inputs = [gdl.tensor(sorted(set(vocab.encode(t)))) for t in tokens]
targets = [gdl.tensor([float(y)]) for y in labels]


def test_accuracy(model):
    with gdl.no_grad():
        correct = sum(int((model(x).item() > 0) == bool(y)) for x, y in zip(inputs[n_train:], labels[n_train:]))
    return correct / N_TEST


def similar(embedding, target="beautiful", k=10, minus=None):
    """The book's `similar`: the k words whose rows are nearest (Euclidean) to `target`'s.

    With ``minus`` (the starting weights), rows are compared by what training
    added to them: ``weight - minus``.
    """
    with gdl.no_grad():
        w = embedding.weight if minus is None else embedding.weight - minus
        dist = gdl.sqrt(((w - w[vocab[target]]) ** 2).sum(axis=1))
        order = dist.numpy().argsort(kind="stable")[:k]
        return [(vocab.itos[i], -round(float(dist[int(i)].item()), 3)) for i in order]


if RUN_SENTIMENT:
    _common.section(f"Part 1: sentiment net {len(vocab)}-{HIDDEN}-1, alpha {ALPHA}, {EPOCHS} epochs online, "
                    f"{n_train} train / {N_TEST} test reviews")
    model = SentimentNet(len(vocab), HIDDEN)
    opt = gdl.optim.SGD(model.parameters(), lr=ALPHA)
    start_acc = test_accuracy(model)
    start_embedding = model.embed.weight.detach().clone()     # for "what was learned" below
    print(f"  before training: test accuracy {start_acc}")
    with _common.Timer() as t_sent:
        for epoch in range(EPOCHS):
            correct = 0
            for i in range(n_train):
                logit = model(inputs[i])
                loss = F.binary_cross_entropy_with_logits(logit, targets[i])  # d loss/d logit = pred - label
                opt.zero_grad()
                loss.backward()
                opt.step()
                correct += int((logit.item() > 0) == bool(labels[i]))   # |pred - label| < 0.5
                if (i + 1) % max(1, n_train // 5) == 0 or i + 1 == n_train:
                    print(f"  Iter:{epoch} Progress:{100 * (i + 1) / n_train:5.1f}% "
                          f"Speed(reviews/sec):{(epoch * n_train + i + 1) / t_sent.elapsed:7.1f} "
                          f"Training Accuracy:{correct / (i + 1):.4f}", flush=True)
    sentiment_acc = test_accuracy(model)
    print(f"  test accuracy {sentiment_acc} ({_common.fmt_seconds(t_sent.seconds)} for {EPOCHS * n_train} steps)")
    target = BOOK_TARGET if full_settings else None
    _common.compare("test accuracy, last 1,000 reviews", BOOK_TARGET, sentiment_acc, at_least=True,
                    book_text="0.85 (issue's target)")

# %% [markdown]
# ## Part 2: comparing word embeddings
#
# Words with a similar effect on the prediction get similar rows. The book
# printed (its own random vocabulary order, so not draw for draw) the lists
# below. With the correct gradient (the sigmoid derivative is at most 0.25) the
# rows move at most a quarter as far as in the book's code: after 2 epochs a row has
# moved by ~0.001 on average, against starting values of ±0.05, so the book's
# `similar` on the raw rows mostly measures which starting values happened to be
# close (rare words come out). Comparing what training *added* to each row
# (`weight − starting weight`, the same Euclidean ranking) shows what was learned.

# %%
if RUN_SENTIMENT:
    BOOK_SIMILAR = {
        "beautiful": ["beautiful", "heart", "captures", "impact", "unexpected", "bit", "touching", "true", "worth",
                      "strong"],
        "terrible": ["terrible", "boring", "lame", "horrible", "disappointing", "avoid", "badly", "annoying", "dull",
                     "mess"],
    }
    similar_words, similar_raw = {}, {}
    for word, book_list in BOOK_SIMILAR.items():
        raw = similar(model.embed, word)
        learned = similar(model.embed, word, minus=start_embedding)
        similar_raw[word] = [w for w, _ in raw]
        similar_words[word] = [w for w, _ in learned]
        print(f"  similar('{word}'):")
        print(f"    book:                {', '.join(book_list)}")
        print(f"    gdl, raw rows:       {', '.join(f'{w} {s}' for w, s in raw)}")
        print(f"    gdl, learned change: {', '.join(f'{w} {s}' for w, s in learned)}")
    if args.save_embeddings:
        gdl.save({"embedding": model.embed.weight.detach(), "vocab": vocab.itos}, args.save_embeddings)
        print(f"  saved the embedding and vocabulary to {args.save_embeddings}")
    _common.result(
        "sentiment_test_acc", sentiment_acc, start=start_acc, target=target, better="higher",
        similar_beautiful=similar_words["beautiful"], similar_terrible=similar_words["terrible"],
        similar_raw_rows=similar_raw,
        seconds=round(t_sent.seconds, 1),
        settings=dict(reviews=len(reviews), train=n_train, test=N_TEST, hidden=HIDDEN, alpha=ALPHA, epochs=EPOCHS,
                      seed=args.seed, backend=args.backend),
    )


# %% [markdown]
# ## Part 3: filling in the blank (CBOW word2vec with negative sampling)
#
# "Predict a word from its neighbours": the mean of the vectors of the 2 words on
# each side (`W01`, the embedding) is dotted with the output vectors (`W12`) of
# the true middle word and of 5 words drawn from the whole corpus (so in
# proportion to their frequency); a sigmoid says "is this the missing word?",
# 1 for the true one and 0 for the 5 negatives. `W01` starts uniform in
# (−0.1, 0.1), `W12` at zero.
#
# The shuffled reviews are laid end to end with two padding slots between
# reviews, so a window never crosses from one review into the next; the padding
# row of `W01` is zero and gets no gradient (`padding_idx`).

# %%
if RUN_WORD2VEC:
    _common.section(f"Part 3: word2vec (CBOW), embedding {W2V_DIM}, window {W2V_WINDOW}, {W2V_NEGATIVE} negatives, "
                    f"alpha {W2V_ALPHA}, {W2V_PASSES} pass(es), {args.w2v_batch} positions per step")
    V = len(vocab)
    PAD = V
    order = gdl.randperm(len(tokens)).tolist()                     # the book shuffles the reviews
    if W2V_REVIEWS is not None:
        order = order[:W2V_REVIEWS]
    stream = [PAD] * W2V_WINDOW
    for r in order:
        stream += vocab.encode(tokens[r]) + [PAD] * W2V_WINDOW
    stream = gdl.tensor(stream)
    positions = gdl.tensor([p for p, w in enumerate(stream.tolist()) if w != PAD])   # the target positions
    corpus = stream[positions]                 # the book's `concatenated`: negatives are drawn from it
    offsets = gdl.tensor([o for o in range(-W2V_WINDOW, W2V_WINDOW + 1) if o != 0])
    n_pos = positions.shape[0]
    print(f"  {len(order)} reviews, {n_pos} target positions per pass")

    W01 = nn.Embedding(V + 1, W2V_DIM, padding_idx=PAD, sparse=True)
    W12 = nn.Embedding(V, W2V_DIM, sparse=True)
    # uniform in (-0.1, 0.1), and the padding row zero (it gets no gradient, so it stays zero)
    W01.weight = nn.Parameter(gdl.concat([gdl.rand(V, W2V_DIM) * 0.2 - 0.1, gdl.zeros(1, W2V_DIM)]))
    nn.init.zeros_(W12.weight)
    opt = gdl.optim.SGD(list(W01.parameters()) + list(W12.parameters()), lr=W2V_ALPHA)
    labels_6 = gdl.tensor([[1.0] + [0.0] * W2V_NEGATIVE])         # [1, 0, 0, 0, 0, 0]

    def draw_negatives(target):
        """5 words per position drawn from the corpus (in proportion to frequency), never the target itself."""
        neg = corpus[gdl.randint(0, n_pos, (target.shape[0], W2V_NEGATIVE))]
        clash = neg == target[:, None]
        while clash.sum().item() > 0:
            again = corpus[gdl.randint(0, n_pos, (target.shape[0], W2V_NEGATIVE))]
            neg = gdl.where(clash, again, neg)
            clash = neg == target[:, None]
        return neg

    def w2v_loss(batch_positions):
        target = stream[batch_positions]
        context = stream[batch_positions[:, None] + offsets[None, :]]            # (B, 4), PAD at review edges
        count = (context != PAD).astype(gdl.float32).sum(axis=1, keepdims=True)
        layer_1 = W01(context).sum(axis=1) / gdl.maximum(count, 1.0)             # mean of the context vectors
        samples = gdl.concat([target[:, None], draw_negatives(target)], axis=1)  # (B, 6)
        logits = (W12(samples) * layer_1[:, None, :]).sum(axis=2)                # (B, 6)
        return F.binary_cross_entropy_with_logits(logits, gdl.broadcast_to(labels_6, logits.shape), reduction="sum")

    B = args.w2v_batch
    steps_per_pass = (n_pos + B - 1) // B
    log_at = {round(k * steps_per_pass / 5) for k in range(1, 6)}    # every 20 % of a pass
    losses, first_loss = [], None
    with _common.Timer() as t_w2v:
        for p in range(W2V_PASSES):
            running, seen = 0.0, 0
            for s in range(steps_per_pass):
                batch = positions[s * B:(s + 1) * B]
                loss = w2v_loss(batch)
                opt.zero_grad()
                loss.backward()
                opt.step()
                running += loss.item()
                seen += batch.shape[0]
                if first_loss is None:
                    first_loss = loss.item() / batch.shape[0]       # before any step: 6·log(2) = 4.16
                if s + 1 in log_at:
                    losses.append(running / seen)
                    print(f"  pass {p} progress {100 * (s + 1) / steps_per_pass:5.1f}%  "
                          f"loss per position {running / seen:.4f}  "
                          f"({(p * n_pos + min((s + 1) * B, n_pos)) / t_w2v.elapsed:,.0f} positions/s)", flush=True)
                    running, seen = 0.0, 0
    print(f"  {W2V_PASSES * n_pos} positions in {_common.fmt_seconds(t_w2v.seconds)}")

# %% [markdown]
# Nearest words by (Euclidean) distance between `W01` rows, as the book's
# `similar`. The book printed for 'terrible': terrible, horrible, bad,
# brilliant, pathetic, fantastic, fabulous, phenomenal, marvelous,
# spectacular (a word2vec of this kind groups words used in the same place,
# so "brilliant" sits beside "terrible": both are strong adjectives of
# judgement).

# %%
if RUN_WORD2VEC:
    BOOK_W2V_TERRIBLE = ["terrible", "horrible", "bad", "brilliant", "pathetic", "fantastic", "fabulous",
                         "phenomenal", "marvelous", "spectacular"]
    ours = similar(W01, "terrible")
    w2v_similar = [w for w, _ in ours]
    print("  similar('terrible') after word2vec:")
    print(f"    book: {', '.join(BOOK_W2V_TERRIBLE)}")
    print(f"    gdl:  {', '.join(f'{w} {s}' for w, s in ours)}")

# %% [markdown]
# ## Analogies: "king − man + woman ≈ queen", on review vectors
#
# Each row is divided by its length (the book multiplied by the squared
# length: a bug); the query is Σ positive rows − Σ negative rows, and words
# are ranked by cosine similarity with it, leaving out the query's words.

# %%
if RUN_WORD2VEC:
    def analogy(positive, negative, k=9):
        with gdl.no_grad():
            w = W01.weight[:V]
            normed = w / gdl.maximum(gdl.sqrt((w * w).sum(axis=1, keepdims=True)), 1e-12)
            query = sum(normed[vocab[x]] for x in positive) - sum(normed[vocab[x]] for x in negative)
            scores = normed @ (query / gdl.sqrt((query * query).sum()))
            order = (-scores).numpy().argsort(kind="stable")
        skip = set(positive) | set(negative)
        out = [(vocab.itos[i], round(float(scores[int(i)].item()), 3)) for i in order[: k + len(skip)]
               if vocab.itos[i] not in skip]
        return out[:k]

    BOOK_ANALOGIES = {
        (("terrible", "good"), ("bad",)): ["terrific", "perfect", "worth", "good", "terrible", "decent", "superb",
                                           "great", "worthy"],
        (("elizabeth", "he"), ("she",)): ["simon", "obsessed", "stanwyck", "sandler", "branagh", "daniel", "peter",
                                          "tony", "aged"],
    }
    analogies = {}
    for (plus, minus), book_list in BOOK_ANALOGIES.items():
        if any(w not in vocab for w in plus + minus):
            print(f"  {' + '.join(plus)} - {' - '.join(minus)}: a word is not in this (reduced) vocabulary")
            continue
        ours = analogy(list(plus), list(minus))
        name = f"{' + '.join(plus)} - {' - '.join(minus)}"
        analogies[name] = [w for w, _ in ours]
        print(f"  {name}:")
        print(f"    book: {', '.join(book_list)}")
        print(f"    gdl:  {', '.join(f'{w} {s}' for w, s in ours)}")
    _common.result(
        "word2vec_loss", losses[-1], start=first_loss, better="lower",
        similar_terrible=w2v_similar,
        analogies=analogies, seconds=round(t_w2v.seconds, 1),
        settings=dict(reviews=len(order), positions_per_pass=n_pos, passes=W2V_PASSES, batch=B, dim=W2V_DIM,
                      window=W2V_WINDOW, negatives=W2V_NEGATIVE, alpha=W2V_ALPHA, seed=args.seed,
                      backend=args.backend),
    )
