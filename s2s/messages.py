"""The messages of the core's errors: a stable key, its values, and the English template of every key.

An error built as `CorpusError.of("corpus_no_tab", file="c.tsv", line=3)` prints the filled English template (the
CLI shows it as it is) and keeps `.key` and `.values`, so another front end can say the same thing in its own
language: the web demo has a Chinese template for every key here (demo/i18n_errors.py) and renders the error's
`text` with it. A value may itself be a `Text` (a nested reason, or a word such as "source"): it is rendered in the
same language. Values are pre-formatted where the English needs it (`repr`, `:g`); templates hold plain {names}.

Values are made one line (newlines escaped) and clipped: a file name or a field from a hostile file cannot flood a
message, and a nested reason stays short."""
from __future__ import annotations

from dataclasses import dataclass, field

MAX_VALUE = 1000  # characters of one value (a path; a name or value read from a hostile file)
MAX_NESTED = 300  # characters of a nested message (why a checkpoint was refused)

EN = {
    # ---------------------------------------------------------------- corpora (s2s/data.py, s2s/shards.py)
    "corpus_not_found": "{file}: file not found",
    "corpus_too_big": "{file}: file is larger than {mb} MB",
    "corpus_empty": "{file}: file is empty",
    "corpus_binary": "{file}:{line}: binary data (NUL byte), not a text file",
    "corpus_not_utf8": "{file}:{line}: not valid UTF-8 (byte {byte}); save the file as UTF-8",
    "corpus_no_tab": "{file}:{line}: no TAB: expected 'source<TAB>target'",
    "corpus_csv_header": "{file}:{line}: CSV header needs two columns (source,target)",
    "corpus_csv_row": "{file}:{line}: CSV row needs two columns",
    "corpus_csv_malformed": "{file}:{line}: malformed CSV: {reason}",
    "corpus_misaligned": "{file}: has {n} lines but {other} has {m}: the files must be aligned line by line",
    "corpus_no_pairs": "{file}: no sentence pairs with both a source and a target",
    "corpus_fewer_lines": "{file}: has fewer lines than {other} (ends before line {line})",
    "corpus_more_lines": "{file}:{line}: has more lines than {other}: the files must be aligned line by line",
    "corpus_hf_missing": ("{file}: reading a Hugging Face dataset needs the optional package `datasets` "
                          "(pip install datasets)"),
    "corpus_hf_open": "{file}: cannot open the dataset: {reason}",
    "corpus_hf_no_field": "{file}:{line}: row has no field {field} (fields: {fields})",
    "corpus_hf_not_text": "{file}:{line}: the two fields must hold text",
    "corpus_other_plan": ("{file}: holds a different preparation (other sources or settings): "
                          "choose an empty --out folder"),
    "corpus_not_empty": "{file}: is not empty and holds no preparation: choose an empty --out folder",
    "corpus_no_train_pairs": "{file}: the training source has no sentence pairs with both a source and a target",
    "corpus_shard_missing": "{file}: shard {shard} is missing: run prepare again",
    "corpus_shard_size": "{file}: has {size} bytes, its index says {expected}: run prepare again",
    "corpus_not_prepared": ("{file}: is not a prepared corpus (no meta.json): run `python -m s2s prepare` first, "
                            "or let an interrupted prepare finish"),
    "corpus_meta_json": "{file}: is not valid JSON",
    "corpus_meta_format": "{file}: is not a prepared corpus of format {format}",
    # ---------------------------------------------------------------- settings (s2s/config.py)
    "cfg_src_vocab_size": "src_vocab_size must be >= 8, got {value}",
    "cfg_tgt_vocab_size": "tgt_vocab_size must be >= 8, got {value}",
    "cfg_model_type": "model_type must be bpe or unigram, got {value}",
    "cfg_normalize": "{name} must be one of {choices}, got {value}",
    "cfg_integer": "{name} must be an integer, got {value}",
    "cfg_size_range": "{name} must be in [1, {top}], got {value}",
    "cfg_bool": "{name} must be true or false, got {value}",
    "cfg_dropout_number": "dropout must be a number, got {value}",
    "cfg_joint_sizes": "a joint vocabulary has one size, got src_vocab {src} and tgt_vocab {tgt}",
    "cfg_dropout": "dropout must be in [0, 1), got {value}",
    "cfg_attention": "attention must be one of {choices}, got {value}",
    "cfg_strategy": "strategy must be one of {choices}, got {value}",
    "cfg_beam_size": "beam size must be in [1, {top}], got {value}",
    "cfg_n_best": "n-best must be in [1, {top}], got {value}",
    "cfg_seed": "seed must be in [0, {top}], got {value}",
    "cfg_finite": "length penalty and temperature must be finite numbers",
    "cfg_n_best_beam": "n-best ({n}) cannot exceed the beam size ({k})",
    "cfg_length_penalty": "length penalty must be >= 0, got {value}",
    "cfg_temperature": "temperature must be > 0, got {value}",
    "cfg_top_k": "top-k must be >= 0, got {value}",
    "cfg_top_p": "top-p must be in (0, 1], got {value}",
    "cfg_min_len": "min length must be in [0, max length], got {value}",
    "cfg_max_len": "max length must be in [1, {top}], got {value}",
    "cfg_record_top": "record_top must be >= 0, got {value}",
    "cfg_min_p": "min-p must be in [0, 1), got {value}",
    "cfg_repetition_penalty": "repetition penalty must be in [1, 10], got {value}",
    "cfg_no_repeat_ngram": "no-repeat n-gram size must be in [0, 10], got {value}",
    "cfg_beam_groups": "beam groups must divide the beam size ({k}), got {value}",
    "cfg_diversity_penalty": "diversity penalty must be in [0, 100], got {value}",
    "cfg_epochs": "epochs must be >= 1, got {value}",
    "cfg_max_steps": "max steps must be >= 0, got {value}",
    "cfg_batch_size": "batch size must be >= 1, got {value}",
    "cfg_lr": "learning rate must be > 0, got {value}",
    "cfg_clip": "clip must be > 0, got {value}",
    "cfg_label_smoothing": "label smoothing must be in [0, 1), got {value}",
    "cfg_teacher_forcing": "teacher forcing must be in [0, 1], got {value}",
    "cfg_schedule": "schedule must be one of {choices}, got {value}",
    "cfg_schedule_k": "schedule_k must be >= 0, got {value}",
    "cfg_exponential_k": "the exponential schedule needs schedule_k in (0, 1) (ratio = k ** step), got {value}",
    "cfg_inverse_sigmoid_k": ("the inverse-sigmoid schedule needs schedule_k in [1, 1e6] "
                              "(ratio = k / (k + exp(step / k))), got {value}"),
    "cfg_schedule_k_unused": ("schedule_k applies to the exponential and inverse-sigmoid schedules only, "
                              "not {schedule}"),
    "cfg_lr_finite": "learning rate must be finite, got {value}",
    "cfg_patience": "patience must be >= 0, got {value}",
    "cfg_time_limit": "time limit must be >= 0, got {value}",
    "cfg_device": "device must be one of {choices}, got {value}",
    "cfg_precision": "precision must be one of {choices}, got {value}",
    # ---------------------------------------------------------------- checkpoints (s2s/checkpoint.py)
    "ckpt_refused": "{file}: {problem}",
    "ckpt_not_found": "checkpoint not found",
    "ckpt_not_safetensors": "not a safetensors checkpoint ({reason})",
    "ckpt_format": "not a Seq2Seq Playground checkpoint (format {format})",
    "ckpt_not_json": "corrupt checkpoint metadata: {what} is not JSON ({reason})",
    "ckpt_not_object": "corrupt checkpoint metadata: {what} must be a JSON object, got {kind}",
    "ckpt_unknown_field": "corrupt checkpoint metadata: {what} has unknown field {field}",
    "ckpt_wrong_field": ("corrupt checkpoint metadata: {what} field {field} has a wrong type or value "
                         "({value}, expected {expected})"),
    "ckpt_bad_config": "corrupt checkpoint metadata: {what}: {reason}",
    "ckpt_info_object": "corrupt checkpoint metadata: info must be a JSON object of at most {n} fields",
    "ckpt_info_field": "corrupt checkpoint metadata: info field {field} is not a plain value",
    "ckpt_info_seconds": "corrupt checkpoint metadata: info field {field} must be a number >= 0",
    "ckpt_unknown_entry": "corrupt checkpoint metadata: unknown entry {entry}",
    "ckpt_no_config": "corrupt checkpoint metadata: no {what} configuration",
    "ckpt_joint": "corrupt checkpoint metadata: the model and the tokenizer disagree on joint_vocab",
    "ckpt_dtype": "tensor {name} has dtype {dtype}, expected {expected}",
    "ckpt_shape": "tensor {name} has shape {shape}, expected {expected}",
    "ckpt_weights": "weights do not match the model configuration (missing {missing}, unexpected {unexpected})",
    "ckpt_no_spm": "sentencepiece model missing (no spm.src tensor)",
    "ckpt_two_spm": "a joint vocabulary but two sentencepiece models (spm.src and spm.tgt)",
    "ckpt_spm_size": "tensor {name} must be 1 to {max} bytes (uint8), got {dtype} {shape}",
    "ckpt_unexpected_tensor": "unexpected tensor {name}",
    "ckpt_optimizer_incomplete": "optimizer state of parameter {i} is incomplete ({keys})",
    "ckpt_spm_corrupt": "sentencepiece model corrupt ({reason})",
    "ckpt_vocab_rows": "the {side} vocabulary has {n} pieces but the model has {rows} embedding rows",
    "ckpt_specials": "the {side} vocabulary has special ids {ids}, expected {expected}",
    "ckpt_not_finite": "tensor {name} contains NaN or infinite values",
    "ckpt_negative_step": "optimizer step count is negative",
    "side_source": "source",
    "side_target": "target",
    # ---------------------------------------------------------------- training (s2s/train.py)
    "train_loss_not_finite": ("training loss became {value} at update {step}: lower the learning rate (now {lr}); "
                              "no checkpoint was written with it"),
    "train_weights_not_finite": ("the weights became NaN/Inf by update {step}: lower the learning rate (now {lr}); "
                                 "no checkpoint was written with them"),
    "valid_loss_not_finite": ("validation loss became {value} at update {step}: lower the learning rate "
                              "(now {lr}); no checkpoint was written with it"),
}


