"""The PyAV camera against the twin's MJPEG server over loopback HTTP, and an H.264 stream."""

import threading
import time

import av
import numpy as np
import pytest
import simplejpeg

from riverpatrol.instruments.camera import StreamCamera, open_options
from riverpatrol.instruments.errors import InstrumentError
from riverpatrol.twin.devices.camera import EmulatedCamera
from riverpatrol.twin.devices.loop import LoopThread


def _jpeg(level: int) -> bytes:
    image = np.full((48, 64, 3), level, np.uint8)
    return simplejpeg.encode_jpeg(image, quality=90)


def test_mjpeg_frames_reach_the_log_byte_for_byte_and_a_stopped_camera_is_an_error():
    loop = LoopThread("camera")
    camera = EmulatedCamera()
    url = loop.run(camera.start())
    frames = [_jpeg(level) for level in (40, 120, 200)]
    stop = threading.Event()

    def feed():
        i = 0
        while not stop.is_set():
            loop.call(camera.publish, frames[i % 3])
            i += 1
            time.sleep(0.02)

    feeder = threading.Thread(target=feed)
    feeder.start()
    try:
        stream = StreamCamera("camera", url, keyframe_s=0.0, timeout_s=2.0).keyframes()
        got = [next(stream) for _ in range(6)]
        loop.run(camera.stop())
        with pytest.raises(InstrumentError, match=f"camera: stream {url} (ended|failed)"):
            for _ in range(100):
                next(stream)
    finally:
        stop.set()
        feeder.join()
        loop.close()
    assert {k.jpeg for k in got} <= set(frames) and len({k.jpeg for k in got}) >= 2
    assert (got[0].width, got[0].height) == (64, 48)


def test_keyframe_interval_thins_the_stream(tmp_path):
    clock = iter(np.arange(0.0, 100.0, 0.1))  # 10 frames a second of stream time
    path = _h264(tmp_path / "clip.mp4", frames=30)
    kept = list(_until_end(StreamCamera("camera", str(path), keyframe_s=1.0, clock=lambda: next(clock)).keyframes()))
    assert len(kept) == 3
    assert all(k.jpeg[:2] == b"\xff\xd8" and (k.width, k.height) == (64, 48) for k in kept)
    decoded = simplejpeg.decode_jpeg(kept[1].jpeg)
    assert abs(float(decoded.mean()) - 100.0) < 10  # the frame's content, through H.264 and JPEG


def test_unreachable_camera_is_named():
    with pytest.raises(InstrumentError, match="camera: cannot open http://127.0.0.1:9/x.mjpg"):
        next(StreamCamera("camera", "http://127.0.0.1:9/x.mjpg", timeout_s=0.5).keyframes())


def test_open_options_by_url_kind():
    assert open_options("/dev/video0") == {"format": "v4l2"}
    assert open_options("rtsp://10.0.0.2/main") == {"options": {"rtsp_transport": "tcp"}}
    assert open_options("http://10.0.0.2/video.mjpg") == {"format": "mpjpeg"}


def _until_end(frames):
    try:
        yield from frames
    except InstrumentError as exc:
        assert "ended" in str(exc)


def _h264(path, frames):
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for _ in range(frames):
            image = np.full((48, 64, 3), 100, np.uint8)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        out.mux(stream.encode(None))
    return path
