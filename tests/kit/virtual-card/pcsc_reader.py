# SPDX-License-Identifier: EUPL-1.2
"""What pcscd says of one reader: whether a card is in, and its event counter.

    pcsc_reader.py state READER
        prints "Yes 7" or "No 8": card present, then the reader's event counter
    pcsc_reader.py wait READER [--card Yes|No] [--events-not N] [--timeout S]
        returns once the card is (or is not) in, if asked, and the counter is no longer N;
        exit 1 and the last state on stderr after S seconds (default 5)

READER is the end of the reader's name ("Virtual PCD 00 00"), as `opensc-tool -l` shows it.

Why the counter: pcscd's event thread polls each reader (every 400 ms for vpcd) and counts
every insertion and removal it sees; nothing else changes the counter. A failed APDU also
marks the reader "absent" (winscard.c, SCardTransmit), without the event thread knowing. A
card put back before that thread's next poll is then "present" for the thread, which sees
no change, and "absent" for every client, for good. The other way round happens too: a
reset or power-up that a client asked for marks the reader "present" while the thread has
seen the card leave. So a removal is done once the counter has moved, whatever clients are
told, and a card goes back in only after that.

Reads pcsc-lite's shared state through libpcsclite with ctypes (standard library only).
"""

import argparse
import ctypes
import sys
import time

SCARD_SCOPE_SYSTEM = 2
SCARD_S_SUCCESS = 0
SCARD_STATE_UNAWARE = 0
SCARD_STATE_PRESENT = 0x20
MAX_ATR_SIZE = 33
# pcsc-lite's DWORD and LONG are C longs (8 bytes on 64-bit Linux), not Windows' 32 bits.
DWORD = ctypes.c_ulong
LONG = ctypes.c_long


class ReaderState(ctypes.Structure):
    _fields_ = [
        ("szReader", ctypes.c_char_p),
        ("pvUserData", ctypes.c_void_p),
        ("dwCurrentState", DWORD),
        ("dwEventState", DWORD),
        ("cbAtr", DWORD),
        ("rgbAtr", ctypes.c_ubyte * MAX_ATR_SIZE),
    ]


class Pcsc:
    def __init__(self):
        self.lib = ctypes.CDLL("libpcsclite.so.1")
        self.lib.SCardEstablishContext.restype = LONG
        self.lib.SCardListReaders.restype = LONG
        self.lib.SCardGetStatusChange.restype = LONG
        self.ctx = LONG()
        rv = self.lib.SCardEstablishContext(DWORD(SCARD_SCOPE_SYSTEM), None, None, ctypes.byref(self.ctx))
        if rv != SCARD_S_SUCCESS:
            raise OSError(f"SCardEstablishContext: 0x{rv & 0xFFFFFFFF:08X} (is pcscd running?)")

    def readers(self):
        size = DWORD(0)
        if self.lib.SCardListReaders(self.ctx, None, None, ctypes.byref(size)) != SCARD_S_SUCCESS:
            return []
        buf = ctypes.create_string_buffer(size.value)
        if self.lib.SCardListReaders(self.ctx, None, buf, ctypes.byref(size)) != SCARD_S_SUCCESS:
            return []
        return [name for name in buf.raw[: size.value].split(b"\0") if name]

    def state(self, reader):
        """(card present, event counter), or None when pcscd lists no such reader."""
        name = next((r for r in self.readers() if r.endswith(reader.encode())), None)
        if name is None:
            return None
        rs = ReaderState(szReader=name, dwCurrentState=SCARD_STATE_UNAWARE)
        rv = self.lib.SCardGetStatusChange(self.ctx, DWORD(0), ctypes.byref(rs), DWORD(1))
        if rv != SCARD_S_SUCCESS:
            return None
        return bool(rs.dwEventState & SCARD_STATE_PRESENT), (rs.dwEventState >> 16) & 0xFFFF


def show(state):
    return "no such reader" if state is None else f"{'Yes' if state[0] else 'No'} {state[1]}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["state", "wait"])
    parser.add_argument("reader")
    parser.add_argument("--card", choices=["Yes", "No"])
    parser.add_argument("--events-not", type=int, default=None, metavar="N")
    parser.add_argument("--timeout", type=float, default=5.0, metavar="S")
    args = parser.parse_args()
    pcsc = Pcsc()
    if args.command == "state":
        state = pcsc.state(args.reader)
        if state is not None:
            print(show(state))
        return 0
    if args.card is None and args.events_not is None:
        parser.error("wait needs --card or --events-not")
    want = None if args.card is None else args.card == "Yes"
    deadline = time.monotonic() + args.timeout
    while True:
        state = pcsc.state(args.reader)
        if state is not None and want in (None, state[0]) and state[1] != args.events_not:
            return 0
        if time.monotonic() >= deadline:
            print(f"pcscd says of {args.reader}: {show(state)}", file=sys.stderr)
            return 1
        time.sleep(0.02)


if __name__ == "__main__":
    sys.exit(main())
