// The console's pages, rendered in the browser from /console/api/* (JSON). Pages are hash routes
// (#/topics, #/topic/<name>, #/messages?topic=…, #/group/<id>, …). Every value from the broker is set as text,
// never as HTML: record keys, values and headers are untrusted.
import { lineChart } from './chart.js';

const main = document.getElementById('main');
let refresh = null; // the current page's auto-refresh timer

/** h('td', { class: 'num' }, 'text', childNode, …): an element; strings become text nodes. */
function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null) e.append(c instanceof Node ? c : String(c));
  return e;
}

async function api(path) {
  const res = await fetch(`/console/api/${path}`);
  const body = await res.json().catch(() => ({ error: `HTTP ${res.status}` }));
  if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
  return body;
}

const fmtBytes = (n) => (n < 1024 ? `${n} B` : n < 1 << 20 ? `${(n / 1024).toFixed(1)} KiB` : n < 1 << 30 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${(n / (1 << 30)).toFixed(2)} GiB`);
const fmtTime = (ms) => (ms >= 0 ? new Date(ms).toISOString().replace('T', ' ').replace('Z', '') : '—');
const num = (v) => h('td', { class: 'num' }, String(v));
const link = (href, text) => h('a', { href }, text);

/** A table: columns [{ title, num? }], rows of cells (strings, numbers or nodes); `name` for tests and styles. */
function table(name, columns, rows, empty = 'none') {
  if (rows.length === 0) return h('p', { class: 'muted', 'data-empty': name }, empty);
  return h('table', { 'data-table': name },
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { class: c.num ? 'num' : undefined }, c.title)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((cell, i) => (cell instanceof Node && cell.tagName === 'TD') ? cell
      : h('td', { class: columns[i]?.num ? 'num' : undefined }, cell instanceof Node ? cell : String(cell ?? '')))))));
}

function payload(p) {
  if (!p || p.type === 'null') return h('span', { class: 'muted' }, 'null');
  const more = p.truncated ? h('div', { class: 'muted' }, `… ${p.size} bytes in all`) : null;
  return h('div', { class: `payload ${p.type}` }, p.type === 'text' ? null : h('span', { class: 'tag' }, p.type === 'json' ? 'JSON' : `hex · ${p.size} B`), h('pre', {}, p.text), more);
}

const pages = {
  async cluster() {
    const c = await api('cluster');
    return [
      h('h1', {}, 'Cluster'),
      h('div', { class: 'cards' },
        h('div', { class: 'card' }, 'Cluster id', h('b', { 'data-field': 'clusterId' }, c.clusterId)),
        h('div', { class: 'card' }, 'Controller', h('b', {}, String(c.controllerId))),
        h('div', { class: 'card' }, 'Topics', h('b', { 'data-field': 'topics' }, String(c.topics))),
        h('div', { class: 'card' }, 'Partitions', h('b', {}, String(c.partitions)))),
      h('h2', {}, 'Nodes'),
      table('nodes', [{ title: 'Node' }, { title: 'Host' }, { title: 'Port', num: true }, { title: 'Rack' }, { title: 'State' }],
        c.nodes.map((n) => [String(n.nodeId), n.host, num(n.port), n.rack ?? '—', n.fenced ? 'fenced' : (n.nodeId === c.controllerId ? 'broker, controller' : 'broker')])),
      h('h2', {}, 'Listeners'),
      table('listeners', [{ title: 'Name' }, { title: 'Advertised' }], c.listeners.map((l) => [l.name, `${l.host}:${l.port}`])),
      h('h2', {}, 'Log directories'),
      table('logdirs', [{ title: 'Directory' }, { title: 'Data', num: true }, { title: 'Usable', num: true }, { title: 'Total', num: true }, { title: 'Error' }],
        c.logDirs.map((d) => [d.logDir, num(fmtBytes(d.sizeBytes)), num(d.usableBytes >= 0 ? fmtBytes(d.usableBytes) : '—'), num(d.totalBytes >= 0 ? fmtBytes(d.totalBytes) : '—'), d.error ?? ''])),
      h('h2', {}, `Broker configs (not default; ${c.defaultConfigs} at their default)`),
      table('broker-configs', [{ title: 'Name' }, { title: 'Value' }, { title: 'Source' }], c.configs.map((x) => [x.name, x.sensitive ? '(sensitive)' : x.value ?? 'null', x.source])),
    ];
  },

  async topics() {
    const ts = await api('topics');
    return [
      h('h1', {}, 'Topics'),
      table('topics', [{ title: 'Topic' }, { title: 'Partitions', num: true }, { title: 'Messages', num: true }, { title: 'Size', num: true }, { title: '' }],
        ts.map((t) => [link(`#/topic/${encodeURIComponent(t.name)}`, t.name), num(t.partitions), num(t.messages), num(fmtBytes(t.sizeBytes)),
          h('td', {}, t.internal ? h('span', { class: 'tag' }, 'internal') : null, link(`#/messages?topic=${encodeURIComponent(t.name)}`, 'browse'))]), 'no topics'),
    ];
  },

  async topic(name) {
    const t = await api(`topic?name=${encodeURIComponent(name)}`);
    return [
      h('h1', {}, `Topic ${t.name}`),
      h('p', { class: 'muted' }, `id ${t.topicId}`, t.internal ? ' · internal' : ''),
      h('h2', {}, 'Partitions'),
      table('partitions', [{ title: 'Partition', num: true }, { title: 'Leader', num: true }, { title: 'Replicas' }, { title: 'ISR' }, { title: 'Start offset', num: true }, { title: 'End offset', num: true }, { title: 'Size', num: true }, { title: '' }],
        t.partitions.map((p) => [num(p.partition), num(p.leader), p.replicas.join(','), p.isr.join(','), num(p.startOffset), num(p.endOffset), num(fmtBytes(p.sizeBytes)),
          link(`#/messages?topic=${encodeURIComponent(t.name)}&partition=${p.partition}`, 'browse')])),
      h('h2', {}, 'Configs'),
      table('topic-configs', [{ title: 'Name' }, { title: 'Value' }, { title: 'Source' }],
        t.configs.map((c) => [c.source === 'DEFAULT_CONFIG' ? c.name : h('b', {}, c.name), c.sensitive ? '(sensitive)' : c.value ?? 'null', c.source])),
    ];
  },

  async messages(_arg, q) {
    const topics = await api('topics');
    const topic = q.get('topic') ?? topics.find((t) => !t.internal)?.name ?? '';
    const form = h('form', { class: 'browse', onsubmit: (e) => {
      e.preventDefault();
      const f = new FormData(e.target);
      const p = new URLSearchParams({ topic: f.get('topic'), partition: f.get('partition') || '0', limit: f.get('limit') || '50' });
      const from = String(f.get('from') ?? '').trim();
      if (from !== '') {
        if (f.get('by') === 'timestamp') p.set('timestamp', /^\d+$/.test(from) ? from : String(Date.parse(from))); else p.set('offset', from);
      }
      location.hash = `#/messages?${p}`;
    } },
      h('label', {}, 'Topic', h('select', { name: 'topic' }, topics.map((t) => h('option', { value: t.name, selected: t.name === topic }, t.name)))),
      h('label', {}, 'Partition', h('input', { name: 'partition', type: 'number', min: 0, value: q.get('partition') ?? '0', style: 'width:5rem' })),
      h('label', {}, 'From', h('select', { name: 'by' }, h('option', { value: 'offset', selected: !q.has('timestamp') }, 'offset'), h('option', { value: 'timestamp', selected: q.has('timestamp') }, 'timestamp'))),
      h('label', {}, 'Offset, ms or ISO time', h('input', { name: 'from', value: q.get('offset') ?? q.get('timestamp') ?? '', placeholder: 'earliest' })),
      h('label', {}, 'Limit', h('input', { name: 'limit', type: 'number', min: 1, max: 500, value: q.get('limit') ?? '50', style: 'width:5rem' })),
      h('button', { type: 'submit' }, 'Show'));
    const out = [h('h1', {}, 'Messages'), form];
    if (!topic) return [...out, h('p', { class: 'muted' }, 'no topics')];
    const params = new URLSearchParams({ topic, partition: q.get('partition') ?? '0', limit: q.get('limit') ?? '50' });
    for (const k of ['offset', 'timestamp']) if (q.get(k)) params.set(k, q.get(k));
    const m = await api(`messages?${params}`);
    const next = new URLSearchParams(params); next.delete('timestamp'); next.set('offset', String(m.nextOffset));
    out.push(h('p', { class: 'muted', 'data-field': 'range' }, `${m.topic}-${m.partition}: offsets ${m.startOffset}–${m.endOffset}; showing ${m.records.length} from ${m.from}`,
      m.nextOffset < m.endOffset ? h('span', {}, ' · ', link(`#/messages?${next}`, 'next page')) : ''));
    out.push(table('messages', [{ title: 'Offset', num: true }, { title: 'Timestamp (UTC)' }, { title: 'Key' }, { title: 'Value' }, { title: 'Headers' }],
      m.records.map((r) => [num(r.offset), h('td', {}, fmtTime(r.timestamp), h('div', { class: 'muted' }, r.timestampType, r.transactional ? ' · txn' : '')),
        payload(r.key), payload(r.value),
        h('td', {}, r.headers.map((x) => h('div', { class: 'header' }, h('b', {}, x.key), ': ', payload(x.value))))]), 'no records in this range'));
    return out;
  },

  async groups() {
    const gs = await api('groups');
    return [
      h('h1', {}, 'Consumer groups'),
      table('groups', [{ title: 'Group' }, { title: 'Type' }, { title: 'State' }, { title: 'Lag', num: true }],
        gs.map((g) => [link(`#/group/${encodeURIComponent(g.groupId)}`, g.groupId), g.type, g.state, num(g.lag)]), 'no groups'),
    ];
  },

  async group(id) {
    const g = await api(`group?id=${encodeURIComponent(id)}`);
    refresh = setTimeout(route, Math.max(1000, g.lagSampleIntervalMs));
    const extra = ['protocol', 'assignor', 'groupEpoch'].filter((k) => g[k] !== undefined && g[k] !== '').map((k) => `${k} ${g[k]}`).join(' · ');
    return [
      h('h1', {}, `Group ${g.groupId}`),
      h('div', { class: 'cards' },
        h('div', { class: 'card' }, 'State', h('b', { 'data-field': 'state' }, g.state)),
        h('div', { class: 'card' }, 'Type', h('b', {}, g.type)),
        h('div', { class: 'card' }, 'Members', h('b', {}, String(g.members.length))),
        h('div', { class: 'card' }, 'Total lag', h('b', { 'data-field': 'lag' }, String(g.lag)))),
      extra ? h('p', { class: 'muted' }, extra) : null,
      h('h2', {}, `Lag over time (sampled every ${g.lagSampleIntervalMs / 1000} s)`),
      lineChart(g.lagHistory.map((s) => ({ t: s.t, v: s.lag })), { label: `lag of ${g.groupId}` }),
      h('h2', {}, 'Members'),
      table('members', [{ title: 'Member' }, { title: 'Client id' }, { title: 'Host' }, { title: 'Assignment' }],
        g.members.map((m) => [m.memberId + (m.instanceId ? ` (${m.instanceId})` : ''), m.clientId, m.host,
          m.assignment.map((a) => `${a.topic}: ${a.partitions.join(',')}`).join('; ') || '—']), 'no members'),
      h('h2', {}, 'Offsets'),
      table('offsets', [{ title: 'Topic' }, { title: 'Partition', num: true }, { title: 'Committed', num: true }, { title: 'End', num: true }, { title: 'Lag', num: true }],
        g.offsets.map((o) => [o.topic, num(o.partition), num(o.committed), num(o.end), num(o.lag ?? '—')]), 'no committed offsets'),
    ];
  },

  async transactions() {
    const x = await api('transactions');
    return [
      h('h1', {}, 'Producers & transactions'),
      h('h2', {}, 'Transactions'),
      table('transactions', [{ title: 'Transactional id' }, { title: 'State' }, { title: 'Producer id', num: true }, { title: 'Epoch', num: true }, { title: 'Timeout', num: true }, { title: 'Started' }, { title: 'Partitions' }],
        x.transactions.map((t) => [t.transactionalId, t.error ?? t.state, num(t.producerId), num(t.producerEpoch), num(`${t.timeoutMs} ms`), fmtTime(t.startTimeMs), t.partitions.join(', ') || '—']), 'no transactional ids'),
      h('h2', {}, 'Active producers'),
      table('producers', [{ title: 'Topic' }, { title: 'Partition', num: true }, { title: 'Producer id', num: true }, { title: 'Epoch', num: true }, { title: 'Last sequence', num: true }, { title: 'Last write' }, { title: 'Open transaction from', num: true }],
        x.producers.map((p) => [p.topic, num(p.partition), num(p.producerId), num(p.producerEpoch), num(p.lastSequence), fmtTime(p.lastTimestamp), num(p.currentTxnStartOffset >= 0 ? p.currentTxnStartOffset : '—')]), 'no producer state'),
    ];
  },

  async faults() {
    const f = await api('faults');
    const sel = (r) => ['api', 'topic', 'partition', 'group', 'clientId'].filter((k) => r[k] !== undefined).map((k) => `${k}=${r[k]}`).join(' ') || 'every request';
    const act = (r) => ['error', 'delayMs', 'dropRequest', 'dropResponse', 'close', 'throttleMs', 'pause', 'disk'].filter((k) => r[k] !== undefined).map((k) => `${k}=${r[k]}`).join(' ');
    const lim = (r) => [r.times !== undefined ? `times ${r.times}` : '', r.expiresAt !== null ? `until ${fmtTime(r.expiresAt)}` : ''].filter(Boolean).join(', ') || 'until cleared';
    return [
      h('h1', {}, 'Fault rules'),
      h('p', { class: 'muted' }, f.httpApi ? 'Rules are added and cleared with POST / DELETE /faults on this listener.' : 'Rules come from broker.faults in the broker\'s process (the /faults HTTP API needs gregor.fault.injection.enable=true).'),
      table('faults', [{ title: 'Name' }, { title: 'Matches' }, { title: 'Action' }, { title: 'Limit' }, { title: 'Hits', num: true }],
        f.rules.map((r) => [r.name, sel(r), act(r), lim(r), num(r.hits)]), 'no fault rules'),
    ];
  },
};

async function route() {
  clearTimeout(refresh);
  refresh = null;
  const [path, query] = (location.hash.slice(1) || '/cluster').split('?');
  const [, page, ...rest] = path.split('/');
  const arg = rest.length ? decodeURIComponent(rest.join('/')) : undefined;
  const navPage = page === 'topic' ? 'topics' : page === 'group' ? 'groups' : page;
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('active', a.dataset.page === navPage);
  const render = pages[page] ?? pages.cluster;
  main.setAttribute('aria-busy', 'true');
  try {
    const nodes = await render(arg, new URLSearchParams(query ?? ''));
    main.replaceChildren(...nodes.filter(Boolean));
  } catch (err) {
    main.replaceChildren(h('p', { class: 'error', 'data-field': 'error' }, String(err.message ?? err)));
  }
  main.setAttribute('aria-busy', 'false');
  main.dataset.page = page || 'cluster';
}

addEventListener('hashchange', route);
route();
