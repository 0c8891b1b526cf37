/* SPDX-License-Identifier: MIT */
/* bmsgw status page: live state from /api/events (server-sent events), or
 * /api/state every 5 s where events do not get through; history charts from
 * /api/history with Chart.js (Debian's libjs-chart.js) when it is there; the
 * cells' heat map is drawn on a plain canvas (no library). */
'use strict';

const $ = (sel, root) => (root || document).querySelector(sel);
let state = null;          /* the last /api/state */
let received = 0;          /* Date.now() when it came */
let source = null;         /* EventSource */
let pollTimer = null;
let histUnit = null, histRange = '24h', histSeq = 0;
const charts = {};

function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const k in attrs || {}) {
    if (k === 'class') e.className = attrs[k];
    else e.setAttribute(k, attrs[k]);
  }
  if (text !== undefined && text !== null) e.textContent = text;
  return e;
}

function fmt(v, digits, unit) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  return Number(v).toFixed(digits) + (unit ? ' ' + unit : '');
}

function age(s) {
  if (s === null || s === undefined) return '–';
  s = Math.max(0, Math.round(s));
  if (s < 120) return s + ' s';
  if (s < 7200) return Math.round(s / 60) + ' min';
  if (s < 172800) return Math.round(s / 3600) + ' h';
  return Math.round(s / 86400) + ' d';
}

/* seconds since the state was received, added to the ages it gave */
function elapsed() { return received ? (Date.now() - received) / 1000 : 0; }

/* A unit is shown as current only when the gateway says it is online and
 * its data is younger than stale_after as of now (the stream may stop). */
function unitStatus(u) {
  if (!u.ok && !u.bank) return 'nodata';
  if (u.age_s === undefined) return u.online ? 'online' : 'nodata';
  const a = u.age_s + elapsed();
  if (!u.online || (state && a > state.gateway.stale_after)) return 'stale';
  return 'online';
}

function valueRow(dl, label, field, text) {
  const d = el('div');
  d.appendChild(el('dt', {}, label));
  d.appendChild(el('dd', { 'data-field': field }, text));
  dl.appendChild(d);
}

function cellsChart(u) {
  const cells = u.cells_mv || [];
  if (!cells.length) return null;
  /* a high-voltage pack's 96 or 108 cells: thinner bars, no gaps, so that
   * they fit a phone's width */
  const wrap = el('div', { class: cells.length > 48 ? 'cells many' : 'cells', 'data-field': 'cells' });
  const lo = Math.min(...cells), hi = Math.max(...cells);
  const floor = Math.max(0, lo - Math.max(50, (hi - lo) * 2));
  const bal = new Set(u.balancing || []);
  cells.forEach((mv, i) => {
    const n = i + 1;
    let cls = 'cell';
    if (n === u.cell_min_index) cls += ' min';
    if (n === u.cell_max_index) cls += ' max';
    if (bal.has(n)) cls += ' bal';
    const c = el('div', { class: cls, 'data-cell': String(n), 'data-mv': String(mv), title: 'cell ' + n + ': ' + mv + ' mV' + (bal.has(n) ? ', balancing' : '') });
    c.style.height = Math.max(3, ((mv - floor) / Math.max(1, hi - floor)) * 100) + '%';
    wrap.appendChild(c);
  });
  return wrap;
}

/* Cell health ([health]): each cell's resistance as a small bar chart,
 * the weak cell marked, the pack's resistance and the spreads with their
 * trends; nothing without [health] (cells_ir_mohm empty). */
function healthBlock(u) {
  const ir = u.cells_ir_mohm || [];
  if (!ir.length) return null;
  const box = el('div', { class: 'health', 'data-field': 'health' });
  const w = u.weak_cell;
  const known = ir.filter(v => v !== null);
  if (known.length) {
    const hi = Math.max(...known);
    const chart = el('div', { class: 'cells ir', 'data-field': 'cells_ir' });
    ir.forEach((r, i) => {
      const n = i + 1;
      const weak = w && w.cell === n;
      const c = el('div', { class: 'cell' + (weak ? ' weak' : ''), 'data-cell': String(n), 'data-mohm': r === null ? '' : String(r),
        title: 'cell ' + n + ': ' + (r === null ? 'no estimate yet' : fmt(r, 2, 'mΩ')) + (weak ? ', the weak cell' : '') });
      c.style.height = (r === null ? 0 : Math.max(3, r / Math.max(hi, 1e-6) * 100)) + '%';
      chart.appendChild(c);
    });
    box.appendChild(chart);
  }
  const line = (field, text) => box.appendChild(el('span', { 'data-field': field }, text));
  line('ir', 'Resistance ' + fmt(u.ir_mohm, 2, 'mΩ') + ' (' + (u.ir_samples || 0) + ' steps)' +
    (u.ir_rise_pct !== null && u.ir_rise_pct !== undefined ? ', ' + (u.ir_rise_pct >= 0 ? '+' : '') + fmt(u.ir_rise_pct, 1, '%') + ' in 30 days' : ''));
  line('weak_cell', w ? 'Weak cell #' + w.cell + (w.ir_rank ? ' (resistance rank ' + w.ir_rank + ')' : '') +
    (w.capacity_deficit_pct !== null ? ', ' + fmt(w.capacity_deficit_pct, 1, '%') + ' less capacity'
      : w.capacity_deficit_min_pct !== null && w.capacity_deficit_min_pct !== undefined
        ? ', at least ' + fmt(w.capacity_deficit_min_pct, 1, '%') + ' less capacity' : '') +
    ', led ' + w.knees_low + ' empty and ' + w.knees_high + ' full knees' : 'No weak cell named');
  const im = u.imbalance || {};
  const trend = t => t === null || t === undefined ? '' : ' (' + (t >= 0 ? '+' : '') + fmt(t, 2, 'mV/day') + ')';
  line('spreads', 'Spread at full ' + fmt(im.spread_full_mv, 0, 'mV') + trend(im.spread_full_trend_mv_day) +
    ' · at rest ' + fmt(im.spread_rest_mv, 0, 'mV') + trend(im.spread_rest_trend_mv_day));
  return box;
}

/* The charge and discharge limits ([limits]): status, shown even when the
 * unit is stale, where they are the fail-safe (0 A, nothing allowed). */
