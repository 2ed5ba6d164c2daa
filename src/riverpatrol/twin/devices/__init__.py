"""The twin's instruments behind their real protocols (Modbus TCP, Ping over UDP, MJPEG over HTTP)."""

from riverpatrol.twin.devices.hub import DevicePorts, TwinDevices

__all__ = ["DevicePorts", "TwinDevices"]
