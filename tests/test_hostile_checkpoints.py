"""Hostile checkpoints (issue 12 §2, §3, §7): every bad file is refused from its header, quickly, with one
line naming the file, by the loader, the CLI and the app's loader, and without keeping memory behind."""
from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors import safe_open
from safetensors.torch import save_file

from s2s import checkpoint
from s2s.__main__ import main
from s2s.config import ModelConfig, TrainConfig
from s2s.model import Seq2Seq
from s2s.train import Progress

from conftest import TOY_PAIRS

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "checkpoints").glob("*.s2s"))


# ---------------------------------------------------------------- building files


def read_parts(path: Path) -> tuple[dict, dict]:
    with safe_open(str(path), framework="pt") as f:
        return dict(f.metadata()), {k: f.get_tensor(k) for k in f.keys()}


def write_parts(path: Path, meta: dict, tensors: dict) -> Path:
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(path), metadata=meta)
    return path


@pytest.fixture(scope="module")
def base_file(toy_checkpoint, tmp_path_factory) -> Path:
    """A valid resumable checkpoint: the toy model plus train config, progress (NaN and inf inside, as real
    runs write them) and Adam state after one update."""
    ckpt = checkpoint.load(toy_checkpoint)
    optimizer = torch.optim.Adam(ckpt.model.parameters(), lr=1e-3)
    sum(p.sum() for p in ckpt.model.parameters()).backward()
    optimizer.step()
    ckpt.train = TrainConfig(epochs=3)
    ckpt.progress = Progress(epoch=1, step=1, history=[[1, 2.5, math.nan]])
    ckpt.info = {"note": "toy", "train_seconds": 1.5}
    path = tmp_path_factory.mktemp("base") / "base.s2s"
    checkpoint.save(path, ckpt, optimizer=optimizer)
    return path


def model_json(**changes):
    def mutate(meta, tensors):
        meta["model"] = json.dumps({**json.loads(meta["model"]), **changes})
    return mutate


def patch_json(key: str, **changes):
    def mutate(meta, tensors):
        meta[key] = json.dumps({**json.loads(meta[key]), **changes})
    return mutate


def raw_meta(key: str, text: str):
    def mutate(meta, tensors):
        meta[key] = text
    return mutate


def tensor(name: str, fn):
    def mutate(meta, tensors):
        tensors[name] = fn(tensors[name])
    return mutate


def drop(name: str):
    def mutate(meta, tensors):
        del tensors[name]
    return mutate


def add(name: str, value: torch.Tensor):
    def mutate(meta, tensors):
        tensors[name] = value
    return mutate


def with_value(index, value):
    def fn(t):
        t = t.clone()
        t.view(-1)[index] = value
        return t
    return fn


def smaller_source_vocab(meta, tensors):
    """Config and embedding agree with each other (one row fewer), but not with the sentencepiece model."""
    cfg = json.loads(meta["model"])
    meta["model"] = json.dumps({**cfg, "src_vocab": cfg["src_vocab"] - 1})
    tensors["model.encoder.embedding.weight"] = tensors["model.encoder.embedding.weight"][:-1]
    for name in [k for k in tensors if k.startswith("optim.")]:  # Adam state would not match either
        del tensors[name]