function limitsBlock(u) {
  const l = u.limits;
  if (!l) return null;
  const box = el('div', { class: 'limits' + (l.mode === 'failsafe' ? ' failsafe' : ''), 'data-field': 'limits', 'data-mode': l.mode });
  const part = (label, field, text, why) => {
    const s = el('span', { 'data-field': field }, label + ' ');
    s.appendChild(el('b', {}, text));
    if (why && why !== 'none') s.appendChild(el('span', { class: 'muted' }, ' (' + why.replace('_', ' ') + ')'));
    box.appendChild(s);
  };
  part('Mode', 'mode', l.mode);
  part('CVL', 'cvl', fmt(l.cvl_v, 2, 'V'));
  part('CCL', 'ccl', fmt(l.ccl_a, 1, 'A'), l.ccl_reason);
  part('DCL', 'dcl', fmt(l.dcl_a, 1, 'A'), l.dcl_reason);
  part('DVL', 'dvl', fmt(l.dvl_v, 2, 'V'));
  const flags = [];
  if (!l.charge_allowed) flags.push('no charging');
  if (!l.discharge_allowed) flags.push('no discharging');
  if (l.force_charge) flags.push('force charge');
  if (l.full_charge_request) flags.push('full charge requested');
  if (flags.length) box.appendChild(el('span', { class: 'alarm', 'data-field': 'limit_flags' }, flags.join(', ')));
  const set = settingsText(u.settings);
  if (set) box.appendChild(el('span', { 'data-field': 'settings' }, 'Settings: ' + set));
  return box;
}

/* The charge settings in effect (design: runtime settings), each with
 * where it came from and, for a cap, the time left on its lease. */
function settingsText(s) {
  if (!s) return '';
  const out = [];
  const by = v => v.origin === 'config' ? '' : ' (' + v.origin + ')';
  if (s.max_soc && s.max_soc.value < 100) out.push('max SOC ' + s.max_soc.value + ' %' + by(s.max_soc));
  if (s.min_soc && s.min_soc.value > 0) out.push('min SOC ' + s.min_soc.value + ' %' + by(s.min_soc));
  if (s.force_charge && s.force_charge.value) out.push('force charge' + by(s.force_charge));
  [['ccl_cap', 'CCL cap'], ['dcl_cap', 'DCL cap']].forEach(([k, label]) => {
    const v = s[k];
    if (v && v.value !== null) out.push(label + ' ' + fmt(v.value, 1, 'A') + by(v) + ', ' + v.left_s + ' s left');
  });
  if (s.full_charge_days && s.full_charge_days.value) out.push('full charge every ' + s.full_charge_days.value + ' days' + by(s.full_charge_days));
  return out.join(' · ');
}

/* Each BMS setting's label, one per key, for the card's two lists (the
 * settings read here, those that may be written in bmsset.js) and the
 * dialog: the labels of bms/base/settings.c, which Home Assistant's
 * entities carry (the unit test test_site checks that they are the same);
 * soc is a key that is written only. */
const BMS_LABEL = {
  cell_ovp_v: 'Cell over-voltage protection', cell_ovp_release_v: 'Cell over-voltage release',
  cell_uvp_v: 'Cell under-voltage protection', cell_uvp_release_v: 'Cell under-voltage release',
  cell_ovp_delay_s: 'Cell over-voltage delay', cell_uvp_delay_s: 'Cell under-voltage delay',
  cell_diff_v: 'Cell difference protection', pack_ovp_v: 'Pack over-voltage protection',
  pack_uvp_v: 'Pack under-voltage protection', power_off_v: 'Power-off cell voltage',
  smart_sleep_v: 'Sleep cell voltage', charge_ocp_a: 'Charge over-current protection',
  charge_ocp_delay_s: 'Charge over-current delay', charge_ocp_release_s: 'Charge over-current release time',
  discharge_ocp_a: 'Discharge over-current protection', discharge_ocp_delay_s: 'Discharge over-current delay',
  discharge_ocp_release_s: 'Discharge over-current release time', short_circuit_a: 'Short-circuit protection',
  short_circuit_delay_s: 'Short-circuit delay', short_circuit_release_s: 'Short-circuit release time',
  charge_otp_c: 'Charge over-temperature protection', charge_otp_release_c: 'Charge over-temperature release',
  charge_utp_c: 'Charge under-temperature protection', charge_utp_release_c: 'Charge under-temperature release',
  discharge_otp_c: 'Discharge over-temperature protection', discharge_otp_release_c: 'Discharge over-temperature release',
  discharge_utp_c: 'Discharge under-temperature protection', discharge_utp_release_c: 'Discharge under-temperature release',
  mos_otp_c: 'MOSFET over-temperature protection', mos_otp_release_c: 'MOSFET over-temperature release',
  balance_start_v: 'Balancing start voltage', balance_delta_v: 'Balancing trigger difference',
  balance_current_a: 'Balancing current setting', capacity_ah: 'Capacity setting', cell_count: 'Cell count setting',
  heat_start_c: 'Heating start temperature', heat_stop_c: 'Heating stop temperature',
  balancer: 'Balancer switch', heater: 'Heater switch',
  soc: 'State of charge',
};
function bmsLabel(key) { return BMS_LABEL[key] || key; }

/* The BMS's own settings its protocol reads (settings_bms), read only: a
 * collapsed table; nothing while never read (null). */
const settingsOpen = new Set(); /* the packs whose table is open: kept across renders */
function bmsSettings(st, name) {
  if (!st || typeof st !== 'object') return null;
  const keys = Object.keys(st).filter(k => st[k] && st[k].value !== null); /* the ones the BMS gave */
  if (!keys.length) return null;
  const box = el('details', { class: 'bmsset', 'data-field': 'settings_bms' });
  if (settingsOpen.has(name)) box.open = true;
  box.addEventListener('toggle', () => { if (box.open) settingsOpen.add(name); else settingsOpen.delete(name); });
  box.appendChild(el('summary', {}, 'BMS settings (' + keys.length + ')'));
  const tb = el('table');
  keys.forEach(k => {
    const v = st[k];
    const tr = el('tr', { 'data-key': k });
    tr.appendChild(el('th', {}, bmsLabel(k)));
    tr.appendChild(el('td', {}, k === 'balancer' ? (v.value ? 'on' : 'off') : String(v.value) + (v.unit ? ' ' + v.unit : '')));
    tb.appendChild(tr);
  });
  box.appendChild(tb);
  return box;
}

