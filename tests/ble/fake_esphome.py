#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A fake ESPHome Bluetooth proxy for the tests: the ESPHome native API
(plaintext, or Noise with --key) on a TCP port, with simulated BLE devices
behind it that bridge to the BMS simulator (bmsgw-sim).

Run with Debian's python3 (python3-protobuf, python3-cryptography; protoc
from protobuf-compiler generates the messages of
gateway/wire/esphome/esphome_api.proto at start-up):

    fake_esphome.py --spec SPEC.json --port PORT --control 127.0.0.1:PORT2
                    [--key BASE64] [--password PW] [--name NAME] [--mac MAC]
                    [--slots N] [--adv-interval S] [--keepalive S]

SPEC is fake_bluez.py's (its docstring): {"devices": [{"address", "name",
"layout", "mode": "bridge" | "recorded" | "adv" | "none", "sim":
"127.0.0.1:PORT", "chunk", "manufacturer": {"company": "hex"}, "uuids", "service_data",
"rssi", "records", "connect_delay", "unlock", "mtu"}]}; "adapters" and
"known" are ignored (a proxy has one radio and sees every device that
advertises).  The GATT layouts and the advertisement records are
tests/ble/ble_layouts.py's, shared with the fake BlueZ.

What it speaks, as ESPHome does (esphome/esphome: components/api/
api_frame_helper_plaintext.cpp, api_frame_helper_noise.cpp,
api_connection.cpp, components/bluetooth_proxy/bluetooth_proxy.cpp and
bluetooth_connection.cpp, esp32_ble_client/ble_client_base.cpp; the client
side of esphome/aioesphomeapi, _frame_helper/*.py):

- frames: plaintext 00 varint(length) varint(type) payload; Noise
  01 len16 frame, the client's hello frame, the server hello
  (01 name 00 mac 00, the MAC as 12 lower-case hex digits), the handshake
  (Noise_NNpsk0_25519_ChaChaPoly_SHA256, tests/ble/esphome_noise.py; a
  wrong key is answered 01 "Handshake MAC failure" and the connection
  closed), then each message encrypted as type16 len16 payload.  A
  plaintext server sent a Noise frame answers 00 "Bad indicator byte" and
  closes; a Noise server sent plaintext answers 01 "Bad indicator byte".
- Hello (1 -> 2: API 1.12, name from --name), the old password
  (Authentication 3 -> 4, invalid_password; only with --password: then
  anything but Hello, DeviceInfo, Ping and Disconnect before it closes the
  connection, as ESPHome's "access without authentication"), DeviceInfo
  (9 -> 10: bluetooth_proxy_feature_flags 0x27 = passive scan, active
  connections, remote caching, raw advertisements; mac; bluetooth mac),
  ListEntities (11 -> 19, no entities), Ping (7 <-> 8) both ways (a
  PingRequest after --keepalive idle seconds, default 60), Disconnect
  (5 <-> 6) both ways.
- Bluetooth: SubscribeBluetoothLEAdvertisements (66; its flags are not
  looked at: since ESPHome 2025.8 only raw advertisements exist, and the
  npm client esphome-client subscribes with flags 0) makes that API
  connection the proxy's one subscriber (ESPHome allows one at a
  time; a second is ignored) which receives the raw advertisements (93,
  every --adv-interval seconds one batch of every device: AD structures
  flags, complete local name, 16- and 128-bit service UUIDs, service data,
  manufacturer data; an adv-mode device's records as the simulator sends them) and, as
  ESPHome's BluetoothProxy::api_connection_, every answer about BLE links:
  connection responses (69), services (71, one service a message, then
  72), GATT reads (74), writes (83), notify registrations (84),
  notifications (79), errors (82) and free-slot updates (81).  Without a
  subscriber these answers are dropped (counted: dropped_answers), and
  when the subscriber goes, every BLE link is dropped, as ESPHome does.
  Unsubscribe is 87.  SubscribeBluetoothConnectionsFree (80) is answered
  to the asker at once (free, limit, allocated); the updates after it go
  to the advertisement subscriber, as ESPHome's send_connections_free().
- BluetoothDeviceRequest (68): connect V3 with (4) or without (5) the
  cache takes a slot (free-slot update), then after connect_delay answers
  connected=true with the MTU (spec "mtu", 517) and another update; with
  no slot left the answer is connected=false, error 0, as ESPHome's
  "No free connections available"; a device that does not advertise (or
  whose bridge cannot reach the simulator) fails after --connect-timeout
  seconds with error 0x85 (ESP-IDF's GATT connection failure 133).
  Disconnect (1) answers connected=false (error 0x16, local host) and frees
  the slot; a link dropped by the control port is answered with error 0x08
  (supervision timeout).
- GATT: handles as a GATT server numbers them (each service, then per
  characteristic its declaration, its value handle - the characteristic's
  handle - and a 0x2902 descriptor when it notifies or indicates).  UUIDs
  as two uint64 (most significant first), or short_uuid for a 16-bit one
  when the client's Hello said API 1.12 or later.  A notification reaches
  the client once it registered (78, answered 84) AND wrote 01 00 or 02 00
  to the descriptor (77, answered 83) - on a V3 connection the client
  writes the descriptor itself.  Writes (75) with or without response are
  answered 83 (ESP-IDF reports a write event for both kinds).  Errors
  (82): -1 not connected (ESPHome's ESP_GATT_NOT_CONNECTED), 0x01 invalid
  handle, 0x02 read not permitted, 0x03 write not permitted,
  0x06 request not supported (notify on a characteristic without it).
- Bridge: every write to a writable characteristic goes to the
  simulator's TCP port of that device; what comes back is notified in
  `chunk`-byte pieces on the first characteristic with notifications on.
  recorded and adv modes, "unlock" (TDT: FFFA), "max_write" (a longer
  write refused: GATT error 0x0D), "write_delay" (the answer that late;
  overlaps counted), a link of channels (the records of
  ble_layouts.channels both ways: notifications switched on are AD 53 s 00
  once the descriptor is written) and the "written", "write_sizes",
  "too_long" and "overlaps" records behave as in fake_bluez.py.

When ready it prints "ready" and flushes.  The control port takes one
command a line and answers one line ("ok", "error: ..." or JSON):

  state                JSON: api (connections now, accepted, hellos,
                       handshakes, handshake_failures, bad_frames,
                       auth_failures, pongs, subscriber, clients, unknown
                       message ids), slots, free, max_connected (BLE links
                       at once, ever), dropped_answers, devices: per address
                       connected, connects, refused (no slot), writes,
                       write_types, written ("uuid16:hex" each different
                       value), notifies, reads, cccd_writes, max_concurrent
                       (links of the proxy at once while this one was up),
                       adv_records (from the simulator), advertised
  slots N              N connection slots (sends the subscriber an update)
  kill                 drop every API connection and close the port (new
                       connections refused) until revive
  revive               listen again
  garbage KIND         the next API connection gets a malformed frame right
                       after its HelloResponse: varint (a 6-byte varint;
                       Noise: as decrypt), length (plaintext: a length of
                       1 MiB; Noise: 65535 and no body), indicator (a wrong
                       first byte), decrypt (a Noise frame that does not
                       decrypt; plaintext: as length)
  ping                 a PingRequest to every API connection
  disconnect_api       a DisconnectRequest to every API connection
  disconnect ADDR      the BLE link drops (as out of range)
  hide ADDR / show ADDR   stops / resumes advertising (connects fail)
  connect_delay ADDR S the connection takes S seconds
  mute ADDR 1|0        notifications stop (writes still reach the simulator)
  quit
"""
import argparse
import asyncio
import base64
import json
import os
import re
import subprocess
import sys
import tempfile
import traceback

from cryptography.exceptions import InvalidTag

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from ble_layouts import AdvRecords, channels, chunks, layout, u16  # noqa: E402
from esphome_noise import Responder  # noqa: E402

PROTO = os.path.join(ROOT, "gateway/wire/esphome/esphome_api.proto")
API_MAJOR, API_MINOR = 1, 12
FEATURES = 0x01 | 0x02 | 0x04 | 0x20   # passive scan, active connections, remote caching, raw advertisements
MAX_HANDSHAKE = 128                     # a handshake frame longer than this is refused
MAX_MESSAGE = 32768                     # a message longer than this ends the connection
BASE_UUID_TAIL = "-0000-1000-8000-00805f9b34fb"
PROPS = {"broadcast": 0x01, "read": 0x02, "write-without-response": 0x04, "write": 0x08,
         "notify": 0x10, "indicate": 0x20}
ERR_NOT_CONNECTED, ERR_INVALID_HANDLE, ERR_READ_NOT_PERMIT, ERR_WRITE_NOT_PERMIT = -1, 0x01, 0x02, 0x03
ERR_REQ_NOT_SUPPORTED, ERR_CONN_FAIL, REASON_LOCAL, REASON_TIMEOUT = 0x06, 0x85, 0x16, 0x08
# sent before the connection is set up (Hello) or authenticated (password)
NO_SETUP = {"HelloRequest", "AuthenticationRequest", "DisconnectRequest", "DisconnectResponse",
            "PingRequest", "PingResponse"}
NO_AUTH = NO_SETUP | {"DeviceInfoRequest"}


def load_messages(tmp):
    """The generated module and {id: class}, {name: id} from the ids the
    proto names in its comments ("message X {  // id N")."""
    subprocess.run(["protoc", "--python_out=" + tmp, "-I", os.path.dirname(PROTO), PROTO], check=True)
    sys.path.insert(0, tmp)
    import esphome_api_pb2 as pb
    ids = {}
    with open(PROTO) as f:
        for m in re.finditer(r"^message (\w+) \{\s*// id (\d+)", f.read(), re.M):
            ids[m.group(1)] = int(m.group(2))
    return pb, {i: getattr(pb, n) for n, i in ids.items()}, ids


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def read_varint(buf, pos):
    """(value, next position) or (None, pos) when incomplete; raises
    ValueError past 4 bytes (aioesphomeapi's limit, far above any length)."""
    val, shift = 0, 0
    while pos < len(buf):
        b = buf[pos]
        pos += 1
        val |= (b & 0x7F) << shift
        if not b & 0x80:
            return val, pos
        shift += 7
        if shift >= 28:
            raise ValueError("varint too long")
    return None, pos


def spawn(coro):
    """A task whose failure is printed (a fault of the fake) at once."""
    task = asyncio.ensure_future(coro)
    task.add_done_callback(lambda t: t.cancelled() or t.exception() is None or
                           traceback.print_exception(t.exception()))
    return task


def mac_int(addr):
    return int(addr.replace(":", ""), 16)


def uuid_str(x):
    return u16(x).lower()


def uuid_fields(msg, uuid, short_ok):
    """Fill uuid / short_uuid of a GATT message from a UUID string."""
    if short_ok and uuid.startswith("0000") and uuid.endswith(BASE_UUID_TAIL):
        msg.short_uuid = int(uuid[4:8], 16)
        return
    h = int(uuid.replace("-", ""), 16)
    msg.uuid.extend([h >> 64, h & 0xFFFFFFFFFFFFFFFF])


def ad_structures(dev, mfr):
    """The advertising data of a device: flags, name, service UUIDs,
    service data (the spec's "service_data", {uuid: hex}), manufacturer data
    ({company: bytes})."""
    out = bytearray(b"\x02\x01\x06")
    name = dev.spec.get("name", "").encode()[:29]
    if name:
        out += bytes([len(name) + 1, 0x09]) + name
    s16, s128 = b"", b""
    for u in dev.spec.get("uuids", []):
        u = u.lower()
        if u.startswith("0000") and u.endswith(BASE_UUID_TAIL):
            s16 += int(u[4:8], 16).to_bytes(2, "little")
        else:
            s128 += bytes.fromhex(u.replace("-", ""))[::-1]
    if s16:
        out += bytes([len(s16) + 1, 0x03]) + s16
    if s128:
        out += bytes([len(s128) + 1, 0x07]) + s128
    for u, data in dev.spec.get("service_data", {}).items():
        # 0x16: a 16-bit UUID and its data, 0x21: a 128-bit one (Core Supplement Part A 1.11)
        u, data = u.lower(), bytes.fromhex(data)
        if u.startswith("0000") and u.endswith(BASE_UUID_TAIL):
            body, t = int(u[4:8], 16).to_bytes(2, "little") + data, 0x16
        else:
            body, t = bytes.fromhex(u.replace("-", ""))[::-1] + data, 0x21
        out += bytes([len(body) + 1, t]) + body
    for company, data in mfr.items():
        body = int(company).to_bytes(2, "little") + data
        out += bytes([len(body) + 1, 0xFF]) + body
    return bytes(out)


class Char:
    def __init__(self, uuid, flags, handle):
        self.uuid = uuid_str(uuid)
        self.flags = [f for f in flags if not f.startswith("!")]
        self.refuse_notify = "!notify-refused" in flags
        self.decl = handle
        self.handle = handle + 1
        self.cccd = handle + 2 if ("notify" in self.flags or "indicate" in self.flags) else None
        self.registered = False
        self.cccd_value = b"\0\0"
        self.value = b""

    def props(self):
        p = 0
        for f in self.flags:
            p |= PROPS.get(f, 0)
        return p

    def notifying(self):
        return self.registered and self.cccd_value[:1] in (b"\x01", b"\x02")

    def uuid16(self):
        return self.uuid[4:8]


class Device:
    """One simulated BLE device: its spec, GATT table while connected, the
    bridge to the simulator."""

    def __init__(self, fake, spec):
        self.fake = fake
        self.spec = spec
        self.addr = spec["address"].upper()
        self.num = mac_int(self.addr)
        self.hidden = False
        self.mute = False
        self.state = "idle"          # idle, connecting, connected
        self.owner = None            # the API connection that asked for the link
        self.services = []           # [(uuid, handle, [Char])]
        self.sim = None              # (reader, writer) of the bridge
        self.task = None
        self.unlocked = False
        self.adv = AdvRecords()
        self.rec_rx = b""            # notify_records: a record not whole yet
        self.chans = channels(spec)  # a link of channels (fake_bluez.py): records both ways
        self.adv_mfr = {}            # adv mode: the last record per company
        self.st = {"connects": 0, "refused": 0, "writes": 0, "write_types": {}, "written": [], "notifies": 0,
                   "reads": 0, "cccd_writes": 0, "drops": 0, "locked_writes": 0, "max_concurrent": 0,
                   "adv_records": 0, "advertised": 0, "write_sizes": {}, "too_long": 0, "overlaps": 0}
        self.wpending = 0            # write_delay: writes not answered yet

    def mode(self):
        return self.spec.get("mode", "bridge")

    def build_gatt(self):
        handle = 1
        self.services = []
        for suuid, chars in layout(self.spec):
            shandle = handle
            handle += 1
            cs = []
            for cuuid, flags in chars:
                c = Char(cuuid, flags, handle)
                cs.append(c)
                handle += 3 if c.cccd else 2
            self.services.append((uuid_str(suuid), shandle, cs))

    def chars(self):
        return [c for _, _, cs in self.services for c in cs]

    def notifiers(self):
        return [c for c in self.chars() if c.cccd is not None]

    def writers(self):
        return [c for c in self.chars() if "write" in c.flags or "write-without-response" in c.flags]

    def char(self, handle):
        for c in self.chars():
            if c.handle == handle:
                return c
        return None

    def notifier(self):
        for c in self.chars():
            if c.notifying():
                return c
        return None

    def mfr(self):
        if self.mode() == "adv":
            return dict(self.adv_mfr)
        return {int(k): bytes.fromhex(v) for k, v in self.spec.get("manufacturer", {}).items()}

    # ---- the simulator
    async def open_sim(self):
        host, port = self.spec["sim"].rsplit(":", 1)
        try:
            self.sim = await asyncio.wait_for(asyncio.open_connection(host, int(port)), 2)
        except (OSError, asyncio.TimeoutError):
            self.sim = None
            return False
        self.task = spawn(self.sim_reader(self.sim[0]))
        return True

    def close_sim(self):
        if self.task:
            self.task.cancel()
            self.task = None
        if self.sim:
            self.sim[1].close()
            self.sim = None

    async def sim_reader(self, reader):
        while True:
            try:
                data = await reader.read(4096)
            except (OSError, asyncio.IncompleteReadError):
                data = b""
            if not data:
                self.sim = None
                self.task = None
                if self.mode() == "adv":
                    self.fake.log("%s: the simulator closed the advertisement link" % self.addr)
                    spawn(self.adv_link())
                elif self.state != "idle":
                    self.fake.drop(self, REASON_TIMEOUT)
                return
            if self.mode() == "adv":
                for company, rec in self.adv.feed(data):
                    self.adv_mfr = {company: rec}
                    self.st["adv_records"] += 1
                    if not self.mute and not self.hidden:
                        self.fake.advertise([self])
            elif self.spec.get("notify_records") or self.chans:
                self.notify_records(data)
            else:
                self.emit(data)

    def notify_records(self, data):
        """The simulator's AD 4E k n data records (fake_bluez.py's
        "notify_records"): data notified on the layout's k-th notifier."""
        self.rec_rx += data
        while len(self.rec_rx) >= 4:
            if self.rec_rx[0] != 0xAD or self.rec_rx[1] != 0x4E:
                self.rec_rx = self.rec_rx[1:]
                continue
            k, n = self.rec_rx[2], self.rec_rx[3]
            if len(self.rec_rx) < 4 + n:
                return
            rec, self.rec_rx = self.rec_rx[4:4 + n], self.rec_rx[4 + n:]
            self.emit(rec, k)

    async def adv_link(self):
        """adv mode: the link to the simulator, opened again (every 0.5 s)
        while it cannot be, as a device keeps advertising."""
        while self.sim is None and not await self.open_sim():
            await asyncio.sleep(0.5)

    # ---- bytes
    def emit(self, data, k=None):
        """data notified on the first notifier switched on, or on the
        layout's k-th notifier (if it is on)."""
        if k is None:
            n = self.notifier()
        else:
            ns = [c for c in self.chars() if c.cccd is not None]
            n = ns[k] if k < len(ns) and ns[k].notifying() else None
        if n is None or self.mute or self.state != "connected":
            return
        for part in chunks(self.spec, data):
            n.value = part
            self.st["notifies"] += 1
            self.fake.answer("BluetoothGATTNotifyDataResponse", address=self.num, handle=n.handle, data=part)

    def written(self, data):
        if self.mode() == "bridge" and self.sim:
            self.sim[1].write(data)
        elif self.mode() == "recorded":
            for req, answer in self.spec.get("records", []):
                if bytes.fromhex(req) == data:
                    asyncio.get_event_loop().call_later(0.005, self.emit, bytes.fromhex(answer))
                    return


class Api:
    """One API connection: its frames (plaintext or Noise), its state."""

    def __init__(self, fake, reader, writer):
        self.fake = fake
        self.reader = reader
        self.writer = writer
        self.buf = b""
        self.noise = fake.psk is not None
        self.phase = "hello" if self.noise else "data"
        self.hs = None
        self.rx = self.tx = None
        self.setup = False
        self.authed = fake.password is None
        self.api_minor = 0
        self.api_major = 0
        self.client_info = ""
        self.closed = False
        self.garbage = None
        self.idle = None

    # ---- output
    def send_raw(self, data):
        if not self.closed:
            self.writer.write(data)

    def send(self, msg_name, **fields):
        msg = self.fake.byname[msg_name]()
        for k, v in fields.items():
            if isinstance(v, list):
                getattr(msg, k).extend(v)
            else:
                setattr(msg, k, v)
        self.send_msg(msg_name, msg)

    def send_msg(self, name, msg):
        mid = self.fake.ids[name]
        payload = msg.SerializeToString()
        if self.noise:
            body = self.tx.encrypt(b"", bytes([mid >> 8, mid & 255, len(payload) >> 8, len(payload) & 255]) + payload)
            self.send_raw(b"\x01" + len(body).to_bytes(2, "big") + body)
        else:
            self.send_raw(b"\x00" + varint(len(payload)) + varint(mid) + payload)

    def noise_frame(self, data):
        self.send_raw(b"\x01" + len(data).to_bytes(2, "big") + data)

    def close(self):
        if not self.closed:
            self.closed = True
            self.writer.close()

    # ---- input
    async def run(self):
        self.fake.touch(self)
        try:
            while not self.closed:
                data = await self.reader.read(65536)
                if not data:
                    break
                self.buf += data
                self.fake.touch(self)
                self.frames()
                await self.writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self.close()
            self.fake.gone(self)

    def frames(self):
        while not self.closed:
            got = self.noise_frames() if self.noise else self.plain_frames()
            if not got:
                return

    def bad(self, why):
        self.fake.api["bad_frames"] += 1
        self.fake.log("%s: %s" % (self.client_info or "client", why))
        self.close()

    def plain_frames(self):
        if not self.buf:
            return False
        if self.buf[0] != 0:
            self.send_raw(b"\x00Bad indicator byte")
            self.bad("bad indicator byte %d" % self.buf[0])
            return False
        try:
            length, pos = read_varint(self.buf, 1)
            if length is None:
                return False
            if length > MAX_MESSAGE:
                self.bad("message of %d bytes" % length)
                return False
            mid, pos = read_varint(self.buf, pos)
        except ValueError as e:
            self.bad(str(e))
            return False
        if mid is None or len(self.buf) < pos + length:
            return False
        payload, self.buf = self.buf[pos:pos + length], self.buf[pos + length:]
        self.message(mid, payload)
        return True

    def noise_frames(self):
        if len(self.buf) < 3:
            return False
        if self.buf[0] != 1:
            self.noise_frame(b"\x01Bad indicator byte")
            if self.phase != "data":
                self.fake.api["handshake_failures"] += 1
            self.bad("bad indicator byte %d" % self.buf[0])
            return False
        n = self.buf[1] << 8 | self.buf[2]
        if self.phase != "data" and n > MAX_HANDSHAKE:
            self.noise_frame(b"\x01Bad handshake packet len")
            self.fake.api["handshake_failures"] += 1
            self.bad("handshake frame of %d bytes" % n)
            return False
        if len(self.buf) < 3 + n:
            return False
        frame, self.buf = self.buf[3:3 + n], self.buf[3 + n:]
        getattr(self, "noise_" + self.phase)(frame)
        return True

    def noise_hello(self, frame):
        prologue = b"NoiseAPIInit" + len(frame).to_bytes(2, "big") + frame
        self.hs = Responder(self.fake.psk, prologue)
        mac = self.fake.mac.replace(":", "").lower().encode()
        self.noise_frame(b"\x01" + self.fake.name.encode() + b"\0" + mac + b"\0")
        self.phase = "handshake"

    def noise_handshake(self, frame):
        if not frame or frame[0] != 0:
            self.noise_frame(b"\x01Bad handshake error byte")
            self.fake.api["handshake_failures"] += 1
            self.bad("bad handshake error byte")
            return
        try:
            self.hs.read_message1(frame[1:])
        except (InvalidTag, ValueError) as e:
            self.noise_frame(b"\x01" + (b"Handshake MAC failure" if isinstance(e, InvalidTag) else b"Handshake error"))
            self.fake.api["handshake_failures"] += 1
            self.fake.log("handshake failure: %s" % ("wrong key" if isinstance(e, InvalidTag) else e))
            self.close()
            return
        self.noise_frame(b"\x00" + self.hs.write_message2())
        self.rx, self.tx = self.hs.split()
        self.hs = None
        self.phase = "data"
        self.fake.api["handshakes"] += 1

    def noise_data(self, frame):
        if len(frame) > MAX_MESSAGE:
            self.bad("message of %d bytes" % len(frame))
            return
        try:
            msg = self.rx.decrypt(b"", frame)
        except InvalidTag:
            self.bad("a frame that does not decrypt")
            return
        if len(msg) < 4 or (msg[2] << 8 | msg[3]) > len(msg) - 4:
            self.bad("bad data packet")
            return
        self.message(msg[0] << 8 | msg[1], msg[4:4 + (msg[2] << 8 | msg[3])])

    def message(self, mid, payload):
        cls = self.fake.byid.get(mid)
        if cls is None:
            u = self.fake.api["unknown"]
            u[str(mid)] = u.get(str(mid), 0) + 1
            return
        name = cls.__name__
        if name not in NO_SETUP and not self.setup:
            self.bad("%s before Hello" % name)
            return
        if name not in NO_AUTH and not self.authed:
            self.bad("%s without authentication" % name)
            return
        msg = cls()
        try:
            msg.ParseFromString(payload)
        except Exception:  # noqa: BLE001 - a message that does not decode ends the connection
            self.bad("%s does not decode" % name)
            return
        handler = getattr(self.fake, "on_" + name, None)
        if handler:
            try:
                handler(self, msg)
            except Exception:  # noqa: BLE001 - a fault of the fake: said, and that connection ends
                traceback.print_exc()
                self.bad("the fake failed on %s" % name)

    def send_garbage(self, kind):
        if kind == "decrypt" and not self.noise:
            kind = "length"
        if kind == "varint" and self.noise:
            kind = "decrypt"
        if kind == "varint":
            data = b"\x00\xff\xff\xff\xff\xff\x01\x07"
        elif kind == "length":
            data = b"\x00" + varint(1 << 20) + b"\x07" if not self.noise else b"\x01\xff\xff"
        elif kind == "indicator":
            data = b"\x07\x00\x07"
        else:
            data = b"\x01\x00\x14" + bytes(range(20))   # 20 bytes whose tag is not the key's
        self.send_raw(data)


class Fake:
    def __init__(self, args, spec, pb, byid, ids):
        self.args = args
        self.pb, self.byid, self.ids = pb, byid, ids
        self.byname = {n: getattr(pb, n) for n in ids}
        self.psk = base64.b64decode(args.key) if args.key else None
        if self.psk is not None and len(self.psk) != 32:
            raise SystemExit("fake_esphome: --key must be 32 bytes in base64")
        self.password = args.password
        self.name = args.name
        self.mac = args.mac
        self.slots = args.slots
        self.devices = {}
        for d in spec.get("devices", []):
            dev = Device(self, d)
            self.devices[dev.addr] = dev
        self.conns = []
        self.subscriber = None
        self.server = None
        self.killed = False
        self.garbage = None
        self.max_connected = 0
        self.dropped = 0
        self.api = {"accepted": 0, "hellos": 0, "handshakes": 0, "handshake_failures": 0, "bad_frames": 0,
                    "auth_failures": 0, "pongs": 0, "pings_sent": 0, "unknown": {}}

    def log(self, text):
        print("fake_esphome: " + text, file=sys.stderr, flush=True)

    # ---- API connections
    async def listen(self):
        self.server = await asyncio.start_server(self.accept, "127.0.0.1", self.args.port, reuse_address=True)

    async def accept(self, reader, writer):
        if self.killed:
            writer.close()
            return
        conn = Api(self, reader, writer)
        self.api["accepted"] += 1
        if self.garbage:
            conn.garbage, self.garbage = self.garbage, None
        self.conns.append(conn)
        await conn.run()

    def touch(self, conn):
        if conn.idle:
            conn.idle.cancel()
        if self.args.keepalive > 0 and not conn.closed:
            conn.idle = asyncio.get_event_loop().call_later(self.args.keepalive, self.keepalive, conn)

    def keepalive(self, conn):
        if not conn.closed and (conn.phase == "data"):
            self.api["pings_sent"] += 1
            conn.send("PingRequest")

    def gone(self, conn):
        if conn.idle:
            conn.idle.cancel()
        if conn in self.conns:
            self.conns.remove(conn)
        if self.subscriber is conn:
            self.unsubscribe()

    def unsubscribe(self):
        """The subscriber is gone: as ESPHome's BluetoothProxy::loop() with no
        api_connection_, every BLE link is dropped."""
        self.subscriber = None
        for d in self.devices.values():
            if d.state != "idle":
                self.drop(d, REASON_LOCAL, answer=False)

    def answer(self, msg_name, **fields):
        """A message of the Bluetooth proxy: to its subscriber only."""
        if self.subscriber is None or self.subscriber.closed:
            self.dropped += 1
            return
        self.subscriber.send(msg_name, **fields)

    # ---- session messages
    def on_HelloRequest(self, conn, m):
        conn.setup = True
        conn.client_info = m.client_info
        conn.api_major, conn.api_minor = m.api_version_major, m.api_version_minor
        self.api["hellos"] += 1
        conn.send("HelloResponse", api_version_major=API_MAJOR, api_version_minor=API_MINOR,
                  server_info="%s (esphome v2025.11.0, bmsgw's fake)" % self.name, name=self.name)
        if conn.garbage:
            conn.send_garbage(conn.garbage)

    def on_AuthenticationRequest(self, conn, m):
        ok = self.password is None or m.password == self.password
        if not ok:
            self.api["auth_failures"] += 1
        conn.authed = conn.authed or ok
        conn.send("AuthenticationResponse", invalid_password=not ok)

    def on_DisconnectRequest(self, conn, m):
        conn.send("DisconnectResponse")
        asyncio.get_event_loop().call_soon(conn.close)

    def on_DisconnectResponse(self, conn, m):
        conn.close()

    def on_PingRequest(self, conn, m):
        conn.send("PingResponse")

    def on_PingResponse(self, conn, m):
        self.api["pongs"] += 1

    def on_DeviceInfoRequest(self, conn, m):
        conn.send("DeviceInfoResponse", name=self.name, mac_address=self.mac, esphome_version="2025.11.0",
                  model="esp32dev", manufacturer="Espressif", friendly_name="bmsgw test proxy",
                  bluetooth_proxy_feature_flags=FEATURES, bluetooth_mac_address=self.bt_mac(),
                  api_encryption_supported=self.psk is not None)

    def bt_mac(self):
        n = (mac_int(self.mac) + 2) & 0xFFFFFFFFFFFF
        return ":".join("%02X" % (n >> s & 255) for s in range(40, -1, -8))

    def on_ListEntitiesRequest(self, conn, m):
        conn.send("ListEntitiesDoneResponse")

    # ---- advertisements
    def on_SubscribeBluetoothLEAdvertisementsRequest(self, conn, m):
        if self.subscriber is not None and self.subscriber is not conn:
            self.log("Only one API subscription is allowed at a time")
            return
        self.subscriber = conn
        self.advertise(list(self.devices.values()))

    def on_UnsubscribeBluetoothLEAdvertisementsRequest(self, conn, m):
        if self.subscriber is conn:
            self.unsubscribe()

    def advertise(self, devices):
        s = self.subscriber
        if s is None or s.closed:
            return
        msg = self.pb.BluetoothLERawAdvertisementsResponse()
        for d in devices:
            if d.hidden:
                continue
            mfr = d.mfr()
            if d.mode() == "adv" and not mfr:
                continue
            d.st["advertised"] += 1
            a = msg.advertisements.add()
            a.address = d.num
            a.rssi = int(d.spec.get("rssi", -60))
            a.address_type = 0
            a.data = ad_structures(d, mfr)
        if msg.advertisements:
            s.send_msg("BluetoothLERawAdvertisementsResponse", msg)

    async def adv_loop(self):
        while True:
            await asyncio.sleep(self.args.adv_interval)
            self.advertise([d for d in self.devices.values() if d.mode() != "adv"])

    # ---- connection slots
    def used(self):
        return [d for d in self.devices.values() if d.state != "idle"]

    def free_fields(self):
        used = self.used()
        return {"free": max(0, self.slots - len(used)), "limit": self.slots, "allocated": [d.num for d in used]}

    def on_SubscribeBluetoothConnectionsFreeRequest(self, conn, m):
        conn.send("BluetoothConnectionsFreeResponse", **self.free_fields())

    def send_free(self):
        self.answer("BluetoothConnectionsFreeResponse", **self.free_fields())

    def on_BluetoothDeviceRequest(self, conn, m):
        d = self.devices.get(self.addr_of(m.address))
        if m.request_type in (0, 4, 5):
            self.connect(conn, d, m)
        elif m.request_type == 1:
            if d is None or d.state == "idle":
                self.answer("BluetoothDeviceConnectionResponse", address=m.address, connected=False)
                self.send_free()
            else:
                self.drop(d, REASON_LOCAL)
        else:
            self.log("device request type %d not served" % m.request_type)

    def addr_of(self, num):
        return ":".join("%02X" % (num >> s & 255) for s in range(40, -1, -8))

    def connect(self, conn, d, m):
        if d is not None and d.state == "connected":
            self.answer("BluetoothDeviceConnectionResponse", address=m.address, connected=True,
                        mtu=int(d.spec.get("mtu", 517)))
            self.send_free()
            return
        if d is not None and d.state == "connecting":
            return  # "Connection request ignored, already connecting"
        if len(self.used()) >= self.slots:
            self.log("No free connections available")
            if d is not None:
                d.st["refused"] += 1
            self.answer("BluetoothDeviceConnectionResponse", address=m.address, connected=False)
            return
        if d is None:
            self.log("connect to %s: no such device" % self.addr_of(m.address))
            asyncio.get_event_loop().call_later(self.args.connect_timeout, self.answer,
                                                "BluetoothDeviceConnectionResponse", address=m.address,
                                                connected=False, error=ERR_CONN_FAIL)
            return
        d.state = "connecting"
        d.owner = conn
        d.st["connects"] += 1
        self.send_free()
        spawn(self.establish(d))

    async def establish(self, d):
        await asyncio.sleep(float(d.spec.get("connect_delay", 0.05)))
        if d.state != "connecting":
            return
        ok = not d.hidden and d.mode() != "adv" and (d.mode() != "bridge" or await d.open_sim())
        if d.state != "connecting":
            d.close_sim()
            return
        if not ok:
            await asyncio.sleep(self.args.connect_timeout)
            if d.state == "connecting":
                d.state, d.owner = "idle", None
                self.answer("BluetoothDeviceConnectionResponse", address=d.num, connected=False, error=ERR_CONN_FAIL)
                self.send_free()
            return
        d.state = "connected"
        d.unlocked = False
        d.build_gatt()
        n = len([x for x in self.devices.values() if x.state == "connected"])
        self.max_connected = max(self.max_connected, n)
        for x in self.devices.values():
            if x.state == "connected":
                x.st["max_concurrent"] = max(x.st["max_concurrent"], n)
        self.answer("BluetoothDeviceConnectionResponse", address=d.num, connected=True,
                    mtu=int(d.spec.get("mtu", 517)))
        self.send_free()
        if "unlock" in d.spec:
            asyncio.get_event_loop().call_later(float(d.spec.get("unlock_drop", 4.0)), self.unlock_timeout, d)

    def unlock_timeout(self, d):
        if d.state == "connected" and not d.unlocked:
            self.drop(d, REASON_TIMEOUT)

    def drop(self, d, reason, answer=True):
        """The link is gone: connected=false with the reason, the slot free."""
        was = d.state
        d.state, d.owner = "idle", None
        if d.mode() != "adv":
            d.close_sim()
        d.services = []
        d.st["drops"] += 1
        if answer and was != "idle":
            self.answer("BluetoothDeviceConnectionResponse", address=d.num, connected=False, error=reason)
            self.send_free()

    # ---- GATT
    def linked(self, address, handle):
        """The connected device of a GATT request, or None after answering
        the error."""
        d = self.devices.get(self.addr_of(address))
        if d is None or d.state != "connected":
            self.answer("BluetoothGATTErrorResponse", address=address, handle=handle, error=ERR_NOT_CONNECTED)
            return None
        return d

    def on_BluetoothGATTGetServicesRequest(self, conn, m):
        d = self.linked(m.address, 0)
        if d is None:
            return
        short = (conn.api_major, conn.api_minor) >= (1, 12)
        for suuid, shandle, cs in d.services:
            msg = self.pb.BluetoothGATTGetServicesResponse()
            msg.address = d.num
            s = msg.services.add()
            uuid_fields(s, suuid, short)
            s.handle = shandle
            for c in cs:
                ch = s.characteristics.add()
                uuid_fields(ch, c.uuid, short)
                ch.handle = c.handle
                ch.properties = c.props()
                if c.cccd:
                    desc = ch.descriptors.add()
                    uuid_fields(desc, uuid_str(0x2902), short)
                    desc.handle = c.cccd
            self.answer_msg("BluetoothGATTGetServicesResponse", msg)
        self.answer("BluetoothGATTGetServicesDoneResponse", address=d.num)

    def answer_msg(self, name, msg):
        if self.subscriber is None or self.subscriber.closed:
            self.dropped += 1
            return
        self.subscriber.send_msg(name, msg)

    def on_BluetoothGATTNotifyRequest(self, conn, m):
        d = self.linked(m.address, m.handle)
        if d is None:
            return
        c = d.char(m.handle)
        if c is None:
            return self.answer("BluetoothGATTErrorResponse", address=d.num, handle=m.handle, error=ERR_INVALID_HANDLE)
        if m.enable and (c.cccd is None or c.refuse_notify):
            return self.answer("BluetoothGATTErrorResponse", address=d.num, handle=m.handle,
                               error=ERR_REQ_NOT_SUPPORTED)
        c.registered = m.enable
        self.answer("BluetoothGATTNotifyResponse", address=d.num, handle=m.handle)

    def on_BluetoothGATTWriteDescriptorRequest(self, conn, m):
        d = self.linked(m.address, m.handle)
        if d is None:
            return
        for c in d.chars():
            if c.cccd == m.handle:
                was = c.notifying()
                c.cccd_value = bytes(m.data[:2]).ljust(2, b"\0")
                d.st["cccd_writes"] += 1
                self.answer("BluetoothGATTWriteResponse", address=d.num, handle=m.handle)
                if d.chans and c.notifying() and not was:  # a link of channels: the simulator hears of it
                    d.written(bytes([0xAD, 0x53, d.notifiers().index(c), 0]))
                return
        self.answer("BluetoothGATTErrorResponse", address=d.num, handle=m.handle, error=ERR_INVALID_HANDLE)

    def on_BluetoothGATTReadDescriptorRequest(self, conn, m):
        d = self.linked(m.address, m.handle)
        if d is None:
            return
        for c in d.chars():
            if c.cccd == m.handle:
                return self.answer("BluetoothGATTReadResponse", address=d.num, handle=m.handle, data=c.cccd_value)
        self.answer("BluetoothGATTErrorResponse", address=d.num, handle=m.handle, error=ERR_INVALID_HANDLE)

    def on_BluetoothGATTReadRequest(self, conn, m):
        d = self.linked(m.address, m.handle)
        if d is None:
            return
        c = d.char(m.handle)
        if c is None:
            return self.answer("BluetoothGATTErrorResponse", address=d.num, handle=m.handle, error=ERR_INVALID_HANDLE)
        if "read" not in c.flags:
            return self.answer("BluetoothGATTErrorResponse", address=d.num, handle=m.handle, error=ERR_READ_NOT_PERMIT)
        d.st["reads"] += 1
        value = (b"\x01" if d.unlocked else b"\x00") if self.is_unlock(d, c) else c.value
        self.answer("BluetoothGATTReadResponse", address=d.num, handle=m.handle, data=value)

    @staticmethod
    def is_unlock(d, c):
        return "unlock" in d.spec and c.uuid16() == "fffa"

    def on_BluetoothGATTWriteRequest(self, conn, m):
        d = self.linked(m.address, m.handle)
        if d is None:
            return
        c = d.char(m.handle)
        if c is None:
            return self.answer("BluetoothGATTErrorResponse", address=d.num, handle=m.handle, error=ERR_INVALID_HANDLE)
        typ = "request" if m.response else "command"
        if (typ == "request" and "write" not in c.flags) or (typ == "command" and "write-without-response" not in c.flags):
            return self.answer("BluetoothGATTErrorResponse", address=d.num, handle=m.handle, error=ERR_WRITE_NOT_PERMIT)
        st = d.st
        if len(m.data) > int(d.spec.get("max_write", 512)):
            # the device refuses it (ESP-IDF: ESP_GATT_INVALID_ATTR_LEN)
            st["too_long"] += 1
            return self.answer("BluetoothGATTErrorResponse", address=d.num, handle=m.handle, error=0x0D)
        st["writes"] += 1
        st["write_types"][typ] = st["write_types"].get(typ, 0) + 1
        st["write_sizes"][str(len(m.data))] = st["write_sizes"].get(str(len(m.data)), 0) + 1
        hx = "%s:%s" % (c.uuid16(), bytes(m.data).hex())
        if hx not in st["written"] and len(st["written"]) < 64:
            st["written"].append(hx)
        # ESP-IDF reports ESP_GATTC_WRITE_CHAR_EVT for a write without
        # response too, and ESPHome forwards it: answered either way (after
        # "write_delay" seconds, counting a write before the answer to the
        # one before it as an overlap)
        delay = float(d.spec.get("write_delay", 0))
        if delay <= 0:
            self.answer("BluetoothGATTWriteResponse", address=d.num, handle=m.handle)
        else:
            if d.wpending:
                st["overlaps"] += 1
            d.wpending += 1

            def answered(h=m.handle):
                d.wpending -= 1
                self.answer("BluetoothGATTWriteResponse", address=d.num, handle=h)
            asyncio.get_event_loop().call_later(delay, answered)
        if self.is_unlock(d, c):
            if typ == "request" and bytes(m.data) == d.spec["unlock"].encode():
                d.unlocked = True
            return
        if "unlock" in d.spec and not d.unlocked:
            st["locked_writes"] += 1
            return
        if d.chans:  # a link of channels: which writer took it
            d.written(bytes([0xAD, 0x57, d.writers().index(c), len(m.data)]) + bytes(m.data))
            return
        d.written(bytes(m.data))

    # ---- the control port
    def state(self):
        out = {"api": dict(self.api, connections=len(self.conns), subscriber=self.subscriber is not None,
                           clients=[c.client_info for c in self.conns], killed=self.killed),
               "slots": self.slots, "free": self.free_fields()["free"], "max_connected": self.max_connected,
               "dropped_answers": self.dropped, "devices": {}}
        for d in self.devices.values():
            n = d.notifier()
            out["devices"][d.addr] = dict(d.st, connected=d.state == "connected", state=d.state,
                                          hidden=d.hidden, notifying=n.uuid if n else None)
        return out

    async def command(self, line):
        w = line.split()
        if not w:
            return "error: empty"
        c = w[0]
        if c == "state":
            return json.dumps(self.state())
        if c == "quit":
            asyncio.get_event_loop().call_soon(self.stop.set)
            return "ok"
        if c == "slots" and len(w) == 2:
            self.slots = int(w[1])
            self.send_free()
            return "ok"
        if c == "kill":
            self.killed = True
            self.server.close()
            for conn in list(self.conns):
                conn.close()
            await self.server.wait_closed()
            return "ok"
        if c == "revive":
            if self.killed:
                self.killed = False
                await self.listen()
            return "ok"
        if c == "garbage" and len(w) == 2 and w[1] in ("varint", "length", "indicator", "decrypt"):
            self.garbage = w[1]
            return "ok"
        if c == "ping":
            for conn in self.conns:
                if conn.phase == "data":
                    self.api["pings_sent"] += 1
                    conn.send("PingRequest")
            return "ok"
        if c == "disconnect_api":
            for conn in self.conns:
                if conn.phase == "data":
                    conn.send("DisconnectRequest")
            return "ok"
        if len(w) < 2 or w[1].upper() not in self.devices:
            return "error: unknown command or device"
        d = self.devices[w[1].upper()]
        if c == "disconnect":
            self.drop(d, REASON_TIMEOUT)
        elif c == "hide":
            d.hidden = True
        elif c == "show":
            d.hidden = False
        elif c == "connect_delay" and len(w) == 3:
            d.spec["connect_delay"] = float(w[2])
        elif c == "mute" and len(w) == 3:
            d.mute = w[2] == "1"
        else:
            return "error: unknown command"
        return "ok"

    async def control_client(self, reader, writer):
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                try:
                    ans = await self.command(line.decode().strip())
                except Exception as e:  # noqa: BLE001 - the answer says what went wrong
                    ans = "error: %s" % e
                writer.write((ans + "\n").encode())
                await writer.drain()
        except OSError:
            pass
        writer.close()

    async def main(self):
        self.stop = asyncio.Event()
        await self.listen()
        host, port = self.args.control.rsplit(":", 1)
        await asyncio.start_server(self.control_client, host, int(port), reuse_address=True)
        for d in self.devices.values():
            if d.mode() == "adv" and d.spec.get("sim"):
                spawn(d.adv_link())
        spawn(self.adv_loop())
        print("ready", flush=True)
        await self.stop.wait()


def main():
    ap = argparse.ArgumentParser(description="a fake ESPHome Bluetooth proxy (see the docstring)")
    ap.add_argument("--spec", required=True)
    ap.add_argument("--port", type=int, required=True, help="the API's TCP port on 127.0.0.1")
    ap.add_argument("--control", required=True, help="HOST:PORT of the control port")
    ap.add_argument("--key", help="the api: encryption: key (base64 of 32 bytes): Noise only")
    ap.add_argument("--password", help="the old api: password (AuthenticationRequest)")
    ap.add_argument("--name", default="bms-proxy")
    ap.add_argument("--mac", default="24:0A:C4:12:34:56")
    ap.add_argument("--slots", type=int, default=3)
    ap.add_argument("--adv-interval", type=float, default=0.5)
    ap.add_argument("--keepalive", type=float, default=60.0)
    ap.add_argument("--connect-timeout", type=float, default=2.0)
    a = ap.parse_args()
    with open(a.spec) as f:
        spec = json.load(f)
    with tempfile.TemporaryDirectory(prefix="fake-esphome-") as tmp:
        pb, byid, ids = load_messages(tmp)
        fake = Fake(a, spec, pb, byid, ids)
        asyncio.run(fake.main())


if __name__ == "__main__":
    sys.exit(main())
