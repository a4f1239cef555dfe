#!/usr/bin/env python3
# SPDX-License-Identifier: EUPL-1.2
#
# Part of Paraphe's test kit (test-only code, never shipped). It started as the project's
# reference bridge (shared/reference/virtual_piv_card.py) and is owned here from now on.
# It imports, at run time, the PyPI package jcecard 0.1.0 (BSD-2-Clause, (c) Kushal Das),
# which card.sh installs into a virtual environment. No jcecard code is copied here: the
# fix-ups below replace or wrap its functions when this process starts (monkey-patching).
"""A virtual PIV smart card that signs, seen through real PC/SC.

jcecard is a Python emulation of a PIV (and OpenPGP) card. vsmartcard's vpcd is a pcscd
reader driver that gives two readers, "Virtual PCD 00 00" and "Virtual PCD 00 01", which
listen on TCP 35963 and 35964. This script connects jcecard to one of them, so that pcscd,
OpenSC's PIV driver and opensc-pkcs11.so see a card that lists certificates, signs
(RSA-2048 PKCS#1 v1.5, ECDSA P-256) and decrypts (RSA PKCS#1 v1.5).

    python virtual_piv_card.py [--port 35963] [--storage DIR] [--lock FILE] [--delay-ms MS]
                               [--stall-file FILE] [--out-file FILE] [--exit-with PID] [-v]

- Connected to vpcd = card inserted; disconnected = card removed.
- `kill -USR1 PID` removes the card and `kill -USR2 PID` inserts it again; the card's
  memory (keys, certificates, PIN counter) is kept. Exiting loses the PIV keys: jcecard 0.1.0
  keeps them in memory only, so provision the card after each start (provision.sh).
- When pcscd is not (yet) listening, or restarts, the bridge keeps trying to connect, as a
  card waiting in its reader.
- `--stall-file FILE`: while FILE exists, the card holds the next command APDU it gets and
  answers nothing (a card or middleware that hangs), and writes FILE.held once it holds one.
  It lets go when FILE is deleted, or when the card is removed (SIGUSR1).
- `--out-file FILE`: FILE exists while the card is out (from SIGUSR1 to SIGUSR2), so that
  card.sh knows a card pulled by someone else's `kill -USR1`.
- `--lock FILE`: hold an exclusive flock on FILE while running, and exit with status 3 at
  once if another process holds it. card.sh uses one lock per reader, so two virtual cards
  never fight over one reader.

vpcd protocol: each message is a 2-byte big-endian length and a payload. A 1-byte payload is
a control message (0 power off, 1 power on, 2 reset, 4 "send the ATR"); anything longer is a
command APDU, answered by one response APDU (data + SW1 SW2).

Fix-ups for jcecard 0.1.0 under OpenSC 0.23's PIV driver:
 1. SELECT of the PIV application with the full 9-byte AID is cut to the 5-byte prefix
    jcecard accepts.
 2. The SELECT response is wrapped in tag 61 (Application Property Template), as OpenSC
    requires.
 3. Short-APDU response chaining (ISO 7816-4): when the card has more data than Le, answer
    Le bytes with SW 61xx and serve the rest through GET RESPONSE (INS C0). Without it
    SCardTransmit fails with SCARD_E_INSUFFICIENT_BUFFER (OpenSC first reads PIV objects
    with Le=8).
 4. A PIV Discovery Object (GET DATA 7E) is served while the PIV applet is selected, see
    Bridge.process().
 5. RSA GENERAL AUTHENTICATE is replaced (long TLV lengths, raw RSA), see _general_authenticate.
And one for speed: TCP_QUICKACK on the socket, see Bridge._quickack(). For a card as slow
as a real one (timeouts, progress UI), use --delay-ms.
"""

import argparse
import fcntl
import logging
import os
import signal
import socket
import struct
import sys
import threading
import time
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from jcecard.apdu import SW
from jcecard.main import OpenPGPCard
from jcecard.piv import PIV_AID
from jcecard.piv import applet as piv_applet
from jcecard.piv.data_objects import PIVSlot

