"""Health of the server."""

from __future__ import annotations

from importlib import metadata

import torch
from fastapi import APIRouter

from app.deps import RunServiceDep, SettingsDep
from app.schemas import Health

router = APIRouter(tags=["system"])


@router.get("/health", response_model=Health)
def health(service: RunServiceDep, settings: SettingsDep) -> dict:
    return {
        "status": "ok",
        "version": metadata.version("optiscope"),
        "torch": torch.__version__,
        "cuda_available": torch.cuda.is_available(),
        "device": settings.device,
        "runs_in_progress": service.in_progress,
        "max_concurrent_runs": service.max_concurrent,
    }
