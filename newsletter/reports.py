"""What an import did: the counts both catalogue and subscriber imports report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["ImportCounts"]


@dataclass(kw_only=True)
class ImportCounts:
    created: int = 0
    updated: int = 0
    errors: list[Any] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return self.created + self.updated

    @property
    def rejected(self) -> int:
        return len(self.errors)