log = logging.getLogger("virtual-piv-card")
# Insertions and removals as the bridge lived them, kept at INFO whatever -v says: card.sh
# shows the end of bridge.log when a card does not come or go as asked.
events = logging.getLogger("virtual-piv-card.events")

# PIV Discovery Object (SP 800-73-4 part 1, 3.3.2): the PIV AID, then PIN usage policy
# 40 00 = "the PIV Card Application PIN satisfies the PIV access control rules".
DISCOVERY_OBJECT = bytes.fromhex("7E124F0BA0000003080000100001005F2F024000")
SW_OK = b"\x90\x00"


# ---- fix-up 5: GENERAL AUTHENTICATE with RSA-2048 -------------------------------------------
#
# jcecard 0.1.0 parses only short-form TLV lengths in GENERAL AUTHENTICATE and signs RSA as
# "PKCS#1 v1.5 over a SHA-256 DigestInfo". RSA-2048 needs long-form lengths (256-byte blocks),
# and a PIV card does a RAW RSA private-key operation on a block the host already padded
# (this one operation serves both signing, over a DigestInfo, and PKCS#1 v1.5 decryption).
# Everything else (ECDSA, management-key authentication) goes to jcecard's own handler.


def _ber_length(data, i):
    """Decode a BER length at data[i]; return (length, index after it)."""
    first = data[i]
    if first < 0x80:
        return first, i + 1
    n = first & 0x7F
    return int.from_bytes(data[i + 1 : i + 1 + n], "big"), i + 1 + n


def _ber_encode_length(n):
    if n < 0x80:
        return bytes([n])
    if n < 0x100:
        return bytes([0x81, n])
    return b"\x82" + n.to_bytes(2, "big")


_jcecard_general_authenticate = piv_applet.PIVApplet._handle_general_authenticate


