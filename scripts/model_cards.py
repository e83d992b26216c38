"""Write checkpoints/README.md: one model card per shipped checkpoint, from its own metadata and
checkpoints/results.json (made by scripts/evaluate_shipped.py). Nothing in the cards is typed by hand.

    python scripts/model_cards.py
"""
import json
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from s2s import checkpoint  # noqa: E402

DATA = {
    "zh-en": ("Tatoeba cmn-eng, 2021-07-14 release subset (25,316 pairs; manythings.org/anki from tatoeba.org). "
              "Licence CC-BY 2.0 (France); attribution: www.manythings.org/anki and tatoeba.org, each sentence's "
              "authors are named in the source file. Fixed grouped split by `scripts/prepare_data.py`: "
              "22,925 train / 1,204 valid / 1,187 test pairs; Chinese normalized to simplified with OpenCC (t2s)."),
    "de-en": ("Multi30k task 1 (Elliott, Frank, Sima'an, Specia 2016), German -> English image descriptions: "
              "train 29,000 / val 1,014 / test_2016_flickr 1,000. For research and education."),
}
PURPOSE = {
    "zh-en-classic": "The seed lesson's model: the encoder's final (h, c) is the only thing the decoder sees.",
    "zh-en-attention": "The same plus Luong (general) attention over the encoder states: the bottleneck's remedy.",
    "zh-en-scheduled": "The classic model fine-tuned with scheduled sampling: the exposure-bias remedy.",
    "de-en-classic": "The classic context-vector model on Multi30k.",
    "de-en-attention": "The attention model on Multi30k.",
}

HISTORY = {  # how each run ended: facts from runs/<name>.log that the checkpoint alone does not tell
    "zh-en-classic": "Trained with `--threads 1` beside another training job on a 2-core Xeon; stopped by hand during "
                     "epoch 12 (session time; validation loss was still falling ~0.03 per epoch), best = epoch 11.",
    "zh-en-attention": "Trained with `--threads 1` beside another training job on a 2-core Xeon; stopped by hand during "
                       "epoch 12 after the first epoch without improvement; best = epoch 10.",
    "de-en-attention": "Trained with `--threads 2` alone on a 2-core Xeon; stopped by hand during epoch 10 "
                       "(session time; validation loss was still falling ~0.04 per epoch), best = epoch 9.",
    "de-en-classic": "Trained with `--threads 2` on a 2-core Xeon, mostly alone (the minutes above include ~20 "
                     "minutes paused for benchmarks); stopped by hand during epoch 18 (session time; validation loss "
                     "improved by < 0.001 in epoch 17 after 0.04 and 0.02 in the two before), best = epoch 17.",
    "zh-en-scheduled": "zh-en-classic (epoch 11) fine-tuned 3 more epochs with scheduled sampling: per step and per "
                       "sentence the gold token is fed with probability 1 -> 0.5 (inverse-sigmoid decay, floor 0.5), "
                       "else the model's own previous argmax; `--keep last` (teacher-forced validation loss is not "
                       "the target here). Part of its gain over zh-en-classic is simply 3 more epochs.",
}


LOSS = ("- Loss: cross-entropy averaged over target tokens with label smoothing 0.1 as implemented when it was "
        "trained (before 2026-11-29): the 0.1 was spread over the whole vocabulary, <pad> and <sos> included. The "
        "current code spreads it over the tokens the model can emit only; the checkpoint was not retrained with it "
        "(no validation comparison has been run yet).")
OLD_SCHEDULED_SAMPLING = ("- Scheduled sampling as implemented then: the fed-back token was the model's unmasked argmax "
                          "(it could be <pad> or <sos>; the current code feeds greedy search's choice), and the "
                          "inverse-sigmoid ratio started at 0.991 and reached its 0.5 floor at update 539 of 1,077 "
                          "(the current schedule starts at exactly 1 and reaches the floor at the last update).")


def card(path: Path, results: dict) -> str:
    ckpt = checkpoint.load(path)
    cfg, tok, train, info = ckpt.model.cfg, ckpt.tokenizer, ckpt.train, ckpt.info
    params = sum(p.numel() for p in ckpt.model.parameters())
    res = results.get(path.stem)
    scores = (f"| greedy | {res['greedy']['bleu']} | {res['greedy']['chrf']} |\n"
              f"| beam 5 | {res['beam5']['bleu']} | {res['beam5']['chrf']} |\n") if res else "| (not evaluated yet) | | |\n"
    progress = ckpt.progress
    lines = [
        f"## {path.stem}", "", PURPOSE.get(path.stem, ""), "",
        f"- Data: {DATA.get(path.stem[:5], info.get('note', ''))}",
        f"- Model: {cfg.layers}-layer LSTM encoder and decoder, hidden {cfg.hidden}, embeddings {cfg.emb}, "
        f"attention `{cfg.attention}`, dropout {cfg.dropout}, tied target embeddings/output: {cfg.tie_embeddings}; "
        f"{params / 1e6:.1f}M parameters, stored in float16 ({path.stat().st_size / 2**20:.1f} MiB).",
        f"- Vocabulary: sentencepiece {tok.model_type}, "
        + (f"joint {len(ckpt.src_vocab)} pieces" if tok.joint else
           f"source {len(ckpt.src_vocab)} / target {len(ckpt.tgt_vocab)} pieces")
        + (f", source normalized `{tok.src_normalize}`" if tok.src_normalize != "none" else "") + ".",
        f"- Training: {json.dumps(train.to_dict()) if train else 'n/a'}",
        f"- Best validation loss {progress.best_valid:.3f} after {progress.epoch} epochs / {progress.step} updates; "
        f"{info.get('train_seconds', 0) / 60:.0f} minutes on {info.get('device', 'cpu')} "
        f"({info.get('hardware', platform.processor() or 'x86_64, 2 cores')})."
        + (f" Fine-tuned from `{info['fine_tuned_from']}`." if info.get("fine_tuned_from") else "")
        if progress else "- Training progress: n/a",
        f"- {HISTORY[path.stem]}" if path.stem in HISTORY else "",
        LOSS if train and train.label_smoothing else "",
        OLD_SCHEDULED_SAMPLING if train and train.schedule != "constant" else "",
        "", f"Scores on {res['split'] if res else 'the test split'} (sacreBLEU, cased, detokenized, 13a):", "",
        "| decoding | BLEU | chrF |", "|---|---|---|", scores,
    ]
    return "\n".join(lines)


def main() -> None:
    results_path = ROOT / "checkpoints/results.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    paths = sorted((ROOT / "checkpoints").glob("*.s2s"))
    head = ("# Shipped checkpoints\n\nEach file is one self-describing safetensors checkpoint (weights, configs, "
            "sentencepiece models); loading never unpickles anything. Reproduce them with "
            "`bash scripts/train_shipped.sh <name>` and score them with `python scripts/evaluate_shipped.py`; "
            "this page is generated by `python scripts/model_cards.py`.\n\n")
    (ROOT / "checkpoints/README.md").write_text(head + "\n".join(card(p, results) for p in paths))
    print(f"wrote model cards for {len(paths)} checkpoints")


if __name__ == "__main__":
    main()
