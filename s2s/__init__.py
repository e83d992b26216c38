"""Seq2Seq Playground core: an LSTM encoder-decoder, its decoding strategies and training loop.

No UI or plotting library is imported here (or anywhere in the package)."""
