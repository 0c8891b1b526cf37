#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""What the fake Bluetooth stacks of the tests share: the GATT layouts of the
simulated BMSs (the services and characteristics each brand's module
publishes, with their flags as BlueZ names them), a device spec's layout,
the notification chunks, and the reader of the simulator's advertisement
records.  Imported by tests/ble/fake_bluez.py (a fake BlueZ on D-Bus) and
tests/ble/fake_esphome.py (a fake ESPHome Bluetooth proxy), so that one
device spec (their docstrings) means the same device to both.
"""


def u16(x):
    """A 16-bit UUID in its 128-bit form; a 128-bit one (a string) as it is."""
    return x if isinstance(x, str) else "0000%04x-0000-1000-8000-00805f9b34fb" % x


NUS = "6e400001-b5a3-f393-e0a9-e50e24dcca9e"  # Nordic UART service: RX 6e400002 (write), TX 6e400003 (notify)


LAYOUTS = {
    # JBD: FF00 / FF01 notify / FF02 write without response (esphome-jbd-bms capture)
    "jbd": [(0xFF00, [(0xFF01, ["read", "notify"]), (0xFF02, ["read", "write-without-response"])])],
    # JK old module: one FFE1 that writes and notifies
    "jk": [(0xFFE0, [(0xFFE1, ["read", "write", "write-without-response", "notify"])])],
    # JK new module: two FFE1, one to write, one that notifies
    "jk2": [(0xFFE0, [(0xFFE1, ["write", "write-without-response"]), (0xFFE1, ["read", "notify"])])],
    # Daly: FFF0 / FFF1 notify / FFF2 write
    "daly": [(0xFFF0, [(0xFFF1, ["read", "notify"]), (0xFFF2, ["read", "write", "write-without-response"])])],
    # Seplos V3: FFF0 / FFF1 read, notify / FFF2 read, write, write without response (aiobmsble's dump)
    "seplos3": [(0xFFF0, [(0xFFF1, ["read", "notify"]), (0xFFF2, ["read", "write-without-response", "write"])])],
    # EG4-LL: 1000 / 1002 notify / 1001 write (aiobmsble eg4_bms; flags not published: both writes)
    "eg4": [(0x1000, [(0x1002, ["read", "notify"]), (0x1001, ["write", "write-without-response"])])],
    # Renogy BT-2: write FFD1 of FFD0, notify FFF1 of FFF0 (aiobmsble renogy_bms)
    "renogy": [(0xFFD0, [(0xFFD1, ["write-without-response", "write"])]), (0xFFF0, [(0xFFF1, ["read", "notify"])])],
    # LiTime / Redodo / Power Queen: FFE0 / FFE1 notify / FFE2 write (calledit writes with response,
    # flags not published: both); FFE3 the module's AT channel (it notifies too: never the one)
    "litime": [(0xFFE0, [(0xFFE3, ["read", "write", "notify"]), (0xFFE1, ["read", "notify"]),
                         (0xFFE2, ["read", "write", "write-without-response"])])],
    # Tian Power: FF00 / FF01 notify / FF02 write; FF03 notifies too (esphome-tianpower-bms)
    "tianpower": [(0xFF00, [(0xFF01, ["read", "notify"]), (0xFF02, ["read", "write", "write-without-response"]),
                            (0xFF03, ["read", "notify"])])],
    # E&J (Chins, Lithtech, Supervolt): the Nordic UART service
    "nus": [(NUS, [("6e400002-b5a3-f393-e0a9-e50e24dcca9e", ["write", "write-without-response"]),
                   ("6e400003-b5a3-f393-e0a9-e50e24dcca9e", ["notify"])])],
    # NEEY / Heltec balancer: FFE1 writes (with and without response) and notifies, FFE2 the same, FFE3
    # write only (properties 0x1c, 0x1c, 0x0c in syssi/esphome-jk-bms's GATT dumps of a GW-24S4EB)
    "neey": [(0xFFE0, [(0xFFE1, ["write-without-response", "write", "notify"]),
                       (0xFFE2, ["write-without-response", "write", "notify"]),
                       (0xFFE3, ["write-without-response", "write"])])],
    # ANT BMS: FFE0 / one FFE1 that notifies and takes the writes (syssi's ant_bms_ble, aiobmsble's
    # ant_bms and ant_leg_bms; flags not published: both writes)
    "ant": [(0xFFE0, [(0xFFE1, ["read", "write-without-response", "write", "notify"])])],
    # SOK / ABC-BMS: FFE0 / FFE1 notify / FFE2 write (aiobmsble abc_bms; flags not published: both writes)
    "sok": [(0xFFE0, [(0xFFE1, ["read", "notify"]), (0xFFE2, ["read", "write-without-response", "write"])])],
    # Topband (KiloVault HLX+, Ective, Startcraft): FFE0 / FFE4 notify, FFE6 the name (read); nothing to
    # write to (aiobmsble topband_bms, syssi's topband_bms_v1_ble)
    "topband": [(0xFFE0, [(0xFFE4, ["read", "notify"]), (0xFFE6, ["read"])])],
    # HumsiENK: 0001 / 0003 notify / 0002 write (aiobmsble humsienk_bms; the write flags are not
    # published: both)
    "humsienk": [(0x0001, [(0x0003, ["read", "notify"]), (0x0002, ["read", "write-without-response", "write"])])],
    # TDT / WattCycle: FFF0 / FFF1 notify / FFF2 write / FFFA the unlock (GateLink's "TDT smart BMS
    # protocol over BLE" §2: FFF2 and FFFA write, write-without-response, read)
    "tdt": [(0xFFF0, [(0xFFF1, ["read", "notify"]), (0xFFF2, ["read", "write-without-response", "write"]),
                      (0xFFFA, ["read", "write-without-response", "write"])])],
    # KS48x00 / Braun Power: FF00 / FF01 notify / FF02 write (aiobmsble braunpwr_bms, syssi's ks_bms_ble,
    # which writes without response)
    "ks48": [(0xFF00, [(0xFF01, ["read", "notify"]), (0xFF02, ["read", "write-without-response", "write"])])],
    # Basen: FA00 / FA01 notify / FA02 write (properties 0x12 and 0x06 in syssi's esphome-basen-bms: read +
    # notify, read + write-without-response)
    "basen": [(0xFA00, [(0xFA01, ["read", "notify"]), (0xFA02, ["read", "write-without-response"])])],
    # Pylontech RT: the Telink module's service ...1910 / 2b10 notify / 2b11 write (aiobmsble pylontech_bms;
    # the flags are not published: both writes)
    "pylon-rt": [("00010203-0405-0607-0809-0a0b0c0d1910",
                  [("00010203-0405-0607-0809-0a0b0c0d2b10", ["read", "notify"]),
                   ("00010203-0405-0607-0809-0a0b0c0d2b11", ["read", "write-without-response", "write"])])],
    # RoyPow / Epoch: FFE0 / FFE1 written and notifying (aiobmsble roypow_bms; the write flags are not
    # published: both)
    "roypow": [(0xFFE0, [(0xFFE1, ["read", "write-without-response", "write", "notify"])])],
    # Gobel Power: 00002760-...-1001 / ...0002 notify / ...0001 write (aiobmsble gobel_bms; the flags are not
    # published: both writes)
    "gobel": [("00002760-08c2-11e1-9073-0e8ac72e1001",
               [("00002760-08c2-11e1-9073-0e8ac72e0002", ["read", "notify"]),
                ("00002760-08c2-11e1-9073-0e8ac72e0001", ["read", "write-without-response", "write"])])],
    # Offgridtec Smart Pro: FFF0 / FFF4 notify / FFF6 write (properties 0x16 and 0x16 in syssi's
    # esphome-ogt-bms GATT dump: read, write without response, notify), besides FFF1 .. FFF3, FFF5
    "ogt": [(0xFFF0, [(0xFFF1, ["read", "write"]), (0xFFF2, ["read"]), (0xFFF3, ["write"]),
                      (0xFFF4, ["read", "write-without-response", "notify"]), (0xFFF5, ["read"]),
                      (0xFFF6, ["read", "write-without-response", "notify"])])],
    # PACEEX: FFF0 / FFF1 notify / FFF2 write (aiobmsble pace_bms; the write flags are not published: both)
    "paceex": [(0xFFF0, [(0xFFF1, ["read", "notify"]), (0xFFF2, ["read", "write-without-response", "write"])])],
    # Saihang: FFFA / FFFC notify / FFFB write (aiobmsble saihang_bms; the flags are not published: both writes)
    "saihang": [(0xFFFA, [(0xFFFC, ["read", "notify"]), (0xFFFB, ["read", "write-without-response", "write"])])],
    # Super-B Epsilon v1: 74b9c2d1-... / 6edadbe4-... notify (aiobmsble superb_bms; no characteristic is
    # written: none writable is served)
    "superb": [("74b9c2d1-dc6d-42cf-a2e9-7398b8fc2e70", [("6edadbe4-4f53-4a5a-96ed-02f93db93790", ["read", "notify"])])],
    # Super-B Epsilon v2: cf9ccdf7-... / cf9ccdfa-... written and notifying (the answer), e0fef452-... the
    # second notifier (the pushed frames) (aiobmsble superb_v2_bms; the write flags are not published: both)
    "superb2": [("cf9ccdf7-eee9-43ce-87a5-82b54af5324e",
                 [("cf9ccdfa-eee9-43ce-87a5-82b54af5324e", ["read", "write-without-response", "write", "notify"]),
                  ("e0fef452-9d2b-4005-a1e3-69fe1102b436", ["read", "notify"])])],
    # the same whose second notifier refuses StartNotify (a link that cannot come up)
    "superb2-refused": [("cf9ccdf7-eee9-43ce-87a5-82b54af5324e",
                         [("cf9ccdfa-eee9-43ce-87a5-82b54af5324e",
                           ["read", "write-without-response", "write", "notify"]),
                          ("e0fef452-9d2b-4005-a1e3-69fe1102b436", ["read", "notify", "!notify-refused"])])],
    # Eco-Worthy BW02: FFF0 / FFF1 notify / FFF2 write (aiobmsble ecoworthy_bms; bmsgw never writes it)
    "ecoworthy": [(0xFFF0, [(0xFFF1, ["read", "notify"]), (0xFFF2, ["read", "write-without-response", "write"])])],
    # Felicity Solar: the module's service, write 49535258-..., notify 49535458-... (aiobmsble felicity_bms;
    # the write flags are not published: both)
    "felicity": [("6e6f736a-4643-4d44-8fa9-0fafd005e455",
                  [("49535258-184d-4bd9-bc61-20c647249616", ["write", "write-without-response"]),
                   ("49535458-8341-43f4-a9d4-ec0e34729bb3", ["notify"])])],
    # newer Daly firmware: StartNotify on FFF1 is refused, FF00 / FF01 / FF02 work
    "daly-new": [(0xFFF0, [(0xFFF1, ["read", "notify", "!notify-refused"]),
                           (0xFFF2, ["read", "write", "write-without-response"])]),
                 (0xFF00, [(0xFF01, ["read", "notify"]), (0xFF02, ["read", "write-without-response"])])],
}


def layout(spec):
    """The GATT layout of a device spec: [(service uuid, [(char uuid, flags)])];
    "layout" is a name of LAYOUTS (default "jbd") or a list of
    {"uuid": "fff0", "chars": [{"uuid": "fff1", "flags": ["notify"]}]}."""
    lay = spec.get("layout", "jbd")
    if isinstance(lay, str):
        return LAYOUTS[lay]
    return [(int(s["uuid"], 16), [(int(c["uuid"], 16), c["flags"]) for c in s["chars"]]) for s in lay]


def chunks(spec, data):
    """data cut in the device's notification size ("chunk", 20; 0 = whole)."""
    size = int(spec.get("chunk", 20)) or len(data)
    return [data[i:i + size] for i in range(0, len(data), size)]


class AdvRecords:
    """The simulator's advertisement records, from a byte stream of
    AD 5E company-lo company-hi n data[n] (bmsgw-sim's BMS_ADV); bytes before
    a record's start are skipped."""

    def __init__(self):
        self.rx = b""

    def feed(self, data):
        """The complete records so far: [(company, bytes)]."""
        out = []
        self.rx += data
        while len(self.rx) >= 5:
            if self.rx[0] != 0xAD or self.rx[1] != 0x5E:
                self.rx = self.rx[1:]
                continue
            n = self.rx[4]
            if len(self.rx) < 5 + n:
                break
            company = self.rx[2] | self.rx[3] << 8
            rec, self.rx = self.rx[5:5 + n], self.rx[5 + n:]
            out.append((company, rec))
        return out
