"""End-to-end training of small real models that combine the newer pieces of gdl.

Each test trains one model from a fixed seed and asserts what would fail if a piece
were wrong: the loss falls by a stated factor, the model beats a baseline that
ignores its input, a save/load round trip reproduces the outputs bit for bit.

1. a causal Transformer character model on Tiny Shakespeare (AdamW, OneCycleLR,
   gradient clipping, a sampled DataLoader, safetensors round trip, generation);
2. a convolutional autoencoder on the MNIST subset shipped with gdl (GroupNorm,
   BatchNorm, SiLU/GELU, pools, ConvTranspose2d, Upsample; NAdam with warm restarts);
3. an MLP with a custom straight-through quantiser (``gdl.autograd.Function``),
   orthogonal/truncated-normal init, module and tensor hooks, SequentialLR;
4. an LSTM classifier on padded variable-length sequences with class-balancing
   ``WeightedRandomSampler``;
5. a ``.half()`` model re-initialised in float16 and trained.

Tests 3-5 run on every test backend (the ``backend`` fixture; 5 is skipped on
array_api_strict, which has no float16), 1 and 2 on the default one. Test 1 reads
Tiny Shakespeare from the shared data folder (skipped where it is absent). The whole
file takes under 10 s on two idle CPU cores.
"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

import gdl
from gdl import nn, optim
from gdl.data import (
    DataLoader,
    Dataset,
    RandomSampler,
    Subset,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from gdl.data.datasets import MNIST, Shakespeare
from gdl.optim import lr_scheduler

# -- 1. a causal Transformer language model on Tiny Shakespeare -------------------------

SEQ, D_MODEL, LM_STEPS, LM_BATCH = 32, 32, 100, 32


class CharTransformer(nn.Module):
    """Embedding + learned positions + a pre-norm causal TransformerEncoder + Linear."""

    def __init__(self, vocab: int, d: int = D_MODEL, max_len: int = SEQ):
        super().__init__()
        self.emb = nn.Embedding(vocab, d)
        self.pos = nn.Parameter(gdl.randn(max_len, d) * 0.02)
        layer = nn.TransformerEncoderLayer(
            d,
            nhead=4,
            dim_feedforward=2 * d,
            dropout=0.1,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(
            layer, num_layers=2, norm=nn.LayerNorm(d), enable_nested_tensor=False
        )
        self.head = nn.Linear(d, vocab)

    def forward(self, x):
        t = x.shape[1]
        mask = nn.Transformer.generate_square_subsequent_mask(t)
        h = self.encoder(self.emb(x) + self.pos[:t], mask=mask, is_causal=True)
        return self.head(h)


def _lm_loss(model, x, y, vocab):
    return nn.functional.cross_entropy(model(x).reshape(-1, vocab), y.reshape(-1))


def test_causal_transformer_char_lm_on_tiny_shakespeare(shared_data, tmp_path):
    corpus = Shakespeare(shared_data, seq_len=SEQ)
    vocab = len(corpus.vocab)
    train = Subset(corpus, range(2000))  # the first 64,000 characters
    gdl.manual_seed(0)
    model = CharTransformer(vocab)
    opt = optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=1e-2, total_steps=LM_STEPS)
    sampler = RandomSampler(
        train, replacement=True, num_samples=LM_STEPS * LM_BATCH, generator=random.Random(0)
    )
    loader = DataLoader(train, batch_size=LM_BATCH, sampler=sampler)
    assert len(loader) == LM_STEPS

    losses, norms, lrs = [], [], []
    model.train()
    for x, y in loader:
        assert x.shape == (LM_BATCH, SEQ) and x.dtype == gdl.int64
        loss = _lm_loss(model, x, y, vocab)
        opt.zero_grad()
        loss.backward()
        norms.append(nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0).item())
        assert nn.utils.get_total_norm([p.grad for p in model.parameters()]).item() <= 1.0 + 1e-5
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
        losses.append(loss.item())
    assert len(losses) == LM_STEPS and all(map(math.isfinite, losses + norms))
    # one cycle: max_lr / 25 up to max_lr at 30% of the steps, down to max_lr / (25 * 1e4)
    assert lrs[0] == pytest.approx(1e-2 / 25) and int(np.argmax(lrs)) == 29
    assert max(lrs) == pytest.approx(1e-2) and lrs[-1] == pytest.approx(1e-2 / 25 / 1e4)
    # AdamW's betas cycle the other way (cycle_momentum): beta1 is lowest at the peak
    assert opt.param_groups[0]["betas"][0] == pytest.approx(0.95, abs=1e-3)
    first, last = np.mean(losses[:10]), np.mean(losses[-10:])
    assert first > 0.95 * math.log(vocab)  # starts near uniform guessing
    assert last < 0.65 * first, (first, last)  # seen: 4.19 -> 2.46

    # held-out text: beats the unigram model (which ignores the context)
    counts = np.bincount(corpus.ids[: 2000 * SEQ], minlength=vocab) + 1.0
    unigram = float(-(counts / counts.sum() * np.log(counts / counts.sum())).sum())  # about 3.28 nats
    xs, ys = corpus.get_batch(list(range(20000, 20064)))
    x_eval, y_eval = gdl.tensor(xs), gdl.tensor(ys)
    model.eval()
    with gdl.no_grad():
        logits = model(x_eval)
        eval_loss = _lm_loss(model, x_eval, y_eval, vocab).item()
        # eval mode switches dropout off: the same input gives the same logits
        assert np.array_equal(logits.numpy(), model(x_eval).numpy())
        # causal: changing the second half of each window leaves the first half's logits alone
        changed = x_eval.clone()
        changed[:, SEQ // 2 :] = 0
        assert np.allclose(model(changed)[:, : SEQ // 2].numpy(), logits[:, : SEQ // 2].numpy(), atol=1e-5)
    assert not logits.requires_grad
    assert eval_loss < unigram - 0.2, (eval_loss, unigram)  # seen: 2.90 against 3.28

    # a safetensors round trip into a fresh model gives the same logits, bit for bit
    path = tmp_path / "char_lm.safetensors"
    gdl.save(model.state_dict(), path)
    gdl.manual_seed(1)
    fresh = CharTransformer(vocab)
    with gdl.no_grad():
        assert not np.array_equal(fresh.eval()(x_eval).numpy(), logits.numpy())
    loaded = gdl.load(path)
    assert set(loaded) == set(model.state_dict())
    fresh.load_state_dict(loaded)
    with gdl.no_grad():
        assert np.array_equal(fresh(x_eval).numpy(), logits.numpy())

    # greedy generation, one character at a time, from a prompt shorter than SEQ
    prompt = corpus.vocab.encode("ROMEO:\nI ")
    context = gdl.tensor([prompt])
    with gdl.no_grad():
        for _ in range(12):
            nxt = model(context[:, -SEQ:])[:, -1].argmax(dim=-1)
            context = gdl.cat([context, nxt.reshape(1, 1)], dim=1)
    ids = context[0].tolist()
    assert len(ids) == len(prompt) + 12 and all(0 <= i < vocab for i in ids)
    text = corpus.vocab.decode(ids)
    assert text.startswith("ROMEO:\nI ") and len(text) == len(ids)
    # the trained model writes mostly letters and spaces, not uniform noise
    assert sum(c.isalpha() or c == " " for c in text[len(prompt) :]) >= 8, repr(text)


# -- 2. a convolutional autoencoder on MNIST --------------------------------------------


def _autoencoder():
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1, bias=False),
        nn.GroupNorm(4, 8),
        nn.SiLU(),
        nn.MaxPool2d(2),  # 14 x 14
        nn.Conv2d(8, 16, 3, padding=1, bias=False),
        nn.BatchNorm2d(16),
        nn.GELU(),
        nn.AdaptiveAvgPool2d(7),  # 7 x 7
        nn.ConvTranspose2d(16, 8, 2, stride=2),  # 14 x 14
        nn.SiLU(),
        nn.Upsample(scale_factor=2, mode="nearest"),  # 28 x 28
        nn.Conv2d(8, 1, 3, padding=1),
        nn.Sigmoid(),
    )


def test_conv_autoencoder_on_mnist(tmp_path):
    ds = MNIST(source="embedded")
    gdl.manual_seed(0)
    model = _autoencoder()
    opt = optim.NAdam(model.parameters(), lr=1e-2)
    sched = lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=10, T_mult=2, eta_min=1e-4)
    loader = DataLoader(
        ds,
        batch_size=32,
        sampler=SubsetRandomSampler(range(2000), generator=random.Random(0)),
        drop_last=True,
    )
    steps, losses, lrs = 40, [], []
    model.train()
    for i, (x, _) in enumerate(loader):
        if i == steps:
            break
        out = model(x)
        assert out.shape == x.shape == (32, 1, 28, 28)
        loss = nn.functional.binary_cross_entropy(out, x)
        opt.zero_grad()
        loss.backward()
        for name, p in model.named_parameters():
            assert p.grad is not None and p.grad.shape == p.shape, name
            g = p.grad.numpy()
            assert np.isfinite(g).all() and np.abs(g).max() > 0, name
        opt.step()
        sched.step()
        losses.append(loss.item())
        lrs.append(sched.get_last_lr()[0])
    assert len(losses) == steps
    # warm restarts: back to the initial lr after 10 steps, then after 10 + 20
    assert lrs[9] == pytest.approx(1e-2) and lrs[29] == pytest.approx(1e-2)
    assert lrs[8] < 1e-3 and lrs[28] < 1e-3
    first, last = np.mean(losses[:5]), np.mean(losses[-5:])
    assert last < 0.3 * first, (first, last)  # seen: 0.62 -> 0.11

    # held-out images: the reconstruction beats the mean image (a model that ignores its input)
    held_out = gdl.tensor(ds.get_batch(list(range(9000, 9256)))[0])
    mean_image = gdl.tensor(ds.get_batch(list(range(2000)))[0]).mean(dim=0, keepdim=True)
    model.eval()
    with gdl.no_grad():
        recon = model(held_out)
    mse = nn.functional.mse_loss(recon, held_out).item()
    baseline = nn.functional.mse_loss(mean_image.expand(*held_out.shape), held_out).item()
    assert mse < 0.4 * baseline, (mse, baseline)  # seen: 0.015 against 0.064

    # BatchNorm's running statistics travel in the state dict: eval outputs survive a round trip
    bn = model[5]
    assert int(bn.num_batches_tracked.item()) == steps
    path = tmp_path / "autoencoder.safetensors"
    gdl.save(model.state_dict(), path)
    fresh = _autoencoder()
    fresh.load_state_dict(gdl.load(path))
    fresh.eval()
    with gdl.no_grad():
        assert np.array_equal(fresh(held_out).numpy(), recon.numpy())
    assert fresh[5].num_batches_tracked.dtype == gdl.int64


# -- 3. a custom straight-through quantiser, hooks, in-place init, SequentialLR ---------

LEVELS = 4


class RoundSTE(gdl.autograd.Function):
    """Round to multiples of 1/levels; backward passes the gradient straight through
    where |x| <= 1 and stops it outside (the clipped straight-through estimator)."""

    @staticmethod
    def forward(ctx, x, levels):
        ctx.save_for_backward(x)
        return (x * levels).round() / levels

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * (x.abs() <= 1.0), None


class Quantise(nn.Module):
    def forward(self, x):
        return RoundSTE.apply(x, LEVELS)


def test_mlp_with_custom_quantiser_hooks_and_sequential_lr(backend):
    gdl.manual_seed(0)
    x_all = gdl.randn(512, 8)
    y_all = (x_all[:, :1] * 2).sin() + x_all[:, 1:2] * x_all[:, 2:3]
    model = nn.Sequential(
        nn.Linear(8, 64), nn.Tanh(), Quantise(), nn.Linear(64, 64), nn.Hardswish(), nn.Linear(64, 1)
    )
    with gdl.no_grad():
        for layer in model:
            if isinstance(layer, nn.Linear):
                nn.init.orthogonal_(layer.weight)
                nn.init.trunc_normal_(layer.bias, std=0.1, a=-0.2, b=0.2)
    w0 = model[0].weight.numpy().astype(np.float64)
    assert np.allclose(w0.T @ w0, np.eye(8), atol=1e-5)  # 64 x 8: orthonormal columns
    for layer in (model[0], model[3]):
        b = layer.bias.numpy()
        assert layer.bias.requires_grad and (b >= -0.2).all() and (b <= 0.2).all() and b.std() > 0.03

    activations = []
    handle = model[2].register_forward_hook(lambda module, args, out: activations.append(out.detach()))
    opt = optim.Adam(model.parameters(), lr=2e-2)
    warmup = lr_scheduler.LinearLR(opt, start_factor=0.1, total_iters=10)
    decay = lr_scheduler.ExponentialLR(opt, gamma=0.98)
    sched = lr_scheduler.SequentialLR(opt, [warmup, decay], milestones=[10])
    clip, seen_grads, losses, lrs = 0.01, [], [], []
    steps = 150
    for _ in range(steps):
        idx = gdl.randint(0, 512, (64,))
        x, y = x_all[idx], y_all[idx]
        hidden = model[1](model[0](x))
        hidden.register_hook(lambda g: g.clamp(-clip, clip))  # clip the gradient flowing into layer 0
        bound = clip * np.abs(x.numpy()).sum(axis=0)  # per input column, over the batch
        pre = model[0].weight.register_hook(
            lambda g, b=bound: seen_grads.append((np.abs(g.numpy()) / b).max())
        )
        loss = nn.functional.mse_loss(model[3:](model[2](hidden)), y)
        opt.zero_grad()
        loss.backward()
        pre.remove()
        losses.append(loss.item())
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    handle.remove()

    # the forward hook saw every call, and every output lies on the quantiser's grid
    assert len(activations) == steps
    for a in activations[:: steps // 5]:
        grid = a.numpy() * LEVELS
        assert np.array_equal(grid, np.round(grid)) and np.abs(grid).max() <= LEVELS
    # the tensor hook clipped each element of dL/dhidden to 0.01: |dL/dW0| <= 0.01 * sum |x|
    assert len(seen_grads) == steps and max(seen_grads) <= 1.0 + 1e-5 and min(seen_grads) > 0
    # warm-up from 0.1 x lr to lr over 10 steps, then x0.98 per step
    assert lrs[0] == pytest.approx(2e-3) and lrs[10] == pytest.approx(2e-2)
    assert lrs[5] == pytest.approx(2e-2 * (0.1 + 0.9 * 5 / 10))
    assert lrs[30] == pytest.approx(2e-2 * 0.98**20)
    first, last = np.mean(losses[:10]), np.mean(losses[-10:])
    assert last < 0.6 * first, (first, last)  # seen: 1.05 -> 0.21 (NumPy), 1.37 -> 0.34 (strict)
    with gdl.no_grad():
        full = nn.functional.mse_loss(model(x_all), y_all).item()
    assert full < 0.6 * y_all.var().item(), (full, y_all.var().item())

    # the estimator passes gradients only where |x| <= 1
    probe = gdl.tensor([-2.0, -0.5, 0.3, 1.5], requires_grad=True)
    RoundSTE.apply(probe, LEVELS).sum().backward()
    assert probe.grad.tolist() == [0.0, 1.0, 1.0, 0.0]


# -- 4. an LSTM on padded variable-length sequences, class-balanced sampling ------------


class FirstSymbol(Dataset):
    """Binary sequences of length 3-12 (tokens 1 and 2; 0 is padding) labelled by their
    first symbol: the label must be carried through the whole sequence. Class 1 is rare."""

    def __init__(self, n: int, seed: int, rare: float | None = 0.2):
        rng = np.random.default_rng(seed)
        self.seqs, self.labels = [], []
        for length in rng.integers(3, 13, n):
            seq = rng.integers(0, 2, length)
            if rare is not None:
                seq[0] = int(rng.random() < rare)
            self.seqs.append(seq + 1)
            self.labels.append(int(seq[0]))

    def __len__(self):
        return len(self.seqs)

    def __getitem__(self, i):
        return gdl.tensor(self.seqs[i]), self.labels[i]


def pad_collate(batch):
    seqs = [s for s, _ in batch]
    padded = nn.utils.rnn.pad_sequence(seqs, batch_first=True, padding_value=0)
    return padded, gdl.tensor([s.shape[0] for s in seqs]), gdl.tensor([label for _, label in batch])


class LastStepLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(3, 8, padding_idx=0)
        self.lstm = nn.LSTM(8, 24, batch_first=True)
        self.head = nn.Linear(24, 2)

    def forward(self, padded, lengths):
        out, _ = self.lstm(self.emb(padded))
        last = out[gdl.arange(padded.shape[0]), lengths - 1]  # each sequence's own last step
        return self.head(last)


def test_lstm_on_padded_sequences_with_weighted_sampler(backend):
    train = FirstSymbol(400, seed=0)
    labels = np.array(train.labels)
    counts = np.bincount(labels)
    assert counts[1] < 0.3 * len(labels)  # imbalanced: about 1 in 5
    weights = gdl.tensor((1.0 / counts)[labels])
    gdl.manual_seed(0)
    sampler = WeightedRandomSampler(weights, num_samples=len(train), replacement=True)
    loader = DataLoader(train, batch_size=32, sampler=sampler, collate_fn=pad_collate)
    model = LastStepLSTM()
    opt = optim.Adam(model.parameters(), lr=1e-2)
    drawn, losses = [], []
    for _ in range(6):
        for padded, lengths, y in loader:
            assert padded.shape[0] == lengths.shape[0] == y.shape[0]
            assert padded.shape[1] == int(lengths.max().item())
            drawn += y.tolist()
            loss = nn.functional.cross_entropy(model(padded, lengths), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
    # the sampler balanced the classes: the rare one is about half of what was drawn
    assert 0.4 < np.mean(drawn) < 0.6, np.mean(drawn)
    assert np.mean(losses[:5]) > 0.6 and np.mean(losses[-5:]) < 0.1, (losses[:5], losses[-5:])

    # a balanced held-out set: well above chance (0.5)
    test = FirstSymbol(200, seed=1, rare=None)
    padded, lengths, y = pad_collate([test[i] for i in range(len(test))])
    model.eval()
    with gdl.no_grad():
        logits = model(padded, lengths)
    accuracy = (logits.argmax(dim=1) == y).float().mean().item()
    assert accuracy >= 0.9, accuracy  # seen: 1.0
    # padding does not change a sequence's prediction: alone, unpadded, it gives the same logits
    i = int(np.argmin([s.shape[0] for s, _ in (test[j] for j in range(20))]))
    seq, _ = test[i]
    with gdl.no_grad():
        alone = model(seq.reshape(1, -1), gdl.tensor([seq.shape[0]]))
    assert np.allclose(alone.numpy()[0], logits.numpy()[i], atol=1e-5)
    # a packed batch is refused with a message that says what to do (it was an AttributeError on .ndim)
    packed = nn.utils.rnn.pack_padded_sequence(
        model.emb(padded), lengths, batch_first=True, enforce_sorted=False
    )
    with pytest.raises(TypeError, match="PackedSequence.*padded"):
        model.lstm(packed)


# -- 5. a half-precision model, re-initialised after .half() ----------------------------


def test_half_precision_model_initialised_and_trained(backend):
    """``gdl.randn``/``rand`` with ``dtype=float16`` failed on NumPy (its generator draws
    float32/float64 only), and with them ``Embedding(dtype=float16)`` and the normal-based
    ``nn.init`` functions on a ``.half()`` model."""
    if backend == "array_api_strict":
        pytest.skip("the Array API standard has no float16")
    gdl.manual_seed(0)
    assert gdl.randn(3, dtype=gdl.float16).dtype == gdl.rand(3, dtype=gdl.float16).dtype == gdl.float16
    model = nn.Sequential(
        nn.Embedding(10, 8, dtype=gdl.float16), nn.Flatten(), nn.Linear(24, 32), nn.GELU(), nn.Linear(32, 10)
    ).half()
    with gdl.no_grad():
        for layer in model:
            if isinstance(layer, nn.Linear):
                nn.init.trunc_normal_(layer.weight, std=0.2)
                nn.init.xavier_normal_(layer.weight)
                nn.init.normal_(layer.bias, std=0.01)
    assert all(p.dtype == gdl.float16 for p in model.parameters())
    x = gdl.randint(0, 10, (128, 3))
    y = x[:, 0]
    opt = optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    losses = []
    for _ in range(40):
        out = model(x)
        loss = nn.functional.cross_entropy(out, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert out.dtype == gdl.float16 and all(p.grad.dtype == gdl.float16 for p in model.parameters())
    assert losses[0] > 1.5 and losses[-1] < 0.1 * losses[0], losses[::10]
    assert (out.argmax(dim=1) == y).float().mean().item() > 0.95
