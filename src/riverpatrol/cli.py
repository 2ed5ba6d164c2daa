"""The one command-line tool: ``riverpatrol demo | simulate | twin ...``.

Bad input ends with a message that names the problem and exit code 2, never a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import numpy as np
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from riverpatrol.patrollog import PatrolLogError
from riverpatrol.scenario import PARAMETERS, Scenario, ScenarioError, load_scenario

if TYPE_CHECKING:
    from riverpatrol.analysis.pipeline import AnalysisResult
    from riverpatrol.boat import BoatConfig
    from riverpatrol.simulate import SimulationResult
    from riverpatrol.twin.devices import DevicePorts

app = typer.Typer(help="River patrol by autonomous surface vessels.", no_args_is_help=True, add_completion=False)
twin_app = typer.Typer(help="The river twin: the simulator of river, traffic, boat and sensors.", no_args_is_help=True)
app.add_typer(twin_app, name="twin")

console = Console()
errors = Console(stderr=True)

DEMO_SCENARIO = "dongmen-demo.json"


def _fail(message: str, code: int = 2) -> NoReturn:
    """Print the problem (verbatim: no markup, no wrapping of long paths) and exit."""
    errors.print(Text("error: ", style="bold red") + Text(message), soft_wrap=True)
    raise typer.Exit(code)


def _scenario(path: Path) -> Scenario:
    try:
        return load_scenario(path)
    except ScenarioError as exc:
        _fail(f"{exc.source}: invalid scenario\n" + "\n".join(f"  {p}" for p in exc.problems))


def _run(scenario: Scenario, out: Path, speedup: float | None, keyframe_s: float | None, overwrite: bool,
         max_log_mb: float | None = None, via: str = "direct", investigate: bool = True) -> SimulationResult:
    from riverpatrol.simulate import simulate

    columns = (TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.fields[clock]}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task(f"patrol {scenario.name}", total=1.0, clock="")

        def tick(now: float, expected: float) -> None:
            bar.update(task, completed=min(now / max(expected, 1.0), 0.99), clock=f"{now:7.0f} s scenario time")

        try:
            if via == "mavlink":
                result = _run_over_mavlink(scenario, out, speedup, keyframe_s, overwrite, investigate, tick)
            else:
                result = simulate(scenario, out, speedup=speedup, keyframe_s=keyframe_s, overwrite=overwrite,
                                  max_log_bytes=None if max_log_mb is None else int(max_log_mb * 1e6),
                                  investigate=investigate, progress=tick)
        except FileExistsError as exc:
            _fail(f"{exc} (pass --overwrite to replace it)")
        except PatrolLogError as exc:
            _fail(f"the patrol stopped: {exc}; what was recorded until then is in {out}", code=1)
        bar.update(task, completed=1.0)
    return result


def _run_over_mavlink(scenario: Scenario, out: Path, speedup: float | None, keyframe_s: float | None,
                      overwrite: bool, investigate: bool, tick: Any) -> SimulationResult:
    from riverpatrol.simulate_mavlink import DEFAULT_SPEEDUP, TwinServeFailed, simulate_over_mavlink
    from riverpatrol.vehicle.autopilot import AutopilotError

    try:
        return simulate_over_mavlink(scenario, out, speedup=speedup or DEFAULT_SPEEDUP, keyframe_s=keyframe_s,
                                     overwrite=overwrite, investigate=investigate, progress=tick)
    except (AutopilotError, TwinServeFailed) as exc:
        _fail(f"the patrol over MAVLink stopped: {exc}; what was recorded until then is in {out}", code=1)


def _summary(result: SimulationResult) -> None:
    truth = result.truth
    table = Table(title="Patrol summary", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    table.add_row("scenario time", f"{result.scenario_s:.0f} s")
    table.add_row("wall time", f"{result.wall_s:.2f} s ({result.scenario_s / max(result.wall_s, 1e-9):.0f}x real time)")
    table.add_row("track length", f"{truth['track_length_m']:.0f} m")
    table.add_row("mission complete", "yes" if truth["mission_complete"] else "[red]no[/]")
    table.add_row("records", ", ".join(f"{k} {v}" for k, v in result.counts.items()))
    table.add_row("collisions (twin truth)", str(len(truth["collisions"])))
    table.add_row("min clearance (twin truth)", f"{truth['min_clearance_m']:.2f} m")
    table.add_row("patrol log", str(result.log_path))
    table.add_row("twin truth", str(result.truth_path))
    console.print(table)


@app.command()
def simulate(
    scenario: Annotated[Path, typer.Argument(help="Scenario JSON file (spec riverpatrol.scenario/1).")],
    out: Annotated[Path, typer.Option("--out", help="Directory for patrol.sqlite and truth.json.")],
    fast: Annotated[bool, typer.Option("--fast", help="As fast as possible (the default).")] = False,
    speedup: Annotated[float | None, typer.Option("--speedup", min=0.01, help="Pace scenario time at N x real time.")] = None,
    keyframe_interval: Annotated[float | None, typer.Option("--keyframe-interval", min=0.1, help="Seconds between camera keyframes (default 5 fast, 1 paced).")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing log in OUT.")] = False,
    max_log_mb: Annotated[float | None, typer.Option("--max-log-mb", min=0.1, help="Cap the log's size, as a small SD card would.")] = None,
    via: Annotated[str, typer.Option("--via", help="direct (in-process) or mavlink (twin serve in a child process, UDP loopback; default speedup 20).")] = "direct",
    investigate: Annotated[bool, typer.Option("--investigate/--no-investigate", help="Let the supervisor go back to look at anomalies the live analysis raises.")] = True,
) -> None:
    """Run a scenario's patrol in the twin, writing the patrol log and the twin's truth."""
    if fast and speedup is not None:
        _fail("--fast and --speedup exclude each other")
    if via not in ("direct", "mavlink"):
        _fail(f"--via: expected direct or mavlink, got {via!r}")
    if via == "mavlink" and (fast or max_log_mb is not None):
        _fail("--via mavlink runs paced (--speedup) and takes no --fast or --max-log-mb")
    result = _run(_scenario(scenario), out, speedup, keyframe_interval, overwrite, max_log_mb, via, investigate)
    _summary(result)


@app.command()
def plan(
    scenario: Annotated[Path, typer.Argument(help="Scenario JSON file: its river, boat home and mission defaults.")],
    out: Annotated[Path, typer.Option("--out", help="QGroundControl .plan file to write.")],
    pattern: Annotated[str | None, typer.Option("--pattern", help="outfall-survey, centerline, transects or corridor (default: the scenario's).")] = None,
    bank_offset: Annotated[float | None, typer.Option("--bank-offset", min=0.1, help="Metres inside the bank.")] = None,
    spacing: Annotated[float, typer.Option("--spacing", min=1.0, help="Transect spacing, or corridor lane spacing, metres.")] = 50.0,
    corridor: Annotated[Path | None, typer.Option("--corridor", help="Corridor polyline: GeoJSON LineString or CSV lon,lat per line.")] = None,
    width: Annotated[float, typer.Option("--width", min=0.0, help="Corridor width, metres (lanes across it at --spacing).")] = 0.0,
    geojson: Annotated[Path | None, typer.Option("--geojson", help="Also write the route and geofence as GeoJSON.")] = None,
) -> None:
    """Plan a patrol route; write it as a QGroundControl .plan (mission and geofence)."""
    from riverpatrol.autonomy.routes import CORRIDOR, PATTERNS, corridor_route, mission_items, plan_route
    from riverpatrol.interop.polyline import PolylineError, read_polyline
    from riverpatrol.interop.qgc_plan import Fence, Plan, write_plan

    sc = _scenario(scenario)
    chosen = pattern or sc.mission.pattern
    if chosen not in (*PATTERNS, CORRIDOR):
        _fail(f"--pattern: unknown pattern {chosen!r} (known: {', '.join((*PATTERNS, CORRIDOR))})")
    if (chosen == CORRIDOR) != (corridor is not None):
        _fail("--corridor: a corridor file goes with --pattern corridor, and only with it")
    river = sc.river_frame()
    offset = bank_offset if bank_offset is not None else sc.mission.bank_offset_m
    if offset + sc.boat.radius_m > float(river.widths.min()) / 2:
        _fail(f"--bank-offset: {offset} m leaves the boat no room in the narrowest reach ({river.widths.min():.1f} m wide)")
    if corridor is not None:
        try:
            lonlat = np.array(read_polyline(corridor))
        except PolylineError as exc:
            _fail(f"--corridor: {exc}")
        route = corridor_route(river, np.column_stack(river.local.to_xy(lonlat[:, 0], lonlat[:, 1])),
                               width, spacing, offset)
    else:
        route = plan_route(river, chosen, sc.mission.from_chainage_m, sc.mission.to_chainage_m, offset, spacing)
    items = mission_items(river, route, sc.boat.cruise_speed_mps)
    lon, lat = river.local.to_lonlat(*np.asarray(river.water_polygon.exterior.coords).T)
    fence = Fence([[float(a), float(b)] for a, b in zip(lon, lat)])
    write_plan(out, Plan(list(sc.boat.home), items, [fence], sc.boat.cruise_speed_mps))
    if geojson:
        from riverpatrol.jsonfile import write_json

        rlon, rlat = river.local.to_lonlat(route[:, 0], route[:, 1])
        write_json(geojson, {"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"kind": "route", "pattern": chosen},
             "geometry": {"type": "LineString", "coordinates": [[float(a), float(b)] for a, b in zip(rlon, rlat)]}},
            {"type": "Feature", "properties": {"kind": "geofence", "inclusion": True},
             "geometry": {"type": "Polygon", "coordinates": [fence.ring]}},
        ]})
    length = float(np.hypot(*np.diff(route, axis=0).T).sum())
    console.print(f"{chosen}: {len(items)} mission items, {length:.0f} m of route -> {out}")


@app.command()
def analyze(
    source: Annotated[Path, typer.Argument(help="A patrol directory (with patrol.sqlite) or a patrol log file.")],
    out: Annotated[Path | None, typer.Option("--out", help="Directory for the products (default: SOURCE's directory / analysis).")] = None,
    maps: Annotated[str, typer.Option("--maps", help="Parameters to map, comma-separated; 'all' or 'none' (kriging takes about 1 s each).")] = "conductivity,nh3n,do",
) -> None:
    """Analyse a patrol log: GB 3838 classes, whole-river maps, suspected outfalls, summary."""
    from riverpatrol.analysis.pipeline import resolve_log

    log_path = resolve_log(source)
    if not log_path.is_file():
        _fail(f"{source}: no patrol log there (expected a patrol.sqlite file or a directory holding one)")
    from riverpatrol.analysis.pipeline import ALL

    chosen = ALL if maps == "all" else () if maps == "none" else tuple(p.strip() for p in maps.split(",") if p.strip())
    unknown = [p for p in chosen if p not in PARAMETERS]
    if unknown:
        _fail(f"--maps: unknown parameter {unknown[0]!r} (known: {', '.join(PARAMETERS)}, all, none)")
    result = _analyse(log_path, out or log_path.parent / "analysis", chosen)
    _findings_table(result)


def _analyse(log_path: Path, out: Path, maps: tuple[str, ...] | None = None) -> AnalysisResult:
    from riverpatrol.analysis.pipeline import DEFAULT_MAPS, NothingToAnalyse
    from riverpatrol.analysis.pipeline import analyze as run_analysis

    with Progress(TextColumn("[bold]analysis"), TextColumn("{task.description}"), console=console, transient=True) as bar:
        task = bar.add_task("opening the log")
        try:
            return run_analysis(log_path, out, maps=DEFAULT_MAPS if maps is None else maps,
                                progress=lambda what: bar.update(task, description=what))
        except (PatrolLogError, NothingToAnalyse) as exc:
            _fail(str(exc))


def _findings_table(result: AnalysisResult) -> None:
    features = result.findings["features"]
    table = Table(title=f"Suspected outfalls ({len(features)})", title_justify="left")
    for column in ("#", "confidence", "chainage", "bank", "lon, lat", "evidence"):
        table.add_column(column)
    for rank, feature in enumerate(features, start=1):
        props = feature["properties"]
        lon, lat = feature["geometry"]["coordinates"]
        table.add_row(str(rank), f"{props['confidence']:.2f}", f"{props['chainage_m']:.0f} ± {props['uncertainty_m']:.1f} m",
                      props["bank"], f"{lon:.6f}, {lat:.6f}", _evidence_line(props["evidence"]))
    console.print(table)
    for name, path in result.files.items():
        if not name.startswith("map_"):
            console.print(f"  {name:9} {path}")


def _evidence_line(evidence: dict[str, Any]) -> str:
    """The strongest parameters (by significance), and the sonar if it saw a pipe mouth."""
    params = sorted(evidence.get("parameters", {}).items(), key=lambda kv: -abs(kv[1].get("z", 0.0)))
    words = [f"{name} {p['z']:+.0f}σ" for name, p in params[:3]]
    if "sonar" in evidence:
        words.append(f"sonar target ({evidence['sonar']['pings']} pings)")
    return ", ".join(words) or "sonar only"


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="Directory for the demo's outputs.")] = Path("riverpatrol-demo"),
    serve: Annotated[bool, typer.Option("--serve", help="Run the patrol in the station instead, with the dashboard to watch it.")] = False,
    speedup: Annotated[float, typer.Option("--speedup", min=0.1, max=1000, help="With --serve: patrol at N x real time.")] = 10.0,
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="With --serve: the dashboard's port.")] = 8000,
) -> None:
    """Patrol the built-in Dongmen River scenario end to end and show what it wrote."""
    path = Path(__file__).parent / "scenarios" / DEMO_SCENARIO
    if serve:
        _serve("127.0.0.1", port, demo=(_scenario(path), speedup))
        return
    console.print(f"Dongmen River demo: scenario {path}")
    result = _run(_scenario(path), out, None, None, overwrite=True)
    _summary(result)
    _findings_table(_analyse(result.log_path, out / "analysis"))


@app.command("import")
def import_(
    source: Annotated[Path, typer.Argument(help="A finished patrol log (patrol.sqlite) or the directory holding it.")],
    name: Annotated[str | None, typer.Option("--name", help="The patrol's name in the station (default: the directory's).")] = None,
) -> None:
    """Import a finished patrol log into the station's store, with its analysis."""
    from riverpatrol.analysis.pipeline import NothingToAnalyse, resolve_log
    from riverpatrol.station.ingest import import_log
    from riverpatrol.station.store import Store, StoreError

    log_path = resolve_log(source)
    try:
        store = Store()
        patrol_id = import_log(store, log_path, name=name)
    except (PatrolLogError, NothingToAnalyse, StoreError) as exc:
        _fail(str(exc))
    console.print(f"imported {log_path} as patrol {patrol_id} into {store.engine.url.render_as_string(hide_password=True)}")


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8000,
) -> None:
    """Run the station: API (docs at /docs), live feed, video and the dashboard at http://HOST:PORT/."""
    _serve(host, port)


