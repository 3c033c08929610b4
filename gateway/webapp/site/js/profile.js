// Profiles (background, avatar, name, signature, counts, 作品/喜欢 grids) and follow lists.
import { api, session } from './api.js';
import { requireLogin } from './auth.js';
import { createPlayer } from './player.js';
import { publish, subscribe } from './store.js';
import { avatar, count, empty, failure, h, icon, loading, pageHead, toast } from './ui.js';

export function profileView(userId) {
  const root = h('div.profile', {}, loading());
  let user = null;
  let tab = 'works';
  let closePlayer = null;
  const grid = h('div.grid-wrap');

  async function load() {
    root.replaceChildren(loading());
    try {
      user = (await api.user(userId === session.userId ? 0 : userId)).user;
      render();
    } catch (err) {
      root.replaceChildren(failure(err, load));
    }
  }

  function followButton() {
    if (user.id === session.userId) return null;
    return h(`button.btn${user.is_follow ? '.ghost' : ''}`, { type: 'button', onclick: toggleFollow, 'aria-pressed': String(user.is_follow) },
      user.is_follow ? '已关注' : '关注');
  }

  async function toggleFollow() {
    if (!await requireLogin('登录后即可关注')) return;
    const on = !user.is_follow;
    const apply = (state) => {
      user.is_follow = state;
      user.follower_count += state ? 1 : -1;
      publish({ type: 'follow', userId: user.id, following: state });
      render();
    };
    apply(on);
    try { await api.follow(user.id, on); } catch (err) { apply(!on); toast(err.message, 'error'); }
  }

  function render() {
    const mine = user.id === session.userId;
    const tabs = [['works', `作品 ${count(user.work_count)}`], ['likes', `喜欢 ${count(user.favorite_count)}`]].map(([key, label]) =>
      h('button', { type: 'button', role: 'tab', 'aria-selected': String(tab === key), onclick: () => { tab = key; render(); } }, label));
    root.replaceChildren(
      h('div.cover', { role: 'img', 'aria-label': `${user.name}的主页背景`, style: { backgroundImage: `url("${encodeURI(user.background_image)}")` } }),
      h('div.p-head', {}, avatar(user), h('div', {}, h('h1', {}, user.name), h('div.uid', {}, `抖音号：${user.id}`))),
      h('div.p-body', {},
        h('p.signature', {}, user.signature || '这个人很懒，什么都没有留下'),
        h('div.stats', {},
          h('div', { 'aria-label': `获赞 ${user.total_favorited}` }, h('b.total-favorited', {}, count(user.total_favorited)), '获赞'),
          h('a', { href: `#/user/${user.id}/follows`, 'aria-label': `关注 ${user.follow_count}` }, h('b.follow-count', {}, count(user.follow_count)), '关注'),
          h('a', { href: `#/user/${user.id}/followers`, 'aria-label': `粉丝 ${user.follower_count}` }, h('b.follower-count', {}, count(user.follower_count)), '粉丝')),
        h('div.p-actions', {},
          followButton(),
          !mine && h('a.btn.ghost', { href: `#/chat/${user.id}` }, '私信'),
          mine && h('a.btn.ghost', { href: '#/publish' }, '发布作品'),
          mine && h('button.btn.ghost.logout', { type: 'button', onclick: () => { session.clear(); location.hash = '#/'; toast('已退出登录'); } }, '退出登录'))),
      h('div.tabs', { role: 'tablist', 'aria-label': '作品和喜欢' }, tabs),
      grid);
    loadGrid();
  }

  async function loadGrid() {
    grid.replaceChildren(h('div.grid-state', {}, loading()));
    const which = tab;
    try {
      const r = which === 'works' ? await api.publishList(user.id) : await api.favoriteList(user.id);
      if (which !== tab) return;
      const list = r.video_list;
      if (!list.length) {
        grid.replaceChildren(h('div.grid-state', {}, empty(which === 'works' ? '还没有作品' : '还没有喜欢的视频',
          which === 'works' ? (user.id === session.userId ? '去发布第一个作品吧' : '') : '')));
        return;
      }
      grid.replaceChildren(h('div.grid', { role: 'list' }, list.map((v, i) =>
        h('button.tile', { type: 'button', role: 'listitem', 'aria-label': `播放：${v.title}`, onclick: () => openPlayer(list, i) },
          h('img', { src: v.cover_url, alt: `作品封面：${v.title}`, loading: 'lazy' }),
          h('span.count', { 'aria-hidden': 'true' }, icon('heart'), count(v.favorite_count))))));
    } catch (err) {
      grid.replaceChildren(h('div.grid-state', {}, failure(err, loadGrid)));
    }
  }

  function openPlayer(list, i) {
    const player = createPlayer({ first: list.map((v) => ({ ...v, author: { ...v.author } })), start: i });
    const overlay = h('div.player', { role: 'dialog', 'aria-modal': 'true', 'aria-label': '播放作品' },
      h('button.closer', { type: 'button', 'aria-label': '关闭播放', onclick: () => close() }, icon('back')), player.el);
    const onKey = (e) => { if (e.key === 'Escape' && !document.getElementById('layer').childElementCount) close(); };
    function close() {
      player.destroy();
      overlay.remove();
      document.removeEventListener('keydown', onKey);
      closePlayer = null;
      loadGrid();
    }
    closePlayer = close;
    document.addEventListener('keydown', onKey);
    document.body.append(overlay);
    overlay.querySelector('.closer').focus();
  }

  const unsubscribe = subscribe((e) => {
    if (e.type === 'follow' && user && e.userId === user.id && user.is_follow !== e.following && !closePlayer) {
      user.is_follow = e.following;
    }
  });
  load();
  return { el: root, destroy() { unsubscribe(); closePlayer?.(); } };
}

// peopleView lists the users someone follows, or their followers.
export function peopleView(userId, kind) {
  const title = kind === 'follows' ? '关注' : '粉丝';
  const body = h('div', {}, loading());
  const root = h('div.page', {}, pageHead(title), body);
  async function load() {
    body.replaceChildren(loading());
    try {
      const r = kind === 'follows' ? await api.follows(userId) : await api.followers(userId);
      if (!r.user_list.length) {
        body.replaceChildren(empty(kind === 'follows' ? '还没有关注任何人' : '还没有粉丝', ''));
        return;
      }
      body.replaceChildren(h('ul.people', { 'aria-label': `${title}列表` }, r.user_list.map(personRow)));
    } catch (err) {
      body.replaceChildren(failure(err, load));
    }
  }
  function personRow(u) {
    const btn = u.id === session.userId ? null : h('button.btn.small', { type: 'button' });
    const paint = () => {
      btn.textContent = u.is_follow ? '已关注' : '关注';
      btn.classList.toggle('following', u.is_follow);
      btn.setAttribute('aria-label', `${u.is_follow ? '取消关注' : '关注'}${u.name}`);
    };
    if (btn) {
      paint();
      btn.onclick = async () => {
        if (!await requireLogin('登录后即可关注')) return;
        const on = !u.is_follow;
        u.is_follow = on; paint();
        try { await api.follow(u.id, on); publish({ type: 'follow', userId: u.id, following: on }); } catch (err) { u.is_follow = !on; paint(); toast(err.message, 'error'); }
      };
    }
    return h('li.person', {},
      h('a', { href: `#/user/${u.id}`, tabindex: '-1' }, avatar(u)),
      h('a.who', { href: `#/user/${u.id}` }, h('div.name', {}, u.name), h('div.line', {}, u.signature)),
      btn);
  }
  load();
  return { el: root };
}
