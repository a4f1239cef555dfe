#!/usr/bin/env python3
"""A browser's side of native messaging, for installers/windows/test.sh (host under Wine).

  native_client.py conversation --fingerprint FP --digest HEX --signature-out FILE -- CMD...
      Starts CMD (the host, as Chrome on Windows starts it) and holds one conversation:
      the hello event; hello and status in frames whose bytes include CR LF and 0x1A (in the
      length prefixes and, as JSON whitespace, in the bodies); replies whose length prefixes
      hold 0x0A, 0x0D and 0x1A bytes; status says PC/SC is unavailable and lists the token;
      list-certificates, login (PIN from PARAPHE_TEST_PIN), sign (rsa-pkcs1, SHA-256), logout;
      end of input, exit status 0. Writes the signature to FILE. Exit status 1 on any failure.
  native_client.py startup N -- CMD...
      Spawn → hello event time, N times; prints the median and the spread in milliseconds.

Frames are read exactly as the browser does: 4-byte little-endian length, then that many
bytes. A host that wrote in text mode (LF → CR LF) or stopped at 0x1A would break the framing.
"""
import base64
import json
import os
import statistics
import struct
import subprocess
import sys
import time


def fail(message):
    print(f"native_client: FAIL: {message}", file=sys.stderr)
    sys.exit(1)


class Host:
    def __init__(self, cmd):
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.lengths = []  # length prefixes of every frame received

    def write_raw(self, body):
        self.p.stdin.write(struct.pack("<I", len(body)) + body)
        self.p.stdin.flush()

    def read(self):
        head = self.p.stdout.read(4)
        if len(head) != 4:
            fail(f"the host closed its output (got {len(head)} bytes of a length)")
        (n,) = struct.unpack("<I", head)
        if n > 1024 * 1024:
            fail(f"frame length {n:#x} over 1 MiB: the stream is out of step")
        body = self.p.stdout.read(n)
        if len(body) != n:
            fail(f"frame cut short: {len(body)} of {n} bytes")
        self.lengths.append(n)
        try:
            return json.loads(body)
        except ValueError as e:
            fail(f"frame is not JSON ({e}): {body[:80]!r}")

    def reply(self, ident):
        """The response to request `ident`, skipping events (card monitor) on the way."""
        while True:
            m = self.read()
            if "event" in m:
                continue
            if m.get("id") != ident:
                fail(f"response for id {m.get('id')} while waiting for {ident}: {m}")
            return m

    def call(self, ident, command, arguments=None, body=None):
        if body is None:
            req = {"id": ident, "command": command}
            if arguments is not None:
                req["arguments"] = arguments
            body = json.dumps(req, separators=(",", ":")).encode()
        self.write_raw(body)
        m = self.reply(ident)
        if "error" in m:
            fail(f"{command}: {m['error']}")
        return m["result"]

    def close(self):
        self.p.stdin.close()
        rest = self.p.stdout.read()
        code = self.p.wait(timeout=60)
        return code, rest