def _serve(host: str, port: int, demo: tuple[Scenario, float] | None = None) -> None:
    import uvicorn

    from riverpatrol.station.server import create_app
    from riverpatrol.station.store import Store, StoreError

    try:
        store = Store()
    except StoreError as exc:
        _fail(str(exc))
    station = create_app(store)
    url = f"http://{host}:{port}/"
    if demo:
        patrol_id = station.state.runner.start(*demo)
        url += f"?patrol={patrol_id}"
    console.print(f"station on {url} (API docs /docs), store {store.engine.url.render_as_string(hide_password=True)}")
    # No per-message deflate on the live feed: compressing every small batch cost the station about
    # a twentieth of its CPU with ten patrols, for bytes that mostly cross a LAN or loopback.
    uvicorn.run(station, host=host, port=port, log_level="warning", timeout_graceful_shutdown=10,
                ws_per_message_deflate=False)


@app.command()
def report(
    source: Annotated[str, typer.Argument(help="A patrol directory (with patrol.sqlite), a patrol log, or a patrol id in the station's store.")],
    out: Annotated[Path, typer.Option("--out", help="The report to write: FILE.pdf or FILE.html.")],
    lang: Annotated[str, typer.Option("--lang", help="zh or en.")] = "zh",
) -> None:
    """Write a patrol report: map, GB 3838 class per segment, parameter plots, findings with evidence."""
    from riverpatrol.analysis.pipeline import NothingToAnalyse
    from riverpatrol.report import from_directory, from_store, write_report

    if lang not in ("zh", "en"):
        _fail(f"--lang: {lang!r} is not zh or en")
    if out.suffix.lower() not in (".pdf", ".html", ".htm"):
        _fail(f"--out: {out} must end in .pdf or .html")
    try:
        if source.isdigit() and not Path(source).exists():
            from riverpatrol.station.queries import NotFound
            from riverpatrol.station.store import Store, StoreError

            try:
                data = from_store(Store(), int(source))
            except (NotFound, StoreError) as exc:
                _fail(str(exc))
        else:
            data = from_directory(Path(source))
        write_report(data, out, lang)  # type: ignore[arg-type]
    except (PatrolLogError, NothingToAnalyse) as exc:
        _fail(str(exc))
    console.print(f"report: {out}")


