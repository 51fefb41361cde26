"""The presets: ready-made runs with a narration, for the page's preset menu."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.presets import list_presets

router = APIRouter(tags=["presets"])


@router.get("/presets")
def presets() -> list[dict[str, Any]]:
    """Every preset (id, title, narration, run spec, view hints); the first is the default run."""
    return [preset.model_dump() for preset in list_presets()]