WEIGHT = "model.decoder.rnn.weight_hh_l0"
HOSTILE = {  # name: (mutation, what the one-line message must say)
    "hidden 6000": (model_json(hidden=6000), "model: hidden must be in"),
    "hidden 10^9": (model_json(hidden=10**9), "model: hidden must be in"),
    "layers 300": (model_json(layers=300), "model: layers must be in"),
    "layers 10^6": (model_json(layers=10**6), "model: layers must be in"),
    "src_vocab 10^12": (model_json(src_vocab=10**12), "model: src_vocab must be in"),
    "sizes within the caps but not the tensors'": (model_json(hidden=4096, emb=2048), "has shape"),
    "float hidden": (model_json(hidden=32.0), "model field hidden has a wrong type"),
    "model config is a JSON list": (raw_meta("model", "[32, 1]"), "model must be a JSON object, got list"),
    "model config is not JSON": (raw_meta("model", "{hidden: 1"), "model is not JSON"),
    "model config nested too deep": (raw_meta("model", "[" * 100_000 + "]" * 100_000), "model is not JSON"),
    "no model config": (lambda meta, tensors: meta.pop("model"), "no model configuration"),
    "yes for a bool": (model_json(tie_embeddings="yes"), "tie_embeddings has a wrong type"),
    "unknown model field": (model_json(hiden=32), "model has unknown field 'hiden'"),
    "joint_vocab disagrees with the tokenizer": (patch_json("tokenizer", joint=True), "joint"),
    "vocabulary size != embedding rows": (smaller_source_vocab, "vocabulary has"),
    "tokenizer wrong type": (patch_json("tokenizer", src_vocab_size="8000"), "tokenizer field src_vocab_size"),
    "progress unknown key": (patch_json("progress", extra=1), "progress has unknown field 'extra'"),
    "progress wrong type": (patch_json("progress", step="5"), "progress field step"),
    "progress negative counter": (patch_json("progress", epoch=-1), "progress field epoch"),
    "progress best_valid NaN": (raw_meta("progress", '{"best_valid": NaN}'), "progress field best_valid"),
    "progress history of objects": (patch_json("progress", history=[{"a": 1}]), "progress field history"),
    "progress is a list": (raw_meta("progress", "[]"), "progress must be a JSON object"),
    "train unknown key": (patch_json("train", warmup=10), "train has unknown field 'warmup'"),
    "train wrong type": (patch_json("train", lr="fast"), "train field lr"),
    "train float epochs": (patch_json("train", epochs=2.5), "train field epochs"),
    "train huge integer for a float": (patch_json("train", lr=10**400), "train field lr"),
    "train infinite float": (raw_meta("train", '{"clip": Infinity}'), "train field clip"),
    "train out of range": (patch_json("train", batch_size=0), "train: batch"),
    "info is a list": (raw_meta("info", "[]"), "info must be a JSON object"),
    "info nested": (patch_json("info", scores={"bleu": 1}), "info field 'scores'"),
    "info train_seconds text": (patch_json("info", train_seconds="long"), "train_seconds"),
    "unknown metadata entry": (raw_meta("exec", "print(1)"), "unknown entry 'exec'"),
    "format missing": (lambda meta, tensors: meta.pop("format"), "not a Seq2Seq Playground checkpoint"),
    "optimizer state of the wrong shape": (tensor("optim.0.exp_avg", lambda t: t.reshape(-1)[:3]), "has shape"),
    "optimizer unknown key": (add("optim.0.momentum", torch.zeros(1)), "unexpected tensor 'optim.0.momentum'"),
    "optimizer index out of range": (add("optim.999.step", torch.zeros(1)), "unexpected tensor 'optim.999.step'"),
    "optimizer state incomplete": (drop("optim.0.exp_avg_sq"), "optimizer state of parameter 0 is incomplete"),
    "optimizer NaN": (tensor("optim.1.exp_avg", with_value(0, math.nan)), "NaN or infinite"),
    "optimizer negative step": (tensor("optim.0.step", lambda t: -t), "step count is negative"),
    "optimizer int64": (tensor("optim.0.exp_avg_sq", lambda t: t.long()), "dtype I64"),
    "NaN weight": (tensor(WEIGHT, with_value(5, math.nan)), f"tensor {WEIGHT} contains NaN or infinite values"),
    "Inf weight": (tensor(WEIGHT, with_value(-1, math.inf)), "NaN or infinite"),
    "int64 weight": (tensor(WEIGHT, lambda t: t.long()), f"tensor {WEIGHT} has dtype I64, expected F16 or F32"),
    "float64 weight": (tensor(WEIGHT, lambda t: t.double()), "dtype F64"),
    "weight transposed": (tensor(WEIGHT, lambda t: t.t()), "has shape"),
    "weight missing": (drop(WEIGHT), "weights do not match"),
    "sentencepiece as float": (tensor("spm.src", lambda t: t.float()), "spm.src must be"),
    "sentencepiece garbage": (tensor("spm.src", lambda t: torch.full_like(t, 7)), "sentencepiece model corrupt"),
    "sentencepiece missing": (drop("spm.src"), "sentencepiece model missing"),
    "unknown tensor": (add("evil", torch.zeros(2)), "unexpected tensor 'evil'"),
}


def hostile(base: Path, folder: Path, name: str) -> Path:
    meta, tensors = read_parts(base)
    HOSTILE[name][0](meta, tensors)
    return write_parts(folder / (name.replace(" ", "_").replace("/", "_") + ".s2s"), meta, tensors)


