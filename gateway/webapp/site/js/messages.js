// Friends (mutual follows) with the latest message, and a chat polled with pre_msg_time.
import { api, session } from './api.js';
import { requireLogin } from './auth.js';
import { avatar, empty, failure, formatTime, h, loading, pageHead, toast } from './ui.js';

const POLL_MS = 2000;

export function friendsView() {
  const body = h('div', {}, loading());
  const root = h('div.page', {}, pageHead('消息', { back: false }), body);
  async function load() {
    body.replaceChildren(loading());
    try {
      const r = await api.friends();
      if (!r.user_list.length) {
        body.replaceChildren(empty('还没有朋友', '互相关注后就能在这里聊天', h('a.btn', { href: '#/' }, '去首页看看')));
        return;
      }
      body.replaceChildren(h('ul.people', { 'aria-label': '朋友列表' }, r.user_list.map((f) =>
        h('li.person', {},
          h('a', { href: `#/chat/${f.id}`, tabindex: '-1' }, avatar(f)),
          h('a.who', { href: `#/chat/${f.id}`, 'aria-label': `和${f.name}聊天` },
            h('div.name', {}, f.name),
            h('div.line', {}, f.message ? (f.msgType === 1 ? `我：${f.message}` : f.message) : '你们已互相关注，打个招呼吧'))))));
    } catch (err) {
      body.replaceChildren(failure(err, load));
    }
  }
  requireLogin('登录后查看消息').then((ok) => (ok ? load() : body.replaceChildren(empty('登录后查看消息', '', h('button.btn', { type: 'button', onclick: () => requireLogin().then((y) => y && load()) }, '登录')))));
  return { el: root };
}

export function chatView(peerId) {
  const head = pageHead('聊天');
  const list = h('div.messages', { role: 'log', 'aria-live': 'polite', 'aria-label': '聊天记录' }, loading());
  const input = h('input', { type: 'text', maxlength: 1000, placeholder: '发送消息', 'aria-label': '输入消息' });
  const send = h('button.btn.small', { type: 'submit' }, '发送');
  const root = h('div.chat', {}, head, list, h('form.composer', { onsubmit: (e) => { e.preventDefault(); sendMessage(); } }, input, send));
  let peer = null;
  let me = null;
  let last = 0;
  const seen = new Set();
  let timer = null;
  let stopped = false;
  let inflight = null;

  function bubble(m) {
    const mine = m.from_user_id === session.userId;
    const who = mine ? me : peer;
    return h(`div.msg${mine ? '.mine' : ''}`, { dataset: { messageId: m.id } },
      who && avatar(who),
      h('div', {}, h('div.bubble', {}, m.content), h('time', { datetime: new Date(m.create_time).toISOString() }, formatTime(m.create_time))));
  }

  async function poll() {
    if (stopped || inflight) return inflight;
    inflight = (async () => {
      try {
        const r = await api.chat(peerId, last);
        if (stopped) return;
        if (!last) list.replaceChildren();
        const fresh = r.message_list.filter((m) => !seen.has(m.id));
        const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 60;
        for (const m of fresh) { seen.add(m.id); list.append(bubble(m)); last = Math.max(last, m.create_time); }
        if (!seen.size) list.replaceChildren(h('div.state', { dataset: { empty: '' } }, h('p', {}, '还没有消息，说点什么吧')));
        else list.querySelector('[data-empty]')?.remove();
        if (fresh.length && (atBottom || fresh.some((m) => m.from_user_id === session.userId))) list.scrollTop = list.scrollHeight;
      } catch (err) {
        if (!seen.size) list.replaceChildren(failure(err, poll));
      }
    })().finally(() => { inflight = null; });
    return inflight;
  }

  function schedule() {
    if (stopped) return;
    timer = setTimeout(async () => { if (!document.hidden) await poll(); schedule(); }, POLL_MS);
  }

  async function sendMessage() {
    const text = input.value.trim();
    if (!text) return;
    send.disabled = true;
    try {
      await api.send(peerId, text);
      input.value = '';
      await inflight;
      await poll(); // the message comes back from the conversation with its server time
    } catch (err) {
      toast(err.message, 'error');
    } finally {
      send.disabled = false;
      input.focus();
    }
  }

  (async () => {
    if (!await requireLogin('登录后即可聊天')) { list.replaceChildren(empty('登录后即可聊天', '')); return; }
    try {
      [peer, me] = await Promise.all([api.user(peerId).then((r) => r.user), api.user(0).then((r) => r.user)]);
      head.querySelector('h1').textContent = peer.name;
    } catch (err) {
      list.replaceChildren(failure(err, () => location.reload()));
      return;
    }
    await poll();
    schedule();
    input.focus();
  })();

  return { el: root, destroy() { stopped = true; clearTimeout(timer); } };
}
