/* SPDX-License-Identifier: MIT */
/* bmsgw status page: the Setup tab (/api/setup/, bmsgw(8) SETUP).  The
 * first admin from the setup code; ports with Detect and the packs found
 * with Add; a form per section, its keys from /api/setup/schema (a pack's
 * protocol first, then only the keys that protocol takes); Check shows
 * each error on its field, Apply shows the changes first.  Every change is
 * a POST of JSON with the session's X-CSRF-Token (a new one taken, and
 * the POST sent again once, when it expired).  No framework, no
 * inline script: the page's Content-Security-Policy allows none.  Loaded
 * after app.js, whose el() it uses. */
'use strict';

(function () {
  const $ = (sel, root) => (root || document).querySelector(sel);
  const S = {
    session: null, schema: null, config: null, /* the answers of the API */
    sections: [],        /* the working copy: [{name, keys: {}}] */
    secrets: {},         /* 'section\u0000key' -> a new secret's value */
    job: null, found: [], opened: false,
  };
  /* the keys shown first in each kind of section; the rest under "More keys" */
  const MAIN = {
    gateway: ['listen', 'log_level', 'stale_after'],
    pack: ['protocol', 'port', 'baud', 'address', 'unit_id', 'poll_interval', 'listen', 'adapter', 'key', 'topic', 'fields', 'bitrate'],
    bank: ['packs', 'strings', 'unit_id'],
    mqtt: ['host', 'port', 'username', 'topic_prefix', 'discovery', 'tls'],
    inverter: ['protocol', 'port', 'source', 'baud'],
    limits: ['chemistry', 'max_charge_current', 'max_discharge_current'],
    http: ['listen', 'clients', 'tls_cert', 'tls_key', 'users_file', 'setup'],
    alerts: ['url', 'to', 'on'],
  };
  const SECRET_FILES = { password_file: 'password', token_file: 'token' };

  /* A POST refused because its X-CSRF-Token expired ([http] csrf_lifetime:
   * the tab was left open longer): the server refused it before doing
   * anything, so it is sent again, once, with a new token from the
   * session.  Any other 403 (a role, a void code, setup = false, a token
   * of another login) is the answer. */
  function tokenExpired(res) {
    return res.status === 403 && /X-CSRF-Token has expired/.test(res.js.error || '');
  }

  function api(method, path, body, again) {
    const o = { method: method, cache: 'no-store', credentials: 'same-origin', headers: {} };
    if (method === 'POST') {
      o.headers['Content-Type'] = 'application/json';
      o.headers['X-CSRF-Token'] = S.session ? S.session.csrf : '';
      o.body = JSON.stringify(body || {});
    }
    return fetch('api/setup/' + path, o) /* relative: Home Assistant's ingress serves the page under a prefix */
      .then(r => r.json().catch(() => ({})).then(js => ({ status: r.status, js: js })))
      .then(res => {
        if (method !== 'POST' || again || !tokenExpired(res)) return res;
        return api('GET', 'session').then(se => {
          if (se.status !== 200 || !se.js.csrf) return res;
          S.session = se.js;
          return api(method, path, body, true);
        });
      });
  }

  function kindOf(name) { return name.split('.')[0]; }
  function kindSchema(kind) { return (S.schema.sections || []).find(k => k.kind === kind); }
  function protocol(name) { return (S.schema.protocols || []).find(p => p.name === name); }

  /* ---- tabs ---- */

  function openTab(setup) {
    $('#tab-setup').setAttribute('aria-selected', String(setup));
    $('#tab-status').setAttribute('aria-selected', String(!setup));
    $('#setup').hidden = !setup;
    $('#main').hidden = setup;
    if (setup && !S.opened) { S.opened = true; load(); }
    if (setup) history.replaceState(null, '', '#setup');
    else if (location.hash === '#setup') history.replaceState(null, '', location.pathname);
  }

  /* ---- the session and the first admin ---- */

  function showWho() {
    const s = S.session;
    let t = s.user ? 'Logged in as ' + s.user + ' (' + s.role + ').' : 'Not logged in.';
    t += s.can_write ? ' You may change the configuration.' : ' The configuration is read only here: ' + (s.why || '') ;
    $('#setup-who').textContent = t;
    $('#su-admin').hidden = !s.setup_code_needed;
    /* a read login sees the status page only: the configuration is an admin's */
    const full = !s.setup_code_needed && s.role !== 'read';
    ['#setup-ports', '#setup-config', '#setup-changes'].forEach(x => { $(x).hidden = !full; });
    $('#cfg-actions').hidden = $('#cfg-adding').hidden = !s.can_write;
    $('#det-go').disabled = $('#ble-go').disabled = !s.can_write;
  }

  function fieldErrors(root, errors) {
    root.querySelectorAll('[aria-invalid]').forEach(x => x.removeAttribute('aria-invalid'));
    root.querySelectorAll('small.err').forEach(x => { x.textContent = ''; });
    (errors || []).forEach(e => {
      const small = root.querySelector('small.err[data-err-for="' + e.key + '"]');
      const inp = root.querySelector('[name="' + e.key + '"]');
      if (small) small.textContent = e.message;
      if (inp) inp.setAttribute('aria-invalid', 'true');
    });
  }

  function createAdmin(ev) {
    ev.preventDefault();
    const f = $('#su-admin');
    if ($('#su-pass').value !== $('#su-pass2').value) {
      fieldErrors(f, [{ key: 'password', message: 'the two passwords differ' }]);
      return;
    }
    $('#su-create').disabled = true;
    $('#su-msg').textContent = 'Making the admin and the page\u2019s certificate…';
    api('POST', 'admin', { code: $('#su-code').value.trim(), user: $('#su-user').value.trim(), password: $('#su-pass').value }).then(({ status, js }) => {
      $('#su-create').disabled = false;
      if (status !== 200) {
        $('#su-msg').textContent = js.error || ('refused (' + status + ')');
        fieldErrors(f, js.errors);
        return;
      }
      f.hidden = true;
      $('#setup-who').textContent = 'The admin ' + js.user + ' is made: log in as ' + js.user + ' over HTTPS.';
      $('#su-done').hidden = false;
      $('#su-fpr').textContent = js.fingerprint;
      $('#su-https').href = js.https_url + '#setup';
      $('#su-url').textContent = js.https_url;
      $('#su-https').focus();
      /* the server restarts as HTTPS in a moment: this page's stream ends there */
      if (window.pageMoved) window.pageMoved(js.https_url);
    }).catch(() => { $('#su-create').disabled = false; $('#su-msg').textContent = 'no answer'; });
  }

  /* ---- ports and detections ---- */

  function showPorts(ports) {
    const tb = $('#ports tbody');
    tb.replaceChildren();
    ports.forEach(p => {
      const tr = el('tr', { 'data-port': p.port });
      tr.appendChild(el('td', {}, p.port + (p.device && p.device !== p.port ? ' → ' + p.device : '') + (p.host ? ' (' + p.host + ')' : '')));
      tr.appendChild(el('td', {}, p.kind));
      tr.appendChild(el('td', {}, (p.packs || []).join(', ') || '–'));
      const td = el('td');
      if (p.kind === 'serial' || p.kind === 'can') {
        const b = el('button', { type: 'button', 'data-port': p.port }, 'Detect');
        b.disabled = !S.session.can_write;
        b.addEventListener('click', () => { $('#det-port').value = p.port; detect(); });
        td.appendChild(b);
      }
      tr.appendChild(td);
      tb.appendChild(tr);
    });
  }

  function detect() {
    const body = { port: $('#det-port').value.trim() };
    if ($('#det-baud').value) body.baud = Number($('#det-baud').value);
    if ($('#det-sweep').checked) body.scan_addresses = true;
    $('#det-job').hidden = false;
    $('#det-found').replaceChildren();
    $('#det-state').textContent = 'starting…';
    api('POST', 'detect', body).then(({ status, js }) => {
      if (status !== 202) { $('#det-state').textContent = js.error || ('refused (' + status + ')'); return; }
      S.job = js.job;
      $('#det-state').textContent = 'detecting on ' + body.port + (js.released && js.released.length ? ' (pack ' + js.released.join(', ') + ' not read meanwhile)' : '') + '…';
      pollJob();
    });
  }

  function pollJob() {
    if (!S.job) return;
    api('GET', 'jobs/' + S.job).then(({ status, js }) => {
      if (status !== 200) { $('#det-state').textContent = js.error || 'the job is gone'; return; }
      $('#det-progress').value = js.progress;
      $('#det-log').textContent = js.log;
      if (js.state === 'running') { setTimeout(pollJob, 500); return; }
      S.job = null;
      S.found = (js.result && js.result.packs) || [];
      $('#det-state').textContent = js.state === 'failed' ? 'the port could not be used (see what it tried)' : S.found.length ? 'found:' : 'nothing answered as a BMS';
      showFound();
      loadPorts();
    });
  }

  function showFound() {
    const ul = $('#det-found');
    ul.replaceChildren();
    S.found.forEach((f, i) => {
      const li = el('li', {}, f.protocol + ' on ' + f.port + (f.baud ? ' at ' + f.baud + ' baud' : '') + (f.address !== null ? ', address ' + f.address : '') + (f.listen ? ', heard on a bus with another master' : '') + (f.what ? ': ' + f.what : '') + ' ');
      const b = el('button', { type: 'button', 'data-found': String(i) }, 'Add');
      b.disabled = !S.session.can_write;
      b.addEventListener('click', () => addFound(f));
      li.appendChild(b);
      ul.appendChild(li);
    });
  }

  /* ---- a Bluetooth scan ---- */

  function bleScan() {
    $('#ble-state').textContent = 'scanning…';
    $('#ble-found').replaceChildren();
    api('POST', 'ble-scan', { seconds: Number($('#ble-seconds').value) }).then(({ status, js }) => {
      if (status !== 202) { $('#ble-state').textContent = js.error || ('refused (' + status + ')'); return; }
      const poll = () => api('GET', 'jobs/' + js.job).then(({ js: j }) => {
        if (j.state === 'running') { setTimeout(poll, 500); return; }
        const devs = (j.result && j.result.devices) || [];
        $('#ble-state').textContent = j.state === 'failed' ? j.log : devs.length + ' device(s) seen';
        devs.forEach(dv => {
          const li = el('li', {}, dv.address + ' ' + (dv.name || '(no name)') + (dv.rssi !== null ? ', ' + dv.rssi + ' dBm' : '') + (dv.protocol ? ': likely ' + dv.protocol + ' (' + dv.why + ')' : '') + ' ');
          if (dv.protocol) {
            const b = el('button', { type: 'button' }, 'Add');
            b.disabled = !S.session.can_write;
            b.addEventListener('click', () => addFound({ name: dv.protocol, protocol: dv.protocol, port: 'ble://' + dv.address, baud: null, address: null }));
            li.appendChild(b);
          }
          $('#ble-found').appendChild(li);
        });
      });
      poll();
    });
  }

  function uniqueName(base) {
    let name = base.replace(/[^a-z0-9_-]/g, '-'), n = 2;
    while (S.sections.some(s => s.name === 'pack.' + name)) name = base + '-' + n++;
    return name;
  }

  function addFound(f) {
    const keys = { protocol: f.protocol, port: f.port };
    const p = protocol(f.protocol);
    if (f.baud && (!p || p.baud !== f.baud)) keys.baud = String(f.baud);
    if (f.address !== null && f.address !== undefined && (f.listen || !p || !p.address || p.address.default !== f.address))
      keys.address = String(f.address);
    if (f.listen) keys.listen = 'true';
    if (f.address_any) keys.address_any = 'true';
    const name = 'pack.' + uniqueName(f.name);
    S.sections.push({ name: name, keys: keys });
    renderSections();
    const fs = document.querySelector('fieldset[data-section="' + name + '"]');
    if (fs) { fs.scrollIntoView({ block: 'center' }); const first = fs.querySelector('input,select'); if (first) first.focus(); }
    $('#cfg-msg').textContent = '[' + name + '] added: Apply writes it.';
  }

  /* ---- the sections as forms ---- */

  function keysOf(sect) {
    const kind = kindOf(sect.name), ks = kindSchema(kind);
    if (!ks) return [];
    let keys = ks.keys;
    if (kind === 'pack') {
      const p = protocol(sect.keys.protocol);
      if (p) keys = keys.filter(k => k.name === 'protocol' || p.keys.includes(k.name));
    }
    return keys;
  }

  function input(sect, k) {
    const v = sect.keys[k.name];
    let inp;
    if (k.name === 'protocol' && kindOf(sect.name) === 'pack') {
      inp = el('select', { name: k.name, 'data-key': k.name });
      inp.appendChild(el('option', { value: '' }, '— the BMS\u2019s protocol —'));
      S.schema.protocols.forEach(p => inp.appendChild(el('option', { value: p.name }, p.name + (p.vendor ? ' (' + p.vendor + ')' : ''))));
    } else if (k.type === 'bool' || k.words) {
      inp = el('select', { name: k.name, 'data-key': k.name });
      inp.appendChild(el('option', { value: '' }, k.default !== null ? 'default (' + k.default + ')' : '—'));
      (k.words || ['true', 'false']).forEach(w => inp.appendChild(el('option', { value: w }, w)));
    } else {
      inp = el('input', { name: k.name, 'data-key': k.name, spellcheck: 'false' });
      if (k.default !== null && k.default !== '') inp.placeholder = k.default;
      if (k.numeric) inp.setAttribute('inputmode', 'decimal');
    }
    inp.value = v === undefined ? '' : v;
    inp.disabled = !S.session.can_write;
    inp.addEventListener('change', () => {
      if (inp.value === '') delete sect.keys[k.name];
      else sect.keys[k.name] = inp.value;
      if (k.name === 'protocol') renderSections();
    });
    return inp;
  }

  /* A key of several words (type flags: a pack's bms_settings, an
   * inverter's extras): a checkbox a word, every word of the value kept
   * checked; a change writes the words checked, in the key's order (none:
   * the key's default none, or "none" where its default is another). */
  function flagsField(sect, k) {
    const box = el('div', { class: 'flags' + (sect.keys[k.name] !== undefined ? ' set' : ''), role: 'group', 'data-key': k.name,
      'aria-label': k.name });
    box.appendChild(el('span', {}, k.name + ' (default: ' + (k.default || 'the protocol\u2019s') + ')'));
    const have = (sect.keys[k.name] || '').split(',').map(w => w.trim().toLowerCase()).filter(w => w && w !== 'none');
    const list = el('div', { class: 'flaglist' });
    const boxes = k.words.map(w => {
      const lab = el('label');
      const cb = el('input', { type: 'checkbox', name: k.name, value: w, 'data-word': w });
      cb.checked = have.includes(w.toLowerCase());
      cb.disabled = !S.session.can_write;
      lab.appendChild(cb);
      lab.appendChild(el('code', {}, w));
      if (k.name === 'bms_settings' && window.bmsLabel && bmsLabel(w) !== w) lab.appendChild(el('span', { class: 'muted' }, bmsLabel(w)));
      list.appendChild(lab);
      return cb;
    });
    boxes.forEach(cb => cb.addEventListener('change', () => {
      const on = boxes.filter(b => b.checked).map(b => b.value);
      if (on.length) sect.keys[k.name] = on.join(', ');
      else if (k.default === 'none') delete sect.keys[k.name];
      else sect.keys[k.name] = 'none';
    }));
    box.appendChild(list);
    box.appendChild(el('small', { class: 'err', 'data-err-for': k.name }));
    return box;
  }

  function field(sect, k) {
    if (k.type === 'flags' && k.words) return flagsField(sect, k);
    const lab = el('label', { class: sect.keys[k.name] !== undefined ? 'set' : '' });
    let hint = k.name;
    if (k.numeric) hint += ' (' + (k.above ? '> ' : '') + k.min + ' … ' + k.max + ')';
    lab.appendChild(el('span', {}, hint));
    lab.appendChild(input(sect, k));
    lab.appendChild(el('small', { class: 'err', 'data-err-for': k.name }));
    return lab;
  }

  /* a secret: typed here, sent once, never shown again */
  function secretField(sect, key, isSet) {
    const lab = el('label');
    lab.appendChild(el('span', {}, key + (isSet ? ' (set; type a new one to change it)' : ' (new)')));
    const inp = el('input', { type: 'password', name: key, 'data-secret': key, autocomplete: 'new-password' });
    inp.disabled = !S.session.can_write;
    inp.value = S.secrets[sect.name + '\u0000' + key] || '';
    inp.addEventListener('change', () => {
      if (inp.value) S.secrets[sect.name + '\u0000' + key] = inp.value;
      else delete S.secrets[sect.name + '\u0000' + key];
    });
    lab.appendChild(inp);
    lab.appendChild(el('small', { class: 'err', 'data-err-for': key }));
    return lab;
  }

  function isSecretSet(sect, key) {
    return (S.config.secrets || []).some(x => x.section === sect && x.key === key && x.set);
  }

  function sectionForm(sect) {
    const fs = el('fieldset', { class: 'sect', 'data-section': sect.name });
    const lg = el('legend', {}, '[' + sect.name + ']');
    if (S.session.can_write) {
      const rm = el('button', { type: 'button', 'aria-label': 'remove [' + sect.name + ']' }, 'Remove');
      rm.addEventListener('click', () => { S.sections = S.sections.filter(x => x !== sect); renderSections(); });
      lg.appendChild(rm);
    }
    fs.appendChild(lg);
    fs.appendChild(el('small', { class: 'err', 'data-err-for': '' }));
    const kind = kindOf(sect.name), main = el('div', { class: 'fields' }), more = el('div', { class: 'fields' });
    keysOf(sect).forEach(k => {
      if (k.secret) { main.appendChild(secretField(sect, k.name, isSecretSet(sect.name, k.name))); return; }
      const first = (MAIN[kind] || []).includes(k.name) || sect.keys[k.name] !== undefined;
      (first ? main : more).appendChild(field(sect, k));
      const sec = SECRET_FILES[k.name];
      if (sec) main.appendChild(secretField(sect, sec, isSecretSet(sect.name, sec)));
    });
    fs.appendChild(main);
    if (more.childNodes.length) {
      const d = el('details');
      d.appendChild(el('summary', {}, 'More keys (' + more.childNodes.length + ')'));
      d.appendChild(more);
      fs.appendChild(d);
    }
    return fs;
  }

  function renderSections() {
    const box = $('#cfg-sections');
    box.replaceChildren();
    S.sections.forEach(s => box.appendChild(sectionForm(s)));
    if (!S.sections.some(s => kindOf(s.name) === 'pack'))
      box.appendChild(el('p', { class: 'muted' }, 'No pack yet: detect one above and Add it, or add a [pack] section.'));
  }

  function fillAddKinds() {
    const sel = $('#cfg-add-kind');
    sel.replaceChildren();
    S.schema.sections.forEach(k => sel.appendChild(el('option', { value: k.kind, 'data-named': String(k.named) }, k.kind + (k.named ? '.NAME' : ''))));
    sel.value = 'pack';
  }

  function addSection() {
    const kind = $('#cfg-add-kind').value, ks = kindSchema(kind);
    const nm = $('#cfg-add-name').value.trim();
    const name = ks.named ? kind + '.' + (nm || (kind === 'pack' ? uniqueName('pack') : 'one')) : kind;
    if (S.sections.some(s => s.name === name)) { $('#cfg-msg').textContent = '[' + name + '] is there already.'; return; }
    S.sections.push({ name: name, keys: {} });
    renderSections();
    const fs = document.querySelector('fieldset[data-section="' + name + '"]');
    if (fs) { const first = fs.querySelector('input,select'); if (first) first.focus(); }
  }

  /* ---- check and apply ---- */

  function secretList() {
    return Object.keys(S.secrets).map(k => { const [section, key] = k.split('\u0000'); return { section: section, key: key, value: S.secrets[k] }; });
  }

  function showErrors(errors) {
    document.querySelectorAll('#cfg-sections [aria-invalid]').forEach(x => x.removeAttribute('aria-invalid'));
    document.querySelectorAll('#cfg-sections small.err').forEach(x => { x.textContent = ''; });
    const msg = $('#cfg-msg');
    msg.replaceChildren();
    (errors || []).forEach(e => {
      const fs = document.querySelector('fieldset[data-section="' + e.section + '"]');
      const small = fs && fs.querySelector('small.err[data-err-for="' + e.key + '"]');
      const inp = fs && fs.querySelector('[name="' + e.key + '"]');
      if (small) {
        small.textContent = e.message;
        if (inp) inp.setAttribute('aria-invalid', 'true');
        if (fs.querySelector('details') && fs.querySelector('details').contains(small)) fs.querySelector('details').open = true;
      }
      msg.appendChild(el('p', { class: 'err', 'data-section': e.section, 'data-key': e.key }, (e.section ? '[' + e.section + '] ' : '') + (e.key ? e.key + ': ' : '') + e.message));
    });
    const first = document.querySelector('#cfg-sections [aria-invalid="true"]');
    if (first) first.focus();
  }

  function check(then) {
    $('#cfg-msg').textContent = 'checking…';
    api('POST', 'check', { sections: S.sections }).then(({ status, js }) => {
      if (status !== 200) { $('#cfg-msg').textContent = js.error || ('refused (' + status + ')'); return; }
      showErrors(js.errors);
      if (js.ok) {
        $('#cfg-msg').textContent = 'The configuration is good' + (js.warnings.length ? ', with warnings: ' + js.warnings.join('; ') : '.');
        if (then) then(js);
      }
    });
  }

  function oldValue(sect, key) {
    const s = (S.config.sections || []).find(x => x.name === sect);
    return s ? s.keys[key] : undefined;
  }

  function review(js) {
    const ul = $('#cfg-diff');
    ul.replaceChildren();
    const changed = js.changed.slice();
    secretList().forEach(x => changed.push({ section: x.section, key: x.key, secret: true }));
    if (!changed.length) { $('#cfg-msg').textContent = 'Nothing to apply: the file says this already.'; return; }
    changed.forEach(ch => {
      const now = (S.sections.find(x => x.name === ch.section) || { keys: {} }).keys[ch.key];
      const was = oldValue(ch.section, ch.key);
      let t = '[' + ch.section + '] ' + (ch.key || '(the section)') + ': ';
      if (ch.secret) t += 'a new secret (never shown again: in its own 0600 file, or in this file, which is then 0600)';
      else if (was === undefined) t += 'set to ' + now;
      else if (now === undefined) t += 'removed (was ' + was + ')';
      else t += was + ' → ' + now;
      ul.appendChild(el('li', { 'data-section': ch.section, 'data-key': ch.key }, t));
    });
    $('#cfg-review').hidden = false;
    $('#cfg-confirm').focus();
  }

  function apply() {
    $('#cfg-confirm').disabled = true;
    api('POST', 'apply', { base_hash: S.config.hash, sections: S.sections, secrets: secretList() }).then(({ status, js }) => {
      $('#cfg-confirm').disabled = false;
      $('#cfg-review').hidden = true;
      if (status === 200 || status === 202) {
        S.secrets = {};
        $('#cfg-msg').textContent = js.pending
          ? 'Written: the page\u2019s server restarts with it in a moment; reload the page then, and the list of changes says whether the reload took it.'
          : js.applied ? 'Applied and in force (' + js.changed.length + ' change(s)).' : 'Nothing changed.';
        $('#cfg-msg').setAttribute('data-applied', js.pending ? 'pending' : String(js.applied));
        loadConfig(true);
        loadChanges();
        return;
      }
      if (status === 409) loadConfig(false);
      showErrors(js.errors);
      $('#cfg-msg').prepend(el('p', { class: 'err' }, js.error || ('refused (' + status + ')')));
    });
  }

  /* ---- loading ---- */

  function loadConfig(replace) {
    return api('GET', 'config').then(({ status, js }) => {
      if (status !== 200) { $('#cfg-file').textContent = js.error || 'no configuration'; return; }
      S.config = js;
      $('#cfg-file').textContent = js.file + (js.writable ? '' : ' — ' + js.why);
      if (replace || !S.sections.length) S.sections = js.sections.map(s => ({ name: s.name, keys: Object.assign({}, s.keys) }));
      renderSections();
    });
  }

  function loadPorts() {
    api('GET', 'ports').then(({ status, js }) => { if (status === 200) showPorts(js.ports); });
  }

  function loadChanges() {
    api('GET', 'changes').then(({ status, js }) => {
      if (status !== 200) return;
      const ul = $('#changes');
      ul.replaceChildren();
      js.changes.forEach(c => ul.appendChild(el('li', c.applied === false ? { class: 'err' } : {},
        c.time + ' ' + c.user + ' from ' + c.address + ': ' + c.changed.map(x => '[' + x.section + '] ' + x.key).join(', ') +
        (c.applied === false ? ' \u2014 not in force: ' + c.error : ''))));
      if (!js.changes.length) ul.appendChild(el('li', { class: 'muted' }, 'No change since bmsgw started.'));
    });
  }

  function load() {
    Promise.all([api('GET', 'session'), api('GET', 'schema')]).then(([se, sc]) => {
      if (se.status !== 200) { $('#setup-who').textContent = se.js.error || 'the setup API does not answer'; return; }
      S.session = se.js;
      S.schema = sc.js;
      showWho();
      if (S.session.setup_code_needed) { $('#su-code').focus(); return; }
      fillAddKinds();
      loadConfig(true);
      loadPorts();
      loadChanges();
    }).catch(() => { $('#setup-who').textContent = 'the setup API does not answer'; });
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('#tab-status').addEventListener('click', () => openTab(false));
    $('#tab-setup').addEventListener('click', () => openTab(true));
    $('#su-admin').addEventListener('submit', createAdmin);
    $('#det-go').addEventListener('click', detect);
    $('#ble-go').addEventListener('click', bleScan);
    $('#cfg-add').addEventListener('click', addSection);
    $('#cfg-check').addEventListener('click', () => check(null));
    $('#cfg-apply').addEventListener('click', () => check(review));
    $('#cfg-confirm').addEventListener('click', apply);
    $('#cfg-cancel').addEventListener('click', () => { $('#cfg-review').hidden = true; });
    $('#cfg-reset').addEventListener('click', () => { S.secrets = {}; loadConfig(true); $('#cfg-msg').textContent = ''; });
    /* the first start (no pack yet) and #setup open the tab */
    if (location.hash === '#setup') { openTab(true); return; }
    fetch('api/state', { cache: 'no-store' }).then(r => r.json()).then(st => {
      if (st.gateway && st.gateway.packs_configured === 0) openTab(true);
    }).catch(() => {});
  });
})();
