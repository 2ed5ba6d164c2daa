"""The Blue Robotics Ping protocol: brping's message definitions, framing that takes whole buffers.

brping's own parser steps a state machine byte by byte, which a 5 Hz pair of 1 kB side-scan
profiles keeps busy on a companion computer; this decoder finds frames in a buffer with slicing
and ``struct``, checks the checksum (sum of header and payload bytes, modulo 2^16) and unpacks the
payload with the same definitions brping uses, so both agree on every field. Encoding goes through
brping's ``PingMessage``.

A frame whose checksum fails, or whose length its message cannot have, is counted in ``errors``
and the decoder resynchronises on the next ``BR``; a well-formed frame of an id the definitions do not know is counted in ``unknown``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from brping import definitions
from brping.pingmessage import PingMessage

_HEADER = struct.Struct("<2sHHBB")  # 'BR', payload length, message id, source, destination
_HEADER_LEN = _HEADER.size
_CHECKSUM = struct.Struct("<H")
_MAX_PAYLOAD = 65535
_LONGEST_READ = 16384  # no message these drivers read is longer; a longer header is noise


@dataclass(frozen=True, slots=True)
class PingFrame:
    """One decoded message: its id and name, the devices, the fields by name (a variable-length
    last field comes as bytes)."""

    message_id: int
    name: str
    src: int
    dst: int
    fields: dict[str, Any]


@dataclass(frozen=True, slots=True)
class _Layout:
    name: str
    static: struct.Struct
    names: tuple[str, ...]
    variable: bool


def _layouts(table: dict[int, dict[str, Any]]) -> dict[int, _Layout]:
    out = {}
    for mid, spec in table.items():
        static = struct.Struct("<" + spec["format"])
        count = len(static.unpack(bytes(static.size)))
        names = tuple(spec["field_names"])
        out[mid] = _Layout(spec["name"], static, names, len(names) > count)
    return out


_LAYOUTS = _layouts(definitions.payload_dict_all)


class PingDecoder:
    """Feed it bytes as they come (datagrams or a serial stream); it returns the complete frames."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self.parsed = 0
        self.errors = 0
        self.unknown = 0

    def feed(self, data: bytes) -> list[PingFrame]:
        buf = self._buf
        buf += data
        frames: list[PingFrame] = []
        pos = 0
        end = len(buf)
        while True:
            start = buf.find(b"BR", pos)
            if start < 0:
                pos = end - 1 if end > pos and buf[-1] == 0x42 else end  # an unread trailing 'B' may start a frame
                break
            if end - start < _HEADER_LEN:
                pos = start
                break
            _, length, mid, src, dst = _HEADER.unpack_from(buf, start)
            layout = _LAYOUTS.get(mid)
            if length > _LONGEST_READ or (layout is not None and (
                    length < layout.static.size or (not layout.variable and length != layout.static.size))):
                self.errors += 1  # a length this message cannot have: not a frame start
                pos = start + 1
                continue
            stop = start + _HEADER_LEN + length
            if stop + 2 > end:
                pos = start
                break
            if sum(memoryview(buf)[start:stop]) & 0xFFFF != _CHECKSUM.unpack_from(buf, stop)[0]:
                self.errors += 1
                pos = start + 1  # not a frame after all: look for the next 'BR'
                continue
            pos = stop + 2
            if layout is None:
                self.unknown += 1
                continue
            values = layout.static.unpack_from(buf, start + _HEADER_LEN)
            fields = dict(zip(layout.names, values))
            if layout.variable:
                fields[layout.names[-1]] = bytes(buf[start + _HEADER_LEN + layout.static.size:stop])
            frames.append(PingFrame(mid, layout.name, src, dst, fields))
            self.parsed += 1
        del buf[:pos]
        return frames

    def datagram(self, data: bytes) -> list[PingFrame]:
        """The frames of one UDP datagram: a datagram never continues into the next, so bytes
        left over are an error, not the start of a frame to wait for."""
        frames = self.feed(data)
        if self._buf:
            self.errors += 1
            self._buf.clear()
        return frames


def encode(message_id: int, *, src: int = 0, dst: int = 0, **fields: Any) -> bytes:
    """One framed message (brping's packer); a variable-length last field is given as bytes."""
    message = PingMessage(message_id)
    message.src_device_id, message.dst_device_id = src, dst
    for name, value in fields.items():
        if name not in message.payload_field_names:
            raise ValueError(f"{message.name} has no field {name!r} (fields: {', '.join(message.payload_field_names)})")
        setattr(message, name, value)
    data = bytes(message.pack_msg_data())
    if len(data) - _HEADER_LEN - 2 > _MAX_PAYLOAD:
        raise ValueError(f"{message.name}: payload over {_MAX_PAYLOAD} bytes")
    return data


def request(requested_id: int, *, src: int = 0, dst: int = 0) -> bytes:
    """A general_request for one message id (how a Ping device is polled)."""
    return encode(definitions.COMMON_GENERAL_REQUEST, src=src, dst=dst, requested_id=requested_id)
