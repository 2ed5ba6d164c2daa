"""The station's web service: REST API, live feed, video and the dashboard, in one FastAPI app.

``create_app`` wires a store to the routes; ``riverpatrol serve`` runs it under uvicorn. Bad input
gets a 4xx naming the problem (a scenario's every fault by key path), and nothing is stored for it.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import FastAPI, File, Form, HTTPException, Query, Request, UploadFile, WebSocket, WebSocketDisconnect
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from riverpatrol.analysis.pipeline import NothingToAnalyse
from riverpatrol.analysis.segments import CLASS_COLOURS
from riverpatrol.analysis.standards import CLASS_NAMES_EN, CLASS_NAMES_ZH, GB3838
from riverpatrol.patrollog import PatrolLogError
from riverpatrol.report import ReportData, figures, from_store, write_report
from riverpatrol.scenario import PARAMETERS, UNITS, Scenario, ScenarioError, load_scenario, parse_scenario
from riverpatrol.station import models, queries
from riverpatrol.station.attach import HEARTBEAT_TIMEOUT_S, AttachedBoats, AttachFailed
from riverpatrol.station.geometry import river_geometry
from riverpatrol.station.ingest import import_log
from riverpatrol.station.live import Hub, live_message
from riverpatrol.station.patrols import VIDEO_FPS, CommandRefused, PatrolRunner
from riverpatrol.station.store import Store
from riverpatrol.station.video import VideoFeed
from riverpatrol.station.webrtc import WebRtcPeers
from riverpatrol.vehicle.link import URL_FORMS

TILE_URL_ENV = "RIVERPATROL_TILE_URL"
TILE_ATTRIBUTION_ENV = "RIVERPATROL_TILE_ATTRIBUTION"
SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
STATIC = Path(__file__).parent / "static"
_MJPEG_BOUNDARY = "frame"


_ID_MAX = 2**31 - 1  # integer keys in every database we support
PatrolId = Annotated[int, PathParam(ge=1, le=_ID_MAX, description="A patrol's id.")]
FindingId = Annotated[int, PathParam(ge=1, le=_ID_MAX, description="A finding's id.")]


class StartPatrol(BaseModel):
    scenario: str = Field(description="Name of a shipped scenario (GET /api/scenarios).", examples=["dongmen-demo"])
    speedup: float = Field(1.0, gt=0, le=1000, description="Scenario seconds per wall-clock second.")
    video_fps: float = Field(VIDEO_FPS, gt=0, le=30, description="Camera frames per wall-clock second.")
    name: str | None = Field(None, max_length=200)


class Attach(BaseModel):
    url: str = Field(min_length=1, max_length=300, examples=["udpin:0.0.0.0:14550"],
                     description=f"The boat's MAVLink link: {URL_FORMS}.")
    name: str | None = Field(None, max_length=200)
    scenario: str | None = Field(None, description="A shipped scenario whose river map the boat patrols: the map, "
                                 "chainage, anomaly signals and the analysis need it; without, the track alone.")
    start: bool = Field(False, description="Upload the scenario's route as the mission, arm and start it "
                        "(otherwise the station only watches the boat's own mission).")
    timeout_s: float = Field(HEARTBEAT_TIMEOUT_S, gt=0, le=60, description="How long to wait for the boat's heartbeat.")


class Offer(BaseModel):
    sdp: str = Field(max_length=100_000)
    type: Literal["offer"]


class Command(BaseModel):
    command: Literal["pause", "resume", "abort"]


class Review(BaseModel):
    action: Literal["confirm", "dismiss"]
    operator: str = Field(min_length=1, max_length=100)
    note: str = Field("", max_length=2000)


def create_app(store: Store) -> FastAPI:
    hub, video = Hub(), VideoFeed()
    runner = PatrolRunner(store, hub, video)
    boats = AttachedBoats(store, hub)
    peers = WebRtcPeers(video)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(_interrupted, store, runner.running() + boats.attached())
        yield
        await peers.close_all()
        await run_in_threadpool(runner.shutdown)
        await run_in_threadpool(boats.shutdown)

    app = FastAPI(title="riverpatrol station", version="1", lifespan=lifespan,
                  description="Patrols, their track, water quality (GB 3838), findings, live feed and video.")
    app.state.store, app.state.runner, app.state.hub, app.state.video = store, runner, hub, video
    app.state.boats = boats

    @app.exception_handler(queries.NotFound)
    async def not_found(_request: Request, exc: queries.NotFound) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    # ---- reference data ------------------------------------------------------------------------
    @app.get("/api/standards", tags=["reference"])
    def standards() -> dict[str, Any]:
        """GB 3838-2002 class names (zh, en), class colours, parameter units and class limits."""
        return {"class_names_zh": CLASS_NAMES_ZH, "class_names_en": CLASS_NAMES_EN, "class_colours": CLASS_COLOURS,
                "parameters": PARAMETERS, "units": UNITS,
                "limits": {p: {"kind": lim.kind, "bounds": lim.bounds, "unit": lim.unit} for p, lim in GB3838.items()}}

    @app.get("/api/config", tags=["reference"])
    def config() -> dict[str, str | None]:
        """Optional basemap: a tile URL template (e.g. Tianditu) from RIVERPATROL_TILE_URL."""
        return {"tile_url": os.environ.get(TILE_URL_ENV) or None,
                "tile_attribution": os.environ.get(TILE_ATTRIBUTION_ENV) or None}

    @app.get("/api/scenarios", tags=["patrols"])
    def scenarios() -> list[str]:
        """Shipped scenarios a patrol can be started with."""
        return sorted(p.stem for p in SCENARIOS.glob("*.json"))

    # ---- patrols -------------------------------------------------------------------------------
    @app.get("/api/patrols", tags=["patrols"])
    def patrol_list() -> list[dict[str, Any]]:
        """Every patrol, newest first, with its summary."""
        with store.session() as s:
            rows = s.query(models.Patrol).order_by(models.Patrol.id.desc()).all()
            return [_patrol_summary(s, p) for p in rows]

    @app.get("/api/patrols/{patrol_id}", tags=["patrols"])
    def patrol_detail(patrol_id: PatrolId) -> dict[str, Any]:
        with store.session() as s:
            p = queries.patrol(s, patrol_id)
            return {**_patrol_summary(s, p), "meta": p.meta, "summary": p.summary,
                    "segments": [_segment(seg) for seg in queries.segments(s, patrol_id)]}

    @app.get("/api/patrols/{patrol_id}/river", tags=["patrols"])
    def river(patrol_id: PatrolId) -> dict[str, Any]:
        """Banks, chainage ticks and the planned route, from the map the patrol carried."""
        with store.session() as s:
            meta = queries.patrol(s, patrol_id).meta
        return river_geometry(meta)

    @app.get("/api/patrols/{patrol_id}/track", tags=["patrols"])
    def track(patrol_id: PatrolId, after_t: float | None = None) -> list[list[float | None]]:
        """GNSS fixes as [t, lon, lat, sog, cog, heading]."""
        with store.session() as s:
            queries.patrol(s, patrol_id)
            window = queries.since(s, patrol_id, after_t)
        return live_message(patrol_id, window)["positions"]

    @app.get("/api/patrols/{patrol_id}/samples", tags=["patrols"])
    def samples(patrol_id: PatrolId, after_t: float | None = None) -> list[dict[str, Any]]:
        """Sonde samples on the track with their GB 3838 class (0 not classifiable .. 6 worse than V)."""
        with store.session() as s:
            queries.patrol(s, patrol_id)
            window = queries.since(s, patrol_id, after_t)
        return [{**row, "class_zh": CLASS_NAMES_ZH[row["class"]], "class_en": CLASS_NAMES_EN[row["class"]]}
                for row in live_message(patrol_id, window)["samples"]]

    @app.get("/api/patrols/{patrol_id}/findings", tags=["findings"])
    def findings(patrol_id: PatrolId) -> list[dict[str, Any]]:
        with store.session() as s:
            queries.patrol(s, patrol_id)
            return [_finding(f) for f in queries.findings(s, patrol_id)]

    @app.post("/api/patrols", status_code=201, tags=["patrols"])
    def start_patrol(body: StartPatrol) -> dict[str, Any]:
        """Start a shipped scenario's patrol in the twin at ``speedup`` x real time."""
        path = SCENARIOS / f"{body.scenario}.json"
        if body.scenario not in scenarios():
            raise HTTPException(404, f"no shipped scenario {body.scenario!r} (known: {', '.join(scenarios())})")
        return {"id": runner.start(_valid(lambda: load_scenario(path)), body.speedup, body.name, body.video_fps)}

    @app.post("/api/patrols/upload", status_code=201, tags=["patrols"])
    async def start_uploaded(file: Annotated[UploadFile, File(description="Scenario JSON")],
                             speedup: Annotated[float, Form(gt=0, le=1000)] = 1.0) -> dict[str, Any]:
        """Start the patrol of an uploaded scenario; a scenario that breaks the contract is a 422
        listing every problem, and no patrol is stored."""
        raw = await file.read()
        source = file.filename or "upload"
        try:
            data = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise HTTPException(422, {"source": source, "problems": [f"not JSON: {exc}"]}) from None
        scenario = _valid(lambda: parse_scenario(data, source=source))
        return {"id": await run_in_threadpool(runner.start, scenario, speedup, None)}

    @app.post("/api/patrols/attach", status_code=201, tags=["patrols"])
    def attach(body: Attach) -> dict[str, Any]:
        """Attach to a boat by MAVLink URL and watch it (or start the scenario's route on it). A URL
        that cannot be opened or a boat silent for ``timeout_s`` is a 422, and nothing is stored."""
        scenario = None
        if body.scenario is not None:
            if body.scenario not in scenarios():
                raise HTTPException(404, f"no shipped scenario {body.scenario!r} (known: {', '.join(scenarios())})")
            scenario = _valid(lambda: load_scenario(SCENARIOS / f"{body.scenario}.json"))
        try:
            return {"id": boats.attach(body.url, name=body.name, scenario=scenario, start=body.start,
                                       timeout_s=body.timeout_s)}
        except AttachFailed as exc:
            raise HTTPException(422, str(exc)) from None

    @app.post("/api/patrols/{patrol_id}/detach", tags=["patrols"])
    def detach(patrol_id: PatrolId) -> dict[str, Any]:
        """Stop watching an attached boat (it carries on by itself): the patrol ends, analysed."""
        with store.session() as s:
            queries.patrol(s, patrol_id)
        try:
            boats.detach(patrol_id)
        except CommandRefused as exc:
            raise HTTPException(409, str(exc)) from None
        with store.session() as s:
            return _patrol_summary(s, queries.patrol(s, patrol_id))

    @app.post("/api/patrols/import", status_code=201, tags=["patrols"])
    async def import_upload(file: Annotated[UploadFile, File(description="A finished patrol log (patrol.sqlite)")]) -> dict[str, Any]:
        """Import a finished patrol log; one that cannot be read or analysed is a 422 and stores nothing."""
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "patrol.sqlite"
            path.write_bytes(await file.read())
            try:
                patrol_id = await run_in_threadpool(import_log, store, path, name=file.filename or "upload")
            except (PatrolLogError, NothingToAnalyse) as exc:
                raise HTTPException(422, str(exc).replace(str(path), file.filename or "upload")) from None
        return {"id": patrol_id}

    @app.post("/api/patrols/{patrol_id}/command", tags=["patrols"])
    def command(patrol_id: PatrolId, body: Command) -> dict[str, Any]:
        """Pause (HOLD), resume (AUTO) or abort (RTL; a twin patrol ends when the boat is home)."""
        with store.session() as s:
            queries.patrol(s, patrol_id)
        try:
            if patrol_id in boats.attached():
                return {"status": boats.command(patrol_id, body.command)}
            return {"status": runner.command(patrol_id, body.command)}
        except CommandRefused as exc:
            raise HTTPException(409, str(exc)) from None

    # ---- findings review -----------------------------------------------------------------------
    @app.post("/api/findings/{finding_id}/review", tags=["findings"])
    def review(finding_id: FindingId, body: Review) -> dict[str, Any]:
        """Confirm or dismiss a finding; every review is kept in the audit trail."""
        with store.session() as s:
            found = queries.finding(s, finding_id)
            found.status = "confirmed" if body.action == "confirm" else "dismissed"
            s.add(models.FindingReview(finding_id=finding_id, action=body.action, operator=body.operator,
                                       note=body.note))
            s.flush()
            return _finding(found)

    @app.get("/api/findings/{finding_id}/reviews", tags=["findings"])
    def reviews(finding_id: FindingId) -> list[dict[str, Any]]:
        with store.session() as s:
            queries.finding(s, finding_id)
            rows = s.query(models.FindingReview).filter_by(finding_id=finding_id).order_by(models.FindingReview.id)
            return [{"action": r.action, "operator": r.operator, "note": r.note, "at": r.at.isoformat()} for r in rows]

    @app.get("/api/findings/{finding_id}/evidence.png", tags=["findings"], response_class=Response,
             responses={200: {"content": {"image/png": {}}}})
    def evidence_png(finding_id: FindingId, lang: Literal["zh", "en"] = "zh") -> Response:
        """The finding's strongest parameter around it against chainage, with its place."""
        data, found = _report_finding(store, finding_id)
        with figures.DRAWING:
            image = figures.png(figures.evidence_figure(data, found, lang))
        return Response(image, media_type="image/png")

    @app.get("/api/findings/{finding_id}/sonar.png", tags=["findings"], response_class=Response,
             responses={200: {"content": {"image/png": {}}}})
    def sonar_png(finding_id: FindingId, lang: Literal["zh", "en"] = "zh") -> Response:
        """Side-scan sonar as the boat passed the finding (from the patrol log, when the station has it)."""
        data, found = _report_finding(store, finding_id)
        pings = data.sonar(found)
        if pings is None:
            raise HTTPException(404, f"no sonar record near finding {finding_id}")
        with figures.DRAWING:
            image = figures.png(figures.sonar_figure(*pings, lang))
        return Response(image, media_type="image/png")

    @app.get("/api/findings/{finding_id}/snapshot.jpg", tags=["findings"], response_class=Response,
             responses={200: {"content": {"image/jpeg": {}}}})
    def snapshot(finding_id: FindingId) -> Response:
        """The camera keyframe taken as the boat approached the finding."""
        data, found = _report_finding(store, finding_id)
        jpeg = data.snapshot(found)
        if jpeg is None:
            raise HTTPException(404, f"no camera frame near finding {finding_id}")
        return Response(jpeg, media_type="image/jpeg")

    @app.get("/api/patrols/{patrol_id}/report.{fmt}", tags=["reports"], response_class=Response,
             responses={200: {"content": {"application/pdf": {}, "text/html": {}}}})
    def report(patrol_id: PatrolId, fmt: Literal["pdf", "html"], lang: Literal["zh", "en"] = "zh") -> Response:
        """The patrol report: map, class per segment, parameter plots, findings with evidence, data quality."""
        data = from_store(store, patrol_id)
        with tempfile.TemporaryDirectory() as tmp:
            out = write_report(data, Path(tmp) / f"patrol-{patrol_id}.{fmt}", lang)
            body = out.read_bytes()
        return Response(body, media_type="application/pdf" if fmt == "pdf" else "text/html; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="patrol-{patrol_id}.{fmt}"'})

    # ---- live ----------------------------------------------------------------------------------
    @app.websocket("/api/patrols/{patrol_id}/live")
    async def live(ws: WebSocket, patrol_id: PatrolId, after_t: float | None = None) -> None:
        """Everything after ``after_t`` from the store, then live batches as they are ingested."""
        await ws.accept()
        queue = hub.subscribe(patrol_id)
        try:
            replay, status, mode = await run_in_threadpool(_replay, store, patrol_id, after_t)
            if replay is None:
                await ws.close(code=4404, reason=f"no patrol {patrol_id}")
                return
            message = live_message(patrol_id, replay, status=status)
            message["replay"] = True
            if mode:
                message["mode"] = mode
            await ws.send_json(message)
            cutoff = message["t"] if message["t"] is not None else after_t
            gone = asyncio.create_task(_until_disconnected(ws))
            while True:
                getter = asyncio.create_task(queue.get())
                await asyncio.wait({getter, gone}, return_when=asyncio.FIRST_COMPLETED)
                if gone.done():
                    getter.cancel()
                    return
                update = getter.result()
                if update is None:  # this client fell too far behind: it reconnects and replays
                    gone.cancel()
                    await ws.close(code=1013, reason="too far behind")
                    return
                await ws.send_json(_after(update, cutoff))
        except WebSocketDisconnect:
            pass
        finally:
            hub.unsubscribe(patrol_id, queue)

    # ---- video ---------------------------------------------------------------------------------
    @app.get("/api/patrols/{patrol_id}/video.mjpeg", tags=["video"])
    async def mjpeg(patrol_id: PatrolId) -> StreamingResponse:
        """The boat camera as MJPEG (multipart/x-mixed-replace), each frame stamped with the time."""
        await run_in_threadpool(_existing, store, patrol_id)
        if patrol_id not in runner.running():
            raise HTTPException(409, f"patrol {patrol_id} is not running: no live video")

        async def frames() -> AsyncIterator[bytes]:
            seq = 0
            while True:
                frame = await video.next_frame(patrol_id, seq)
                if frame is None:
                    if patrol_id not in runner.running():
                        return
                    continue
                seq = frame.seq
                jpeg = await run_in_threadpool(lambda f=frame: f.jpeg)
                yield (f"--{_MJPEG_BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n"
                       f"X-Patrol-Time: {frame.t:.2f}\r\nX-Captured-Unix: {frame.captured_unix:.3f}\r\n\r\n").encode() \
                    + jpeg + b"\r\n"

        return StreamingResponse(frames(), media_type=f"multipart/x-mixed-replace; boundary={_MJPEG_BOUNDARY}")

    @app.post("/api/patrols/{patrol_id}/webrtc", tags=["video"])
    async def webrtc(patrol_id: PatrolId, offer: Offer) -> dict[str, str]:
        """WebRTC video: send an SDP offer (receive-only video), get the answer. No ICE servers:
        the browser and the station meet on their own network."""
        await run_in_threadpool(_existing, store, patrol_id)
        try:
            answer = await peers.answer(patrol_id, offer.sdp, offer.type)
        except ValueError as exc:  # an SDP aiortc cannot use
            raise HTTPException(422, f"offer: {exc}") from None
        return {"sdp": answer.sdp, "type": answer.type}

    @app.get("/api/patrols/{patrol_id}/frame.jpg", tags=["video"],
             responses={200: {"content": {"image/jpeg": {}}}})
    def frame_at(patrol_id: PatrolId, t: Annotated[float, Query(description="Patrol time, s")]) -> Response:
        """The stored camera keyframe nearest to ``t``."""
        with store.session() as s:
            queries.patrol(s, patrol_id)
            found = queries.nearest_frame(s, patrol_id, t)
            if found is None:
                raise HTTPException(404, f"patrol {patrol_id} has no camera frames")
            return Response(found.jpeg, media_type="image/jpeg", headers={"X-Patrol-Time": f"{found.t:.2f}"})

    # ---- dashboard -----------------------------------------------------------------------------
    @app.get("/", include_in_schema=False)
    def index(request: Request) -> RedirectResponse:
        """The dashboard, keeping the query: ``/?patrol=ID`` opens that patrol."""
        query = request.url.query
        return RedirectResponse("/static/index.html" + (f"?{query}" if query else ""))

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


def _report_finding(store: Store, finding_id: int) -> tuple[ReportData, dict[str, Any]]:
    with store.session() as s:
        patrol_id = queries.finding(s, finding_id).patrol_id
    data = from_store(store, patrol_id)
    with store.session() as s:
        rank = queries.finding(s, finding_id).rank
    return data, next(f for f in data.findings if f["rank"] == rank)


def _existing(store: Store, patrol_id: int) -> None:
    with store.session() as s:
        queries.patrol(s, patrol_id)


def _interrupted(store: Store, ours: list[int]) -> None:
    """Patrols a previous run of the station was running when it stopped: their worker is gone.
    What they sent is stored; their status says they did not end normally."""
    with store.session() as s:
        for patrol in s.query(models.Patrol).filter(models.Patrol.status.in_(("running", "paused", "returning"))):
            if patrol.id not in ours:
                patrol.status = "interrupted"


def _valid(load: Any) -> Scenario:
    try:
        return load()
    except ScenarioError as exc:
        raise HTTPException(422, {"source": exc.source, "problems": exc.problems}) from None


def _replay(store: Store, patrol_id: int, after_t: float | None) -> tuple[Any, str | None, str | None]:
    with store.session() as s:
        found = s.get(models.Patrol, patrol_id)
        if found is None:
            return None, None, None
        return queries.since(s, patrol_id, after_t), found.status, queries.last_mode(s, patrol_id)


async def _until_disconnected(ws: WebSocket) -> None:
    """Returns when the client goes away (the feed sends only; anything the client sends is ignored)."""
    while (await ws.receive())["type"] != "websocket.disconnect":
        pass


def _after(message: dict[str, Any], cutoff: float | None) -> dict[str, Any]:
    """A live message without the rows a replay already sent (time ``<= cutoff``)."""
    if cutoff is None or message.get("type") != "batch":
        return message
    return {**message,
            "positions": [p for p in message["positions"] if p[0] > cutoff],
            "samples": [s for s in message["samples"] if s["t"] > cutoff],
            "events": [e for e in message["events"] if e["t"] > cutoff],
            "anomalies": [a for a in message["anomalies"] if a["t"] > cutoff]}


def _patrol_summary(s: Session, p: models.Patrol) -> dict[str, Any]:
    summary = p.summary or {}
    return {"id": p.id, "name": p.name, "source": p.source, "status": p.status, "error": p.error,
            "created_at": p.created_at.isoformat(), "started_utc": p.started_utc,
            "counts": queries.counts(s, p.id), "duration_s": summary.get("patrol", {}).get("duration_s"),
            "class_samples": summary.get("classes", {}).get("samples")}


def _segment(seg: models.Segment) -> dict[str, Any]:
    return {"start_m": seg.start_m, "end_m": seg.end_m, "class": seg.water_class,
            "class_zh": CLASS_NAMES_ZH[seg.water_class], "class_en": CLASS_NAMES_EN[seg.water_class],
            "limiting": seg.limiting, "mean": seg.mean, "samples": seg.samples, "ring": seg.ring,
            "fill": CLASS_COLOURS[seg.water_class]}


def _finding(f: models.Finding) -> dict[str, Any]:
    return {"id": f.id, "patrol_id": f.patrol_id, "rank": f.rank, "kind": f.kind, "chainage_m": f.chainage_m,
            "bank": f.bank, "confidence": f.confidence, "uncertainty_m": f.uncertainty_m, "lon": f.lon, "lat": f.lat,
            "evidence": f.evidence, "status": f.status}
