"""One self-describing checkpoint file: safetensors weights + JSON configs + sentencepiece models.

Loading parses only safetensors (a flat tensor container) and JSON: nothing is unpickled or executed,
so a checkpoint from a stranger is safe to open."""
from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import tempfile
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from .config import ConfigError, ModelConfig, TokenizerConfig, TrainConfig
from .messages import Keyed, Text, reason
from .model import Seq2Seq
from .tokenizer import EOS, PAD, SOS, UNK, Vocab, train_vocabs
from .train import Progress

FORMAT = "s2s-playground/1"


class CheckpointError(Keyed, ValueError):
    """The file is not a usable checkpoint; the message names it (a key of s2s/messages.py)."""


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


# ---------------------------------------------------------------- loading: everything is checked from the header
# (metadata, tensor names, dtypes, shapes) before a single weight is read or the model is built.

META_KEYS = ("format", "model", "tokenizer", "train", "progress", "info")
WEIGHT_DTYPES = ("F16", "F32")
OPTIM_KEYS = ("step", "exp_avg", "exp_avg_sq")  # Adam's per-parameter state
OPTIM_NAME = re.compile(r"optim\.(0|[1-9][0-9]{0,5})\.([a-z_]+)")
MAX_SPM_BYTES = 16 << 20  # a sentencepiece model of MAX_VOCAB pieces is ~2 MB
MAX_INT = 2**63 - 1  # any integer field (counts, seeds) fits in 64 bits
MAX_STR = 10_000  # characters in any string field
MAX_INFO_KEYS = 100
MAX_MESSAGE = 300  # characters of a problem description in an error message


def _line(text: str, limit: int = MAX_MESSAGE) -> str:
    """One short line: newlines escaped, long values cut."""
    text = text.replace("\r", "\\r").replace("\n", "\\n")
    return text if len(text) <= limit else text[:limit] + "..."


def _json(meta: dict, key: str, default: str):
    try:
        return json.loads(meta.get(key) or default)
    except (ValueError, RecursionError) as err:  # ValueError: bad JSON or an integer too long to parse
        raise CheckpointError.of("ckpt_not_json", what=key, reason=str(err)) from None


def _type_ok(tp, value, default) -> bool:
    """Does a JSON value fit a dataclass field annotated `tp`? (ranges are the dataclass's own checks)"""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return any(_type_ok(arg, value, default) for arg in typing.get_args(tp))
    if tp is type(None):
        return value is None
    if tp is bool:
        return isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool) and abs(value) <= MAX_INT
    if tp is float:  # a JSON integer is a number too; NaN never; infinity only where the default is (best_valid)
        if isinstance(value, int) and not isinstance(value, bool):
            return abs(value) <= MAX_INT
        return isinstance(value, float) and (math.isfinite(value) or math.isinf(value) and
                                             isinstance(default, float) and math.isinf(default))
    if tp is str:
        return isinstance(value, str) and len(value) <= MAX_STR
    if tp in (list, tuple) or typing.get_origin(tp) in (list, tuple):
        return isinstance(value, list) and all(_scalar(v) or isinstance(v, list) and all(map(_scalar, v))
                                               for v in value)
    return False  # a field type this reader does not know: refuse rather than guess


def _scalar(value) -> bool:
    """A JSON scalar: a number (NaN too: a loss history may hold one), a string, true/false, null."""
    return value is None or isinstance(value, (bool, int, float)) or isinstance(value, str) and len(value) <= MAX_STR


def _default(f: dataclasses.Field):
    if f.default is not dataclasses.MISSING:
        return f.default
    return f.default_factory() if f.default_factory is not dataclasses.MISSING else None


