"""Reading patrols back out of the store, for the API, the live feed's replay and reports."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from riverpatrol.station import models
from riverpatrol.station.ingest import Window


class NotFound(LookupError):
    """No such patrol or finding."""


def patrol(session: Session, patrol_id: int) -> models.Patrol:
    found = session.get(models.Patrol, patrol_id)
    if found is None:
        raise NotFound(f"no patrol {patrol_id}")
    return found


def finding(session: Session, finding_id: int) -> models.Finding:
    found = session.get(models.Finding, finding_id)
    if found is None:
        raise NotFound(f"no finding {finding_id}")
    return found


def since(session: Session, patrol_id: int, after_t: float | None) -> Window:
    """Positions, samples, events and anomaly signals of a patrol with ``t > after_t`` (all when None), as a Window."""
    window = Window(None)
    for model, target, columns in (
        (models.Position, window.positions, ("t", "lon", "lat", "sog", "cog", "heading")),
        (models.Sample, window.samples, ("t", "lon", "lat", "chainage_m", "water_class", "values", "classes")),
        (models.Event, window.events, ("t", "kind", "detail")),
        (models.Anomaly, window.anomalies, ("t", "lon", "lat", "chainage_m", "bank", "score", "z")),
    ):
        query = select(*(getattr(model, c) for c in columns)).where(model.patrol_id == patrol_id)
        if after_t is not None:
            query = query.where(model.t > after_t)
        target.extend(dict(zip(columns, row)) for row in session.execute(query.order_by(model.t, model.id)))
    return window


def counts(session: Session, patrol_id: int) -> dict[str, int]:
    return {name: session.scalar(select(func.count()).where(model.patrol_id == patrol_id)) or 0
            for name, model in (("positions", models.Position), ("samples", models.Sample),
                                ("events", models.Event), ("frames", models.Frame),
                                ("anomalies", models.Anomaly), ("findings", models.Finding))}


def segments(session: Session, patrol_id: int) -> list[models.Segment]:
    return list(session.scalars(select(models.Segment).where(models.Segment.patrol_id == patrol_id)
                                .order_by(models.Segment.start_m)))


def findings(session: Session, patrol_id: int) -> list[models.Finding]:
    return list(session.scalars(select(models.Finding).where(models.Finding.patrol_id == patrol_id)
                                .order_by(models.Finding.rank)))


def nearest_frame(session: Session, patrol_id: int, t: float) -> models.Frame | None:
    """The stored keyframe closest in time to ``t``."""
    after = session.scalars(select(models.Frame).where(models.Frame.patrol_id == patrol_id, models.Frame.t >= t)
                            .order_by(models.Frame.t).limit(1)).first()
    before = session.scalars(select(models.Frame).where(models.Frame.patrol_id == patrol_id, models.Frame.t < t)
                             .order_by(models.Frame.t.desc()).limit(1)).first()
    found = [f for f in (before, after) if f is not None]
    return min(found, key=lambda f: abs(f.t - t)) if found else None


def last_mode(session: Session, patrol_id: int) -> str | None:
    detail: Any = session.scalars(select(models.Event.detail).where(
        models.Event.patrol_id == patrol_id, models.Event.kind == "mode").order_by(models.Event.t.desc()).limit(1)).first()
    return detail.get("mode") if detail else None
