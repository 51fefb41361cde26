"""The HTTP API under ``/api``: thin routes that validate, look up registries and delegate."""

from fastapi import APIRouter

from app.api import catalogue, runs, system

router = APIRouter(prefix="/api")
router.include_router(system.router)
router.include_router(catalogue.router)
router.include_router(runs.router)