@app.command()
def boat(
    config: Annotated[Path, typer.Option("--config", help="Boat config (TOML): river file, log, autopilot, instruments.")],
    duration: Annotated[float | None, typer.Option("--duration", min=0.1, help="Stop after S seconds (default: the config's, else the patrol's end or Ctrl-C).")] = None,
    speedup: Annotated[float, typer.Option("--speedup", min=0.1, max=1000.0, help="Against 'twin serve --speedup N': the twin's N (instrument rates stay in its seconds).")] = 1.0,
) -> None:
    """Run the boat side: drive the patrol through the autopilot, poll the instruments, write the log."""
    from riverpatrol.boat import BoatError, ConfigError, load_config, run_boat

    try:
        cfg = load_config(config)
    except ConfigError as exc:
        _fail(str(exc))
    river = _scenario(cfg.patrol.river)
    if duration is not None:
        cfg = cfg.model_copy(update={"patrol": cfg.patrol.model_copy(update={"duration_s": duration})})
    if cfg.patrol.log.exists():
        _fail(f"patrol log {cfg.patrol.log} already exists; a new patrol never overwrites or extends a log")

    def report(line: str) -> None:
        errors.print(Text(f"boat: {line}"), soft_wrap=True)

    with _autopilot(cfg) as pilot:
        report(f"logging to {cfg.patrol.log}" + (f", patrolling through {cfg.autopilot.url}" if pilot else "")
               + " (Ctrl-C ends the patrol)")
        try:
            summary = run_boat(cfg, river, autopilot=pilot, patrol=pilot is not None, speedup=speedup, report=report)
        except FileExistsError as exc:
            _fail(str(exc))
        except (BoatError, PatrolLogError) as exc:
            _fail(f"the patrol stopped: {exc}; what was recorded until then is in {cfg.patrol.log}", code=1)
    counts = ", ".join(f"{k} {v}" for k, v in summary.counts.items())
    outages = ", ".join(f"{k} x{v}" for k, v in summary.outages.items()) or "none"
    console.print(Text(f"{summary.duration_s:.1f} s logged: {counts}; outages: {outages}; log {cfg.patrol.log}"), soft_wrap=True)


