"""Settings from the environment (prefix ``OPTISCOPE_``), e.g. ``OPTISCOPE_PORT=9000``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.security import AllowedHost
from engine import Limits
from engine.network_spec import NetworkLimits


class Settings(BaseSettings):
    """Everything an operator may set. Tests override ``get_settings`` or pass an instance."""

    model_config = SettingsConfigDict(env_prefix="OPTISCOPE_", extra="ignore")

    host: str = Field("127.0.0.1", description="Address the server listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port the server listens on.")
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="Where runs execute; 'auto' uses CUDA for large batches if present."
    )
    # The budget's defaults are the engine's (engine.spec.Limits): one place says them.
    max_rows: int = Field(Limits.max_rows, ge=1, description="Most trajectories in one run.")
    max_steps: int = Field(Limits.max_steps, ge=1, description="Most steps in one run.")
    max_row_steps: int = Field(
        Limits.max_row_steps, ge=1, description="Compute budget of one run: rows x steps."
    )
    max_final_rows: int = Field(
        Limits.max_final_rows, ge=1, description="Most trajectories in one 'record: final' run."
    )
    max_final_row_steps: int = Field(
        Limits.max_final_row_steps,
        ge=1,
        description="Compute budget of one 'record: final' run (maps, sweeps): rows x steps.",
    )
    max_instance_steps: int = Field(
        Limits.max_instance_steps,
        ge=1,
        description="Python budget of one run: optimizer instances x steps.",
    )
    max_output_points: int = Field(
        Limits.max_output_points, ge=1, description="Most points a run sends (all rows)."
    )
    max_network_rows: int = Field(
        NetworkLimits.max_rows, ge=1, description="Most networks trained in one network run."
    )
    max_network_work: int = Field(
        NetworkLimits.max_work,
        ge=1,
        description="Compute budget of one network run: rows x steps x parameters x points "
        "per step (the default is about 30 s on two cores).",
    )
    max_concurrent_runs: int = Field(2, ge=1, description="Runs computed at the same time.")
    queue_timeout_s: float = Field(
        10.0, ge=0, description="How long a run waits for a free slot before a 503."
    )
    run_timeout_s: float = Field(120.0, gt=0, description="Time limit of one run.")
    stream_queue_pieces: int = Field(
        4,
        ge=1,
        le=64,
        description="Pieces of a run's output (streamed chunks) waiting for a slow client; the "
        "run waits beyond that.",
    )
    write_timeout_s: float = Field(
        30.0, gt=0, description="A run whose client takes nothing for this long is stopped."
    )
    gzip_level: int = Field(
        1,
        ge=0,
        le=9,
        description="gzip level of responses for clients that accept gzip (runs compress in "
        "their worker thread; 1 is fast and near the best ratio on typed arrays); 0 sends "
        "everything uncompressed, e.g. behind a proxy that compresses.",
    )
    zstd_level: int = Field(
        1,
        ge=0,
        le=22,
        description="zstd level of runs for clients that accept zstd, which runs prefer to "
        "gzip (browsers ask for it; level 1 compresses typed arrays as well as gzip does, "
        "about 15 times as fast); 0 leaves runs to gzip.",
    )
    max_body_bytes: int = Field(262_144, ge=1024, description="Largest accepted request body.")
    max_surface_resolution: int = Field(400, ge=2, le=400, description="Largest surface grid.")
    static_dir: Path | None = Field(
        None,
        description="Folder of the page; default: static/ beside the source tree (a regular, "
        "non-editable install into site-packages needs this set).",
    )
    allowed_hosts: list[AllowedHost] = Field(
        ["127.0.0.1", "localhost", "[::1]"],
        min_length=1,
        description="Host header values answered (a JSON list; '*.example.com' patterns, or "
        "'*' for any); others get a 400, so a DNS-rebinding page cannot use the server. The "
        "address in 'host' is answered too unless it is 0.0.0.0 or ::.",
    )

    @property
    def limits(self) -> Limits:
        return Limits(
            max_rows=self.max_rows,
            max_steps=self.max_steps,
            max_row_steps=self.max_row_steps,
            max_final_rows=self.max_final_rows,
            max_final_row_steps=self.max_final_row_steps,
            max_instance_steps=self.max_instance_steps,
            max_output_points=self.max_output_points,
        )

    @property
    def network_limits(self) -> NetworkLimits:
        return NetworkLimits(
            max_rows=self.max_network_rows,
            max_steps=self.max_steps,
            max_work=self.max_network_work,
            max_instance_steps=self.max_instance_steps,
            max_output_points=self.max_output_points,
        )


@lru_cache
def get_settings() -> Settings:
    return Settings()
