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
