import numpy as np
from brping import definitions
from brping.pingmessage import PingParser
from hypothesis import given
from hypothesis import strategies as st

from riverpatrol.instruments.pingproto import PingDecoder, encode, request


def _profile(ping_number: int, bins: int = 64) -> bytes:
    pwr = np.arange(bins, dtype="<u2") * 997
    return encode(definitions.OMNISCAN450_OS_MONO_PROFILE, ping_number=ping_number, length_mm=30000,
                  num_results=bins, min_pwr_db=0.0, max_pwr_db=48.0, pwr_results=pwr.tobytes())


def _brping(data: bytes) -> list:
    parser, out = PingParser(), []
    for byte in data:
        if parser.parse_byte(byte) == PingParser.NEW_MESSAGE:
            out.append(parser.rx_msg)
    return out


def test_fields_agree_with_brpings_own_parser():
    stream = _profile(7) + request(definitions.PING1D_DISTANCE) + encode(
        definitions.PING1D_DISTANCE, distance=1600, confidence=99, ping_number=3)
    ours = PingDecoder().feed(stream)
    theirs = _brping(stream)
    assert [f.message_id for f in ours] == [m.message_id for m in theirs]
    for frame, message in zip(ours, theirs):
        for name, value in frame.fields.items():
            expected = getattr(message, name)
            assert value == (bytes(expected) if isinstance(expected, bytes | bytearray) else expected), name


def test_split_frames_garbage_and_bad_checksums():
    good = _profile(1)
    bad = bytearray(_profile(2))
    bad[20] ^= 0xFF
    decoder = PingDecoder()
    frames = []
    stream = b"\x00BR" + good + bytes(bad) + b"noise B" + good
    for i in range(0, len(stream), 17):  # a serial line delivers arbitrary pieces
        frames += decoder.feed(stream[i:i + 17])
    assert [f.fields["ping_number"] for f in frames] == [1, 1]
    assert decoder.errors >= 1 and decoder.parsed == 2


def test_a_truncated_datagram_is_an_error_not_a_wait():
    decoder = PingDecoder()
    assert decoder.datagram(_profile(1)[:-3]) == []
    assert decoder.errors == 1
    assert [f.fields["ping_number"] for f in decoder.datagram(_profile(2))] == [2]


def test_a_frame_ending_in_b_leaves_nothing_behind():
    def profile(level: int, ping_number: int) -> bytes:
        return encode(definitions.OMNISCAN450_OS_MONO_PROFILE, ping_number=ping_number, num_results=64,
                      pwr_results=bytes([level]) * 128)

    # the checksum's high byte is the frame's last: find a frame where it is 'B' (0x42)
    ending_in_b = next(frame for level in range(256) for n in range(256)
                       if (frame := profile(level, n))[-1] == ord("B"))
    decoder = PingDecoder()
    assert len(decoder.datagram(ending_in_b)) == 1 and decoder.errors == 0


def test_unknown_message_id_is_counted_and_skipped():
    frame = bytearray(b"BR\x00\x00\x39\x30\x00\x00")  # id 12345, empty payload
    frame += (sum(frame) & 0xFFFF).to_bytes(2, "little")
    decoder = PingDecoder()
    assert [f.fields["ping_number"] for f in decoder.feed(bytes(frame) + _profile(5))] == [5]
    assert decoder.unknown == 1


@given(st.binary(max_size=400))
def test_random_bytes_never_raise(data):
    decoder = PingDecoder()
    decoder.feed(data)
    decoder.datagram(data)
