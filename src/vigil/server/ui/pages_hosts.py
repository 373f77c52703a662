"""Dashboard pages: hosts, as ``vigil agent`` reports them (namespace ``vigil/Host``,
dimension ``Host``; disks add ``Mount``, GPUs ``GPU``; named processes in ``vigil/Process``).

``GET /hosts`` lists every host with datapoints and its latest CPU, memory and disk figures
in the page's time range; ``GET /hosts/{host}`` charts CPU, memory, disks, network, GPUs
(when it has any) and named processes over the time range, with the thresholds of the
alarms that watch them (the default host alarms of memory and disks).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from vigil.app.metric_views import fit_period, latest
from vigil.resources.names import HOST_NAMESPACE, HOST_UNITS, PROCESS_NAMESPACE, PROCESS_UNITS
from vigil.server.state import get_state
from vigil.server.ui.metric_charts import Line, metric_chart, slug, unit_label
from vigil.server.ui.render import Table, error_page, fmt_num, fmt_time, page, time_range
from vigil.server.ui.session import Viewer, require_viewer

router = APIRouter(include_in_schema=False)

#: (metric, title, y label) of the host charts, in page order
HOST_CHARTS = (
    ("CPUUtilization", "CPU", "CPU busy (100 per vCPU)"),
    ("MemoryUtilization", "Memory", "memory in use"),
    ("MemoryUsed", "Memory used", "memory used"),
    ("DiskUtilization", "Disks", "disk space used"),
    ("NetworkReceived", "Network received", "received per interval"),
    ("NetworkTransmitted", "Network transmitted", "sent per interval"),
    ("GPUUtilization", "GPU", "GPU busy"),
    ("GPUMemoryUtilization", "GPU memory", "GPU memory in use"),
    ("GPUTemperature", "GPU temperature", "temperature"),
    ("GPUPower", "GPU power", "power"),
)
_EXTRA_UNITS = {"GPUTemperature": "°C", "GPUPower": "W"}
PROCESS_CHARTS = (
    ("ProcessCPUUtilization", "Process CPU", "CPU (100 per busy core)"),
    ("ProcessMemoryResident", "Process memory", "resident memory"),
    ("ProcessCount", "Processes", "processes matched"),
)


def _series_by_host(request: Request, namespace: str) -> dict[str, list[tuple[str, dict]]]:
    """host -> [(metric name, dimensions)] of every series of ``namespace``."""
    found: dict[str, list[tuple[str, dict[str, str]]]] = defaultdict(list)
    for _, name, dims in get_state(request).metrics.list_metrics(namespace=namespace):
        host = dims.get("Host")
        if host:
            found[host].append((name, dims))
    return found


def _label(dims: dict[str, str]) -> str:
    rest = {k: v for k, v in dims.items() if k not in ("Host", "GPUUUID")}
    return ", ".join(f"{k} {v}" for k, v in sorted(rest.items())) or "host"


@router.get("/hosts", response_class=HTMLResponse)
def hosts(request: Request, viewer: Viewer = Depends(require_viewer)) -> HTMLResponse:
    tr = time_range(request)
    state = get_state(request)
    period = fit_period(tr.start, tr.end)
    rows: list[Sequence[Any]] = []
    for host, series in sorted(_series_by_host(request, HOST_NAMESPACE).items()):
        figures: dict[str, str] = {}
        last_seen = None
        for metric in ("CPUUtilization", "MemoryUtilization"):
            found = latest(state.metrics, HOST_NAMESPACE, metric, {"Host": host}, tr.start,
                           tr.end, period, "Average")  # fmt: skip
            figures[metric] = f"{fmt_num(found[1], 3)} %" if found else "-"
            if found and (last_seen is None or found[0] > last_seen):
                last_seen = found[0]
        disks = []
        for name, dims in series:
            if name == "DiskUtilization" and "Mount" in dims:
                found = latest(state.metrics, HOST_NAMESPACE, name, dims, tr.start, tr.end,
                               period, "Maximum")  # fmt: skip
                if found:
                    disks.append(f"{dims['Mount']} {fmt_num(found[1], 3)} %")
        gpus = len({d.get("GPU") for n, d in series if "GPU" in d})
        rows.append([
            {"text": host, "href": f"/hosts/{quote(host, safe='')}"},
            figures["CPUUtilization"], figures["MemoryUtilization"], "; ".join(disks) or "-",
            str(gpus) if gpus else "-", fmt_time(last_seen),
        ])  # fmt: skip
    table = Table(["Host", "CPU (100 per vCPU)", "Memory", "Disks", "GPUs", "Last figure"],
                  rows, empty="no host has reported figures (run `vigil agent`)")
    return page(request, viewer, "hosts.html", "Hosts", table=table, period=period)


def _charts(
    request: Request, host: str, namespace: str, series: list[tuple[str, dict]],
    specs: tuple[tuple[str, str, str], ...], units: dict[str, str], prefix: str,
) -> list[dict[str, Any]]:  # fmt: skip
    state = get_state(request)
    tr = time_range(request)
    period = fit_period(tr.start, tr.end)
    out = []
    for metric, title, y_label in specs:
        dims_list = sorted((d for n, d in series if n == metric), key=lambda d: sorted(d.items()))
        if not dims_list:
            continue
        statistic = "Maximum" if metric == "DiskUtilization" else "Average"
        lines = [Line(namespace, metric, d, statistic, _label(d)) for d in dims_list]
        unit = _EXTRA_UNITS.get(metric) or unit_label(units.get(metric))
        out.append(metric_chart(
            state, f"{prefix}-{slug(metric)}", f"{title} ({metric}, {statistic})", lines, tr,
            period, y_label=y_label, y_unit=unit or "count",
        ))  # fmt: skip
    return out


@router.get("/hosts/{host}", response_class=HTMLResponse)
def host(request: Request, host: str, viewer: Viewer = Depends(require_viewer)) -> HTMLResponse:
    series = _series_by_host(request, HOST_NAMESPACE).get(host)
    if not series:
        return error_page(request, viewer, 404, f"no host named {host!r} has reported figures")
    processes = _series_by_host(request, PROCESS_NAMESPACE).get(host, [])
    tr = time_range(request)
    charts = _charts(request, host, HOST_NAMESPACE, series, HOST_CHARTS, HOST_UNITS, "host")
    process_charts = _charts(request, host, PROCESS_NAMESPACE, processes, PROCESS_CHARTS,
                             PROCESS_UNITS, "process")  # fmt: skip
    has_gpu = any("GPU" in d for _, d in series)
    return page(request, viewer, "host.html", f"Host {host}", host=host, charts=charts,
                process_charts=process_charts, has_gpu=has_gpu,
                period=fit_period(tr.start, tr.end))