def refusal(path: Path) -> str:
    with pytest.raises(checkpoint.CheckpointError) as info:
        checkpoint.load(path)
    return str(info.value)


# ---------------------------------------------------------------- what must still load


def test_the_base_file_loads_with_its_metadata_and_optimizer(base_file):
    ckpt = checkpoint.load(base_file)
    assert ckpt.train == TrainConfig(epochs=3)
    assert ckpt.progress.step == 1 and ckpt.progress.best_valid == math.inf
    assert ckpt.progress.history[0][:2] == [1, 2.5] and math.isnan(ckpt.progress.history[0][2])
    assert ckpt.info == {"note": "toy", "train_seconds": 1.5}
    params = list(ckpt.model.parameters())
    assert sorted(ckpt.optimizer) == list(range(len(params)))
    optimizer = torch.optim.Adam(params)
    checkpoint.restore_optimizer(optimizer, ckpt.optimizer, "cpu")
    assert optimizer.state[params[0]]["step"].item() == 1


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_checkpoints_still_load(path):
    ckpt = checkpoint.load(path)
    cfg = ckpt.model.cfg
    assert (cfg.src_vocab, cfg.tgt_vocab) == (len(ckpt.src_vocab), len(ckpt.tgt_vocab))
    assert cfg.joint_vocab == ckpt.tokenizer.joint  # older files lack the field: taken from the tokenizer
    assert cfg.tie_embeddings and next(ckpt.model.parameters()).dtype == torch.float32


def test_an_older_file_without_joint_vocab_still_loads(base_file, tmp_path):
    meta, tensors = read_parts(base_file)
    cfg = json.loads(meta["model"])
    del cfg["joint_vocab"]
    meta["model"] = json.dumps(cfg)
    assert checkpoint.load(write_parts(tmp_path / "old.s2s", meta, tensors)).model.cfg.joint_vocab is False


# ---------------------------------------------------------------- every hostile file: refused, quickly, one line


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_checkpoint_is_refused_quickly_with_one_line(base_file, tmp_path, name):
    path = hostile(base_file, tmp_path, name)
    began = time.perf_counter()
    message = refusal(path)
    assert time.perf_counter() - began < 3.0
    assert message.startswith(f"{path}: ") and "\n" not in message and len(message) < 500
    assert HOSTILE[name][1] in message


@pytest.mark.parametrize("name", HOSTILE)
def test_cli_translate_and_init_from_exit_2_with_one_line(base_file, tmp_path, capsys, name):
    path = hostile(base_file, tmp_path, name)
    corpus = tmp_path / "corpus.tsv"
    corpus.write_text("".join(f"{s}\t{t}\n" for s, t in TOY_PAIRS), encoding="utf-8")
    out = tmp_path / "out" / "model.s2s"
    for argv in (["translate", "--model", str(path)],
                 ["train", "--train", str(corpus), "--out", str(out), "--init-from", str(path), "--device", "cpu"]):
        assert main(argv) == 2
        captured = capsys.readouterr()
        lines = captured.err.splitlines()
        assert len(lines) == 1 and str(path) in lines[0] and HOSTILE[name][1] in lines[0], (argv, captured.err)
        assert captured.out == ""
    assert not out.exists()


def test_a_newline_in_the_file_name_stays_one_line(base_file, tmp_path):
    folder = tmp_path / "two\nlines"
    folder.mkdir()
    message = refusal(hostile(base_file, folder, "float hidden"))
    assert "\n" not in message and "two\\nlines" in message


def test_the_refusal_keeps_no_half_built_model(base_file, tmp_path):
    """The model is built before the NaN is found: neither the error's context nor its traceback may hold it."""
    with pytest.raises(checkpoint.CheckpointError) as info:
        checkpoint.load(hostile(base_file, tmp_path, "NaN weight"))
    err = info.value
    assert err.__context__ is None and err.__cause__ is None
    tb, held = err.__traceback__, []
    while tb is not None:
        held += [v for v in tb.tb_frame.f_locals.values() if isinstance(v, (torch.nn.Module, checkpoint.Checkpoint))]
        tb = tb.tb_next
    assert held == []


# ---------------------------------------------------------------- memory: the CLI and the app


MEASURE = ("import os, subprocess, sys\n"
           "child = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)\n"
           "_, status, usage = os.wait4(child.pid, 0)\n"
           "print(usage.ru_maxrss)\n"
           "sys.exit(os.waitstatus_to_exitcode(status))\n")


