#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// tests/ble/esphome-check/check.js - a real ESPHome native API client from
// the npm registry against an ESPHome Bluetooth proxy (in the tests,
// tests/ble/fake_esphome.py), so that the fake and bmsgw cannot agree on a
// mistake of their own.
//
//   node check.js JOB.json
//
// JOB: {"lib": "2colors" | "esphome-client", "port": N, "key": "BASE64" or
// null, "password": "..." (2colors only), "name": "the proxy's name",
// "expect_fail": false, "fail_match": "a regular expression the error must
// match when expect_fail",
// "adv": [{"address": "AA:BB:..", "name": "...", "company": 737}],
// "gatt": [{"address": "AA:BB:..", "write": "uuid", "notify": "uuid",
//           "request": "hex", "response": false, "prefix": "hex",
//           "min_len": N or "len_byte": N, "len_add": N (complete()),
//           "cache": true, "keep": false (stay connected, skip
//           the rest), "expect_connected": true}],
// "hold_file": a path (2colors: the connection stays until it exists),
// "hold_events": N (and until N BluetoothDeviceConnectionResponse came:
//           the proxy has sent the last one when the test makes the file,
//           but it may still be on its way)}
//
// Per device of "gatt": connect, services, notifications on, the request
// written, the answer notified, a read of the notifying characteristic (its
// last value), with esphome-client a read of a handle the device lacks (a
// GATT error), the disconnect.
// Each step prints "ok STEP ..." or "fail STEP: why"; the last line is
// "result JSON" (the device info, each advertisement's manufacturer data,
// each device's notified bytes) for the test to compare with the
// simulator.  Exits 0 when no step failed.
//
// @2colors/esphome-native-api (1.3.x; Noise through noise-c compiled to
// wasm) and esphome-client (2.x; its own Noise over node's crypto) are two
// independent implementations of the client side; UUIDs reach the first as
// 128-bit pairs (its Hello names no API version) and the second as 16-bit
// short_uuid (it says API 1.14).  Neither writes the notification
// descriptor 0x2902 by itself: done here as bleak-esphome does on a V3
// connection.
"use strict";

const fs = require("fs");

// esphome-client 2.x is written for node 22 and calls Promise.withResolvers
// (node 22); Debian 12's and older nodes lack it: the standard's behaviour
if (!Promise.withResolvers) {
    Promise.withResolvers = function () {
        let resolve, reject;
        const promise = new Promise((a, b) => { resolve = a; reject = b; });
        return { promise, resolve, reject };
    };
}

const job = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const result = { deviceInfo: null, adv: {}, gatt: {}, error: null };
let failed = 0;
const T = (job.timeout_s || 20) * 1000;

function ok(step, more) { console.log("ok " + step + (more ? " " + more : "")); }
function fail(step, why) { failed++; console.log("fail " + step + ": " + why); }
const macNum = (mac) => BigInt("0x" + mac.replace(/:/g, ""));
const hex = (b) => Buffer.from(b).toString("hex");
const bytesOf = (v) => (typeof v === "string" ? Buffer.from(v, "base64") : Buffer.from(v || []));
const CCCD = "00002902-0000-1000-8000-00805f9b34fb";

// A read's value among the notifications taken: its notification was sent
// before the read's answer, but a client may hand it over after the answer.
async function readNotified(r, got) {
    try { await until(() => got.some((n) => r.equals(n)), 2000, "the read's value among the notifications"); }
    catch (e) { throw new Error("read " + hex(r) + ", none of the " + got.length + " notified values"); }
}

function until(pred, ms, what) {
    return new Promise((resolve, reject) => {
        const t0 = Date.now();
        const tick = () => {
            let v;
            try { v = pred(); } catch (e) { return reject(e); }
            if (v) return resolve(v);
            if (Date.now() - t0 > ms) return reject(new Error("timeout waiting for " + what));
            setTimeout(tick, 20);
        };
        tick();
    });
}

// The answer is complete: the bytes hold g.prefix and, from it on, g.min_len
// bytes, or (with g.len_byte) the byte at that offset from the prefix plus
// g.len_add (a frame that says its length: JBD's 7 + its byte 3).
function complete(g, parts) {
    const b = Buffer.concat(parts);
    const i = b.indexOf(Buffer.from(g.prefix, "hex"));
    if (i < 0) return null;
    let need = g.min_len || 1;
    if (g.len_byte !== undefined) {
        if (b.length <= i + g.len_byte) return null;
        need = b[i + g.len_byte] + g.len_add;
    }
    return b.length - i >= need ? b : null;
}

