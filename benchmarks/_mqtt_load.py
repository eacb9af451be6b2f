"""A lean MQTT 3.1.1 QoS 1 publisher for load generation in the benchmarks.

The benchmarks run publisher, broker, worker and database on the same small machine. With
paho-mqtt as the publisher, the publishing process used more CPU per message than the worker
it was measuring (about 100 µs: a wake-up of paho's network thread and a socket write per
publish, and three ``recv`` calls per 4-byte PUBACK), so the figures were as much about the
load generator as about the worker. This one builds PUBLISH packets by hand, writes them in
chunks and reads acknowledgements in bulk, as dedicated MQTT load tools (emqtt-bench, mqtt-stresser)
do. It is still a real QoS 1 client: every message has its packet id, the broker acknowledges
each one, at most ``window`` are unacknowledged at a time, and :meth:`LeanPublisher.finish`
says how many the broker acknowledged.

It is only for load. Devices and the product use proper clients.
"""

from __future__ import annotations

import socket
import struct
import threading
import time

CONNECT, CONNACK, PUBLISH_QOS1, PUBACK, DISCONNECT = 0x10, 0x20, 0x32, 0x40, 0xE0
FLUSH_BYTES = 32 * 1024


def _remaining_length(length: int) -> bytes:
    """MQTT's variable-length integer (section 2.2.3)."""
    encoded = bytearray()
    while True:
        digit, length = length % 128, length // 128
        encoded.append(digit | (0x80 if length else 0))
        if not length:
            return bytes(encoded)


def _string(text: str | bytes) -> bytes:
    data = text.encode() if isinstance(text, str) else text
    return struct.pack("!H", len(data)) + data


class LeanPublisher:
    """One QoS 1 publishing connection: ``publish`` queues, ``flush`` writes, ``finish`` waits
    for every acknowledgement and disconnects."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        client_id: str,
        username: str | None = None,
        password: str | None = None,
        window: int = 1000,
    ) -> None:
        self.sock = socket.create_connection((host, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        flags = 0x02  # clean session
        payload = _string(client_id)
        if username is not None:
            flags |= 0x80
            payload += _string(username)
            if password is not None:
                flags |= 0x40
                payload += _string(password)
        # Protocol name, level 4 (3.1.1), flags, keep-alive 0: the broker never times us out.
        variable = _string("MQTT") + bytes([4, flags]) + struct.pack("!H", 0)
        body = variable + payload
        self.sock.sendall(bytes([CONNECT]) + _remaining_length(len(body)) + body)
        connack = self._read_exactly(4)
        if connack[0] != CONNACK or connack[3] != 0:
            raise ConnectionError(f"the broker refused the connection: {connack!r}")
        self.window = threading.Semaphore(window)
        self.acknowledged = 0
        self.published = 0
        self._next_mid = 0
        self._buffer = bytearray()
        self._all_acknowledged = threading.Condition()
        self._reader = threading.Thread(target=self._read_acks, name="mqtt-load-acks", daemon=True)
        self._reader.start()

    def _read_exactly(self, count: int) -> bytes:
        data = b""
        while len(data) < count:
            chunk = self.sock.recv(count - len(data))
            if not chunk:
                raise ConnectionError("the broker closed the connection")
            data += chunk
        return data

    def publish(self, topic: str, payload: bytes) -> None:
        """Queue one QoS 1 message; waits while ``window`` messages are unacknowledged."""
        self.window.acquire()
        self._next_mid = self._next_mid % 65535 + 1
        body = _string(topic) + struct.pack("!H", self._next_mid) + payload
        self._buffer += bytes([PUBLISH_QOS1]) + _remaining_length(len(body)) + body
        self.published += 1
        if len(self._buffer) >= FLUSH_BYTES:
            self.flush()

    def flush(self) -> None:
        """Write what is queued."""
        if self._buffer:
            self.sock.sendall(self._buffer)
            self._buffer = bytearray()

    def _read_acks(self) -> None:
        pending = b""
        while True:
            try:
                chunk = self.sock.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            pending += chunk
            acks = 0
            offset = 0
            # Packets from the broker to a publisher: PUBACKs (and nothing else we asked for).
            while len(pending) - offset >= 2:
                length, used, shift = 0, 1, 0
                while True:
                    if offset + used >= len(pending):
                        used = -1
                        break
                    byte = pending[offset + used]
                    length |= (byte & 0x7F) << shift
                    used += 1
                    shift += 7
                    if not byte & 0x80:
                        break
                if used < 0 or len(pending) - offset < used + length:
                    break
                if pending[offset] & 0xF0 == PUBACK:
                    acks += 1
                offset += used + length
            pending = pending[offset:]
            if acks:
                self.window.release(acks)
                with self._all_acknowledged:
                    self.acknowledged += acks
                    self._all_acknowledged.notify_all()

    def finish(self, timeout: float = 120) -> int:
        """Flush, wait for the broker's acknowledgements, disconnect; how many it acknowledged."""
        self.flush()
        deadline = time.monotonic() + timeout
        with self._all_acknowledged:
            while self.acknowledged < self.published and time.monotonic() < deadline:
                self._all_acknowledged.wait(timeout=max(0.0, deadline - time.monotonic()))
        try:
            self.sock.sendall(bytes([DISCONNECT, 0]))
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self._reader.join(timeout=5)
        return self.acknowledged