def _general_authenticate(self, apdu):
    data = apdu.data
    # Short template (EC keys, challenges) or management key (9B): jcecard handles it.
    if not data or data[0] != 0x7C or data[1] < 0x80 or apdu.p2 == 0x9B:
        return _jcecard_general_authenticate(self, apdu)
    length, offset = _ber_length(data, 1)
    body, tags, i = data[offset : offset + length], {}, 0
    while i < len(body):
        tag_length, j = _ber_length(body, i + 1)
        tags[body[i]] = body[j : j + tag_length]
        i = j + tag_length
    try:
        slot = PIVSlot(apdu.p2)
    except ValueError:
        return piv_applet.make_response(SW.INCORRECT_P1_P2)
    if slot != PIVSlot.CARD_AUTH and not self.security.pin_verified:
        return piv_applet.make_response(SW.SECURITY_STATUS_NOT_SATISFIED)
    key = self.data_objects.get_key(slot)
    if key is None:
        return piv_applet.make_response(SW.REFERENCED_DATA_NOT_FOUND)
    if 0x81 in tags and key.is_rsa():  # 81 = challenge: the block to transform
        private = serialization.load_der_private_key(key.private_key, password=None)
        numbers = private.private_numbers()
        n = numbers.public_numbers.n
        block = int.from_bytes(tags[0x81], "big")
        out = pow(block, numbers.d, n).to_bytes((n.bit_length() + 7) // 8, "big")
        inner = b"\x82" + _ber_encode_length(len(out)) + out  # 82 = response
        return piv_applet.make_response(SW.SUCCESS, b"\x7C" + _ber_encode_length(len(inner)) + inner)
    return piv_applet.make_response(SW.WRONG_DATA)


piv_applet.PIVApplet._handle_general_authenticate = _general_authenticate


# ---- APDU helpers ------------------------------------------------------------------------------


def short_le(apdu):
    """Most response bytes a short APDU allows: its Le, or 256 when it has none (cases 1
    and 3). None for extended-length APDUs, which get their response whole (no chaining)."""
    if len(apdu) == 4:
        return 256
    if len(apdu) == 5:
        return apdu[4] or 256
    if apdu[4] == 0:
        return None  # extended length
    if len(apdu) == 6 + apdu[4]:  # case 4: header, Lc, data, Le
        return apdu[-1] or 256
    return 256  # case 3: header, Lc, data


class Removed(Exception):
    """The connection to vpcd ended (card removed or pcscd gone)."""


class Bridge:
    def __init__(self, card, host, port, delay=0.0, stall_file=None, out_file=None):
        self.card = card
        self.stall_file = stall_file  # while it exists, APDUs get no answer (see hold())
        self.out_file = out_file  # exists while the card is out
        self.address = (host, port)
        self.delay = delay  # seconds added to every APDU: a slow card, on demand
        self.inserted = True
        self.sock = None
        self.pending = b""  # response bytes not yet fetched by GET RESPONSE

    # -- signals --

    def remove(self, *_):
        """SIGUSR1: pull the card out. Closing the socket is what vpcd sees as removal."""
        self.inserted = False
        if self.out_file:
            with open(self.out_file, "w"):
                pass
        if self.sock is not None:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def insert(self, *_):
        """SIGUSR2: put it back (the main loop reconnects)."""
        self.inserted = True
        if self.out_file:
            try:
                os.unlink(self.out_file)
            except FileNotFoundError:
                pass

    # -- transport --

    def _quickack(self):
        # vpcd writes the 2-byte length and the APDU in two send() calls. With Nagle on its
        # side and delayed ACKs on ours, the second write waits ~40 ms for our ACK: that was
        # the "44 ms per APDU" of the reference bridge. Linux clears TCP_QUICKACK after use,
        # so it is set again before every read.
        if hasattr(socket, "TCP_QUICKACK"):
            try:
                self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
            except OSError:
                pass

    def recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            self._quickack()
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise Removed()
            buf += chunk
        return buf

    def send(self, payload):
        self.sock.sendall(struct.pack(">H", len(payload)) + payload)

    # -- card --

    def chain(self, data, sw, ne):
        """Fix-up 3: answer at most `ne` bytes, keep the rest for GET RESPONSE."""
        if ne is not None and sw == SW_OK and len(data) > ne:
            self.pending = data[ne:]
            return data[:ne] + bytes([0x61, min(len(self.pending), 255)])
        self.pending = b""
        return data + sw

    def process(self, apdu):
        if len(apdu) >= 4 and apdu[1] == 0xC0 and self.pending:  # GET RESPONSE, our buffer
            return self.chain(self.pending, SW_OK, short_le(apdu) or 256)
        self.pending = b""
        ne = short_le(apdu)
        is_piv_select = (
            len(apdu) >= 10 and apdu[1] == 0xA4 and apdu[2] == 0x04 and apdu[5:10] == PIV_AID
        )
        if is_piv_select and apdu[4] > 5:  # fix-up 1
            has_le = len(apdu) > 5 + apdu[4]
            apdu = apdu[:4] + bytes([5]) + PIV_AID + (b"\x00" if has_le else b"")
        if (
            apdu[1:4] == b"\xCB\x3F\xFF"
            and apdu[5:8] == b"\x5C\x01\x7E"
            and getattr(self.card, "_active_applet", None) == "piv"
        ):
            # Fix-up 4. Without a Discovery Object OpenSC re-SELECTs the PIV application at
            # every transaction, and jcecard forgets the verified PIN on SELECT
            # (-> CKR_USER_NOT_LOGGED_IN right after a successful C_Login).
            return self.chain(DISCOVERY_OBJECT, SW_OK, ne)
        response = self.card.process_apdu(apdu)
        data, sw = response[:-2], response[-2:]
        if is_piv_select and sw == SW_OK and data and data[0] != 0x61:  # fix-up 2
            data = bytes([0x61, len(data)]) + data
        return self.chain(data, sw, ne)

    def hold(self):
        """Stalls on a command APDU while the stall file exists: what the host sees of a card
        (or middleware) that hangs. Marks the moment in FILE.held, so that a test acts on a
        host known to be blocked, never on a timer."""
        if not self.stall_file or not os.path.exists(self.stall_file):
            return
        log.warning("stalled: holding an APDU until %s goes", self.stall_file)
        held = self.stall_file + ".held"
        with open(held, "w"):
            pass
        try:
            while os.path.exists(self.stall_file):
                if not self.inserted:
                    raise Removed()
                time.sleep(0.02)
        finally:
            try:
                os.unlink(held)
            except FileNotFoundError:
                pass
        log.warning("stall released")

    def serve(self):
        while True:
            (n,) = struct.unpack(">H", self.recv_exact(2))
            msg = self.recv_exact(n)
            if n == 1:
                control = msg[0]
                if control == 0:
                    events.info("power off")
                    self.card.power_off()
                elif control == 1:
                    events.info("power on")
                    self.card.power_on()
                elif control == 2:
                    events.info("reset")
                    self.card.reset()
                elif control == 4:
                    # The ATR: vpcd asks for it around every power-on and reset, and while
                    # pcscd polls the reader; not an event, so not logged.
                    self.send(self.card.get_atr())
            else:
                self.hold()
                response = self.process(msg)
                log.info("> %s\n< %s", msg.hex(), response.hex())
                if self.delay:
                    time.sleep(self.delay)
                self.send(response)

    def run(self):
        announced = False
        while True:
            while not self.inserted:
                time.sleep(0.05)
            try:
                self.sock = socket.create_connection(self.address)
            except OSError as e:  # vpcd not listening (yet): wait, like a card in a reader
                events.debug("vpcd does not accept: %s", e)
                time.sleep(0.1)
                continue
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if not announced:
                log.warning("card connected to vpcd at %s:%d", *self.address)
                announced = True
            else:
                events.info("inserted: connected to vpcd again")
            try:
                self.serve()
            except (Removed, OSError) as e:
                events.info("connection ended (%s), inserted=%s", type(e).__name__, self.inserted)
            self.sock.close()
            self.sock = None
            self.pending = b""
            if self.inserted:  # vpcd went away (pcscd restarted): reconnect, state kept
                time.sleep(0.1)


def exit_with(pid):
    """Ends this process soon after `pid` ends, even if no one runs card.sh stop."""
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            log.warning("process %d ended: card removed for good", pid)
            os._exit(0)
        except PermissionError:
            pass  # alive, another user's
        time.sleep(0.2)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=35963, help="35963 = Virtual PCD 00 00")
    parser.add_argument(
        "--storage",
        default=None,
        help="jcecard state directory (OpenPGP data only; PIV keys live in memory). "
        "Without it jcecard writes to /var/lib/jcecard.",
    )
    parser.add_argument("--lock", default=None, help="hold an flock on this file, exit 3 if taken")
    parser.add_argument(
        "--delay-ms",
        type=float,
        default=0.0,
        help="answer every APDU this much later (a real card takes 10-50 ms; a signature is ~30 APDUs)",
    )
    parser.add_argument(
        "--stall-file",
        default=None,
        metavar="FILE",
        help="while FILE exists, hold the next APDU unanswered (a hanging card); FILE.held marks it",
    )
    parser.add_argument(
        "--out-file",
        default=None,
        metavar="FILE",
        help="FILE exists while the card is out of its reader (SIGUSR1 to SIGUSR2)",
    )
    parser.add_argument(
        "--exit-with",
        type=int,
        default=None,
        metavar="PID",
        help="exit when this process ends (the test run that owns the card)",
    )
    parser.add_argument("-v", action="store_true", help="log every APDU")
    args = parser.parse_args()
    logging.basicConfig(
        level=logging.INFO if args.v else logging.WARNING,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
        force=True,  # jcecard configures logging when imported
    )
    events.setLevel(logging.INFO)
    if not args.v:
        logging.getLogger("jcecard").setLevel(logging.ERROR)  # it warns on every wrong PIN

    lock = None
    if args.lock:
        lock = open(args.lock, "a")  # noqa: SIM115 (held open for the process's life)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            print(f"{args.lock} is held: another virtual card uses this reader", file=sys.stderr)
            return 3

    if args.exit_with:
        threading.Thread(target=exit_with, args=(args.exit_with,), daemon=True).start()

    storage = Path(args.storage) if args.storage else None
    if storage:
        storage.mkdir(parents=True, exist_ok=True)
    bridge = Bridge(
        OpenPGPCard(storage_path=storage), args.host, args.port, args.delay_ms / 1000, args.stall_file, args.out_file
    )
    signal.signal(signal.SIGUSR1, bridge.remove)
    signal.signal(signal.SIGUSR2, bridge.insert)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        bridge.run()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
