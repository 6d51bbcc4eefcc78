"""The base of every template model: unknown keys are refused, and a loaded template never changes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

KEY = r"^[a-z_][a-z0-9_]*$"  # data, column and chart ids: lowercase words joined by _


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
