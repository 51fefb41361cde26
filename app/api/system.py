"""Health of the server."""

from __future__ import annotations

from importlib import metadata
from typing import Annotated

import torch
from fastapi import APIRouter, Depends, Request

from app.schemas import Health
from app.settings import Settings, get_settings

router = APIRouter(tags=["system"])


@router.get("/health", response_model=Health)
def health(request: Request, settings: Annotated[Settings, Depends(get_settings)]) -> dict:
    service = request.app.state.runs
    return {
        "status": "ok",
        "version": metadata.version("optiscope"),
        "torch": torch.__version__,
        "cuda_available": torch.cuda.is_available(),
        "device": settings.device,
        "runs_in_progress": service.in_progress,
        "max_concurrent_runs": service.max_concurrent,
    }
