/* SPDX-License-Identifier: MIT */
/* bmsgw status page: a pack's BMS settings that may be written (its
 * bms_settings, bmsgw(8) BMS SETTINGS).  Each pack's card lists them with
 * what the BMS last reported and the effective range (GET
 * /api/bms-settings, every few seconds and after a change); for an admin
 * login, each has a Change button that opens a dialog, whose change is a
 * POST of JSON with the session's X-CSRF-Token (as the Setup tab's), and
 * whose outcome (done with old -> new, or why it was refused or failed)
 * stays on the card.  A read login, or a page without logins, sees the
 * values and ranges only, and a line under them that says what brings
 * the Change buttons.  The dialog lives outside the cards, which are
 * drawn anew every second.  Loaded after app.js, whose el(), state,
 * bmsLabel() and renderUnits() it uses. */
'use strict';

(function () {
  const $ = (sel, root) => (root || document).querySelector(sel);
  const B = {
    session: null,       /* GET /api/setup/session: user, role, csrf */
    packs: {},           /* name -> the last GET answer, with .at (Date.now()) */
    loading: {},         /* name -> a GET on its way */
    outcome: {},         /* name -> {key, result, text} of the last change */
    open: new Set(),     /* the packs whose list is open */
    dlg: null,           /* {pack, key} the dialog changes */
  };
  /* the keys that are switches (on / off: bms_wkey_switch()) */
  const SWITCH = new Set(['balancer', 'heater']);

  function admin() {
    const s = B.session;
    return !!(s && s.user && s.role === 'admin');
  }

  /* What brings the Change buttons, to a login without them: an admin's
   * login over HTTPS (the first one made on the Setup tab) */
  function changeHint() {
    const s = B.session;
    if (admin() || !s) return '';
    if (s.user) return 'Logged in as ' + s.user + ' (' + s.role + '): an admin\u2019s login brings a Change button to each.';
    if (s.setup_code_needed) return 'To change them: create the admin on the Setup tab, then log in as the admin over HTTPS: each gets a Change button.';
    return 'To change them, an admin\u2019s login over HTTPS ([http] users_file) brings a Change button to each.';
  }

  /* decimals of a step: 0.001 -> 3 */
  function decimals(step) {
    let d = 0;
    while (d < 6 && Math.abs(Math.round(step * Math.pow(10, d)) - step * Math.pow(10, d)) > 1e-9) d++;
    return d;
  }

  function show(key, k, v) {
    if (v === null || v === undefined) return '–';
    if (SWITCH.has(key)) return v ? 'on' : 'off';
    return Number(v).toFixed(decimals(k.step)) + (k.unit ? (k.unit === '%' ? ' %' : ' ' + k.unit) : '');
  }

  function range(key, k) {
    if (SWITCH.has(key)) return 'on or off';
    const d = decimals(k.step);
    return Number(k.min).toFixed(d) + '–' + Number(k.max).toFixed(d) + ' ' + k.unit + ', step ' + k.step;
  }

  function session() {
    return fetch('api/setup/session', { cache: 'no-store', credentials: 'same-origin' })
      .then(r => r.ok ? r.json() : null).then(js => { B.session = js; }).catch(() => {});
  }

  function load(name) {
    if (B.loading[name]) return;
    B.loading[name] = true;
    fetch('api/bms-settings?unit=' + encodeURIComponent(name), { cache: 'no-store', credentials: 'same-origin' })
      .then(r => r.ok ? r.json() : { keys: {} })
      .then(js => {
        const had = B.packs[name] && Object.keys(B.packs[name].keys || {}).length;
        js.at = Date.now();
        B.packs[name] = js;
        if (had || Object.keys(js.keys || {}).length) renderUnits();
        if (B.dlg && B.dlg.pack === name) fillDialog();
      })
      .catch(() => {})
      .then(() => { B.loading[name] = false; });
  }

  /* every pack's list: those with keys every 5 s, the others every 30 s (a reload may add some) */
  function refresh() {
    if (!state || !state.packs) return;
    const now = Date.now();
    state.packs.forEach(p => {
      const b = B.packs[p.pack];
      const every = b && Object.keys(b.keys || {}).length ? 5000 : 30000;
      if (!b || now - b.at >= every) load(p.pack);
    });
  }

  /* ---- the card's block (app.js calls it for each pack's card) ---- */

  window.bmsWriteBlock = function (name) {
    const b = B.packs[name];
    const keys = b ? Object.keys(b.keys || {}) : [];
    if (!keys.length) return null;
    const box = el('details', { class: 'bmsset bmswrite', 'data-field': 'bms_write' });
    if (B.open.has(name)) box.open = true;
    box.addEventListener('toggle', () => { if (box.open) B.open.add(name); else B.open.delete(name); });
    box.appendChild(el('summary', {}, 'Writable BMS settings (' + keys.length + ')' +
      (b.stale ? ': the pack is stale, a change is refused' : b.busy ? ': a change runs' : '')));
    const tb = el('table');
    keys.forEach(key => {
      const k = b.keys[key];
      const tr = el('tr', { 'data-key': key });
      tr.appendChild(el('th', {}, bmsLabel(key)));
      tr.appendChild(el('td', { 'data-field': 'value' }, show(key, k, k.value)));
      tr.appendChild(el('td', { class: 'muted', 'data-field': 'range' }, range(key, k)));
      if (admin()) {
        const td = el('td');
        const btn = el('button', { type: 'button', 'data-change': key }, 'Change');
        btn.addEventListener('click', () => openDialog(name, key));
        td.appendChild(btn);
        tr.appendChild(td);
      }
      tb.appendChild(tr);
    });
    const wrap = el('div', { class: 'scroll' });
    wrap.appendChild(tb);
    box.appendChild(wrap);
    const hint = changeHint();
    if (hint) box.appendChild(el('p', { class: 'muted bmshint', 'data-field': 'bms_write_hint' }, hint));
    const o = B.outcome[name];
    if (o) box.appendChild(el('p', { class: 'bmsout', 'data-field': 'bms_write_result', 'data-result': o.result }, o.text));
    return box;
  };

  /* ---- the dialog ---- */

  function fillDialog() {
    const { pack, key } = B.dlg;
    const b = B.packs[pack];
    const k = b && b.keys[key];
    if (!k) { $('#bset-now').textContent = key + ' is no longer among ' + pack + '\u2019s bms_settings.'; return; }
    $('#bset-title').textContent = pack + ': ' + bmsLabel(key) + ' (' + key + ')';
    $('#bset-now').textContent = 'The BMS reports ' + show(key, k, k.value) + (b.stale ? ' (the pack is stale)' : '') + '.';
    $('#bset-range').textContent = 'Allowed: ' + range(key, k) + (SWITCH.has(key) ? '' : ' (the protocol\u2019s range within ' + b.chemistry + '\u2019s; a value off the step is refused, never rounded)');
  }

  function openDialog(pack, key) {
    B.dlg = { pack: pack, key: key };
    const k = B.packs[pack].keys[key];
    const sw = SWITCH.has(key);
    const inp = $('#bset-value'), sel = $('#bset-onoff');
    inp.hidden = sw;
    sel.hidden = !sw;
    $('#bset-unit').textContent = sw ? '' : k.unit;
    if (sw) sel.value = k.value ? 'off' : 'on';
    else {
      inp.min = k.min;
      inp.max = k.max;
      inp.step = k.step;
      inp.value = k.value === null ? '' : Number(k.value).toFixed(decimals(k.step));
    }
    $('#bset-msg').textContent = '';
    $('#bset-msg').removeAttribute('data-result');
    $('#bset-go').disabled = false;
    fillDialog();
    $('#bset-dlg').showModal();
    (sw ? sel : inp).focus();
  }

  /* the answer of a POST as a line: done with old -> new, or the reason */
  function outcomeText(key, k, status, js) {
    if (js.result === 'done' && js.message) return key + ': done, ' + js.message; /* held already: nothing sent */
    if (js.result === 'done') {
      return key + ': done, ' + show(key, k, js.old) + ' \u2192 ' + show(key, k, js.value) + ', confirmed by read-back';
    }
    return key + ': ' + (js.result || 'refused') + ' (' + status + '): ' + (js.message || 'no reason given');
  }

  function submit(ev) {
    ev.preventDefault();
    const { pack, key } = B.dlg;
    const k = (B.packs[pack] && B.packs[pack].keys[key]) || {};
    let value;
    if (SWITCH.has(key)) value = $('#bset-onoff').value === 'on';
    else value = $('#bset-value').value.trim(); /* the text as typed: the gateway's one parser reads it */
    const msg = $('#bset-msg');
    msg.removeAttribute('data-result');
    msg.textContent = 'Writing to the BMS and reading it back\u2026';
    $('#bset-go').disabled = true;
    const csrf = B.session ? B.session.csrf : '';
    fetch('api/bms-settings', { method: 'POST', cache: 'no-store', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify({ unit: pack, key: key, value: value }) })
      .then(r => r.json().catch(() => ({})).then(js => ({ status: r.status, js: js })))
      .then(({ status, js }) => {
        const o = { key: key, result: js.result || 'refused', text: outcomeText(key, k, status, js) };
        B.outcome[pack] = o;
        msg.textContent = o.text;
        msg.setAttribute('data-result', o.result);
        if (status === 403) session(); /* a token from before a restart: the next try takes a new one */
        load(pack);
        renderUnits();
      })
      .catch(() => { msg.textContent = 'no answer from the gateway'; msg.setAttribute('data-result', 'failed'); })
      .then(() => { $('#bset-go').disabled = false; });
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('#bset-form').addEventListener('submit', submit);
    $('#bset-close').addEventListener('click', () => $('#bset-dlg').close());
    $('#bset-dlg').addEventListener('close', () => { B.dlg = null; });
    session().then(() => { if (state) renderUnits(); });
    setInterval(refresh, 1000);
  });
})();
