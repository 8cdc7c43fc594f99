"""When each step of the daily pipeline ran for a day, how long it took and what it counted."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import IntegrityError, models, transaction
from django.utils import timezone

__all__ = [
    "BeatTick",
    "PipelineStep",
    "StepRun",
    "StepTimer",
    "beat_tick_claim",
    "step_recorded",
]


class PipelineStep(models.TextChoices):
    INGEST = "ingest", "ingest"
    ENRICH = "enrich", "enrich"
    BRIEFS = "briefs", "briefs"
    ASSEMBLE = "assemble", "assemble"
    SEND = "send", "send"


class StepRun(models.Model):
    """One run of one step: a row per run, so a retried or repeated step shows every try."""

    Step = PipelineStep

    day = models.DateField(help_text="The announcement day the step worked on.")
    step = models.CharField(max_length=16, choices=PipelineStep.choices)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(
        null=True, blank=True, help_text="Empty while running, or if the process died."
    )
    ok = models.BooleanField(default=False, help_text="Finished without an exception.")
    counts = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True, help_text="The error that stopped it.")

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["day", "step"], name="step_run_day_step")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(step__in=[s.value for s in PipelineStep]),
                name="step_run_step_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.step} at {self.started_at:%H:%M:%S}"

    @property
    def duration(self) -> dt.timedelta | None:
        return self.finished_at - self.started_at if self.finished_at else None


@dataclass
class StepTimer:
    """What the step tells the recorder: its counts, its day once known, and whether it was idle."""

    run: StepRun
    idle: bool = False  # nothing to do (a quarter-hourly send with nobody due): leave no row


@contextmanager
def step_recorded(*, step: str, day: dt.date) -> Iterator[StepTimer]:
    """Record a step's start now and its end on exit; the step fills in `timer.run.counts`.

    An exception is noted on the row and raised again: recording never changes what happens.
    """
    timer = StepTimer(run=StepRun.objects.create(day=day, step=step, started_at=timezone.now()))
    run = timer.run
    try:
        yield timer
    except Exception as error:
        run.note = f"{type(error).__name__}: {error}"[:2000]
        raise
    else:
        run.ok = True
    finally:
        if run.ok and timer.idle:
            run.delete()
        else:
            run.finished_at = timezone.now()
            run.save(update_fields=["day", "finished_at", "ok", "counts", "note"])


class BeatTick(models.Model):
    """One tick of the schedule, claimed by the first beat to send it: a second beat started
    by mistake finds the tick taken and its duplicate task does nothing."""

    task = models.CharField(max_length=64)
    slot = models.CharField(max_length=32, help_text="The tick: a date, or a quarter hour.")
    claimed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-claimed_at"]
        constraints = [
            models.UniqueConstraint(fields=["task", "slot"], name="beat_tick_once"),
        ]

    def __str__(self) -> str:
        return f"{self.task} {self.slot}"


def beat_tick_claim(*, task: str, slot: str) -> bool:
    """True for the first caller of this (task, slot), False for every later one."""
    try:
        with transaction.atomic():
            BeatTick.objects.create(task=task, slot=slot)
    except IntegrityError:
        return False
    return True
