// Small DOM helpers, icons and the shared loading, empty and error states.

// h builds an element: h('button.btn.small', { onclick, 'aria-label': '…' }, child, …).
export function h(tag, attrs, ...children) {
  const [name, ...classes] = tag.split('.');
  const el = document.createElement(name || 'div');
  if (classes.length) el.className = classes.join(' ');
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'style' && typeof v === 'object') Object.assign(el.style, v);
    else if (k in el && k !== 'list' && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

const ICONS = {
  home: '<path d="M3 10.5 12 3l9 7.5V20a1 1 0 0 1-1 1h-5v-6H9v6H4a1 1 0 0 1-1-1z" fill="currentColor"/>',
  friends: '<path d="M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8zm7.5 0a3.5 3.5 0 1 0 0-7 3.5 3.5 0 0 0 0 7zM1.5 20c0-3.6 3.4-6.5 7.5-6.5s7.5 2.9 7.5 6.5v1h-15zm16.5 1v-1c0-2-.7-3.8-1.9-5.2 3.4.2 6.4 2.5 6.4 5.7v.5z" fill="currentColor"/>',
  plus: '<path d="M12 4v16M4 12h16" stroke="currentColor" stroke-width="3" stroke-linecap="round" fill="none"/>',
  message: '<path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z" fill="currentColor"/>',
  me: '<path d="M12 12a5 5 0 1 0 0-10 5 5 0 0 0 0 10zm-9 10c0-4.4 4-8 9-8s9 3.6 9 8z" fill="currentColor"/>',
  heart: '<path d="M12 21s-8.5-5.2-8.5-11.3A4.9 4.9 0 0 1 12 6.6a4.9 4.9 0 0 1 8.5 3.1C20.5 15.8 12 21 12 21z" fill="currentColor"/>',
  comment: '<path d="M12 3C6.5 3 2 6.9 2 11.7c0 2.7 1.4 5.1 3.7 6.7L5 22l4-2.2c1 .3 2 .4 3 .4 5.5 0 10-3.9 10-8.6S17.5 3 12 3z" fill="currentColor"/><circle cx="7.5" cy="11.7" r="1.3" fill="#000" opacity=".35"/><circle cx="12" cy="11.7" r="1.3" fill="#000" opacity=".35"/><circle cx="16.5" cy="11.7" r="1.3" fill="#000" opacity=".35"/>',
  check: '<path d="m5 12.5 4.5 4.5L19 7.5" stroke="currentColor" stroke-width="3" stroke-linecap="round" stroke-linejoin="round" fill="none"/>',
  close: '<path d="M6 6l12 12M18 6 6 18" stroke="currentColor" stroke-width="2.2" stroke-linecap="round"/>',
  back: '<path d="M15 5l-7 7 7 7" stroke="currentColor" stroke-width="2.4" stroke-linecap="round" stroke-linejoin="round" fill="none"/>',
  up: '<path d="M6 15l6-6 6 6" stroke="currentColor" stroke-width="2.4" stroke-linecap="round" stroke-linejoin="round" fill="none"/>',
  down: '<path d="M6 9l6 6 6-6" stroke="currentColor" stroke-width="2.4" stroke-linecap="round" stroke-linejoin="round" fill="none"/>',
  play: '<path d="M8 5.5v13a1 1 0 0 0 1.5.9l10.4-6.5a1 1 0 0 0 0-1.8L9.5 4.6A1 1 0 0 0 8 5.5z" fill="currentColor"/>',
  muted: '<path d="M4 9h4l5-4v14l-5-4H4zM16 9l5 6M21 9l-5 6" stroke="currentColor" stroke-width="2" stroke-linejoin="round" stroke-linecap="round" fill="none"/>',
  sound: '<path d="M4 9h4l5-4v14l-5-4H4zM16.5 8.5a5 5 0 0 1 0 7M19 6a8.5 8.5 0 0 1 0 12" stroke="currentColor" stroke-width="2" stroke-linejoin="round" stroke-linecap="round" fill="none"/>',
  upload: '<path d="M12 16V4m0 0L7 9m5-5 5 5M4 15v3a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2v-3" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" fill="none"/>',
};

// icon returns an inline SVG (decorative: the control around it carries the label).
export function icon(name) {
  const span = document.createElement('span');
  span.innerHTML = `<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false">${ICONS[name]}</svg>`;
  return span.firstChild;
}

// count formats a number the way the app does: 1.2万 above ten thousand.
export function count(n) {
  n = Number(n) || 0;
  if (n >= 1e8) return `${(n / 1e8).toFixed(1).replace(/\.0$/, '')}亿`;
  if (n >= 1e4) return `${(n / 1e4).toFixed(1).replace(/\.0$/, '')}万`;
  return String(n);
}

export function toast(text, kind = '') {
  const el = h(`div.toast${kind ? '.' + kind : ''}`, {}, text);
  document.getElementById('toasts').append(el);
  setTimeout(() => el.remove(), kind === 'error' ? 4000 : 2500);
}

export function loading(text = '加载中…') {
  return h('div.state', {}, h('div.spinner', { role: 'status', 'aria-label': text }), h('p', {}, text));
}

export function empty(title, text, action) {
  return h('div.state', {}, h('div.big', { 'aria-hidden': 'true' }, icon('play')), h('h2', {}, title), text && h('p', {}, text), action);
}

// failure shows what went wrong (the server's status_msg) and a retry button.
export function failure(err, retry) {
  return h('div.state', { role: 'alert' },
    h('h2', {}, '出错了'),
    h('p.status-msg', {}, err?.message || String(err)),
    retry && h('button.btn.ghost', { type: 'button', onclick: retry }, '重试'));
}

// sheetLayer shows a modal layer (scrim + panel); Escape or the scrim closes it. It returns
// close(); focus returns to where it was.
export function openLayer(panel, { onClose } = {}) {
  const layer = document.getElementById('layer');
  const before = document.activeElement;
  const scrim = h('div.scrim', { onclick: () => close() });
  const onKey = (e) => { if (e.key === 'Escape') { e.stopPropagation(); close(); } };
  let closed = false;
  function close() {
    if (closed) return;
    closed = true;
    document.removeEventListener('keydown', onKey, true);
    scrim.remove();
    panel.remove();
    onClose?.();
    if (before && before.isConnected) before.focus({ preventScroll: true });
  }
  document.addEventListener('keydown', onKey, true);
  layer.append(scrim, panel);
  const first = panel.querySelector('input, textarea, button:not(.close)');
  (first || panel).focus({ preventScroll: true });
  return close;
}

export function pageHead(title, { back = true } = {}) {
  return h('header.page-head', {},
    back ? h('button.back', { type: 'button', 'aria-label': '返回', onclick: () => (history.length > 1 ? history.back() : (location.hash = '#/')) }, icon('back')) : h('span.spacer'),
    h('h1', {}, title),
    h('span.spacer'));
}

export function avatar(user, cls = '') {
  return h(`img${cls}`, { src: user.avatar, alt: `${user.name}的头像`, loading: 'lazy', decoding: 'async' });
}

export function formatTime(ms) {
  const d = new Date(ms);
  const now = new Date();
  const pad = (n) => String(n).padStart(2, '0');
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  if (d.toDateString() === now.toDateString()) return hm;
  return `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${hm}`;
}