function unitCard(u, name, isBank) {
  const st = unitStatus(u);
  const card = el('article', { class: 'unit' + (isBank ? ' bank' : '') + (st !== 'online' ? ' stale' : ''), 'data-unit': name, 'data-status': st });
  const head = el('div', { class: 'head' });
  const title = el('div');
  title.appendChild(el('h3', {}, isBank ? 'Bank' : name));
  let sub = isBank ? (u.packs_online + ' of ' + u.packs_configured + ' packs online') : (u.protocol + ' · ' + u.port + (u.address ? ' · address ' + u.address : '') + ' · unit ' + u.unit_id);
  title.appendChild(el('div', { class: 'sub muted' }, sub));
  if (isBank && u.shunt) {
    /* [bank] shunt: where the bank's current and SOC come from */
    const from = u.current_from === 'shunt'
      ? 'current' + (u.soc_from === 'shunt' ? ' and SOC' : '') + ' from shunt ' + u.shunt
      : 'shunt ' + u.shunt + ' has no fresh data: current and SOC from the packs';
    title.appendChild(el('div', { class: 'sub muted', 'data-field': 'bank-source', 'data-state': u.current_from }, from));
  }
  head.appendChild(title);
  const label = { online: 'online', stale: 'stale', nodata: 'no data' }[st];
  head.appendChild(el('span', { class: 'badge', 'data-field': 'status', 'data-state': st }, label));
  card.appendChild(head);
  /* cells that do not fit the pack's chemistry: a configuration error
   * (chemistry_fit wrong), or in doubt since the last poll (outside) */
  if (!isBank && u.chemistry_error) {
    card.appendChild(el('p', { class: 'alarm chemistry', 'data-field': 'chemistry', 'data-state': u.chemistry_fit },
      (u.chemistry_fit === 'wrong' ? 'Configuration: chemistry = ' + u.chemistry + ' does not fit: '
        : 'Chemistry ' + u.chemistry + ' in doubt: ') + u.chemistry_error +
      ' (its voltage points are not taken, its limits are fail-safe)'));
  }
  const lim = limitsBlock(u);
  if (lim) card.appendChild(lim);

  if (st === 'nodata') {
    const err = (state.errors && state.errors[name]) || u.error || 'no answer yet';
    card.appendChild(el('p', { class: 'muted', 'data-field': 'error' }, err));
    return card;
  }
  card.appendChild(el('div', { class: 'soc', 'data-field': 'soc' }, fmt(u.soc, 1, '%')));
  const bar = el('div', { class: 'socbar' });
  const fill = el('div');
  fill.style.width = Math.max(0, Math.min(100, u.soc || 0)) + '%';
  bar.appendChild(fill);
  card.appendChild(bar);

  const dl = el('dl', { class: 'values' });
  valueRow(dl, 'Voltage', 'voltage', fmt(u.voltage, 2, 'V'));
  valueRow(dl, 'Current', 'current', fmt(u.current, 2, 'A'));
  valueRow(dl, 'Power', 'power', fmt(u.power, 0, 'W'));
  valueRow(dl, 'Remaining', 'remaining_ah', fmt(u.remaining_ah, 1, 'Ah'));
  const se = u.soc_estimate;
  if (se && se.counting) {
    /* the SOC above is the one carried ([soc] source); both shown beside */
    valueRow(dl, 'SOC (BMS)', 'soc_bms', fmt(se.bms, 1, '%'));
    /* its uncertainty beside it where it is known (synced): the true SOC lies within counted +- it */
    const band = se.uncertainty === null || se.uncertainty === undefined ? '' : ' ± ' + fmt(se.uncertainty, 1, '%');
    valueRow(dl, 'SOC (counted)', 'soc_counted', (band ? fmt(se.counted, 1) : fmt(se.counted, 1, '%')) + band +
      (se.synced ? '' : ' (not synced)'));
    if (se.capacity_measured) valueRow(dl, 'Capacity (measured)', 'capacity_measured', fmt(se.capacity_ah, 1, 'Ah'));
  }
  if (u.full_ah !== null && u.full_ah !== undefined) valueRow(dl, 'Full', 'full_ah', fmt(u.full_ah, 1, 'Ah'));
  if (u.soh !== null && u.soh !== undefined) valueRow(dl, 'Health', 'soh', fmt(u.soh, 0, '%'));
  if (u.cycles !== null && u.cycles !== undefined) valueRow(dl, 'Cycles', 'cycles', fmt(u.cycles, 0));
  (u.temps_c || []).forEach((t, i) => valueRow(dl, 'T' + (i + 1), 'temp' + (i + 1), fmt(t, 1, '°C')));
  if (u.mos_temp_c !== null && u.mos_temp_c !== undefined) valueRow(dl, 'MOS', 'mos_temp', fmt(u.mos_temp_c, 1, '°C'));
  if (u.cell_delta_mv !== null && u.cell_delta_mv !== undefined) valueRow(dl, 'Cell difference', 'cell_delta', fmt(u.cell_delta_mv, 0, 'mV'));
  valueRow(dl, 'Data age', 'age', age(u.age_s + elapsed()));
  card.appendChild(dl);
  /* a pack that is to count but cannot: why (soc_estimate.not_counting) */
  if (se && !se.counting && se.not_counting) card.appendChild(el('p', { class: 'muted sub', 'data-field': 'not_counting' }, 'No counted SOC: ' + se.not_counting + '.'));

  const fets = el('div', { class: 'fets' });
  const fet = (lbl, v, field) => {
    const s = el('span', { 'data-field': field }, lbl + ' ');
    const b = el('b', { class: v === null || v === undefined ? 'muted' : v ? 'on' : 'off' }, v === null || v === undefined ? '–' : v ? 'on' : 'off');
    s.appendChild(b);
    fets.appendChild(s);
  };
  fet('Charge', u.charge_mos, 'charge_mos');
  fet('Discharge', u.discharge_mos, 'discharge_mos');
  fets.appendChild(el('span', { 'data-field': 'state', class: 'muted' }, u.state || ''));
  card.appendChild(fets);

  const al = el('div', { class: 'alarms', 'data-field': 'alarms' });
  (u.alarms || []).forEach(a => al.appendChild(el('span', { class: 'alarm' }, a)));
  if (!(u.alarms || []).length && u.problem !== null && u.problem !== undefined) al.appendChild(el('span', { class: 'muted' }, 'no alarm'));
  card.appendChild(al);

  if (!isBank) {
    const chart = cellsChart(u);
    if (chart) {
      card.appendChild(chart);
      const info = el('div', { class: 'cellinfo' });
      info.appendChild(el('span', { class: 'min', 'data-field': 'cell_min' }, 'lowest #' + u.cell_min_index + ' ' + u.cell_min_mv + ' mV'));
      info.appendChild(document.createTextNode(' · '));
      info.appendChild(el('span', { class: 'max', 'data-field': 'cell_max' }, 'highest #' + u.cell_max_index + ' ' + u.cell_max_mv + ' mV'));
      const bal = u.balancing || [];
      info.appendChild(document.createTextNode(' · '));
      info.appendChild(el('span', { class: 'bal', 'data-field': 'balancing' }, bal.length ? 'balancing ' + bal.join(', ') : 'not balancing'));
      card.appendChild(info);
    }
    const health = healthBlock(u);
    if (health) card.appendChild(health);
    const bs = bmsSettings(u.settings_bms, name);
    if (bs) card.appendChild(bs);
    const bw = window.bmsWriteBlock ? window.bmsWriteBlock(name) : null; /* bmsset.js: those it may write */
    if (bw) card.appendChild(bw);
  } else if (u.cell_min_mv !== null && u.cell_min_mv !== undefined) {
    card.appendChild(el('div', { class: 'cellinfo' }, 'lowest cell ' + u.cell_min_mv + ' mV (' + u.cell_min_pack + ' #' + u.cell_min_index + '), highest ' + u.cell_max_mv + ' mV (' + u.cell_max_pack + ' #' + u.cell_max_index + ')'));
  }
  return card;
}

