"""Train the sentencepiece BPE vocabularies both systems share (8k German + 8k English), once.

Both sides get the same pieces from the same data and settings; only the special ids differ:
ours pad=0 unk=1 <sos>=2 <eos>=3, JoeyNMT's unk=0 pad=1 <s>=2 </s>=3. So every ordinary piece has the same id
in both. Also writes JoeyNMT's vocabulary files (every piece of the model, one a line, in id order) and checks
that the two piece lists agree.

    python bench/prepare.py [--vocab 8000]
"""
from __future__ import annotations

import argparse
import json

import sentencepiece as spm

from common import SRC, TGT, VOCAB, WORK, corpus, read_lines

SPECIALS = {  # (pad, unk, bos, eos) ids and pieces
    "ours": dict(pad_id=0, unk_id=1, bos_id=2, eos_id=3,
                 pad_piece="<pad>", unk_piece="<unk>", bos_piece="<sos>", eos_piece="<eos>"),
    "joey": dict(unk_id=0, pad_id=1, bos_id=2, eos_id=3,
                 unk_piece="<unk>", pad_piece="<pad>", bos_piece="<s>", eos_piece="</s>"),
}


def train(texts: list[str], size: int, who: str) -> bytes:
    import io

    model = io.BytesIO()
    # the settings of s2s.tokenizer._train_sp, with each system's special ids
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(texts), model_writer=model, vocab_size=size, model_type="bpe",
        hard_vocab_limit=False, character_coverage=0.9995, input_sentence_size=2_000_000,
        shuffle_input_sentence=True, minloglevel=2, num_threads=1, **SPECIALS[who])
    return model.getvalue()


def pieces(data: bytes) -> list[str]:
    sp = spm.SentencePieceProcessor()
    sp.LoadFromSerializedProto(data)
    return [sp.id_to_piece(i) for i in range(sp.get_piece_size())]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--vocab", type=int, default=VOCAB)
    args = p.parse_args()
    out = WORK / "spm"
    out.mkdir(parents=True, exist_ok=True)
    src_file, tgt_file = corpus("train")
    report = {}
    for lang, path in ((SRC, src_file), (TGT, tgt_file)):
        texts = [t.strip() for t in read_lines(path) if t.strip()]
        ours, joey = train(texts, args.vocab, "ours"), train(texts, args.vocab, "joey")
        (out / f"ours.{lang}.model").write_bytes(ours)
        (out / f"joey.{lang}.model").write_bytes(joey)
        ours_p, joey_p = pieces(ours), pieces(joey)
        (out / f"joey.{lang}.vocab.txt").write_text("".join(q + "\n" for q in joey_p), encoding="utf-8")
        same = ours_p[4:] == joey_p[4:]
        if not same:
            raise SystemExit(f"{lang}: the two sentencepiece models disagree beyond the specials")
        report[lang] = {"pieces": len(ours_p), "same_pieces": same}
    print(json.dumps({"prepare": report, "dir": str(out)}))


if __name__ == "__main__":
    main()