def padded(request, length):
    """`request` as JSON padded to exactly `length` bytes with CR LF whitespace inside."""
    core = json.dumps(request, separators=(",", ":")).encode()
    room = length - len(core)
    if room < 2:
        fail(f"cannot pad {core!r} to {length} bytes")
    fill = b"\r\n" * (room // 2) + b" " * (room % 2)
    body = core[:1] + fill + core[1:]  # whitespace after the opening brace
    assert len(body) == length
    return body


def conversation(args, cmd):
    fp, digest, out = args["--fingerprint"], bytes.fromhex(args["--digest"]), args["--signature-out"]
    pin = os.environ.get("PARAPHE_TEST_PIN", "1234")
    h = Host(cmd)
    hello = h.read()
    if hello.get("event") != "hello":
        fail(f"first frame is not the hello event: {hello}")
    if hello["data"].get("os") != "windows" or hello["data"].get("caller") != "chromium":
        fail(f"hello event: {hello['data']}")

    # Requests whose length prefixes are 0D 0A 00 00 (CR LF) and 1A 01 00 00 (0x1A), with CR LF
    # as JSON whitespace inside.
    res = h.call(1, "hello", body=padded({"id": 1, "command": "hello"}, 0x0A0D))
    if res.get("protocol") != 1:
        fail(f"hello: {res}")
    status = h.call(2, "status", body=padded({"id": 2, "command": "status"}, 0x011A))
    pcsc = status.get("pcsc") or {}
    if pcsc.get("available") is not False or not pcsc.get("message"):
        fail(f"status should say PC/SC is unavailable under Wine: {pcsc}")
    loaded = [m for m in status["modules"] if m.get("loaded")]
    if not loaded or not status["tokens"]:
        fail(f"status: no loaded module or no token: {status['modules']}")

    # Replies whose length prefixes hold 0x0A, 0x0D and 0x1A: UNKNOWN_COMMAND echoes the
    # command name, so its length steers the reply's.
    def unknown(ident, name):
        h.write_raw(json.dumps({"id": ident, "command": name}, separators=(",", ":")).encode())
        m = h.reply(ident)
        if m.get("error", {}).get("code") != "UNKNOWN_COMMAND":
            fail(f"unknown command {name!r}: {m}")
        return h.lengths[-1]

    base = unknown(10, "x")
    slope = unknown(11, "xx") - base
    if slope <= 0:
        fail("the reply to an unknown command does not grow with its name")
    ident = 12
    for target in (0x0A, 0x0D, 0x1A):
        for k in range(1, 600):
            if (base + (k - 1) * slope) % 256 == target:
                got = unknown(ident, "x" * k)
                if got % 256 != target:
                    fail(f"reply length {got:#x}, wanted low byte {target:#x}")
                ident += 1
                break
        else:
            fail(f"no command name length gives a reply of length {target:#x} mod 256 (slope {slope})")
    for target in (0x0A, 0x0D, 0x1A):
        if not any(n % 256 == target or (n >> 8) % 256 == target for n in h.lengths):
            fail(f"no reply had a {target:#04x} byte in its length prefix: {[hex(n) for n in h.lengths]}")

    certs = h.call(3, "list-certificates")["certificates"]
    if not any(c["fingerprint"] == fp for c in certs):
        fail(f"certificate {fp} not listed: {[c['fingerprint'] for c in certs]}")
    login = h.call(4, "login", {"certificate": fp, "pin": pin, "purpose": "sign-raw"})
    sig = h.call(5, "sign", {"session": login["session"], "digest": base64.b64encode(digest).decode(),
                             "hash": "sha256", "scheme": "rsa-pkcs1"})
    h.call(6, "logout", {"session": login["session"]})
    with open(out, "wb") as f:
        f.write(base64.b64decode(sig["signature"]))
    code, rest = h.close()
    if code != 0:
        fail(f"host exit status {code} after end of input")
    print(f"native_client: {len(h.lengths)} frames, PC/SC: {pcsc['message']}; signed with {loaded[0]['path']}")


def startup(n, cmd):
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        h = Host(cmd)
        if h.read().get("event") != "hello":
            fail("no hello event")
        times.append((time.perf_counter() - t0) * 1000)
        code, _ = h.close()
        if code != 0:
            fail(f"exit status {code}")
    times.sort()
    print(f"median {statistics.median(times):.0f} ms, min {times[0]:.0f} ms, max {times[-1]:.0f} ms over {n} runs")


def main():
    argv = sys.argv[1:]
    if "--" not in argv or not argv:
        fail(__doc__)
    split = argv.index("--")
    opts, cmd = argv[:split], argv[split + 1:]
    mode = opts.pop(0)
    if mode == "conversation":
        conversation(dict(zip(opts[::2], opts[1::2])), cmd)
    elif mode == "startup":
        startup(int(opts[0]), cmd)
    else:
        fail(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
