"""Teacher-forcing schedules: start at 1, never increase, stay in [floor, 1], end at the floor, for any run length."""
from __future__ import annotations

import random

import pytest

from s2s.config import ConfigError, TrainConfig
from s2s.train import teacher_forcing_ratio

DECAYING = [("linear", 0.0), ("exponential", 0.0), ("exponential", 0.5), ("exponential", 0.999),
            ("inverse-sigmoid", 0.0), ("inverse-sigmoid", 1.0), ("inverse-sigmoid", 5.0), ("inverse-sigmoid", 1e4)]
TOTALS = list(range(1, 21)) + [100, 1000, 10**5, 10**7]


def _steps(total: int) -> list[int]:
    """Every step of short runs; for long ones the ends and a sorted sample of the middle."""
    if total <= 1000:
        return list(range(total))
    rng = random.Random(total)
    return sorted({0, 1, 2, total - 2, total - 1, *(rng.randrange(total) for _ in range(500))})


@pytest.mark.parametrize("schedule,k", DECAYING)
@pytest.mark.parametrize("floor", [0.0, 0.25, 0.75])
def test_every_schedule_runs_from_one_to_its_floor(schedule, k, floor):
    cfg = TrainConfig(teacher_forcing=floor, schedule=schedule, schedule_k=k)
    for total in TOTALS:
        values = [teacher_forcing_ratio(cfg, step, total) for step in _steps(total)]
        assert values[0] == 1.0, (total, values[:3])
        assert all(a >= b for a, b in zip(values, values[1:])), total
        assert all(floor <= v <= 1.0 for v in values), total
        if total > 1:
            assert values[-1] == floor, (total, values[-3:])


@pytest.mark.parametrize("schedule", ["linear", "exponential", "inverse-sigmoid"])
def test_schedules_decay_in_the_middle_of_a_run(schedule):
    """Not a step function: half way through a 1,000-update run the ratio is strictly between floor and 1."""
    cfg = TrainConfig(teacher_forcing=0.25, schedule=schedule)
    middle = teacher_forcing_ratio(cfg, 500, 1000)
    assert 0.25 < middle < 1.0
    assert teacher_forcing_ratio(cfg, 1, 1000) < 1.0


def test_linear_is_a_straight_line_to_the_last_update():
    cfg = TrainConfig(teacher_forcing=0.0, schedule="linear")
    assert [teacher_forcing_ratio(cfg, i, 5) for i in range(5)] == [1.0, 0.75, 0.5, 0.25, 0.0]


def test_constant_is_the_floor_everywhere():
    cfg = TrainConfig(teacher_forcing=0.7)
    assert {teacher_forcing_ratio(cfg, i, n) for n in (1, 2, 10) for i in range(n)} == {0.7}


def test_steps_past_the_end_stay_at_the_floor():
    cfg = TrainConfig(teacher_forcing=0.5, schedule="inverse-sigmoid")
    assert teacher_forcing_ratio(cfg, 50, 10) == 0.5


@pytest.mark.parametrize("schedule,k", [("exponential", 1.0), ("exponential", 1.5), ("inverse-sigmoid", 0.5),
                                        ("linear", 0.3), ("constant", 2.0)])
def test_schedule_k_is_checked_per_schedule(schedule, k):
    with pytest.raises(ConfigError, match="schedule"):
        TrainConfig(schedule=schedule, schedule_k=k, teacher_forcing=0.5)