def _from_json(cls, data, what: str, counters: bool = False):
    """Build dataclass `cls` from a JSON object, refusing wrong types and unknown keys;
    `counters`: integer fields must also be >= 0."""
    if not isinstance(data, dict):
        raise CheckpointError.of("ckpt_not_object", what=what, kind=type(data).__name__)
    hints, known = typing.get_type_hints(cls), {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise CheckpointError.of("ckpt_unknown_field", what=what, field=repr(unknown[0]))
    for name, value in data.items():
        tp = hints[name]
        if not _type_ok(tp, value, _default(known[name])) or counters and tp is int and value < 0:
            raise CheckpointError.of("ckpt_wrong_field", what=what, field=name, value=repr(value),
                                     expected=getattr(tp, '__name__', tp))
    try:
        return cls(**data)
    except (ConfigError, TypeError, ValueError) as err:
        raise CheckpointError.of("ckpt_bad_config", what=what, reason=reason(err)) from None


def _info(data) -> dict:
    """Free-form notes: an object of scalars; the training time is read back as a number."""
    if not isinstance(data, dict) or len(data) > MAX_INFO_KEYS:
        raise CheckpointError.of("ckpt_info_object", n=MAX_INFO_KEYS)
    for key, value in data.items():
        if len(key) > 100 or not _scalar(value) or isinstance(value, float) and not math.isfinite(value):
            raise CheckpointError.of("ckpt_info_field", field=repr(key))
    for key in ("train_seconds", "train_seconds_before"):  # the CLI adds to it when training resumes
        value = data.get(key, 0.0)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
            raise CheckpointError.of("ckpt_info_seconds", field=key)
    return data


@dataclass
class _Meta:
    tok: TokenizerConfig
    cfg: ModelConfig
    train: TrainConfig | None
    progress: Progress | None
    info: dict


def _metadata(meta: dict) -> _Meta:
    if meta.get("format") != FORMAT:
        raise CheckpointError.of("ckpt_format", format=repr(meta.get('format')))
    unknown = sorted(set(meta) - set(META_KEYS))
    if unknown:
        raise CheckpointError.of("ckpt_unknown_entry", entry=repr(unknown[0]))
    for key in ("model", "tokenizer"):
        if key not in meta:
            raise CheckpointError.of("ckpt_no_config", what=key)
    tok = _from_json(TokenizerConfig, _json(meta, "tokenizer", "null"), "tokenizer")
    model = _json(meta, "model", "null")
    if isinstance(model, dict) and "joint_vocab" not in model:  # older files: recorded only by the tokenizer
        model = {**model, "joint_vocab": tok.joint}
    cfg = _from_json(ModelConfig, model, "model")
    if cfg.joint_vocab != tok.joint:
        raise CheckpointError.of("ckpt_joint")
    train, progress = _json(meta, "train", "null"), _json(meta, "progress", "null")
    return _Meta(tok, cfg, None if train is None else _from_json(TrainConfig, train, "train"),
                 None if progress is None else _from_json(Progress, progress, "progress", counters=True),
                 _info(_json(meta, "info", "{}")))


def _expected_shapes(cfg: ModelConfig) -> dict[str, tuple[int, ...]]:
    """Parameter shapes the config implies, from a model on the meta device (nothing allocated)."""
    with torch.device("meta"):
        model = Seq2Seq(cfg)
    return {name: tuple(p.shape) for name, p in model.named_parameters()}


def _check_tensor(name: str, found: tuple[str, tuple], dtypes: tuple[str, ...], shape: tuple) -> None:
    dtype, got = found
    if dtype not in dtypes:
        raise CheckpointError.of("ckpt_dtype", name=name, dtype=dtype, expected=' or '.join(dtypes))
    if got != shape:
        raise CheckpointError.of("ckpt_shape", name=name, shape=got, expected=shape)


def _check_weights(tensors: dict, expected: dict) -> None:
    names = {k[len("model."):] for k in tensors if k.startswith("model.")}
    if names != set(expected):
        missing, unexpected = sorted(set(expected) - names)[:3], sorted(names - set(expected))[:3]
        raise CheckpointError.of("ckpt_weights", missing=missing, unexpected=unexpected)
    for name, shape in expected.items():
        _check_tensor(f"model.{name}", tensors[f"model.{name}"], WEIGHT_DTYPES, shape)


def _check_spm(tensors: dict, joint: bool) -> None:
    if "spm.src" not in tensors:
        raise CheckpointError.of("ckpt_no_spm")
    if joint and "spm.tgt" in tensors:
        raise CheckpointError.of("ckpt_two_spm")
    for name in ("spm.src", "spm.tgt"):
        if name in tensors:
            dtype, shape = tensors[name]
            if dtype != "U8" or len(shape) != 1 or not 0 < shape[0] <= MAX_SPM_BYTES:
                raise CheckpointError.of("ckpt_spm_size", name=name, max=MAX_SPM_BYTES, dtype=dtype, shape=shape)


def _check_optimizer(tensors: dict, expected: dict) -> None:
    """`optim.{i}.{key}`: Adam state of the i-th parameter, float32, shaped like it (step: one number)."""
    shapes = list(expected.values())
    seen: dict[int, set] = {}
    for name in tensors:
        if name.startswith(("model.", "spm.")):
            continue
        match = OPTIM_NAME.fullmatch(name)
        if not match or int(match[1]) >= len(shapes) or match[2] not in OPTIM_KEYS:
            raise CheckpointError.of("ckpt_unexpected_tensor", name=repr(name))
        i, key = int(match[1]), match[2]
        _check_tensor(name, tensors[name], ("F32",), (1,) if key == "step" else shapes[i])
        seen.setdefault(i, set()).add(key)
    for i, keys in seen.items():
        if keys != set(OPTIM_KEYS):
            raise CheckpointError.of("ckpt_optimizer_incomplete", i=i, keys=sorted(keys))


def _vocabs(f, tensors: dict, m: _Meta) -> tuple[Vocab, Vocab]:
    try:
        src = Vocab.from_bytes(f.get_tensor("spm.src").numpy().tobytes(), m.tok.src_normalize)
        tgt = Vocab.from_bytes(f.get_tensor("spm.tgt").numpy().tobytes(), m.tok.tgt_normalize) \
            if "spm.tgt" in tensors else src
    except (RuntimeError, OSError) as err:
        raise CheckpointError.of("ckpt_spm_corrupt", reason=str(err).strip()) from None
    for side, vocab, rows in ((Text("side_source"), src, m.cfg.src_vocab),
                              (Text("side_target"), tgt, m.cfg.tgt_vocab)):
        if len(vocab) != rows:
            raise CheckpointError.of("ckpt_vocab_rows", side=side, n=len(vocab), rows=rows)
        specials = (vocab.sp.pad_id(), vocab.sp.unk_id(), vocab.sp.bos_id(), vocab.sp.eos_id())
        if specials != (PAD, UNK, SOS, EOS):
            raise CheckpointError.of("ckpt_specials", side=side, ids=specials, expected=(PAD, UNK, SOS, EOS))
    return src, tgt


def _finite(name: str, value: torch.Tensor) -> torch.Tensor:
    if not bool(torch.isfinite(value).all()):
        raise CheckpointError.of("ckpt_not_finite", name=name)
    return value


def _model(f, cfg: ModelConfig) -> Seq2Seq:
    model = Seq2Seq(cfg)
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(_finite(f"model.{name}", f.get_tensor(f"model.{name}")))  # float16 files: converted here
    return model.eval()


def optimizer_state(tensors: dict) -> dict:
    """Rebuild Adam's per-parameter state from `optim.{i}.{key}` tensors."""
    state: dict[int, dict] = {}
    for key, value in tensors.items():
        _, i, name = key.split(".", 2)
        state.setdefault(int(i), {})[name] = value.reshape(()) if name == "step" else value
    return state


def _optimizer(f, tensors: dict) -> dict | None:
    optim = {k: _finite(k, f.get_tensor(k)) for k in tensors if k.startswith("optim.")}
    if any(bool(v.item() < 0) for k, v in optim.items() if k.endswith(".step")):
        raise CheckpointError.of("ckpt_negative_step")
    return optimizer_state(optim) or None


def _open(path: Path):
    if not path.is_file():
        raise CheckpointError.of("ckpt_not_found")
    try:
        f = safe_open(str(path), framework="pt")
        meta = f.metadata() or {}
        tensors = {k: (f.get_slice(k).get_dtype(), tuple(f.get_slice(k).get_shape())) for k in f.keys()}
    except Exception as err:  # safetensors raises several types for truncated or foreign files
        raise CheckpointError.of("ckpt_not_safetensors", reason=str(err)[:120]) from None
    return f, meta, tensors


def _load(path: Path) -> Checkpoint:
    f, meta, tensors = _open(path)
    with f:
        m = _metadata(meta)
        expected = _expected_shapes(m.cfg)
        _check_weights(tensors, expected)
        _check_spm(tensors, m.cfg.joint_vocab)
        _check_optimizer(tensors, expected)
        src, tgt = _vocabs(f, tensors, m)
        model = _model(f, m.cfg)
        optim = _optimizer(f, tensors)
    return Checkpoint(model, src, tgt, m.tok, m.train, m.info, m.progress, optim)


def load(path: str | Path) -> Checkpoint:
    """Read a checkpoint; raises CheckpointError (one line naming the file) on anything unexpected.

    The error is raised here, outside any handler, so neither its context nor its traceback keeps a
    half-built model alive (the app would otherwise hold gigabytes per hostile file)."""
    path = Path(path)
    try:
        return _load(path)
    except CheckpointError as err:
        problem = err.text or _line(str(err))  # the message, not the error: its traceback holds the model
    raise CheckpointError.of("ckpt_refused", file=_line(str(path), 1000), problem=problem)


def restore_optimizer(optimizer: torch.optim.Optimizer, state: dict, device) -> None:
    """Load Adam state saved by `save(..., optimizer=...)`."""
    sd = optimizer.state_dict()
    sd["state"] = {i: {k: v.to(device) for k, v in s.items()} for i, s in state.items()}
    optimizer.load_state_dict(sd)
