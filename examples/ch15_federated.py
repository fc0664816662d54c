# %% [markdown]
# # Chapter 15: Deep learning on unseen data: federated learning (Grokking Deep Learning), on gdl
#
# Instead of bringing the data to the model, bring the model to the data: each
# data owner trains a copy of the model on its own e-mails, and only the models
# travel. Here a spam filter is trained across three owners (Bob, Alice, Sue) by
# **federated averaging**; then the averaging is done on **encrypted** models
# (Paillier homomorphic encryption: the sum of ciphertexts decrypts to the sum of
# the numbers), so nobody sees any one owner's model.
#
# The model is a bag of words: `Embedding(V, 1)`, one number per word, started at
# zero; the prediction is the sigmoid of the sum over an e-mail's (unique) words,
# padded with `<unk>` to 500 positions. MSE loss, SGD alpha 0.01, batches of 500.
# The book reaches **98.8 %** test accuracy after 3 federated rounds (and prints
# 99.15 % for its encrypted run).
#
# gdl pieces used: `gdl.data.datasets.EnronSpam`, `gdl.data.tokenize`,
# `gdl.data.Vocab`, `TensorDataset` + `DataLoader`, `nn.Embedding(padding_idx=)`,
# `F.mse_loss(reduction="sum")`, `optim.SGD`, `copy.deepcopy(model)`, `load_state_dict`.
# Encryption: the `phe` package (`pip install phe`, gdl's optional extra
# `federated`); without it the encrypted part is skipped with a message.
#
# ## What we do differently from the book's code
#
# * **Data.** The book's `spam.txt`/`ham.txt` were Enron-spam e-mails one per
#   line, from a subset mix it does not state. We read the preprocessed Enron-spam
#   archives that are present (enron1, 2, 4, 5 and 6; enron3 is missing) with
#   `EnronSpam`, in its order (subset by subset), and tokenise with
#   `gdl.data.tokenize` (lower case, punctuation split off; the book split on
#   spaces after dropping each line's last 2 characters). As in the book, each
#   e-mail is its *set* of words, e-mails with 500 or more distinct words are
#   **dropped** (the book did so silently: we print how many), the rest are padded
#   with `<unk>` to 500; the test set is the last 1,000 spam and last 1,000 ham,
#   and the training list alternates spam and ham, cycling the shorter class.
#   The test set is therefore the last 1,000 of each class of enron6. On these
#   data the book's recipe reaches about 96 % after 3 rounds (97 % after 6;
#   shuffling the e-mails first or splitting on spaces as the book changes
#   little), not the book's 98.8 %, which came from its own, unpublished mix.
# * **Vocabulary** ordered by frequency (`Vocab.build` over sorted word lists),
#   not `set` order: the same indices in every run.
# * **`<unk>`** is the embedding's `padding_idx`: its row starts at zero and gets
#   no gradient (the book zeroed it by hand before every batch).
# * **Batches.** The book's `train()` ignores its `batch_size` argument and reads
#   a global `bs`; ours takes the batch size it is given (500). It also skips the
#   last partial batch; the `DataLoader` keeps it.
# * **Secure aggregation.** The book decrypts *Sue's* encrypted model (not the
#   sum of the three) and divides it by 3; its "encrypted" figures (98.75, 99.05,
#   99.15) are those of Sue's model alone. We add the three encrypted models
#   homomorphically, decrypt **the sum**, divide by 3, and check it equals the
#   plain average to 1e-6: so our encrypted run gives the same accuracies as our
#   plain federated run, as it should. The book's `train_and_encrypt` also
#   ignored its `pubkey` argument; ours uses it.
# * **Every weight is encrypted**, also the rows a worker did not change.
#   Encrypting only the changed rows would be faster but would tell the
#   aggregator which words each owner's e-mails contain: the very leak that the
#   encryption is there to stop (see the "Bob's password" demo below).
# * The book's loop says 3 rounds but ran 4; we run 3.
#
# Run it whole (`python examples/ch15_federated.py`), with `--quick`, or cell by cell.
# Full settings on 2 CPU cores: the federated training takes seconds; the
# encrypted run 2-9 minutes depending on the load (3 rounds × 3 owners × 137,142
# weights = 1.23 million Paillier encryptions at 0.1-0.35 ms each, and 411,000
# decryptions of the sums). `--quick`:
# 400 e-mails of each class from enron1, words seen at least twice, one
# encrypted round (~20,000 encryptions).

