"""bench/common.py names the CPU of every result precisely enough to tell two machines called "AMD EPYC" apart."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from common import cpu_identity  # noqa: E402

EPYC = """processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 17
model name\t: AMD EPYC
stepping\t: 1
cpu MHz\t\t: 2596.138
cache size\t: 1024 KB
flags\t\t: fpu sse avx2 avx512f avx512_bf16 avx512bw

processor\t: 1
model name\t: AMD EPYC
"""
XEON = """model name\t: Intel(R) Xeon(R) Processor
cpu family\t: 6
model\t\t: 143
flags\t\t: avx2 avx512f amx_bf16 amx_tile
"""


def test_cpu_identity_names_family_model_and_bf16_flags():
    assert cpu_identity(EPYC) == {"cpu": "AMD EPYC", "family": 25, "model": 17, "stepping": 1, "mhz": 2596,
                                  "bf16": ["avx512_bf16"]}
    xeon = cpu_identity(XEON)
    assert xeon["cpu"] == "Intel(R) Xeon(R) Processor" and (xeon["family"], xeon["model"]) == (6, 143)
    assert xeon["bf16"] == ["amx_bf16"] and "stepping" not in xeon


def test_cpu_identity_of_an_unreadable_cpuinfo_is_empty():
    assert cpu_identity("") == {"cpu": "", "bf16": []}


def test_report_does_not_credit_bf16_decoding_on_a_cpu_that_ran_it_in_fp32():
    """On a CPU without native bf16, `--precision bf16` decodes in fp32: its 100% agreement is fp32's own, so the
    report must say so instead of ticking the bf16 goal."""
    from report import decoding_kernel_rows

    def row(bf16_flags):
        kernel = {"bleu": 30.0, "bleu_change": 0.0, "same_tokens": 1.0}
        return {"bench": "quantized_quality", "model": "m", "strategy": "greedy", "sentences": 10,
                "plain": {"bleu": 30.0}, "bf16": kernel, "int8": {**kernel, "same_tokens": 0.8},
                "machine": {"nproc": 2, "cpu": "AMD EPYC", "bf16": bf16_flags, "torch": "2.13.0+cpu", "loadavg": 2.0},
                "command": "python bench/quantized.py"}

    avx2, = decoding_kernel_rows([row([])])
    assert "bf16: runs fp32 here" in avx2[1] and "bf16: BLEU" not in avx2[1]
    assert "int8: BLEU 30.0 (+0.0), same tokens 80.0% ❌" in avx2[1]
    native, = decoding_kernel_rows([row(["avx512_bf16"])])
    assert "bf16: BLEU 30.0 (+0.0), same tokens 100.0% ✅" in native[1]


def test_report_names_what_each_precision_resolved_to_and_what_the_app_ran():
    """Rows since fp16 record what each --precision resolved to and the app's choice (auto): a kernel that ran as
    fp32 is not credited, and the latency goal is judged on what the app runs."""
    from report import decoding_kernel_rows

    kernel = {"bleu": 30.0, "bleu_change": -0.1, "same_tokens": 0.99}
    machine = {"nproc": 2, "cpu": "AMD EPYC", "bf16": [], "torch": "2.13.0+cpu", "loadavg": 2.0}
    resolved = {"fp32": "fp32", "fp16": "fp16", "bf16": "fp32", "int8": "int8"}
    quality = {"bench": "quantized_quality", "model": "m", "strategy": "beam", "sentences": 10,
               "plain": {"bleu": 30.1}, "fp16": kernel, "bf16": kernel, "int8": kernel, "resolved": resolved,
               "app": "fp16", "machine": machine, "command": "python bench/quantized.py"}
    ms = {k: {"median_ms": v, "p95_ms": v + 1} for k, v in
          {"plain": 90.0, "fp32": 80.0, "fp16": 24.0, "bf16": 80.0, "int8": 20.0}.items()}
    latency = {"bench": "quantized_latency", "model": "m", "threads": 1, "resolved": resolved, "app": "fp16",
               "machine": machine, "command": "python bench/quantized.py", **ms}
    lat, qual = decoding_kernel_rows([latency, quality])
    assert "fp16: BLEU 30.0 (-0.1), same tokens 99.0% ✅" in qual[1]
    assert "bf16: runs fp32 here (no native bf16)" in qual[1]
    assert "fp32 80.0 → fp16 24.0" in lat[1]
    assert "the app's (fp16): 24.0 / p95 25.0 ✅" in lat[1]
    no_fp16 = {**quality, "resolved": {**resolved, "fp16": "fp32"}}
    assert "fp16: runs fp32 here (no fp16-weight product)" in decoding_kernel_rows([no_fp16])[0][1]
