"""The training loss: cross-entropy over target tokens, fused with the output layer.

The plain computation, logits = x W^T + b for every target token, then log-softmax, then the loss, allocates
several tensors of tokens x vocabulary (a batch of 64 Multi30k sentences: about 900 x 8000 floats, 29 MB; up to 50
MB) at every step, in the forward and again in the backward pass. Tensors that large are fresh memory
from the system each time (page faults on first touch: a 50 MB fill takes about 15 ms instead of 1.2). Here the rows
go through in chunks: each chunk's logits are computed into one reused buffer, turned into probabilities in place,
and the gradients of x, W and b are taken right away from p - target (the cross-entropy's gradient with respect to
the logits). No tokens x vocabulary tensor outlives its chunk, and the backward pass only scales the gradients kept."""
from __future__ import annotations

import functools

import torch

from .packed import best_seconds
from .tokenizer import PAD, SOS

CHUNK = 256  # rows of logits at a time: 256 x 8000 floats = 8 MB, reused


def emittable(vocab: int, device) -> torch.Tensor:
    """(vocab,) bool: the tokens the model can emit, every one but <pad> and <sos> (where label smoothing spreads)."""
    mask = torch.ones(vocab, dtype=torch.bool, device=device)
    mask[[PAD, SOS]] = False
    return mask


def logits_loss(logits: torch.Tensor, gold: torch.Tensor, smoothing: float) -> torch.Tensor:
    """The plain computation: cross-entropy of logits (rows, vocab) against gold (rows,), averaged over rows. With
    label smoothing ε the target distribution is (1 - ε) on the gold token plus ε spread evenly over the emittable
    tokens (as JoeyNMT and the Annotated Transformer do), never onto tokens it is never asked for."""
    logp = logits.float().log_softmax(-1)
    nll = -logp.gather(-1, gold.unsqueeze(-1)).squeeze(-1)
    if not smoothing:
        return nll.mean()
    uniform = -logp[:, emittable(logp.size(-1), logp.device)].mean(-1)
    return ((1.0 - smoothing) * nll + smoothing * uniform).mean()


def output_loss(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, gold: torch.Tensor,
                smoothing: float, chunk: int = CHUNK, kernel: str | None = None) -> torch.Tensor:
    """Mean cross-entropy of logits = x W^T + b against `gold`, label-smoothed over the emittable tokens.

    x (rows, hidden), weight (vocab, hidden), bias (vocab,) or None, gold (rows,) -> scalar. With label smoothing
    ε the target is (1 - ε) on the gold token plus ε spread evenly over every token except <pad> and <sos>.
    `kernel`: the products' ('torch' or 'onednn'); None: the faster here (products_kernel)."""
    kernel = kernel or products_kernel(x.size(1), weight.size(0), x.device.type, torch.get_num_threads())
    products = PRODUCTS[kernel](weight.detach(), None if bias is None else bias.detach(), min(chunk, x.size(0)))
    wants_grad = torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in (x, weight, bias))
    if not wants_grad:
        return _chunks(x.detach(), products, gold, smoothing, chunk, grads=None)
    return _FusedOutputLoss.apply(x, weight, bias, gold, smoothing, chunk, products)


class _FusedOutputLoss(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, gold, smoothing, chunk, products):
        grads = (torch.empty_like(x), torch.zeros_like(weight), None if bias is None else torch.zeros_like(bias))
        loss = _chunks(x.detach(), products, gold, smoothing, chunk, grads)
        ctx.save_for_backward(*[g for g in grads if g is not None])
        ctx.has_bias = bias is not None
        return loss

    @staticmethod
    def backward(ctx, grad_loss):
        saved = [g * grad_loss for g in ctx.saved_tensors]
        gx, gw, gb = saved if ctx.has_bias else (*saved, None)
        return gx, gw, gb, None, None, None, None


def _chunks(x, products, gold, smoothing, chunk, grads) -> torch.Tensor:
    """The mean loss, chunk by chunk; with `grads` (gx, gw, gb) also d(mean loss)/d(x, W, b), written into them."""
    rows = x.size(0)
    uniform = emittable(products.weight.size(0), x.device).to(x.dtype)
    uniform /= uniform.sum()  # the smoothing's distribution: even over the emittable tokens
    total = x.new_zeros(())
    for start in range(0, rows, chunk):
        xc, gc = x[start:start + chunk], gold[start:start + chunk]
        logits = products.logits(xc)
        total += _chunk_loss_to_grad(logits, gc, smoothing, uniform, rows, grads is not None)
        if grads is not None:
            gx, gw, gb = grads
            products.grad_x(logits, gx[start:start + xc.size(0)])
            products.add_grad_w(logits, xc, gw)
            if gb is not None:
                gb += logits.sum(0)
    return total / rows