# %%

import copy

import _common

import gdl
import gdl.optim
from gdl import nn
from gdl.data import DataLoader, TensorDataset, Vocab, tokenize
from gdl.data.datasets import EnronSpam
from gdl.nn import functional as F

try:
    import phe
except ImportError:  # the optional extra
    phe = None

parser = _common.make_parser("Chapter 15: federated learning and secure aggregation on Enron spam", data=True,
                             seed=12345)
parser.add_argument("--rounds", type=int, default=3, help="federated rounds (default 3, the book's)")
parser.add_argument("--secure-rounds", type=int, default=None,
                    help="rounds of the encrypted run (default 3; 1 with --quick)")
parser.add_argument("--subsets", default=None,
                    help="Enron-spam subsets to read, e.g. 1,2 (default: all present; enron1 with --quick)")
args = _common.parse_args(parser)
_common.setup(args, "ch15 federated learning (Enron spam)")

MAX_WORDS, BATCH, ALPHA, N_TEST, ROUNDS = 500, 500, 0.01, 1000, args.rounds
SECURE_ROUNDS = 3
N_PER_CLASS, MIN_FREQ = None, 1   # all e-mails, every word
if args.quick:
    # 400 e-mails of each class, words seen in at least 2 of them (fewer weights to encrypt)
    N_PER_CLASS, MIN_FREQ, N_TEST, BATCH, SECURE_ROUNDS = 400, 2, 100, 100, 1
SECURE_ROUNDS = args.secure_rounds if args.secure_rounds is not None else SECURE_ROUNDS
subsets = [int(s) for s in args.subsets.split(",")] if args.subsets else ([1] if args.quick else None)
full_settings = not args.quick and args.subsets is None and ROUNDS == 3
BOOK_ROUNDS = {1: 84.05, 2: 92.25, 3: 98.8}                   # test % correct after each round
BOOK_SECURE = {1: 98.75, 2: 99.05000000000001, 3: 99.15}       # Sue's model / 3 (see above)


# %% [markdown]
# ## The data
#
# `EnronSpam(root)` reads `enronN/{ham,spam}/*.txt`, extracting the archives
# first if needed. The shared data folder is read-only, so the archives are
# linked into gdl's cache folder (`~/.cache/gdl`, or `$GDL_CACHE_DIR`) and
# extracted there once.

# %%
# gdl's loaders extract an archive found in a read-only folder (like the shared data)
# into ``$GDL_CACHE_DIR/extracted`` (default ``~/.cache/gdl``), once.
DATA_ROOT = _common.data_dir(args.data_dir)


with _common.Timer() as t_load:
    enron = EnronSpam(DATA_ROOT, subsets=subsets)
    spam_texts = [t for t, y in zip(enron.texts, enron.labels) if y == 1]
    ham_texts = [t for t, y in zip(enron.texts, enron.labels) if y == 0]
    if N_PER_CLASS is not None:
        spam_texts, ham_texts = spam_texts[:N_PER_CLASS], ham_texts[:N_PER_CLASS]
    # each e-mail as its set of words (sorted, so that everything after is reproducible)
    spam = [sorted(set(tokenize(t))) for t in spam_texts]
    ham = [sorted(set(tokenize(t))) for t in ham_texts]
    n_spam, n_ham = len(spam), len(ham)
    spam = [w for w in spam if len(w) < MAX_WORDS]
    ham = [w for w in ham if len(w) < MAX_WORDS]
    vocab = Vocab.build(spam + ham, min_freq=MIN_FREQ)
    UNK = vocab.unk_index
