import asyncio

from riverpatrol.twin.devices.camera import EmulatedCamera


def test_serves_frames_as_multipart_and_other_paths_are_not_found():
    async def get(host, port, path, parts):
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(f"GET {path} HTTP/1.0\r\n\r\n".encode())
        head = await reader.readuntil(b"\r\n\r\n")
        body = b""
        if parts:
            while body.count(b"\xff\xd9") < parts:
                body += await reader.read(4096)
        writer.close()
        return head, body

    async def go():
        camera = EmulatedCamera()
        url = await camera.start()
        host, port = url.split("/")[2].split(":")
        missing = await get(host, port, "/", 0)
        viewer = asyncio.create_task(get(host, port, "/stream.mjpg", 2))
        while not camera._viewers:
            await asyncio.sleep(0.01)
        camera.publish(b"\xff\xd8one\xff\xd9")
        camera.publish(b"\xff\xd8two\xff\xd9")
        streamed = await viewer
        await camera.stop()
        return missing, streamed

    (missing_head, _), (head, body) = asyncio.run(go())
    assert missing_head.startswith(b"HTTP/1.0 404")
    assert b"multipart/x-mixed-replace;boundary=riverpatrolframe" in head
    assert body.count(b"Content-Type: image/jpeg") == 2 and b"\xff\xd8two\xff\xd9" in body