@contextmanager
def _autopilot(cfg: BoatConfig) -> Iterator[Any]:
    """The MAVLink autopilot of ``[autopilot]`` (after its first heartbeat, ``wait_s`` at most); None without one."""
    if cfg.autopilot is None:
        yield None
        return
    from riverpatrol.vehicle.autopilot import AutopilotError
    from riverpatrol.vehicle.link import LinkError
    from riverpatrol.vehicle.mavlink_client import MavlinkAutopilot

    try:
        pilot = MavlinkAutopilot(cfg.autopilot.url)
    except LinkError as exc:
        _fail(f"autopilot.url: {exc}")
    with pilot:
        try:
            pilot.wait_heartbeat(cfg.autopilot.wait_s)
        except AutopilotError as exc:
            _fail(f"autopilot {cfg.autopilot.url}: {exc}")
        yield pilot


@twin_app.command("field")
def twin_field(
    scenario: Annotated[Path, typer.Argument(help="Scenario JSON file.")],
    param: Annotated[str, typer.Option("--param", help=f"One of: {', '.join(PARAMETERS)}.")],
    time: Annotated[float, typer.Option("--time", help="Scenario time, seconds.")],
    points: Annotated[Path, typer.Option("--points", help="CSV file of lon,lat per line ('-' for stdin).")],
) -> None:
    """Print the true field at points as CSV lon,lat,value (value empty on land)."""
    from riverpatrol.twin.field import TrueField

    if param not in PARAMETERS:
        _fail(f"--param: unknown parameter {param!r} (known: {', '.join(PARAMETERS)})")
    sc = _scenario(scenario)
    rows = _read_points(points)
    river = sc.river_frame()
    lon = [r[1] for r in rows]
    lat = [r[2] for r in rows]
    x, y = river.local.to_xy(lon, lat)
    wet = river.in_water(x, y)
    s, n = river.to_river(x, y)
    values = TrueField(sc, river).value(param, s, n, time)
    out = sys.stdout
    for (text, _, _), is_wet, value in zip(rows, wet, values):
        out.write(f"{text},{repr(float(value)) if is_wet else ''}\n")