def clip(text: str, limit: int = MAX_VALUE) -> str:
    """One short line: newlines escaped, long text cut."""
    text = text.replace("\r", "\\r").replace("\n", "\\n")
    return text if len(text) <= limit else text[:limit] + "..."


@dataclass(frozen=True)
class Text:
    """A message: its key and values. Holds plain values only (no exception, no traceback, no model)."""

    key: str
    values: dict = field(default_factory=dict)

    def render(self, table: dict | None = None) -> str:
        """The message in the language of `table` (key -> template); English where the table lacks the key."""
        template = (table or EN).get(self.key) or EN[self.key]
        return template.format(**{name: _value(v, table) for name, v in self.values.items()})

    def __str__(self) -> str:
        return self.render()


def _value(value, table: dict | None) -> str:
    if isinstance(value, Text):
        return clip(value.render(table), MAX_NESTED)
    return clip(str(value))


def reason(err: BaseException) -> Text | str:
    """What an exception says, to nest in another message: its Text when it has one, else its (English) text."""
    return getattr(err, "text", None) or str(err)


def _rebuild(cls, key: str, values: dict):
    return cls.of(key, **values)


class Keyed:
    """Mixin for the core's exceptions: `Error.of(key, **values)` prints the English template of `key` and keeps
    `.text` (key and values). Errors built the old way, from a ready sentence, have no text (key None)."""

    text: Text | None = None

    @classmethod
    def of(cls, key: str, /, **values):
        text = Text(key, values)
        err = cls.__new__(cls)
        Exception.__init__(err, text.render())
        err.text = text
        return err

    @property
    def key(self) -> str | None:
        return self.text.key if self.text else None

    @property
    def values(self) -> dict:
        return dict(self.text.values) if self.text else {}

    def __reduce__(self):  # pickled across a process boundary (a ZeroGPU call) with its key and values
        if self.text is None:
            return super().__reduce__()
        return _rebuild, (type(self), self.text.key, self.text.values)
