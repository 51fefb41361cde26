"""FastAPI dependencies, all in one place: routes declare what they need with these types."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.run_service import RunService
from app.settings import Settings, get_settings


def get_run_service(request: Request) -> RunService:
    """The app's run service (created in its lifespan)."""
    return request.app.state.runs


SettingsDep = Annotated[Settings, Depends(get_settings)]
RunServiceDep = Annotated[RunService, Depends(get_run_service)]