@twin_app.command("serve")
def twin_serve(
    scenario: Annotated[Path, typer.Argument(help="Scenario JSON file.")],
    mavlink: Annotated[str, typer.Option("--mavlink", help="udpout:HOST:PORT, udpin:HOST:PORT, tcpin:HOST:PORT or a serial device.")] = "udpout:127.0.0.1:14550",
    speedup: Annotated[float, typer.Option("--speedup", min=0.1, max=1000.0, help="Twin time at N x real time.")] = 1.0,
    out: Annotated[Path | None, typer.Option("--out", help="Write the sensors' patrol log and, on exit, truth.json here.")] = None,
    keyframe_interval: Annotated[float, typer.Option("--keyframe-interval", min=0.1, help="Seconds between camera keyframes.")] = 1.0,
    signing_passphrase: Annotated[str | None, typer.Option("--signing-passphrase", help="Sign MAVLink 2 and ignore unsigned input (key = SHA-256 of it, as MAVProxy).")] = None,
    instruments: Annotated[bool, typer.Option("--instruments", help="Also serve the sonde (Modbus TCP), sonars (Ping over UDP) and camera (MJPEG) on loopback.")] = False,
    instrument_ports: Annotated[str, typer.Option("--instrument-ports", help="sonde,sonar port,sonar starboard,echosounder,camera ports (0: any free one).")] = "5020,9092,9093,9094,8081",
    sonde_map: Annotated[str, typer.Option("--sonde-map", help="Register map the emulated sonde answers with.")] = "yosemitech-y4000",
) -> None:
    """Run the twin as an ArduPilot Rover boat speaking MAVLink 2 (like SITL) until interrupted."""
    import signal
    import threading

    from riverpatrol.twin.serve import serve
    from riverpatrol.vehicle.link import LinkError, signing_key

    sc = _scenario(scenario)
    ports = _instrument_ports(instrument_ports, sonde_map) if instruments else None
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    errors.print(f"twin serve: {sc.name} as a Rover boat on {mavlink} at {speedup:g}x; Ctrl-C stops", soft_wrap=True)
    try:
        result = serve(sc, mavlink, speedup=speedup, out_dir=out, keyframe_s=keyframe_interval, stop=stop,
                       signing_key=signing_key(signing_passphrase) if signing_passphrase else None,
                       instruments=ports, announce=lambda name, at: errors.print(f"twin serve: {name} {at}", soft_wrap=True))
    except LinkError as exc:
        _fail(f"--mavlink: {exc}")
    except FileExistsError as exc:
        _fail(f"{exc} (choose another --out)")
    except PatrolLogError as exc:
        _fail(f"twin serve stopped: {exc}", code=1)
    except OSError as exc:
        _fail(f"--instrument-ports: cannot serve the instruments: {exc}")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    errors.print(f"twin serve: stopped at {result.scenario_s:.1f} s twin time after {result.wall_s:.1f} s; "
                 f"{result.bad_packets} bad packets ignored", soft_wrap=True)


def _instrument_ports(text: str, sonde_map: str) -> DevicePorts:
    from riverpatrol.instruments.registermap import MapError, load_map
    from riverpatrol.twin.devices import DevicePorts

    try:
        load_map(sonde_map)
    except MapError as exc:
        _fail(f"--sonde-map: {exc}")
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 5 or not all(p.isdigit() and int(p) < 65536 for p in parts):
        _fail(f"--instrument-ports: expected five ports (sonde,sonar port,sonar starboard,echosounder,camera), got {text!r}")
    sonde, port, starboard, echo, camera = map(int, parts)
    return DevicePorts(sonde=sonde, sonde_map=sonde_map, sonar_port=port, sonar_starboard=starboard,
                       echosounder=echo, camera=camera)


def _read_points(path: Path) -> list[tuple[str, float, float]]:
    from riverpatrol.interop.lonlat_csv import LonLatError, parse_lonlat_csv

    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except OSError as exc:
        _fail(f"--points: cannot read {path}: {exc.strerror or exc}")
    try:
        return parse_lonlat_csv(text, str(path))
    except LonLatError as exc:
        _fail(str(exc))


if __name__ == "__main__":
    app()