def run_measured(args: list[str]) -> tuple[int, str, float]:
    """Run a command; (exit code, stderr, its peak RSS in MB). It is started from a small interpreter: a child
    forked from pytest itself would report pytest's own size as its peak."""
    out = subprocess.run([sys.executable, "-c", MEASURE, *args], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    return out.returncode, out.stderr, int(out.stdout) / 1024


@pytest.mark.parametrize("name, command", [("hidden 6000", "translate"), ("layers 300", "train")])
def test_cli_refuses_a_huge_claim_without_allocating_it(base_file, tmp_path, name, command):
    """Before the fix: hidden 6000 cost 3.6 GB and 11 s, layers 300 5.2 GB. Now the peak is the interpreter's."""
    path = hostile(base_file, tmp_path, name)
    corpus = tmp_path / "corpus.tsv"
    corpus.write_text("".join(f"{s}\t{t}\n" for s, t in TOY_PAIRS), encoding="utf-8")
    flags = ["--model", str(path)] if command == "translate" else \
        ["--train", str(corpus), "--out", str(tmp_path / "o.s2s"), "--init-from", str(path), "--device", "cpu"]
    code, err, peak_mb = run_measured([sys.executable, "-m", "s2s", command, *flags])
    print(f"{command} {name}: exit {code}, peak RSS {peak_mb:.0f} MB")
    assert code == 2 and len(err.splitlines()) == 1 and HOSTILE[name][1] in err
    assert peak_mb < 500  # the interpreter with torch: ~230 MB


APP_PROBE = textwrap.dedent("""
    import json, sys
    from demo import models
    from s2s.checkpoint import CheckpointError

    def rss_mb():
        for line in open("/proc/self/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024

    valid, warm, *paths = sys.argv[1:]
    models.get_translator(valid)
    try:
        models.get_translator(warm)  # the allocator's first big block (not a leak)
    except CheckpointError:
        pass
    before = rss_mb()
    kept = []  # keep every error, as a careless server would: they must not hold the models
    for path in paths:
        try:
            models.get_translator(path)
        except CheckpointError as err:
            kept.append(err)
    print(json.dumps({"before": before, "after": rss_mb(), "errors": [str(e) for e in kept],
                      "cached": len(models._cache), "locks": len(models._load_locks)}))
""")


def big_nan_file(base: Path, path: Path) -> Path:
    """A ~33 MB (in float32) model whose last weight holds a NaN: the whole model is built before the refusal."""
    meta, tensors = read_parts(base)
    cfg = ModelConfig.from_dict({**json.loads(meta["model"]), "emb": 256, "hidden": 512, "layers": 2})
    meta["model"] = json.dumps(cfg.to_dict())
    with torch.device("meta"):
        shapes = {n: p.shape for n, p in Seq2Seq(cfg).named_parameters()}
    weights = {f"model.{n}": torch.zeros(s, dtype=torch.float16) for n, s in shapes.items()}
    weights[f"model.{list(shapes)[-1]}"].view(-1)[-1] = math.nan
    spm = {k: v for k, v in tensors.items() if k.startswith("spm.")}
    return write_parts(path, meta, {**weights, **spm})


def test_app_memory_does_not_grow_over_10_hostile_loads(base_file, toy_checkpoint, tmp_path):
    big = big_nan_file(base_file, tmp_path / "big_nan.s2s")
    claims = [hostile(base_file, tmp_path, n) for n in
              ("hidden 6000", "hidden 10^9", "layers 300", "layers 10^6", "src_vocab 10^12")]
    paths = [str(p) for p in claims] + [str(big)] * 5  # nothing is cached on failure: 5 full loads of 33 MB
    out = subprocess.run([sys.executable, "-c", APP_PROBE, str(toy_checkpoint), str(big), *paths], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads(out.stdout.splitlines()[-1])
    growth = report["after"] - report["before"]
    print(f"app RSS {report['before']:.0f} MB -> {report['after']:.0f} MB over 10 hostile loads (+{growth:.0f} MB)")
    assert len(report["errors"]) == 10 and all("\n" not in e for e in report["errors"])
    assert sum("NaN or infinite" in e for e in report["errors"]) == 5
    assert report["cached"] == 1 and report["locks"] == 1  # only the valid model
    assert growth < 100


# ---------------------------------------------------------------- fuzzing the header and metadata

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                    max_leaves=6)
META_KEYS = ["format", "model", "tokenizer", "train", "progress", "info", "other"]
FIELDS = ["src_vocab", "tgt_vocab", "emb", "hidden", "layers", "dropout", "attention", "tie_embeddings",
          "joint_vocab", "joint", "src_vocab_size", "epochs", "lr", "step", "epoch", "best_valid", "history",
          "train_seconds", "note", "new"]
DTYPES = [torch.float16, torch.float32, torch.float64, torch.bfloat16, torch.int64, torch.int32, torch.uint8,
          torch.bool]


@st.composite
def metadata_mutation(draw):
    key, how = draw(st.sampled_from(META_KEYS)), draw(st.sampled_from(["replace", "set", "delete field", "drop"]))
    value, field = draw(JSON), draw(st.sampled_from(FIELDS))

    def mutate(meta, tensors):
        try:
            obj = json.loads(meta.get(key) or "null")
        except ValueError:  # the format string is not JSON
            obj = None
        if how == "drop":
            meta.pop(key, None)
        elif how == "replace" or not isinstance(obj, dict):
            meta[key] = json.dumps(value)
        else:
            obj.pop(field, None) if how == "delete field" else obj.__setitem__(field, value)
            meta[key] = json.dumps(obj)
    return mutate


@st.composite
def tensor_mutation(draw):
    how = draw(st.sampled_from(["dtype", "reshape", "drop", "rename", "add"]))
    index, dtype = draw(st.integers(0, 10**6)), draw(st.sampled_from(DTYPES))
    new_name = draw(st.sampled_from(["model.x", "optim.0.step", "optim.00.step", "optim.1.exp_avg", "spm.tgt",
                                     "model.decoder.out.weight", "optim.7.max_exp_avg_sq", "x"]))

    def mutate(meta, tensors):
        name = sorted(tensors)[index % len(tensors)]
        if how == "dtype":
            tensors[name] = tensors[name].to(dtype)
        elif how == "reshape":
            tensors[name] = tensors[name].reshape(-1)[: index % (tensors[name].numel() + 1)]
        elif how == "drop":
            del tensors[name]
        elif how == "rename":
            tensors[new_name] = tensors.pop(name)
        else:
            tensors[new_name] = torch.zeros(index % 5 + 1, dtype=dtype)
    return mutate


def outcome(path: Path) -> str:
    try:
        ckpt = checkpoint.load(path)
    except checkpoint.CheckpointError as err:
        message = str(err)
        assert message.startswith(f"{path}: ") and "\n" not in message
        return "refused"
    assert all(bool(torch.isfinite(p).all()) for p in ckpt.model.parameters())
    assert (ckpt.model.cfg.src_vocab, ckpt.model.cfg.tgt_vocab) == (len(ckpt.src_vocab), len(ckpt.tgt_vocab))
    return "loaded"


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@settings(max_examples=120, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutations=st.lists(metadata_mutation() | tensor_mutation(), min_size=1, max_size=3))
def test_fuzz_metadata_and_tensor_table(base_file, fuzz_dir, mutations):
    meta, tensors = read_parts(base_file)
    for mutate in mutations:
        mutate(meta, tensors)
    if not tensors:
        tensors["x"] = torch.zeros(1)
    outcome(write_parts(fuzz_dir / "fuzz.s2s", meta, tensors))


@settings(max_examples=200, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.tuples(st.integers(0, 10**9), st.integers(0, 255)), min_size=1, max_size=4))
def test_fuzz_raw_header_bytes(base_file, fuzz_dir, edits):
    """Overwrite bytes of the length prefix and the JSON header: a safetensors error, a refusal, or a load."""
    data = bytearray(base_file.read_bytes())
    header_end = 8 + int.from_bytes(data[:8], "little")
    for position, value in edits:
        data[position % header_end] = value
    path = fuzz_dir / "raw.s2s"
    path.write_bytes(bytes(data))
    outcome(path)


def test_fuzzing_reaches_both_outcomes(base_file, fuzz_dir):
    """The fuzz properties are not vacuous: a harmless edit still loads (dropout), a harmful one is refused."""
    meta, tensors = read_parts(base_file)
    model_json(dropout=0.5)(meta, tensors)
    assert outcome(write_parts(fuzz_dir / "ok.s2s", meta, tensors)) == "loaded"
    model_json(dropout=1.5)(meta, tensors)
    assert outcome(write_parts(fuzz_dir / "bad.s2s", meta, tensors)) == "refused"
