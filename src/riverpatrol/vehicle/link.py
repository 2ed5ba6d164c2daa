"""Opening a MAVLink 2 link (ArduPilot dialect) the same way at both ends.

pymavlink chooses its wire version from the MAVLINK20 environment variable when the dialect is
loaded, so this module sets it before importing mavutil; everything else imports ``mavlink`` and
``mavutil`` from here.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from typing import Any

os.environ.setdefault("MAVLINK20", "1")

from pymavlink import mavutil  # noqa: E402

mavutil.set_dialect("ardupilotmega")
mavlink = mavutil.mavlink

URL_FORMS = "udpin:HOST:PORT, udpout:HOST:PORT, tcp:HOST:PORT, tcpin:HOST:PORT or a serial device[,BAUD]"


class LinkError(ValueError):
    """A connection URL that cannot be opened; the message names the URL and the reason."""


def open_link(url: str, *, system: int, component: int, signing_key: bytes | None = None,
              accept_unsigned: tuple[int, ...] = ()) -> mavutil.mavfile:
    """A pymavlink connection speaking MAVLink 2 as ``system``/``component``.

    With ``signing_key`` (32 bytes) outgoing messages are signed and incoming unsigned ones are
    dropped by the parser, except the message ids in ``accept_unsigned``.
    """
    device, baud = url, 57600
    if "," in url and not url.startswith(("udp", "tcp")):
        device, _, rate = url.rpartition(",")
        baud = int(rate) if rate.isdigit() else 0
        if baud <= 0:
            raise LinkError(f"{url}: bad baud rate {rate!r}")
    if not url.startswith(("udpin:", "udpout:", "tcp:", "tcpin:")) and not url.startswith("/dev/"):
        raise LinkError(f"{url}: unknown link (expected {URL_FORMS})")
    if url.startswith(("udp", "tcp")):  # checked here: pymavlink leaks the socket of an address it cannot bind
        host, _, port = url.partition(":")[2].rpartition(":")
        if not host or "\x00" in host or not port.isdigit() or int(port) > 65535:
            raise LinkError(f"{url}: expected HOST:PORT (a port 0-65535)")
    try:
        conn = mavutil.mavlink_connection(device, baud=baud, source_system=system, source_component=component,
                                          autoreconnect=True, retries=1)
    except (OSError, ValueError) as exc:
        raise LinkError(f"{url}: cannot open: {exc}") from exc
    conn.WIRE_PROTOCOL_VERSION = "2.0"
    conn.first_byte = False  # never fall back to MAVLink 1 on what a peer sends first
    if signing_key is not None:
        if len(signing_key) != 32:
            raise LinkError(f"signing key must be 32 bytes, got {len(signing_key)}")
        allowed = frozenset(accept_unsigned)
        conn.setup_signing(signing_key, sign_outgoing=True,
                           allow_unsigned_callback=lambda _mav, msg_id: msg_id in allowed)
    return conn


def signing_key(passphrase: str) -> bytes:
    """The 32-byte key MAVProxy and Mission Planner derive from a passphrase (SHA-256)."""
    return hashlib.sha256(passphrase.encode()).digest()


def drain(conn: mavutil.mavfile, limit: int = 10_000) -> Iterator[Any]:
    """Every message waiting on the link (reading at most ``limit`` times), broken frames as BAD_DATA.

    On UDP a frame never spans datagrams, so each datagram is parsed to its end before the next
    is read, and bytes left in the parser then are a truncated frame: reported and dropped, so
    that they cannot swallow the next datagram. Signatures are still checked by the parser.
    """
    if not isinstance(conn, mavutil.mavudp):
        for _ in range(limit):
            msg = conn.recv_msg()
            if msg is None:
                return
            yield msg
        return
    parser = conn.mav
    for _ in range(limit):
        data = conn.recv()
        if not data:
            if conn.select(0):
                continue  # an empty datagram; more may wait behind it
            return
        msg = parser.parse_char(data)
        while msg is not None:
            yield msg  # without mavutil's per-message bookkeeping (loss counts, timestamps): unused here
            msg = parser.parse_char(b"") if parser.buf_len() else None  # one message a datagram is the rule
        if parser.buf_len() > 0:
            leftover = bytes(parser.buf[parser.buf_index:])
            parser.buf, parser.buf_index = bytearray(), 0
            parser.expected_length = mavlink.HEADER_LEN_V1 + 2
            yield mavlink.MAVLink_bad_data(leftover, "truncated frame")
