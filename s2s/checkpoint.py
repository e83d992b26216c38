"""One self-describing checkpoint file: safetensors weights + JSON configs + sentencepiece models.

Loading parses only safetensors (a flat tensor container) and JSON: nothing is unpickled or executed,
so a checkpoint from a stranger is safe to open."""
from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from .config import ConfigError, ModelConfig, TokenizerConfig, TrainConfig
from .model import Seq2Seq
from .tokenizer import Vocab, train_vocabs
from .train import Progress

FORMAT = "s2s-playground/1"


class CheckpointError(ValueError):
    """The file is not a usable checkpoint; the message names it."""


@dataclass
class Checkpoint:
    model: Seq2Seq
    src_vocab: Vocab
    tgt_vocab: Vocab
    tokenizer: TokenizerConfig
    train: TrainConfig | None = None
    info: dict = field(default_factory=dict)  # free-form: data, scores, training time
    progress: Progress | None = None  # present in resumable ("last") checkpoints
    optimizer: dict | None = None  # Adam state tensors, present in resumable checkpoints


def fresh(pairs: list[tuple[str, str]], tok: TokenizerConfig, model: ModelConfig, seed: int = 1) -> Checkpoint:
    """A new, untrained model with vocabularies trained on `pairs` (model vocab sizes are set from them),
    its weights drawn from `seed` alone (the global random state is neither read nor changed)."""
    src, tgt = train_vocabs(pairs, tok)
    cfg = dataclasses.replace(model, src_vocab=len(src), tgt_vocab=len(tgt), joint_vocab=tok.joint)
    return Checkpoint(Seq2Seq(cfg, seed=seed), src, tgt, tok)


def _uint8(data: bytes) -> torch.Tensor:
    return torch.frombuffer(bytearray(data), dtype=torch.uint8)


def _optimizer_tensors(optimizer: torch.optim.Optimizer) -> dict[str, torch.Tensor]:
    out = {}
    for i, state in optimizer.state_dict()["state"].items():
        for key, value in state.items():
            out[f"optim.{i}.{key}"] = torch.as_tensor(value).detach().cpu().float().reshape(-1) if key == "step" \
                else value.detach().cpu()
    return out


def save(path: str | Path, ckpt: Checkpoint, optimizer: torch.optim.Optimizer | None = None,
         half: bool = False) -> None:
    """Write atomically (temporary file + rename): an interrupted save never leaves a broken file."""
    dtype = torch.float16 if half else torch.float32
    tensors = {f"model.{n}": p.detach().to("cpu", dtype).contiguous() for n, p in ckpt.model.named_parameters()}
    tensors["spm.src"] = _uint8(ckpt.src_vocab.to_bytes())
    if ckpt.tgt_vocab is not ckpt.src_vocab:
        tensors["spm.tgt"] = _uint8(ckpt.tgt_vocab.to_bytes())
    if optimizer is not None:
        tensors.update(_optimizer_tensors(optimizer))
    meta = {"format": FORMAT, "model": json.dumps(ckpt.model.cfg.to_dict()),
            "tokenizer": json.dumps(ckpt.tokenizer.to_dict()), "info": json.dumps(ckpt.info),
            "train": json.dumps(ckpt.train.to_dict() if ckpt.train else None),
            "progress": json.dumps(dataclasses.asdict(ckpt.progress) if ckpt.progress else None)}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        save_file(tensors, tmp, metadata=meta)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _read(path: Path) -> tuple[dict, dict]:
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    try:
        with safe_open(str(path), framework="pt") as f:
            return f.metadata() or {}, {k: f.get_tensor(k) for k in f.keys()}
    except Exception as err:  # safetensors raises several types for truncated or foreign files
        raise CheckpointError(f"{path}: not a safetensors checkpoint ({str(err).splitlines()[0][:120]})") from None


def _load_weights(model: Seq2Seq, tensors: dict, path: Path) -> None:
    params = dict(model.named_parameters())
    names = {k[len("model."):] for k in tensors if k.startswith("model.")}
    if names != set(params):
        raise CheckpointError(f"{path}: weights do not match the model configuration "
                              f"(missing {sorted(set(params) - names)[:3]}, unexpected {sorted(names - set(params))[:3]})")
    with torch.no_grad():
        for name, p in params.items():
            value = tensors[f"model.{name}"]
            if value.shape != p.shape:
                raise CheckpointError(f"{path}: weight {name} has shape {tuple(value.shape)}, expected {tuple(p.shape)}")
            p.copy_(value.float())


def _vocabs(tensors: dict, tok: TokenizerConfig, path: Path) -> tuple[Vocab, Vocab]:
    try:
        src = Vocab.from_bytes(tensors["spm.src"].numpy().tobytes(), tok.src_normalize)
        tgt = Vocab.from_bytes(tensors["spm.tgt"].numpy().tobytes(), tok.tgt_normalize) if "spm.tgt" in tensors else src
    except (KeyError, RuntimeError, OSError) as err:
        raise CheckpointError(f"{path}: sentencepiece model missing or corrupt ({err})") from None
    return src, tgt


def optimizer_state(tensors: dict) -> dict:
    """Rebuild Adam's per-parameter state from `optim.{i}.{key}` tensors."""
    state: dict[int, dict] = {}
    for key, value in tensors.items():
        _, i, name = key.split(".", 2)
        state.setdefault(int(i), {})[name] = value.reshape(()) if name == "step" else value
    return state


def load(path: str | Path) -> Checkpoint:
    """Read a checkpoint; raises CheckpointError with the file name on anything unexpected."""
    path = Path(path)
    meta, tensors = _read(path)
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a Seq2Seq Playground checkpoint (format {meta.get('format')!r})")
    try:
        tok = TokenizerConfig.from_dict(json.loads(meta["tokenizer"]))
        cfg = ModelConfig.from_dict({"joint_vocab": tok.joint, **json.loads(meta["model"])})  # older files: no field
        train = json.loads(meta.get("train") or "null")
        progress = json.loads(meta.get("progress") or "null")
        info = json.loads(meta.get("info") or "{}")
    except (KeyError, TypeError, json.JSONDecodeError, ConfigError) as err:
        raise CheckpointError(f"{path}: corrupt checkpoint metadata ({err})") from None
    model = Seq2Seq(cfg)
    _load_weights(model, tensors, path)
    model.eval()
    src, tgt = _vocabs(tensors, tok, path)
    optim = optimizer_state({k: v for k, v in tensors.items() if k.startswith("optim.")})
    return Checkpoint(model, src, tgt, tok, TrainConfig.from_dict(train) if train else None, info,
                      Progress(**progress) if progress else None, optim or None)


def restore_optimizer(optimizer: torch.optim.Optimizer, state: dict, device) -> None:
    """Load Adam state saved by `save(..., optimizer=...)`."""
    sd = optimizer.state_dict()
    sd["state"] = {i: {k: v.to(device) for k, v in s.items()} for i, s in state.items()}
    optimizer.load_state_dict(sd)