def _chunk_loss_to_grad(logits, gold, smoothing, uniform, rows, to_grad: bool) -> torch.Tensor:
    """The chunk's summed loss; when `to_grad`, `logits` is overwritten with (softmax - target) / rows."""
    logits.sub_(logits.amax(1, keepdim=True))  # shifted: log p = z - log sum exp z
    gold_z = logits.gather(1, gold.unsqueeze(1)).squeeze(1)
    mean_z = logits @ uniform if smoothing else None
    log_sum = logits.exp_().sum(1).log_()
    loss = log_sum - gold_z if not smoothing else log_sum - (1.0 - smoothing) * gold_z - smoothing * mean_z
    if to_grad:
        logits.div_(log_sum.exp().unsqueeze(1))
        logits.scatter_add_(1, gold.unsqueeze(1), logits.new_full((gold.size(0), 1), smoothing - 1.0))
        if smoothing:
            logits.sub_(uniform, alpha=smoothing)
        logits.div_(rows)
    return loss.sum()


class TorchProducts:
    """A chunk's three products with torch's own kernels (BLAS on the CPU); the logits go into one reused buffer."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None, rows: int):
        self.weight, self.bias = weight, bias
        self.buffer = weight.new_empty(rows, weight.size(0))

    def logits(self, xc: torch.Tensor) -> torch.Tensor:
        """xc (n, in) -> xc W^T + b (n, vocab)."""
        out = self.buffer[:xc.size(0)]
        if self.bias is None:
            return torch.mm(xc, self.weight.t(), out=out)
        return torch.addmm(self.bias, xc, self.weight.t(), out=out)

    def grad_x(self, grad: torch.Tensor, out: torch.Tensor) -> None:
        """out (n, in) = grad (n, vocab) W."""
        torch.mm(grad, self.weight, out=out)

    def add_grad_w(self, grad: torch.Tensor, xc: torch.Tensor, gw: torch.Tensor) -> None:
        """gw (vocab, in) += grad^T xc."""
        gw.addmm_(grad.t(), xc)


class OneDnnProducts(TorchProducts):
    """The same products through oneDNN (fp32), twice BLAS's speed on some CPUs (README: the AMD EPYC of family 26).
    Its outputs are new tensors of one chunk (small enough for the allocator to reuse their memory)."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None, rows: int):
        self.weight, self.bias = weight, bias

    @functools.cached_property
    def weight_t(self) -> torch.Tensor:
        """(in, vocab): the input gradient's product as a linear layer; made once per step, only when training."""
        return self.weight.t().contiguous()

    def logits(self, xc: torch.Tensor) -> torch.Tensor:
        return torch.ops.mkldnn._linear_pointwise(xc, self.weight, self.bias, "none", [], "")

    def grad_x(self, grad: torch.Tensor, out: torch.Tensor) -> None:
        out.copy_(torch.ops.mkldnn._linear_pointwise(grad, self.weight_t, None, "none", [], ""))

    def add_grad_w(self, grad: torch.Tensor, xc: torch.Tensor, gw: torch.Tensor) -> None:
        gw.add_(torch.ops.mkldnn._linear_pointwise(grad.t(), xc.t(), None, "none", [], ""))


PRODUCTS: dict[str, type] = {"torch": TorchProducts, "onednn": OneDnnProducts}


def _one_chunk(kind: str, weight: torch.Tensor, gx: torch.Tensor, gw: torch.Tensor):
    """A chunk's three products with `kind`'s kernels, as one callable of the chunk's input (for timing)."""
    products = PRODUCTS[kind](weight, None, gx.size(0))

    def run(x: torch.Tensor) -> None:
        logits = products.logits(x)
        products.grad_x(logits, gx)
        products.add_grad_w(logits, x, gw)
    return run


@functools.lru_cache(maxsize=None)
def products_kernel(hidden: int, vocab: int, device: str = "cpu", threads: int | None = None) -> str:
    """'onednn' where oneDNN's three products of one chunk (CHUNK x hidden -> vocab) run measurably faster here
    (1.2x or more) than torch's, else 'torch'. Measured once per process and shape (tens of ms); `threads` only
    keys the cache. Measured at 2 threads: oneDNN 1.7x BLAS on the AMD EPYC of family 26 model 2 (Zen 5), the
    same speed on family 25 model 17 (Zen 4)."""
    if device != "cpu" or not torch.backends.mkldnn.is_available():
        return "torch"
    gen = torch.Generator().manual_seed(0)
    x, weight = torch.randn(CHUNK, hidden, generator=gen), torch.randn(vocab, hidden, generator=gen) * 0.05
    gx, gw = torch.empty(CHUNK, hidden), torch.zeros(vocab, hidden)
    try:
        with torch.no_grad():
            plain, fast = (best_seconds(_one_chunk(k, weight, gx, gw), x, 1) for k in ("torch", "onednn"))
    except RuntimeError:  # a build without the op
        return "torch"
    return "onednn" if fast * 1.2 <= plain else "torch"
