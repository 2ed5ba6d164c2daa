"""Patrol reports (PDF and HTML): map, GB 3838 class per segment, parameter plots, findings with
their evidence, data quality. Built from the station's store or from a patrol directory."""

from __future__ import annotations

from riverpatrol.report.data import ReportData, from_directory, from_store
from riverpatrol.report.render import write_report

__all__ = ["ReportData", "from_directory", "from_store", "write_report"]