function renderUnits() {
  const box = $('#units');
  box.replaceChildren();
  if (state.bank) box.appendChild(unitCard(state.bank, 'bank', true));
  state.packs.forEach(p => box.appendChild(unitCard(p, p.pack, false)));
}

function renderLinks() {
  const tb = $('#links tbody');
  tb.replaceChildren();
  state.links.forEach(l => {
    const tr = el('tr', { 'data-port': l.port, 'data-state': l.state });
    tr.appendChild(el('td', {}, l.port));
    let s = l.state + (l.down_s !== undefined ? ' for ' + age(l.down_s + elapsed()) : '');
    if (l.polling) s += ' · polling ' + l.polling;
    if (l.taking_turns) s += ' · takes turns for a Bluetooth connection (round ' + l.round_s + ' s)';
    if (l.listen) {
      s += l.listen.taken_over ? ' · no master heard: bmsgw polls'
        : ' · listening (another master)' + (l.listen.master_heard_s === null ? ', none heard yet'
          : ', heard ' + age(l.listen.master_heard_s + elapsed()) + ' ago');
    }
    tr.appendChild(el('td', { 'data-field': 'state' }, s));
    tr.appendChild(el('td', {}, l.packs.join(', ')));
    tr.appendChild(el('td', { class: 'num' }, String(l.opens)));
    tr.appendChild(el('td', { class: 'num', 'data-field': 'checksum_errors' }, String(l.checksum_errors)));
    tr.appendChild(el('td', { class: 'num', 'data-field': 'short_frames' }, String(l.short_frames)));
    tr.appendChild(el('td', { class: 'num', 'data-field': 'timeouts' }, String(l.timeouts)));
    tr.appendChild(el('td', { class: 'num', 'data-field': 'exceptions' }, String(l.exceptions)));
    tr.appendChild(el('td', { class: 'num', 'data-field': 'implausible' }, String(l.implausible)));
    tb.appendChild(tr);
  });
}

// The strings of a bank of packs in series ([bank] strings): each one's
// members (a member not fresh, or whose current departs, marked), its
// values (none while a member is not fresh), and its own limits.
function stringLimits(l) {
  if (!l) return '';
  let t = 'CVL ' + fmt(l.cvl_v, 1, 'V') + ' · CCL ' + fmt(l.ccl_a, 1, 'A') + ' · DCL ' + fmt(l.dcl_a, 1, 'A') + ' · DVL ' + fmt(l.dvl_v, 1, 'V');
  if (l.mode === 'failsafe') t += ' (fail-safe)';
  else if (!l.charge_allowed || !l.discharge_allowed) t += ' (' + [!l.charge_allowed ? 'no charging' : '', !l.discharge_allowed ? 'no discharging' : ''].filter(x => x).join(', ') + ')';
  return t;
}

function stringRow(s) {
  const st = s.online ? 'online' : s.stale ? 'stale' : 'nodata';
  const tr = el('tr', { 'data-string': s.name, 'data-state': st });
  tr.appendChild(el('td', {}, s.name));
  const mem = el('td', { 'data-field': 'members' });
  s.members.forEach((m, i) => {
    if (i) mem.appendChild(document.createTextNode(' + '));
    const cls = !m.online ? 'off' : m.current_departs ? 'alarm' : '';
    mem.appendChild(el('span', { class: cls, 'data-member': m.name, title: m.name + ': ' + fmt(m.voltage, 2, 'V') + ', ' + fmt(m.current, 2, 'A') + ', SOC ' + fmt(m.soc, 1, '%') + (m.online ? '' : ', not fresh') }, m.name));
  });
  tr.appendChild(mem);
  tr.appendChild(el('td', { 'data-field': 'state' }, st === 'online' ? 'online' : (st === 'stale' ? 'stale: ' : 'no data: ') + s.members_online + ' of ' + s.members.length + ' members fresh'));
  tr.appendChild(el('td', { class: 'num', 'data-field': 'voltage' }, fmt(s.voltage, 2, 'V')));
  tr.appendChild(el('td', { class: 'num', 'data-field': 'current' }, fmt(s.current, 2, 'A')));
  tr.appendChild(el('td', { class: 'num', 'data-field': 'soc' }, fmt(s.soc, 1, '%')));
  tr.appendChild(el('td', { 'data-field': 'weakest' }, s.weakest || '–'));
  const dev = s.current_deviation === null ? '–' : fmt(s.current_deviation_a, 1, 'A') + ' of ' + fmt(s.max_current_deviation_a, 1, 'A') + (s.current_deviation ? ': a member departs' : '');
  tr.appendChild(el('td', { 'data-field': 'current_deviation', class: s.current_deviation ? 'alarm' : '' }, dev));
  tr.appendChild(el('td', { 'data-field': 'cells' }, s.cell_min ? s.cell_count + ', ' + s.cell_min_mv + '–' + s.cell_max_mv + ' mV (' + s.cell_min.pack + ' #' + s.cell_min.cell + ', ' + s.cell_max.pack + ' #' + s.cell_max.cell + ')' : '–'));
  tr.appendChild(el('td', { 'data-field': 'limits' }, stringLimits(s.limits)));
  return tr;
}

function renderStrings() {
  const list = (state.bank && state.bank.strings) || [];
  $('#strings').hidden = list.length === 0;
  const tb = $('#strings tbody');
  tb.replaceChildren();
  list.forEach(s => tb.appendChild(stringRow(s)));
}

// What each state means for the inverter, in a few words.
const INV_STATES = {
  waiting: 'waiting for the source\'s first data: nothing sent',
  sending: 'sending the limits',
  failsafe: 'source stale: zero current limits',
  silent: 'silent: the inverter is in its own loss-of-communication mode',
  out_of_range: 'silent: the source measures outside the protocol\'s voltage range',
  down: 'port down',
};

function invCells(o) {
  const can = o.frames_sent !== undefined;
  const sent = can ? o.frames_sent : o.answers_sent;
  const got = can ? o.frames_received : o.requests;
  const errs = can ? o.adapter_errors + o.frames_dropped : o.bad_checksum + o.bad_length;
  let seen = o.inverter_seen ? 'answering' : (o.seen_s !== undefined ? 'last heard ' + age(o.seen_s + elapsed()) + ' ago' : 'not heard yet');
  if (o.victron) seen += ' (Victron)';
  if (o.inverter_voltage !== undefined) seen += ' · ' + fmt(o.inverter_voltage, 1, ' V') + ' ' + fmt(o.inverter_current, 1, ' A');
  if (o.handshake !== undefined) seen += ' · handshake ' + o.handshake;
  return [sent, got, errs, seen];
}

