// The comment drawer of a video: the list (newest first), posting, deleting one's own.
import { api, session } from './api.js';
import { requireLogin } from './auth.js';
import { publish } from './store.js';
import { avatar, count, h, icon, loading, openLayer, toast } from './ui.js';

export function openComments(video) {
  const title = h('span', { id: 'comments-title' });
  const setTitle = () => { title.textContent = `${count(video.comment_count)} 条评论`; };
  setTitle();
  const body = h('div.body', {}, loading());
  const list = h('ul.comments', { 'aria-label': '评论列表' });
  const input = h('input', { type: 'text', maxlength: 500, placeholder: session.token ? '善语结善缘，恶言伤人心' : '登录后发表评论', 'aria-label': '写评论' });
  const send = h('button.btn.small', { type: 'submit' }, '发送');
  const sheet = h('div.sheet', { role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'comments-title' },
    h('header', {}, title, h('button.close', { type: 'button', 'aria-label': '关闭评论', onclick: () => close() }, icon('close'))),
    body,
    h('form.composer', { onsubmit: (e) => { e.preventDefault(); post(); } }, input, send));
  const close = openLayer(sheet);
  input.focus();

  const emptyNote = () => h('div.state', {}, h('h2', {}, '还没有评论'), h('p', {}, '快来抢沙发吧'));

  function row(c) {
    const mine = c.user.id === session.userId;
    const li = h('li.comment', { dataset: { commentId: c.id } },
      avatar(c.user),
      h('div.c-main', {},
        h('div.c-name', {}, c.user.name),
        h('p.c-text', {}, c.content),
        h('div.c-foot', {}, h('span', {}, c.create_date),
          mine && h('button.c-del', { type: 'button', 'aria-label': `删除评论：${c.content}`, onclick: () => remove(c, li) }, '删除'))));
    return li;
  }

  function changed(delta) {
    video.comment_count = Math.max(0, video.comment_count + delta);
    setTitle();
    publish({ type: 'video', video });
  }

  async function load() {
    body.replaceChildren(loading());
    try {
      const r = await api.comments(video.id);
      list.replaceChildren(...r.comment_list.map(row));
      body.replaceChildren(r.comment_list.length ? list : emptyNote());
      if (r.comment_list.length !== video.comment_count) { video.comment_count = r.comment_list.length; setTitle(); publish({ type: 'video', video }); }
    } catch (err) {
      body.replaceChildren(h('div.state', { role: 'alert' }, h('h2', {}, '评论加载失败'), h('p.status-msg', {}, err.message),
        h('button.btn.ghost', { type: 'button', onclick: load }, '重试')));
    }
  }

  async function post() {
    const text = input.value.trim();
    if (!text) { input.focus(); return; }
    if (!await requireLogin('登录后即可评论')) return;
    send.disabled = true;
    try {
      const r = await api.postComment(video.id, text);
      input.value = '';
      list.prepend(row(r.comment));
      if (!list.isConnected) body.replaceChildren(list);
      changed(1);
      toast('评论成功');
    } catch (err) {
      toast(err.message, 'error');
    } finally {
      send.disabled = false;
      input.focus();
    }
  }

  async function remove(c, li) {
    try {
      await api.deleteComment(video.id, c.id);
      li.remove();
      if (!list.childElementCount) body.replaceChildren(emptyNote());
      changed(-1);
      toast('评论已删除');
    } catch (err) {
      toast(err.message, 'error');
    }
  }

  load();
}
