// Entry point: navigation, the hash router (no server routes besides /) and session expiry.
import { onSessionExpired, session } from './api.js';
import { openLogin, requireLogin } from './auth.js';
import { chatView, friendsView } from './messages.js';
import { createPlayer, feedSource, followingSource, recommendSource } from './player.js';
import { peopleView, profileView } from './profile.js';
import { publishView } from './publish.js';
import { empty, h, icon, toast } from './ui.js';

// FEEDS are the feed tabs; a feed the API gains is one more entry here (needsLogin: the tab asks
// for a login first; empty: what an empty feed says).
const FEEDS = [
  { key: 'latest', label: '最新', source: feedSource, needsLogin: false },
  { key: 'following', label: '关注', source: followingSource, needsLogin: true,
    empty: () => empty('关注的人还没有作品', '关注喜欢的作者，他们的新作品会出现在这里') },
  { key: 'recommend', label: '推荐', source: recommendSource, needsLogin: false,
    empty: () => empty('暂时没有新的推荐', '你看过和喜欢过的作品不会再推荐，稍后再来看看') },
];

function feedView() {
  const root = h('div.feed-host');
  let player = null;
  function show(feed) {
    player?.destroy();
    const header = h('div.feed-tabs', { role: 'tablist', 'aria-label': '视频流' },
      FEEDS.map((f) => h('button', {
        type: 'button', role: 'tab', 'aria-selected': String(f === feed),
        onclick: async () => { if (f !== feed && (!f.needsLogin || await requireLogin())) show(f); },
      }, f.label)));
    player = createPlayer({ source: feed.source, header, emptyState: feed.empty?.() });
    root.replaceChildren(player.el);
  }
  show(FEEDS[0]);
  return { el: root, destroy: () => player?.destroy() };
}

function meView() {
  if (session.userId) return profileView(session.userId);
  const el = h('div.page', {}, empty('登录后查看你的主页', '你的作品、喜欢和粉丝都在这里',
    h('button.btn', { type: 'button', onclick: () => requireLogin().then((ok) => ok && render()) }, '登录 / 注册')));
  return { el };
}

const ROUTES = [
  [/^\/?$/, () => feedView(), 'home'],
  [/^\/user\/(\d+)\/follows$/, (m) => peopleView(Number(m[1]), 'follows')],
  [/^\/user\/(\d+)\/followers$/, (m) => peopleView(Number(m[1]), 'followers')],
  [/^\/user\/(\d+)$/, (m) => profileView(Number(m[1])), 'user'],
  [/^\/me$/, () => meView(), 'me'],
  [/^\/messages$/, () => friendsView(), 'messages'],
  [/^\/chat\/(\d+)$/, (m) => chatView(Number(m[1])), 'messages'],
  [/^\/publish$/, () => publishView(), 'publish'],
];

const NAV = [
  ['home', '#/', '首页', 'home'],
  ['publish', '#/publish', '发布', 'plus'],
  ['messages', '#/messages', '消息', 'message'],
  ['me', '#/me', '我', 'me'],
];

function renderNav(active) {
  const nav = document.getElementById('nav');
  nav.replaceChildren(
    h('a.brand', { href: '#/', 'aria-label': '极简抖音首页' }, h('img', { src: '/web/icon.svg', alt: '' }), '极简抖音'),
    ...NAV.map(([key, href, label, ic]) => h(`a${key === 'publish' ? '.publish-link' : ''}`, {
      href, 'aria-current': key === active ? 'page' : null,
    }, key === 'publish' ? h('span.plus', {}, icon(ic)) : icon(ic), h('span.label', {}, label))));
}

let current = null;
function render() {
  const path = location.hash.replace(/^#/, '') || '/';
  current?.destroy?.();
  current = null;
  const view = document.getElementById('view');
  for (const [re, make, nav] of ROUTES) {
    const m = path.match(re);
    if (!m) continue;
    let active = nav;
    if (nav === 'user' && Number(m[1]) === session.userId) active = 'me';
    renderNav(active);
    current = make(m);
    view.replaceChildren(current.el);
    view.scrollTop = 0;
    return;
  }
  renderNav('');
  view.replaceChildren(empty('页面不存在', '', h('a.btn', { href: '#/' }, '回到首页')));
}

// An expired session asks for a login over the page; the call that failed is then retried.
// Calls refused together share one notice and one dialog.
let relogin = null;
onSessionExpired(() => {
  if (!relogin) {
    toast('登录已过期，请重新登录', 'error');
    relogin = openLogin('登录已过期，请重新登录').finally(() => { relogin = null; });
  }
  return relogin;
});

// Logging in or out changes what views show (own profile, is_favorite): redraw, except the
// feed, which keeps its position. An expired session keeps the page under the login dialog.
session.onChange((_, { expired }) => {
  if (expired) return;
  const path = location.hash.replace(/^#/, '') || '/';
  if (path !== '/' && !path.startsWith('/chat/')) render();
  else renderNav(path === '/' ? 'home' : 'messages');
});

window.addEventListener('hashchange', render);
render();