// The ESPHome Bluetooth proxies ([ble_proxy.NAME]): the session, the
// device, its connection slots and the packs that share them.
function renderProxies() {
  const list = state.ble_proxies || [];
  $('#proxies').hidden = list.length === 0;
  const tb = $('#proxies tbody');
  tb.replaceChildren();
  list.forEach(p => {
    const tr = el('tr', { 'data-proxy': p.name, 'data-state': p.connected ? 'up' : 'down' });
    tr.appendChild(el('td', {}, p.name));
    tr.appendChild(el('td', {}, p.host + ':' + p.port + (p.encrypted ? ' (encrypted)' : '')));
    tr.appendChild(el('td', { 'data-field': 'state' }, p.connected ? 'connected'
      : (p.in_use ? 'not connected' + (p.error ? ': ' + p.error : '') : 'no pack uses it')));
    tr.appendChild(el('td', {}, p.device ? p.device + ' · ESPHome ' + p.esphome_version + ' · API ' + p.api_version : ''));
    tr.appendChild(el('td', { class: 'num', 'data-field': 'slots' },
      p.free_slots === null ? '' : p.free_slots + ' of ' + p.slots + ' free'));
    tr.appendChild(el('td', { 'data-field': 'packs' }, p.pack_names.join(', ') +
      (p.taking_turns ? ' · take turns' + (p.round_s !== null ? ', round ' + p.round_s + ' s' : '') : '')));
    tr.appendChild(el('td', { class: 'num' }, String(p.advertisements)));
    tr.appendChild(el('td', { class: 'num' }, String(p.handshake_failures)));
    tb.appendChild(tr);
  });
}

function renderInverters() {
  const list = state.inverters || [];
  $('#inverters').hidden = list.length === 0;
  const tb = $('#inv tbody');
  tb.replaceChildren();
  list.forEach(o => {
    const [sent, got, errs, seen] = invCells(o);
    const tr = el('tr', { 'data-inverter': o.name, 'data-state': o.state });
    tr.appendChild(el('td', {}, o.name + ' · ' + o.protocol));
    tr.appendChild(el('td', {}, o.port));
    tr.appendChild(el('td', {}, o.source));
    let st = INV_STATES[o.state] || o.state;
    if (o.stale_s !== undefined && o.state !== 'sending') st += ' for ' + age(o.stale_s + elapsed());
    tr.appendChild(el('td', { 'data-field': 'state' }, st));
    tr.appendChild(el('td', { 'data-field': 'seen' }, seen));
    tr.appendChild(el('td', { class: 'num', 'data-field': 'sent' }, String(sent)));
    tr.appendChild(el('td', { class: 'num', 'data-field': 'received' }, String(got)));
    tr.appendChild(el('td', { class: 'num', 'data-field': 'errors' }, String(errs)));
    tb.appendChild(tr);
  });
}

function renderClients() {
  const m = state.modbus;
  $('#modbus-summary').textContent = 'Modbus TCP on ' + m.listen + ': ' + m.clients.length + ' client(s) connected, ' + m.requests + ' requests answered (' + m.exceptions + ' with an exception) since the start.';
  const tb = $('#modbus tbody');
  tb.replaceChildren();
  m.clients.forEach(c => {
    const tr = el('tr');
    tr.appendChild(el('td', {}, c.peer));
    tr.appendChild(el('td', {}, age(c.connected_s)));
    tr.appendChild(el('td', { class: 'num' }, String(c.requests)));
    tr.appendChild(el('td', { class: 'num' }, String(c.exceptions)));
    tb.appendChild(tr);
  });
  /* [mqtt] backfill: the history samples owed to the broker after an outage */
  const backfillText = (q) => {
    const owed = Object.keys(q.backlog_units || {}).filter((u) => q.backlog_units[u] > 0).map((u) => u + ' ' + q.backlog_units[u]);
    return ' Backfill: ' + q.backlog + ' sample(s) owed' + (owed.length ? ' (' + owed.join(', ') + ')' : '') + ', ' + q.backfilled + ' sent after outages.';
  };
  const q = state.mqtt;
  const mq = $('#mqtt');
  if (!q) mq.textContent = 'MQTT: not configured.';
  else mq.textContent = 'MQTT ' + q.broker + ':' + q.port + ' (' + q.client_id + '): ' + q.state + (q.connected_s !== undefined ? ' for ' + age(q.connected_s) : '') + (q.down_s !== undefined ? ' for ' + age(q.down_s) : '') + ', ' + q.reconnects + ' reconnect(s)' + (q.last_error && !q.connected ? ' — ' + q.last_error : '') + '.' + (q.backfill ? backfillText(q) : '');
  mq.setAttribute('data-state', q ? q.state : 'off');
  renderUpstreams();
  const h = state.history;
  $('#hist-status').textContent = h ? 'History: ' + h.file + (h.open ? '' : ' (not open)') + ', ' + h.written + ' samples written, ' + h.dropped + ' lost' + (h.last_error ? ' — ' + h.last_error : '') : 'History: off.';
}

/* [upstream.NAME]: each pusher, a line: where to, from what, how it goes */
function renderUpstreams() {
  const ups = (state.modbus && state.modbus.upstreams) || [];
  const box = $('#upstreams');
  box.hidden = ups.length === 0;
  box.replaceChildren(...ups.map(u => el('p', { 'data-upstream': u.name, 'data-state': u.connected ? 'connected' : 'down' },
    'Upstream ' + u.name + ' to ' + u.host + ':' + u.port + ' (' + u.source + '): ' +
    (u.connected ? 'connected' : 'not connected') +
    (u.source_stale ? ', its source stale: only the failure flag is pushed' : '') + ', ' + u.pushes + ' push(es), ' +
    u.failures + ' failed write(s)' + (u.last_exception ? ', refused with exception ' + u.last_exception : '') + '.')));
}

function render() {
  if (!state) return;
  const g = state.gateway;
  /* [gateway] site names the page (a browser's tabs of several sites) */
  const name = state.site ? 'bmsgw ' + state.site : 'bmsgw';
  if (document.title !== name) document.title = name;
  $('h1').textContent = name;
  $('#summary').textContent = g.packs_online + ' of ' + g.packs_configured + ' pack(s) online';
  $('#version').textContent = 'bmsgw ' + g.version + ', up ' + age(g.uptime_s + elapsed());
  renderUnits();
  renderStrings();
  renderLinks();
  renderProxies();
  renderInverters();
  renderClients();
  stackLabels();
  fillUnits();
}

/* On a phone a table of class stack is a list of rows, each cell under
 * its column's name (style.css): every cell of a row gets that name. */
function stackLabels() {
  document.querySelectorAll('table.stack').forEach(t => {
    const heads = Array.from(t.tHead.rows[0].cells).map(c => c.textContent);
    Array.from(t.tBodies[0].rows).forEach(tr => Array.from(tr.cells).forEach((td, i) => {
      if (heads[i]) td.setAttribute('data-label', heads[i]);
    }));
  });
}

/* The page moved (the first admin made: the server restarts as HTTPS on
 * the same port, and this http:// address is redirected there): the
 * expected end of this page's stream, said with where it went, never the
 * red "does not answer" banner. */
