"""HTTP GET with a hard deadline and a cap on the body: the app under test is the student's."""

from __future__ import annotations

import http.client
import re
import socket
import time

from autograde.runtime.facts import HttpAnswer

MAX_BODY = 64 * 1024
_INT = re.compile(r"(?<![\w.])\d{1,18}(?![\w.]*\d)")


def get(host: str, port: int, path: str = "/", timeout: float = 5.0) -> HttpAnswer:
    deadline = time.monotonic() + timeout
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"User-Agent": "autograde", "Connection": "close"})
        resp = conn.getresponse()
        chunks: list[bytes] = []
        size = 0
        while size < MAX_BODY:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return HttpAnswer(
                    None, _text(chunks), f"HTTP {resp.status} came, but the body did not finish within {timeout:g} s"
                )
            if conn.sock:
                conn.sock.settimeout(remaining)
            chunk = resp.read1(min(8192, MAX_BODY - size)) if hasattr(resp, "read1") else resp.read(8192)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        body = _text(chunks)
        return HttpAnswer(resp.status, body, "", count(body) if resp.status == 200 else None)
    except (TimeoutError, OSError, http.client.HTTPException) as e:
        return HttpAnswer(None, "", _describe(e))
    finally:
        conn.close()


def count(body: str) -> int | None:
    """The hit count in the app's line: its standalone integer (the last one if several)."""
    numbers = _INT.findall(body)
    return int(numbers[-1]) if numbers else None


def _text(chunks: list[bytes]) -> str:
    return b"".join(chunks)[:MAX_BODY].decode("utf-8", "replace")


def _describe(e: BaseException) -> str:
    if isinstance(e, socket.timeout | TimeoutError):
        return "timed out"
    if isinstance(e, ConnectionRefusedError):
        return "connection refused"
    if isinstance(e, ConnectionResetError | http.client.RemoteDisconnected):
        return "connection closed without an answer"
    return f"{type(e).__name__}: {e}"