function full(u) { // "ff01" or a full UUID -> the full lower-case form
    u = u.toLowerCase();
    return u.length === 4 ? "0000" + u + "-0000-1000-8000-00805f9b34fb" : u;
}

// ---------------------------------------------------------------- 2colors
async function run2colors() {
    const { Connection } = require("@2colors/esphome-native-api");
    const conn = new Connection({ host: "127.0.0.1", port: job.port, encryptionKey: job.key || "",
        password: job.password || "", reconnect: false, pingInterval: 600000, clientInfo: "bmsgw-check 2colors" });
    let err = null;
    conn.on("error", (e) => { err = err || e; if (process.env.CHECK_DEBUG) console.log("debug error", e); });
    if (process.env.CHECK_DEBUG) conn.on("message", (type, m) => console.log("debug", type, JSON.stringify(m)));
    conn.connect();
    try { // a failure expected may come after the Hello (a malformed frame)
        await until(() => (!job.expect_fail && conn.authorized) || err, T, "the connection");
    } catch (e) { err = err || e; }
    if (job.expect_fail) {
        if (err && new RegExp(job.fail_match || ".").test(String(err.message || err)))
            ok("refused", JSON.stringify(String(err.message || err)));
        else fail("refused", err ? "another error: " + (err.message || err) : "the connection was accepted");
        result.error = err ? String(err.message || err) : null;
        conn.disconnect();
        return;
    }
    if (err || !conn.authorized) { fail("connect", String(err && err.message || err)); conn.disconnect(); return; }
    ok("connect", job.key ? "(Noise)" : "(plaintext)");

    const info = await conn.deviceInfoService();
    result.deviceInfo = { name: info.name, mac: info.macAddress, flags: info.bluetoothProxyFeatureFlags,
        bluetoothMac: info.bluetoothMacAddress };
    if (info.name !== job.name) fail("device info", "name " + info.name);
    else if ((info.bluetoothProxyFeatureFlags & 0x27) !== 0x27) fail("device info", "flags " + info.bluetoothProxyFeatureFlags);
    else ok("device info", info.name + " " + info.macAddress + " flags 0x" + info.bluetoothProxyFeatureFlags.toString(16));

    const seen = {};
    conn.on("message.BluetoothLEAdvertisementResponse", (a) => {
        const mac = a.address.toString(16).padStart(12, "0").toUpperCase().replace(/(..)(?!$)/g, "$1:");
        const m = (a.manufacturerDataList || []).map((d) => ({ company: parseInt(d.uuid.slice(4, 8), 16),
            data: hex(d.legacyDataList) }));
        seen[mac] = { name: a.name, rssi: a.rssi, mfr: m, uuids: a.serviceUuidsList };
    });
    conn.subscribeBluetoothAdvertisementService();
    for (const want of job.adv || []) {
        try {
            const a = await until(() => { const s = seen[want.address];
                return s && s.name === want.name && (want.company === undefined || s.mfr.some((m) => m.company === want.company)) && s; },
                T, "an advertisement of " + want.address);
            result.adv[want.address] = a;
            ok("advertisement", want.address + " " + JSON.stringify(a));
        } catch (e) { fail("advertisement", e.message + " (seen: " + JSON.stringify(seen) + ")"); }
    }

    result.events = [];
    conn.on("message.BluetoothDeviceConnectionResponse", (m) => result.events.push(m));
    conn.on("message.BluetoothConnectionsFreeResponse", (m) => { result.free = m; });
    for (const g of job.gatt || []) {
        const addr = Number(macNum(g.address));
        const got = [];
        const onData = (d) => { if (d.address === addr) got.push(bytesOf(d.data)); };
        conn.on("message.BluetoothGATTNotifyDataResponse", onData);
        try {
            const c = await conn.connectBluetoothDeviceService(addr, undefined, g.cache !== false);
            if (g.expect_connected === false) {
                if (c.connected) fail("ble refused", g.address + " connected");
                else ok("ble refused", g.address + " error " + c.error);
                continue;
            }
            if (!c.connected) throw new Error("not connected: error " + c.error);
            ok("ble connect", g.address + " mtu " + c.mtu);
            if (g.keep) continue;
            const { servicesList } = await conn.listBluetoothGATTServicesService(addr);
            const chars = servicesList.flatMap((s) => s.characteristicsList);
            const wr = chars.find((ch) => ch.uuid === full(g.write) && (ch.properties & 0x0c));
            const nt = chars.filter((ch) => ch.uuid === full(g.notify) && (ch.properties & 0x30)).pop();
            if (!wr || !nt) throw new Error("characteristics not found in " + JSON.stringify(servicesList));
            const cccd = nt.descriptorsList.find((d) => d.uuid === CCCD);
            ok("services", servicesList.length + " services, write " + wr.handle + " notify " + nt.handle +
               " descriptor " + (cccd && cccd.handle));
            await conn.notifyBluetoothGATTCharacteristicService(addr, nt.handle);
            await conn.writeBluetoothGATTDescriptorService(addr, cccd.handle, new Uint8Array([1, 0]));
            ok("notify on");
            await conn.writeBluetoothGATTCharacteristicService(addr, wr.handle, new Uint8Array(Buffer.from(g.request, "hex")),
                !!g.response);
            const data = await until(() => complete(g, got), T, "the answer");
            result.gatt[g.address] = hex(data);
            ok("answer", g.address + " " + data.length + " bytes in " + got.length + " notifications");
            if (nt.properties & 0x02) { // a read of the notifying characteristic: a value it notified
                const r = bytesOf((await conn.readBluetoothGATTCharacteristicService(addr, nt.handle)).data);
                // the value at the read: the last notified then (its notification came before the answer,
                // the client may hand it over after it), which a notification on its way may follow
                await readNotified(r, got);
                ok("read", hex(r));
            }
            const dc = await conn.disconnectBluetoothDeviceService(addr);
            if (dc.connected) throw new Error("still connected");
            ok("ble disconnect", g.address);
        } catch (e) { fail("gatt " + g.address, e.message); }
        conn.off("message.BluetoothGATTNotifyDataResponse", onData);
    }
    if (job.hold_file) { // hold the connection until the test says (pings, drops meanwhile)
        console.log("holding");
        const done = () => fs.existsSync(job.hold_file) && result.events.length >= (job.hold_events || 0);
        try { await until(done, T, job.hold_file + " and " + (job.hold_events || 0) + " connection events"); ok("held"); }
        catch (e) { fail("hold", e.message); }
    }
    conn.disconnect();
}