let movedTo = null;
window.pageMoved = function (url) {
  movedTo = url;
  if (source) { source.close(); source = null; }
  if (pollTimer) { clearInterval(pollTimer); pollTimer = null; }
  const a = $('#moved a');
  a.href = url;
  a.textContent = url;
  $('#moved').hidden = false;
  setConn('moved');
};

function setConn(s) {
  if (movedTo) s = 'moved';
  const b = $('#conn');
  b.setAttribute('data-state', s);
  b.textContent = { live: 'live', polling: 'polling', lost: 'no connection', connecting: 'connecting', moved: 'moved to HTTPS' }[s] || s;
  $('#lost').hidden = s !== 'lost';
}

function accept(js) {
  state = js;
  received = Date.now();
  render();
}

function poll() {
  if (movedTo) return;
  fetch('api/state', { cache: 'no-store' }).then(r => r.json()).then(js => {
    accept(js);
    setConn('polling');
  }).catch(() => setConn('lost'));
}

function startPolling() {
  if (pollTimer) return;
  poll();
  pollTimer = setInterval(poll, 5000);
}

function connect() {
  if (!window.EventSource) { startPolling(); return; }
  source = new EventSource('api/events');
  source.addEventListener('state', e => {
    try { accept(JSON.parse(e.data)); } catch (err) { return; }
    setConn('live');
    if (pollTimer) { clearInterval(pollTimer); pollTimer = null; }
  });
  source.onerror = () => {
    if (movedTo) return;
    /* the browser reconnects by itself; meanwhile poll */
    setConn(state ? 'lost' : 'connecting');
    startPolling();
  };
}

/* ages and staleness move on between two states */
setInterval(() => {
  if (!state) return;
  if (!movedTo && elapsed() > 12 && $('#conn').getAttribute('data-state') !== 'lost') setConn('lost');
  renderUnits();
}, 1000);

/* ---- history ---- */

function fillUnits() {
  const sel = $('#h-unit');
  const strings = ((state.bank && state.bank.strings) || []).map(s => s.name);
  const names = (state.bank ? ['bank'] : []).concat(strings, state.packs.map(p => p.pack));
  const have = Array.from(sel.options).map(o => o.value).join(',');
  if (have === names.join(',')) return;
  sel.replaceChildren();
  names.forEach(n => sel.appendChild(el('option', { value: n }, n === 'bank' ? 'Bank' : n)));
  if (!histUnit || !names.includes(histUnit)) histUnit = names[0];
  sel.value = histUnit;
  loadHistory();
}

function timeLabel(t, range) {
  const d = new Date(t * 1000);
  const p = n => String(n).padStart(2, '0');
  if (range === '24h') return p(d.getHours()) + ':' + p(d.getMinutes());
  return p(d.getDate()) + '.' + p(d.getMonth() + 1) + ' ' + p(d.getHours()) + 'h';
}

function lineChart(id, h, datasets, yAxes) {
  const ctx = document.getElementById(id);
  if (charts[id]) charts[id].destroy();
  /* ticks on whole hours or days */
  const step = { '24h': 4 * 3600, '7d': 86400, '30d': 5 * 86400 }[histRange] || 3600;
  const offset = new Date().getTimezoneOffset() * 60;
  /* the axis starts at the first data, not at an empty start of the range */
  const first = h.t.find((t, i) => h.online[i] !== null);
  const from = first !== undefined && first > h.from ? Math.max(h.from, first - h.step) : h.from;
  const tick = Math.min(step, Math.max(60, Math.ceil((h.to - from) / 6 / 60) * 60));
  const scales = { x: { type: 'linear', min: from, max: h.to, afterBuildTicks: axis => {
    const t = [];
    for (let v = Math.ceil((from - offset) / tick) * tick + offset; v <= h.to; v += tick) t.push({ value: v });
    axis.ticks = t;
  }, ticks: { callback: v => timeLabel(v, histRange) } } };
  Object.assign(scales, yAxes || { y: {} });
  charts[id] = new window.Chart(ctx, {
    type: 'line',
    data: { datasets: datasets },
    options: {
      animation: false, responsive: true, maintainAspectRatio: false, parsing: false, normalized: true,
      spanGaps: false, elements: { point: { radius: 1 }, line: { borderWidth: 1.5 } },
      interaction: { mode: 'index', intersect: false },
      plugins: { legend: { labels: { boxWidth: 12 } }, tooltip: { callbacks: { title: items => items.length ? new Date(items[0].parsed.x * 1000).toLocaleString() : '' } } },
      scales: scales,
    },
  });
}

function series(h, key) { return h.t.map((t, i) => ({ x: t, y: h[key][i] })); }

/* ---- every cell over time: a heat map (cell x time) ----
 * Each column is one bucket of /api/history?cells=1; a cell's colour is its
 * distance from that bucket's median cell (blue below, red above), so a
 * cell that drifts stands out whatever the pack's voltage; a dark track
 * runs through the lowest cell of each column and a light one through the
 * highest, an orange tick marks a balancing cell; the spread (highest -
 * lowest, the bucket's largest) is drawn below.  A tap names the cell. */

const heat = { hist: null, geo: null };

/* the lowest and highest cell (0-based) of column i, or null */
function heatColumn(h, i) {
  let lo = -1, hi = -1, vals = [];
  for (let c = 0; c < h.ncells; c++) {
    const v = h.cells[c][i];
    if (v === null) continue;
    vals.push(v);
    if (lo < 0 || v < h.cells[lo][i]) lo = c;
    if (hi < 0 || v > h.cells[hi][i]) hi = c;
  }
  if (!vals.length) return null;
  vals.sort((a, b) => a - b);
  const m = vals.length >> 1;
  const median = vals.length % 2 ? vals[m] : (vals[m - 1] + vals[m]) / 2;
  return { lo: lo, hi: hi, median: median };
}

function heatColor(d, scale) {
  /* d / scale in -1..1: blue (below) - neutral grey - red (above) */
  const x = Math.max(-1, Math.min(1, d / scale));
  const base = [200, 204, 210];
  const to = x < 0 ? [33, 102, 172] : [198, 40, 40];
  const a = Math.abs(x);
  return 'rgb(' + base.map((b, k) => Math.round(b + (to[k] - b) * a)).join(',') + ')';
}

/* which cell is lowest and highest most often over the columns */
function heatSummary(h, cols) {
  const lo = new Array(h.ncells).fill(0), hi = new Array(h.ncells).fill(0);
  let n = 0;
  const devs = [];
  cols.forEach((col, i) => {
    if (!col) return;
    n++;
    lo[col.lo]++;
    hi[col.hi]++;
    for (let c = 0; c < h.ncells; c++) {
      const v = h.cells[c][i];
      if (v !== null) devs.push(Math.abs(v - col.median));
    }
  });
  /* the colour scale: the 95th percentile of the distances, so that a few
   * extreme columns do not wash the rest out (beyond it is full colour) */
  devs.sort((a, b) => a - b);
  const scale = devs.length ? devs[Math.floor((devs.length - 1) * 0.95)] : 0;
  const most = a => a.reduce((best, v, i) => v > a[best] ? i : best, 0);
  return { n: n, lo: most(lo), hi: most(hi), loShare: n ? lo[most(lo)] / n : 0, hiShare: n ? hi[most(hi)] / n : 0,
    scale: Math.max(5, scale) };
}

