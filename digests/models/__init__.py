"""The digests app's models, one module per concern."""

from digests.models.authors import AuthorBackfill
from digests.models.brief import TopicBrief
from digests.models.digest import Delivery, Digest, DigestItem, Feedback
from digests.models.ingest import IngestDay, IngestStatus
from digests.models.paper import AnnounceType, Enrichment, Paper, ResultType, Source
from digests.models.run import BeatTick, PipelineStep, StepRun
from digests.models.saved import SavedPaper
from digests.models.topic import Topic
from digests.models.tracking import TrackingDecision
from digests.models.usage import LLMUsage
from digests.models.versions import DigestUpdate, PaperVersion, VersionChange

__all__ = [
    "AnnounceType",
    "AuthorBackfill",
    "BeatTick",
    "Delivery",
    "Digest",
    "DigestItem",
    "DigestUpdate",
    "Enrichment",
    "Feedback",
    "IngestDay",
    "IngestStatus",
    "LLMUsage",
    "Paper",
    "PaperVersion",
    "PipelineStep",
    "ResultType",
    "SavedPaper",
    "Source",
    "StepRun",
    "Topic",
    "TopicBrief",
    "TrackingDecision",
    "VersionChange",
]