// ---------------------------------------------------------- esphome-client
async function runEsphomeClient() {
    const { openEspHomeClient } = await import("esphome-client");
    const quiet = { debug() {}, info() {}, warn() {}, error() {} };
    let client;
    try {
        client = await openEspHomeClient({ host: "127.0.0.1", port: job.port, psk: job.key || null, reconnect: false,
            clientId: "bmsgw-check esphome-client", logger: quiet, maxConstructionRetries: 0,
            connectTimeoutMs: T, handshakeTimeoutMs: T });
    } catch (e) {
        if (job.expect_fail && new RegExp(job.fail_match || ".").test(e.name + ": " + e.message)) {
            ok("refused", JSON.stringify(e.name + ": " + e.message));
            result.error = e.name;
            return;
        }
        fail("connect", e.name + ": " + e.message);
        return;
    }
    if (job.expect_fail) { fail("refused", "the connection was accepted"); client.disconnect(); return; }
    ok("connect", job.key ? "(Noise)" : "(plaintext)");
    const info = client.deviceInfo();
    result.deviceInfo = { name: info.name, mac: info.macAddress, flags: info.bluetoothProxyFeatureFlags };
    if (info.name !== job.name) fail("device info", "name " + info.name);
    else ok("device info", info.name + " " + info.macAddress + " flags 0x" + Number(info.bluetoothProxyFeatureFlags).toString(16));
    const bt = client.bluetooth;
    if (!bt.available) fail("bluetooth", "the client finds no Bluetooth proxy");

    const ac = new AbortController();
    const seen = {};
    (async () => {
        try {
            for await (const a of bt.advertisements({ signal: ac.signal })) {
                const mac = a.address.toString(16).padStart(12, "0").toUpperCase().replace(/(..)(?!$)/g, "$1:");
                seen[mac] = parseAd(a.data);
            }
        } catch (e) { /* aborted */ }
    })();
    for (const want of job.adv || []) {
        try {
            const a = await until(() => { const s = seen[want.address];
                return s && s.name === want.name && (want.company === undefined || s.mfr.some((m) => m.company === want.company)) && s; },
                T, "an advertisement of " + want.address);
            result.adv[want.address] = a;
            ok("advertisement", want.address + " " + JSON.stringify(a));
        } catch (e) { fail("advertisement", e.message + " (seen: " + JSON.stringify(seen) + ")"); }
    }
    for (const g of job.gatt || []) {
        const addr = macNum(g.address);
        try {
            const c = await bt.connect(addr, { useCache: g.cache !== false, timeoutMs: T });
            if (!c.connected) throw new Error("not connected: error " + c.error);
            ok("ble connect", g.address + " mtu " + c.mtu);
            const services = await bt.getServices(addr, { timeoutMs: T });
            const uuidOf = (x) => x.shortUuid ? full(x.shortUuid.toString(16).padStart(4, "0")) :
                (x.uuid[0].toString(16).padStart(16, "0") + x.uuid[1].toString(16).padStart(16, "0"))
                    .replace(/(.{8})(.{4})(.{4})(.{4})(.{12})/, "$1-$2-$3-$4-$5");
            const chars = services.flatMap((s) => s.characteristics);
            const wr = chars.find((ch) => uuidOf(ch) === full(g.write) && (ch.properties & 0x0c));
            const nt = chars.filter((ch) => uuidOf(ch) === full(g.notify) && (ch.properties & 0x30)).pop();
            if (!wr || !nt) throw new Error("characteristics not found");
            const cccd = nt.descriptors.find((d) => uuidOf(d) === CCCD);
            ok("services", services.length + " services (short UUIDs: " + chars.some((ch) => ch.shortUuid) + "), write " +
               wr.handle + " notify " + nt.handle + " descriptor " + (cccd && cccd.handle));
            const got = [];
            const nac = new AbortController();
            (async () => {
                try { for await (const n of bt.notify(addr, nt.handle, { signal: nac.signal })) got.push(Buffer.from(n.data)); }
                catch (e) { /* aborted */ }
            })();
            await bt.setNotify(addr, nt.handle, true, { timeoutMs: T });
            await bt.writeDescriptor(addr, cccd.handle, Buffer.from([1, 0]), { timeoutMs: T });
            ok("notify on");
            await bt.writeCharacteristic(addr, wr.handle, Buffer.from(g.request, "hex"), { response: !!g.response, timeoutMs: T });
            const data = await until(() => complete(g, got), T, "the answer");
            result.gatt[g.address] = hex(data);
            ok("answer", g.address + " " + data.length + " bytes in " + got.length + " notifications");
            if (nt.properties & 0x02) { // a read of the notifying characteristic: a value it notified
                const r = await bt.readCharacteristic(addr, nt.handle, { timeoutMs: T });
                // the value at the read: the last notified then (the notifications are still taken:
                // a device that goes on notifying after the answer), which one on its way may follow
                await readNotified(r, got);
                ok("read", hex(r));
            }
            nac.abort();
            try { // a handle the device does not have: a GATT error, not silence
                await bt.readCharacteristic(addr, 0x7777, { timeoutMs: T });
                throw new Error("a read of handle 0x7777 succeeded");
            } catch (e) {
                if (/succeeded|timeout|abort/i.test(e.message)) throw e;
                ok("gatt error", e.name + ": " + e.message);
            }
            await bt.disconnect(addr, { timeoutMs: T });
            if (bt.isConnected(addr)) throw new Error("still connected");
            ok("ble disconnect", g.address);
        } catch (e) { fail("gatt " + g.address, e.name + ": " + e.message); }
    }
    ac.abort();
    client.disconnect();
}

function parseAd(data) { // the AD structures: name, manufacturer data, service UUIDs
    const out = { name: undefined, mfr: [], uuids: [] };
    for (let i = 0; i + 1 < data.length;) {
        const n = data[i];
        if (n === 0 || i + 1 + n > data.length) break;
        const t = data[i + 1], v = data.subarray(i + 2, i + 1 + n);
        if (t === 0x09 || t === 0x08) out.name = v.toString();
        if (t === 0xff && v.length >= 2) out.mfr.push({ company: v[0] | v[1] << 8, data: hex(v.subarray(2)) });
        if (t === 0x03 || t === 0x02) for (let k = 0; k + 1 < v.length; k += 2) out.uuids.push(full((v[k] | v[k + 1] << 8).toString(16).padStart(4, "0")));
        i += 1 + n;
    }
    return out;
}

(job.lib === "esphome-client" ? runEsphomeClient() : run2colors()).then(() => {
    console.log("result " + JSON.stringify(result));
    console.log(failed ? failed + " failed" : "all passed");
    process.exit(failed ? 1 : 0);
}, (e) => {
    console.log("fail unexpected: " + (e && e.stack || e));
    console.log("result " + JSON.stringify(result));
    process.exit(1);
});