function drawHeat(h) {
  const fig = $('#f-heat'), cv = $('#c-heat'), info = $('#heat-info');
  const t0 = performance.now();
  heat.hist = null;
  if (!h.ncells || !h.cells) {
    fig.setAttribute('data-cells', '0');
    info.textContent = h.cells ? 'No cell voltages in this range (the bank, or [history] cells = false).'
      : 'No cell voltages in this answer.';
    const ctx = cv.getContext('2d');
    ctx.clearRect(0, 0, cv.width, cv.height);
    return;
  }
  const cols = h.t.map((t, i) => heatColumn(h, i));
  const sum = heatSummary(h, cols);
  const dpr = window.devicePixelRatio || 1;
  const W = Math.max(200, cv.clientWidth || fig.clientWidth || 300);
  /* a row a cell: at least 6 px, 2 px for a high-voltage pack's 96 or more */
  const rowH = Math.max(h.ncells > 48 ? 2 : 6, Math.min(16, Math.floor(220 / h.ncells)));
  const left = 26, right = 4, top = 2, spreadH = 44, axisH = 16, gap = 6;
  const mapH = rowH * h.ncells;
  const H = top + mapH + gap + spreadH + axisH;
  cv.style.setProperty('height', H + 'px', 'important');
  cv.width = Math.round(W * dpr);
  cv.height = Math.round(H * dpr);
  const ctx = cv.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  const css = getComputedStyle(document.documentElement);
  const fg = css.getPropertyValue('--fg').trim() || '#1d2430', muted = css.getPropertyValue('--muted').trim() || '#667085';
  ctx.clearRect(0, 0, W, H);
  const plotW = W - left - right;
  /* from the first column (a column spans its bucket from its time), as
   * the line charts from their first point: a range not yet filled (the
   * 24 h of a gateway started a minute ago) is not a sliver at its end */
  const fi = cols.findIndex(col => col !== null);
  const first = fi >= 0 && h.t[fi] > h.from ? h.t[fi] : h.from;
  const span = Math.max(1, h.to - first);
  const xOf = t => left + (t - first) / span * plotW;
  const colW = Math.max(1, h.step / span * plotW);
  ctx.font = Math.min(11, rowH + 2) + 'px system-ui, sans-serif';
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'right';
  for (let c = 0; c < h.ncells; c++) {
    const lbl = c === sum.lo || c === sum.hi;
    ctx.fillStyle = c === sum.lo ? (css.getPropertyValue('--min').trim() || '#c62828')
      : c === sum.hi ? (css.getPropertyValue('--max').trim() || '#6a1b9a') : muted;
    if (lbl || rowH >= 10 || c % Math.max(2, Math.ceil(12 / rowH)) === 0) ctx.fillText(String(c + 1), left - 4, top + c * rowH + rowH / 2);
  }
  const track = [];
  cols.forEach((col, i) => {
    if (!col) return;
    const x = xOf(h.t[i]);
    for (let c = 0; c < h.ncells; c++) {
      const v = h.cells[c][i];
      if (v === null) continue;
      ctx.fillStyle = heatColor(v - col.median, sum.scale);
      ctx.fillRect(x, top + c * rowH, colW + 0.5, rowH);
      if (h.balance && h.balance[i] !== null && (h.balance[i] >> c) & 1) {
        ctx.fillStyle = '#f5a623';
        ctx.fillRect(x, top + c * rowH, colW + 0.5, Math.max(1, rowH / 5));
      }
    }
    track.push([x + colW / 2, col.lo, col.hi]);
  });
  /* the tracks of the lowest and the highest cell */
  [[1, '#111', 2.5], [2, '#fff', 2.5]].forEach(([k, colour, w]) => {
    ctx.strokeStyle = colour;
    ctx.lineWidth = w;
    ctx.beginPath();
    track.forEach((p, j) => {
      const y = top + p[k] * rowH + rowH / 2;
      if (j && track[j - 1][k] === p[k] && p[0] - track[j - 1][0] <= colW * 1.6) ctx.lineTo(p[0], y);
      else ctx.moveTo(p[0] - colW / 2, y), ctx.lineTo(p[0], y);
    });
    ctx.stroke();
  });
  /* the spread below */
  const sy = top + mapH + gap;
  const spread = h.t.map((t, i) => h.cell_delta ? h.cell_delta[i] : null);
  const smax = Math.max(10, ...spread.filter(v => v !== null));
  ctx.strokeStyle = muted;
  ctx.lineWidth = 1;
  ctx.strokeRect(left, sy, plotW, spreadH);
  ctx.fillStyle = 'rgba(102,112,133,.45)';
  spread.forEach((v, i) => {
    if (v === null) return;
    const hh = v / smax * spreadH;
    ctx.fillRect(xOf(h.t[i]), sy + spreadH - hh, colW + 0.5, hh);
  });
  ctx.fillStyle = fg;
  ctx.textAlign = 'left';
  ctx.textBaseline = 'top';
  ctx.font = '10px system-ui, sans-serif';
  ctx.fillText('spread ≤ ' + Math.round(smax) + ' mV', left + 3, sy + 2);
  /* time labels */
  ctx.fillStyle = muted;
  ctx.textBaseline = 'top';
  const nl = plotW < 420 ? 2 : 4; /* a phone: three labels */
  for (let k = 0; k <= nl; k++) {
    const t = first + span * k / nl;
    ctx.textAlign = k === 0 ? 'left' : k === nl ? 'right' : 'center';
    ctx.fillText(timeLabel(t, histRange), left + plotW * k / nl, sy + spreadH + 3);
  }
  heat.hist = h;
  heat.geo = { left: left, top: top, rowH: rowH, plotW: plotW, colW: colW, first: first, span: span, step: h.step };
  const pct = v => Math.round(v * 100) + ' %';
  info.textContent = sum.n ? 'Lowest most often: cell ' + (sum.lo + 1) + ' (' + pct(sum.loShare) + ' of the time); ' +
    'highest most often: cell ' + (sum.hi + 1) + ' (' + pct(sum.hiShare) + '). Colour: ±' + Math.round(sum.scale) +
    ' mV from the median cell. Tap a cell for its value.' : 'No cell voltages in this range yet.';
  fig.setAttribute('data-cells', String(h.ncells));
  fig.setAttribute('data-columns', String(sum.n));
  fig.setAttribute('data-lowest', String(sum.lo + 1));
  fig.setAttribute('data-highest', String(sum.hi + 1));
  fig.setAttribute('data-ms', (performance.now() - t0).toFixed(1));
}