print(f"{enron!r}: {n_spam} spam, {n_ham} ham; dropped {n_spam - len(spam)} spam and {n_ham - len(ham)} ham "
      f"with {MAX_WORDS} or more distinct words; vocabulary {len(vocab)} ({_common.fmt_seconds(t_load.seconds)})")


def to_indices(emails):
    """Each e-mail's word indices, padded with <unk> to 500 positions."""
    return [vocab.encode(words) + [UNK] * (MAX_WORDS - len(words)) for words in emails]


spam_idx, ham_idx = to_indices(spam), to_indices(ham)
train_spam, train_ham = spam_idx[:-N_TEST], ham_idx[:-N_TEST]
test_spam, test_ham = spam_idx[-N_TEST:], ham_idx[-N_TEST:]
# alternate spam (1) and ham (0), cycling the shorter class, as the book
train_data, train_target = [], []
for i in range(max(len(train_spam), len(train_ham))):
    train_data += [train_spam[i % len(train_spam)], train_ham[i % len(train_ham)]]
    train_target += [[1.0], [0.0]]
test_data, test_target = [], []
for i in range(N_TEST):
    test_data += [test_spam[i], test_ham[i]]
    test_target += [[1.0], [0.0]]
train_x, train_y = gdl.tensor(train_data), gdl.tensor(train_target)
test_x, test_y = gdl.tensor(test_data), gdl.tensor(test_target)
print(f"train {train_x.shape[0]} e-mails (alternating spam/ham), test {test_x.shape[0]}")


# %% [markdown]
# ## The model and the training loop

# %%
class BagOfWords(nn.Module):
    """sigmoid(Σ over the 500 positions of one weight per word); <unk> stays 0."""

    def __init__(self, vocab_size):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, 1, padding_idx=UNK)
        nn.init.zeros_(self.embed.weight)

    def forward(self, ids):
        return gdl.sigmoid(self.embed(ids).sum(axis=1))        # (batch, 1)


def train(model, x, y, batch_size=BATCH, epochs=1):
    """The book's train(): SGD alpha 0.01 on the summed squared error; returns the mean loss per e-mail."""
    opt = gdl.optim.SGD(model.parameters(), lr=ALPHA)
    loader = DataLoader(TensorDataset(x, y), batch_size=batch_size)
    for _ in range(epochs):
        total, seen = 0.0, 0
        for xb, yb in loader:
            loss = F.mse_loss(model(xb), yb, reduction="sum")
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
            seen += xb.shape[0]
    return total / seen


def test(model):
    """Percent of test e-mails classified right (spam when the prediction > 0.5)."""
    with gdl.no_grad():
        correct = ((model(test_x) > 0.5).astype(gdl.float32) == test_y).astype(gdl.int64).sum().item()
    return 100 * correct / test_x.shape[0]


# %% [markdown]
# ## Federated averaging: Bob, Alice and Sue
#
# Bob holds training e-mails 0-999, Alice 1,000-1,999, Sue the rest. Each round,
# each of them trains a copy of the current model for one epoch on their own
# e-mails; the new model is the average of the three.

