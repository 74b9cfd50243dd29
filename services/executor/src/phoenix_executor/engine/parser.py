"""An incremental HTTP/1.x response parser with hard limits.

Fed whatever the socket delivers; it never buffers more than the header limit
plus one read, and it stops taking body bytes at ``max_body`` so a endless or
huge body costs at most ``max_body`` of memory.
"""

from __future__ import annotations

from phoenix_executor.engine.errors import ProtocolError

MAX_HEAD = 64 * 1024  # a header section larger than this is an attack or a bug
MAX_LINE = 4096  # chunk-size and trailer lines

_HEAD, _LENGTH, _CLOSE, _SIZE, _DATA, _DATA_END, _TRAILER, _DONE = range(8)


class ResponseParser:
    def __init__(self, max_body: int, *, head_request: bool = False) -> None:
        self.max_body = max_body
        self.head_request = head_request
        self.status = 0
        self.headers: list[tuple[str, str]] = []
        self.body = bytearray()
        self.truncated = False
        self._buf = bytearray()
        self._state = _HEAD
        self._remaining = 0
        self._trailer_bytes = 0

    @property
    def done(self) -> bool:
        return self._state == _DONE

    def feed(self, data: bytes) -> bool:
        """Take more bytes; True once the response is complete (or the body cap is hit)."""
        if self._state == _DONE:
            return True
        self._buf += data
        while self._step():
            pass
        return self._state == _DONE

    def feed_eof(self) -> None:
        """The server closed: fine for a read-until-close body, an error otherwise."""
        if self._state == _CLOSE:
            self._state = _DONE
        elif self._state != _DONE:
            what = "headers" if self._state == _HEAD else "body"
            raise ProtocolError(f"connection closed before the end of the {what}")

    def _step(self) -> bool:
        """Advance one state; False when more input is needed or the response is done."""
        buf = self._buf
        state = self._state
        if state == _HEAD:
            end = buf.find(b"\r\n\r\n")
            if end < 0 or end > MAX_HEAD:
                if len(buf) > MAX_HEAD:
                    raise ProtocolError(f"header section larger than {MAX_HEAD} bytes")
                return False
            head = bytes(buf[:end])
            del buf[: end + 4]
            self._parse_head(head)
            return True
        if state in (_LENGTH, _DATA):
            if not buf:
                return False
            take = min(len(buf), self._remaining)
            self._append(buf[:take])
            del buf[:take]
            self._remaining -= take
            if self._remaining == 0 and self._state != _DONE:
                self._state = _DONE if state == _LENGTH else _DATA_END
            return True
        if state == _CLOSE:
            if buf:
                self._append(bytes(buf))
                buf.clear()
            return False
        if state == _DATA_END:
            if len(buf) < 2:
                return False
            if buf[:2] != b"\r\n":
                raise ProtocolError("chunk not followed by CRLF")
            del buf[:2]
            self._state = _SIZE
            return True
        if state in (_SIZE, _TRAILER):
            return self._line_state(state)
        return False

    def _line_state(self, state: int) -> bool:
        buf = self._buf
        end = buf.find(b"\r\n")
        if end < 0:
            if len(buf) > MAX_LINE:
                raise ProtocolError("chunk-size or trailer line too long")
            return False
        line = bytes(buf[:end])
        del buf[: end + 2]
        if state == _TRAILER:  # trailers are read and dropped; an empty line ends them
            self._trailer_bytes += end
            if self._trailer_bytes > MAX_HEAD:
                raise ProtocolError("trailer section too large")
            if not line:
                self._state = _DONE
            return True
        size_text = line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise ProtocolError(f"bad chunk size {size_text[:20]!r}") from None
        if size < 0:
            raise ProtocolError("negative chunk size")
        if size == 0:
            self._state = _TRAILER
        else:
            self._state, self._remaining = _DATA, size
        return True

    def _append(self, chunk: bytes | bytearray) -> None:
        room = self.max_body - len(self.body)
        if len(chunk) > room:
            self.body += chunk[:room]
            self.truncated = True
            self._state = _DONE  # stop here: the caller closes the connection
        else:
            self.body += chunk

    def _parse_head(self, head: bytes) -> None:
        lines = head.decode("latin-1").split("\r\n")
        version, _, rest = lines[0].partition(" ")
        code = rest[:3]
        if not version.startswith("HTTP/1.") or len(code) != 3 or not _digits(code):
            raise ProtocolError(f"bad status line {lines[0][:80]!r}")
        headers = []
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep or not name or name[0] in " \t" or name[-1] in " \t":
                raise ProtocolError(f"bad header line {line[:80]!r}")
            headers.append((name, value.strip(" \t")))
        status = int(code)
        if 100 <= status < 200 and status != 101:
            return  # interim response (100 Continue, 103 Early Hints): the real one follows
        self.status, self.headers = status, headers
        self._state = self._body_mode(status, headers)

    def _body_mode(self, status: int, headers: list[tuple[str, str]]) -> int:
        if self.head_request or status in (101, 204, 304):
            return _DONE
        lengths: set[str] = set()
        chunked = False
        for name, value in headers:
            lower = name.lower()
            if lower == "transfer-encoding":
                chunked = value.lower().rsplit(",", 1)[-1].strip() == "chunked"
            elif lower == "content-length":
                lengths.update(part.strip() for part in value.split(","))
        if chunked:  # RFC 9112 6.3: Transfer-Encoding wins over Content-Length
            return _SIZE
        if not lengths:
            return _CLOSE
        if len(lengths) > 1 or not all(_digits(part) for part in lengths):
            raise ProtocolError(f"bad Content-Length {sorted(lengths)!r}")
        self._remaining = int(lengths.pop())
        return _LENGTH if self._remaining else _DONE


def _digits(text: str) -> bool:
    # str.isdigit() accepts "²" (latin-1 0xB2), which int() then rejects.
    return text.isascii() and text.isdigit()
