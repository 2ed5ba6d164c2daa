"""The one command-line tool: ``riverpatrol demo | simulate | twin ...``.

Bad input ends with a message that names the problem and exit code 2, never a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from riverpatrol.patrollog import PatrolLogError
from riverpatrol.scenario import PARAMETERS, Scenario, ScenarioError, load_scenario

if TYPE_CHECKING:
    from riverpatrol.simulate import SimulationResult

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
         max_log_mb: float | None = None) -> SimulationResult:
    from riverpatrol.simulate import simulate

    columns = (TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.fields[clock]}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task(f"patrol {scenario.name}", total=1.0, clock="")

        def tick(now: float, expected: float) -> None:
            bar.update(task, completed=min(now / max(expected, 1.0), 0.99), clock=f"{now:7.0f} s scenario time")

        try:
            result = simulate(scenario, out, speedup=speedup, keyframe_s=keyframe_s, overwrite=overwrite,
                              max_log_bytes=None if max_log_mb is None else int(max_log_mb * 1e6), progress=tick)
        except FileExistsError as exc:
            _fail(f"{exc} (pass --overwrite to replace it)")
        except PatrolLogError as exc:
            _fail(f"the patrol stopped: {exc}; what was recorded until then is in {out}", code=1)
        bar.update(task, completed=1.0)
    return result


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
) -> None:
    """Run a scenario's patrol in the twin, writing the patrol log and the twin's truth."""
    if fast and speedup is not None:
        _fail("--fast and --speedup exclude each other")
    result = _run(_scenario(scenario), out, speedup, keyframe_interval, overwrite, max_log_mb)
    _summary(result)


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="Directory for the demo's outputs.")] = Path("riverpatrol-demo"),
) -> None:
    """Patrol the built-in Dongmen River scenario end to end and show what it wrote."""
    path = Path(__file__).parent / "scenarios" / DEMO_SCENARIO
    console.print(f"Dongmen River demo: scenario {path}")
    result = _run(_scenario(path), out, None, None, overwrite=True)
    _summary(result)


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


def _read_points(path: Path) -> list[tuple[str, float, float]]:
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except OSError as exc:
        _fail(f"--points: cannot read {path}: {exc.strerror or exc}")
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split(",")]
        try:
            if len(parts) != 2:
                raise ValueError
            lon, lat = float(parts[0]), float(parts[1])
        except ValueError:
            _fail(f"{path}:{number}: expected 'lon,lat', got {line.strip()!r}")
        rows.append((f"{parts[0]},{parts[1]}", lon, lat))
    return rows


if __name__ == "__main__":
    app()