# %%
n_train = train_x.shape[0]
cut1, cut2 = (1000, 2000) if not args.quick else (n_train // 6, n_train // 3)
workers = {
    "Bob": (train_x[:cut1], train_y[:cut1]),
    "Alice": (train_x[cut1:cut2], train_y[cut1:cut2]),
    "Sue": (train_x[cut2:], train_y[cut2:]),
}
print("  " + ", ".join(f"{name}: {x.shape[0]} e-mails" for name, (x, _) in workers.items()))

_common.section(f"federated averaging: {ROUNDS} rounds, batch {BATCH}, alpha {ALPHA}")
model = BagOfWords(len(vocab))
start_acc = test(model)
print(f"  before training: {start_acc:.2f}% correct")
accs = {}
with _common.Timer() as t_fed:
    for r in range(1, ROUNDS + 1):
        trained, losses = [], []
        for x, y in workers.values():
            local = copy.deepcopy(model)          # as the book: each owner gets a model of its own
            losses.append(train(local, x, y))
            trained.append(local)
        with gdl.no_grad():
            average = (trained[0].embed.weight + trained[1].embed.weight + trained[2].embed.weight) / 3
        model.load_state_dict({"embed.weight": average})
        accs[r] = test(model)
        print(f"  round {r}: losses Bob {losses[0]:.4f} Alice {losses[1]:.4f} Sue {losses[2]:.4f} "
              f"-> {accs[r]:.2f}% correct", flush=True)
print(f"  {ROUNDS} rounds in {_common.fmt_seconds(t_fed.seconds)}")
for r, book in BOOK_ROUNDS.items():
    if r in accs:
        _common.compare(f"round {r} test % correct", book, accs[r], info=True)
target = 98.8 if full_settings else None
if target is not None:
    _common.compare(f"round {ROUNDS} test % correct, to reach", 98.8, accs[ROUNDS], at_least=True)
_common.result(
    "federated_test_pct", accs[ROUNDS], start=start_acc, book=98.8, target=target, better="higher",
    rounds=accs, seconds=round(t_fed.seconds, 1),
    settings=dict(subsets=list(enron.subsets), spam=len(spam), ham=len(ham), vocab=len(vocab), train=n_train,
                  test=test_x.shape[0], batch=BATCH, alpha=ALPHA, rounds=ROUNDS, seed=args.seed,
                  backend=args.backend),
)


# %% [markdown]
# ## Hacking federated learning: what one update gives away
#
# If Bob trains on a single e-mail, the rows of the model that changed are
# exactly the words of that e-mail.

# %%
_common.section("what one update gives away (Bob's password e-mail)")
bob_email = ["my", "computer", "password", "is", "pizza"]
missing = [w for w in bob_email if w not in vocab]
demo_vocab = Vocab(vocab.itos + missing)            # (words this vocabulary lacks are added for the demo)
demo = nn.Embedding(len(demo_vocab), 1, padding_idx=UNK)
nn.init.zeros_(demo.weight)
before = demo.weight.detach().clone()
loss = F.mse_loss(gdl.sigmoid(demo(gdl.tensor([demo_vocab.encode(bob_email)])).sum(axis=1)),
                  gdl.tensor([[0.0]]), reduction="sum")
loss.backward()
gdl.optim.SGD(demo.parameters(), lr=ALPHA).step()
changed = (demo.weight.detach() != before).astype(gdl.int64).sum(axis=1).numpy().nonzero()[0]
leaked = [demo_vocab.itos[i] for i in changed]
# The book printed Loss:0.0005: its train() divided this one e-mail's loss by the global batch size 500.
print(f"  Loss:{loss.item()}   (the book printed 0.0005 = 0.25/500, see the comment above)")
print(f"  the rows that changed: {', '.join(leaked)}")
_common.compare("words revealed by one update", sorted(bob_email), sorted(leaked), book_text="Bob's 5 words")


# %% [markdown]
# ## Homomorphic encryption (Paillier)
#
# "We can add encrypted numbers": encrypt 5 and 3, add the ciphertexts, decrypt
# the sum. Then **secure aggregation**: each worker encrypts every weight of its
# trained model with the public key; the three encrypted models are added
# weight by weight; only the sum is decrypted (by the key holder), then divided
# by 3.
#
# The book uses a 128-bit key for speed: far too short to be secure (use at
# least 2,048 bits); the 5 + 3 demo uses 1,024 bits, as the book.

# %%
secure_rec = None
if phe is None:
    print("\n-- Paillier secure aggregation skipped: the optional package 'phe' is not installed "
          "(pip install phe, or pip install 'gdl[federated]')")
    _common.result("secure_aggregation", "skipped", reason="phe not installed")
else:
    _common.section("Paillier: encrypt 5 and 3, add the ciphertexts, decrypt")
    public_key, private_key = phe.generate_paillier_keypair(n_length=1024)
    x = public_key.encrypt(5)
    y = public_key.encrypt(3)
    answer = private_key.decrypt(x + y)
    print(f"  The Answer: {answer}")
    _common.compare("5 + 3 under encryption", 8, answer)

    _common.section(f"secure aggregation: {SECURE_ROUNDS} round(s), each model encrypted weight by weight "
                    f"(128-bit key: insecure, the book's demo setting)")
    public_key, private_key = phe.generate_paillier_keypair(n_length=128)

    def train_and_encrypt(model, x, y, pubkey):
        """Train a copy on one owner's e-mails; return it and its weights, each encrypted with ``pubkey``."""
        local = copy.deepcopy(model)
        loss = train(local, x, y)
        weights = local.embed.weight.detach().numpy().ravel().tolist()   # Python floats
        return local, [pubkey.encrypt(w) for w in weights], loss

    secure_model = BagOfWords(len(vocab))
    secure_accs, max_diff = {}, 0.0
    t_encrypt = t_add = t_decrypt = 0.0
    with _common.Timer() as t_sec:
        for r in range(1, SECURE_ROUNDS + 1):
            plain, encrypted, losses = [], [], []
            for x, y in workers.values():
                with _common.Timer() as t:
                    local, enc, loss = train_and_encrypt(secure_model, x, y, public_key)
                t_encrypt += t.seconds
                plain.append(local)
                encrypted.append(enc)
                losses.append(loss)
            with _common.Timer() as t:
                aggregate = [a + b + c for a, b, c in zip(*encrypted)]       # homomorphic sums
            t_add += t.seconds
            with _common.Timer() as t:
                decrypted = [private_key.decrypt(e) / 3 for e in aggregate]  # only the sum is ever decrypted
            t_decrypt += t.seconds
            new = gdl.tensor(decrypted, dtype=gdl.float64).reshape(len(vocab), 1)
            with gdl.no_grad():
                plain_average = (plain[0].embed.weight + plain[1].embed.weight + plain[2].embed.weight) / 3
                diff = (new - plain_average.astype(gdl.float64)).abs().max().item()
            max_diff = max(max_diff, diff)
            secure_model.load_state_dict({"embed.weight": new})
            secure_accs[r] = test(secure_model)
            print(f"  round {r}: losses Bob {losses[0]:.4f} Alice {losses[1]:.4f} Sue {losses[2]:.4f} "
                  f"-> {secure_accs[r]:.2f}% correct; |encrypted - plain aggregate| max {diff:.2e}", flush=True)
    n_enc = 3 * SECURE_ROUNDS * len(vocab)
    print(f"  {n_enc} weights encrypted; train + encrypt {_common.fmt_seconds(t_encrypt)}, "
          f"add {_common.fmt_seconds(t_add)}, decrypt {_common.fmt_seconds(t_decrypt)} "
          f"(total {_common.fmt_seconds(t_sec.seconds)})")
    for r, book in BOOK_SECURE.items():
        if r in secure_accs:
            _common.compare(f"encrypted round {r} test % correct", book, secure_accs[r], info=True,
                            book_text=f"{book} (Sue/3)")
    _common.compare("max |encrypted - plain aggregate|", 1e-6, max_diff, at_most=True)
    _common.result(
        "secure_aggregation_max_diff", max_diff, target=1e-6, better="lower",
        secure_test_pct=secure_accs, plain_test_pct={r: accs[r] for r in secure_accs if r in accs},
        book_secure=BOOK_SECURE, encrypted_weights=n_enc, seconds=round(t_sec.seconds, 1),
        seconds_train_encrypt=round(t_encrypt, 1), seconds_decrypt=round(t_decrypt, 1), key_bits=128,
    )
