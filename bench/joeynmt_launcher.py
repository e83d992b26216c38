"""Run JoeyNMT 2.3.0's own CLI unmodified, with the two stand-ins this machine needs. Run it with the venv's python:

    .venv-joeynmt/bin/python bench/joeynmt_launcher.py --threads 2 train CONFIG [--skip-test]
    .venv-joeynmt/bin/python bench/joeynmt_launcher.py --threads 2 test CONFIG --output-path OUT

- sentencepiece 0.2.3 has no SentencePieceProcessor.SetVocabulary, which JoeyNMT's tokenizer calls. Our vocabulary
  files list every piece of the model in id order, so that call would restrict nothing: a no-op stand-in is exact.
- Python's default SIGINT handler is restored, so a background run stops on `timeout -s INT`.
- torch's intra-op threads are set like our side's (--threads)."""
import signal
import sys

import sentencepiece as spm
import torch

if not hasattr(spm.SentencePieceProcessor, "SetVocabulary"):
    spm.SentencePieceProcessor.SetVocabulary = lambda self, pieces: 0  # no-op: the vocabulary is the whole model

signal.signal(signal.SIGINT, signal.default_int_handler)

threads = 0
if len(sys.argv) > 2 and sys.argv[1] == "--threads":
    threads = int(sys.argv[2])
    del sys.argv[1:3]
if threads:
    torch.set_num_threads(threads)

from joeynmt.__main__ import main  # noqa: E402  (after the stand-in)

sys.argv[0] = "joeynmt"
main()