/* a tap or click on the heat map: the cell and time under it */
function heatPick(ev) {
  const h = heat.hist, g = heat.geo;
  if (!h || !g) return;
  const r = $('#c-heat').getBoundingClientRect();
  const x = ev.clientX - r.left, y = ev.clientY - r.top;
  const c = Math.floor((y - g.top) / g.rowH);
  if (c < 0 || c >= h.ncells || x < g.left) return;
  /* the column drawn nearest the tap */
  let best = -1, dist = Infinity;
  h.t.forEach((tt, i) => {
    if (h.cells[c][i] === null) return;
    const d = Math.abs(g.left + (tt - g.first) / g.span * g.plotW + g.colW / 2 - x);
    if (d < dist) best = i, dist = d;
  });
  if (best < 0) return;
  const col = heatColumn(h, best);
  const v = h.cells[c][best];
  const bal = h.balance && h.balance[best] !== null && (h.balance[best] >> c) & 1;
  $('#heat-pick').textContent = 'Cell ' + (c + 1) + ': ' + v + ' mV at ' + new Date(h.t[best] * 1000).toLocaleString() +
    (col && col.lo === c ? ' (lowest)' : col && col.hi === c ? ' (highest)' : '') +
    ', ' + (v - col.median >= 0 ? '+' : '') + Math.round(v - col.median) + ' mV from the median' + (bal ? ', balancing' : '');
}

function drawHistory(h) {
  drawHeat(h);
  if (!window.Chart) {
    $('#h-note').textContent = 'Charts need Chart.js (Debian package libjs-chart.js, served from /usr/share/javascript); the CSV export works without it.';
    return;
  }
  const n = h.t.filter((t, i) => h.online[i] !== null).length;
  $('#h-note').textContent = n ? n + (n === 1 ? ' point' : ' points') + ', ' + h.step + ' s each' : 'No samples in this range yet.';
  $('#h-note').setAttribute('data-points', String(n));
  /* the BMS's SOC and bmsgw's count, where it counts, with its uncertainty: the true SOC lies between the
   * count minus and plus it (/api/history soc_bms, soc_counted, soc_band; none while it is not known) */
  const counted = (h.soc_counted || []).some(v => v !== null);
  const soc = counted ? [
    { label: 'SOC (BMS) %', data: series(h, 'soc_bms'), borderColor: '#1a7f37' },
    { label: 'SOC (counted) %', data: series(h, 'soc_counted'), borderColor: '#4c8bf5' },
  ] : [{ label: 'SOC %', data: series(h, 'soc'), borderColor: '#1a7f37' }];
  if (counted && (h.soc_band || []).some(v => v !== null)) {
    const side = k => h.t.map((t, i) => ({ x: t, y: h.soc_counted[i] === null || h.soc_band[i] === null ? null
      : Math.min(100, Math.max(0, h.soc_counted[i] + k * h.soc_band[i])) }));
    soc.push({ label: 'counted − uncertainty %', data: side(-1), borderColor: '#a9c4fb', borderDash: [4, 3], pointRadius: 0 });
    soc.push({ label: 'counted + uncertainty %', data: side(1), borderColor: '#a9c4fb', borderDash: [4, 3], pointRadius: 0,
      fill: '-1', backgroundColor: 'rgba(76, 139, 245, 0.12)' });
  }
  lineChart('c-soc', h, soc, { y: { min: 0, max: 100 } });
  /* with [limits] the current limits beside the current: CCL above, DCL below zero */
  const vi = [
    { label: 'V', data: series(h, 'voltage'), borderColor: '#4c8bf5', yAxisID: 'y' },
    { label: 'A', data: series(h, 'current'), borderColor: '#f5a623', yAxisID: 'y1' },
  ];
  if ((h.ccl || []).some(v => v !== null)) {
    vi.push({ label: 'CCL A', data: series(h, 'ccl'), borderColor: '#1a7f37', borderDash: [4, 3], yAxisID: 'y1' });
    vi.push({ label: '−DCL A', data: h.t.map((t, i) => ({ x: t, y: h.dcl[i] === null ? null : -h.dcl[i] })), borderColor: '#c62828', borderDash: [4, 3], yAxisID: 'y1' });
  }
  lineChart('c-vi', h, vi, { y: { position: 'left' }, y1: { position: 'right', grid: { drawOnChartArea: false } } });
  lineChart('c-cells', h, [
    { label: 'lowest mV', data: series(h, 'cell_min'), borderColor: '#c62828', yAxisID: 'y' },
    { label: 'highest mV', data: series(h, 'cell_max'), borderColor: '#6a1b9a', yAxisID: 'y' },
    { label: 'difference mV', data: series(h, 'cell_delta'), borderColor: '#667085', yAxisID: 'y1' },
  ], { y: { position: 'left' }, y1: { position: 'right', min: 0, grid: { drawOnChartArea: false } } });
  lineChart('c-temp', h, [
    { label: 'lowest', data: series(h, 'temp_min'), borderColor: '#4c8bf5' },
    { label: 'highest', data: series(h, 'temp_max'), borderColor: '#c62828' },
    { label: 'MOS', data: series(h, 'mos_temp'), borderColor: '#667085' },
  ]);
}

function loadHistory() {
  /* no request while [history] is off: its answer would only be a 404 */
  if (!histUnit || !state || !state.history) { if (state && !state.history) $('#h-note').textContent = 'history is off'; return; }
  const q = 'unit=' + encodeURIComponent(histUnit) + '&range=' + histRange;
  $('#h-csv').href = 'api/history.csv?' + q;
  $('#h-csv').setAttribute('download', 'bmsgw-' + histUnit + '-' + histRange + '.csv');
  const t0 = performance.now(), seq = ++histSeq;
  fetch('api/history?' + q + '&points=400&cells=1', { cache: 'no-store' }).then(r => r.json().then(js => ({ ok: r.ok, js: js }))).then(({ ok, js }) => {
    if (seq !== histSeq) return; /* a later choice of unit or range is on its way */
    if (!ok) { $('#h-note').textContent = js.error || 'no history'; return; }
    drawHistory(js);
    /* the time from the request to the drawn charts (the bench reads it) */
    $('#f-heat').setAttribute('data-load-ms', (performance.now() - t0).toFixed(1));
    $('#f-heat').setAttribute('data-range', histRange);
  }).catch(() => { $('#h-note').textContent = 'history unavailable'; });
}

document.addEventListener('DOMContentLoaded', () => {
  $('#h-unit').addEventListener('change', e => { histUnit = e.target.value; loadHistory(); });
  $('#c-heat').addEventListener('click', heatPick);
  window.addEventListener('resize', () => { if (heat.hist) drawHeat(heat.hist); });
  document.querySelectorAll('.ranges button').forEach(b => b.addEventListener('click', () => {
    document.querySelectorAll('.ranges button').forEach(x => x.classList.toggle('on', x === b));
    histRange = b.getAttribute('data-range');
    loadHistory();
  }));
  setInterval(loadHistory, 60000);
  connect();
});
