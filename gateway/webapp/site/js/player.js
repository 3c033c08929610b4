// The full-height video player of the feed and of profile grids: one video at a time, moved by
// swipe, wheel, keys or buttons, muted autoplay, the like, comment and follow rail.
import { api, session } from './api.js';
import { requireLogin } from './auth.js';
import { openComments } from './comments.js';
import { attachDanmaku, danmakuSetting } from './danmaku.js';
import { publish, subscribe } from './store.js';
import { count, empty, failure, h, icon, loading, toast } from './ui.js';

// Player shows videos from source(cursor) → {videos, next}; next 0 means no more.
// first, when given, is the already-loaded list (a profile grid) and start its index.
export function createPlayer({ source, first, start = 0, header, emptyState }) {
  const root = h('section.feed', { 'aria-label': '视频', 'aria-roledescription': '视频流' });
  const track = h('div.track');
  const steps = h('div.steps', {},
    h('button', { type: 'button', 'aria-label': '上一个视频', onclick: () => go(index - 1) }, icon('up')),
    h('button', { type: 'button', 'aria-label': '下一个视频', onclick: () => go(index + 1) }, icon('down')));
  let muted = true;
  const soundBtn = h('button.sound', { type: 'button', onclick: () => setMuted(!muted) });
  const danmakuBtn = h('button.danmaku-toggle', { type: 'button', onclick: () => setDanmaku(!danmakuSetting.enabled) }, '弹幕');
  root.append(track, steps, soundBtn, danmakuBtn);
  if (header) root.append(header);

  let videos = [];
  let slides = [];
  let index = 0;
  let cursor = 0;
  let exhausted = false;
  let loadingMore = null;
  let endSlide = null;
  let destroyed = false;

  function setMuted(m) {
    muted = m;
    slides.forEach((s) => { s.video.muted = m; });
    soundBtn.replaceChildren(icon(m ? 'muted' : 'sound'), h('span', {}, m ? '取消静音' : '静音'));
    soundBtn.setAttribute('aria-label', m ? '取消静音' : '静音');
  }
  setMuted(true);

  // The live comments (弹幕) run over the current video only, while the toggle is on.
  function setDanmaku(on) {
    danmakuSetting.enabled = on;
    danmakuBtn.setAttribute('aria-pressed', String(on));
    danmakuBtn.setAttribute('aria-label', on ? '关闭弹幕' : '打开弹幕');
    danmakuBtn.classList.toggle('on', on);
    if (slides.length) attach();
  }

  function slideFor(v, i) {
    const s = { v };
    const video = h('video', {
      muted: true, loop: true, playsInline: true, preload: 'metadata', poster: v.cover_url,
      'aria-label': `${v.author.name}的视频：${v.title}`,
    });
    video.setAttribute('playsinline', '');
    const bar = h('i');
    video.addEventListener('timeupdate', () => {
      if (video.duration) bar.style.width = `${(video.currentTime / video.duration) * 100}%`;
    });
    const el = h('article.slide', { style: { top: `${i * 100}%` }, 'aria-label': v.title, dataset: { videoId: v.id } },
      h('div.backdrop', { style: { backgroundImage: `url("${encodeURI(v.cover_url)}")` } }),
      video,
      h('div.tap', { onclick: () => togglePause(s) }),
      h('span.paused-mark', {}, icon('play')),
      s.meta = h('div.meta'),
      s.rail = h('div.rail'),
      h('div.progress-line', {}, bar));
    s.el = el;
    s.video = video;
    renderInfo(s);
    return s;
  }

  function renderInfo(s) {
    const v = s.v;
    const self = v.author.id === session.userId;
    const plus = (!self && !v.author.is_follow) || s.justFollowed
      ? h(`button.follow-plus${s.justFollowed ? '.done' : ''}`, {
        type: 'button', 'aria-label': s.justFollowed ? `已关注${v.author.name}` : `关注${v.author.name}`,
        onclick: () => follow(s),
      }, icon(s.justFollowed ? 'check' : 'plus'))
      : null;
    s.rail.replaceChildren(
      h('div.who', {},
        h('a', { href: `#/user/${v.author.id}`, 'aria-label': `${v.author.name}的主页` },
          h('img', { src: v.author.avatar, alt: `${v.author.name}的头像` })),
        plus),
      h(`button.act.like${v.is_favorite ? '.liked' : ''}`, {
        type: 'button', 'aria-pressed': String(v.is_favorite),
        'aria-label': `${v.is_favorite ? '取消点赞' : '点赞'}，${v.favorite_count}个赞`,
        onclick: () => like(s),
      }, icon('heart'), h('span.n', {}, count(v.favorite_count))),
      h('button.act.comment', {
        type: 'button', 'aria-label': `评论，${v.comment_count}条`, 'aria-haspopup': 'dialog',
        onclick: () => openComments(v),
      }, icon('comment'), h('span.n', {}, count(v.comment_count))));
    s.meta.replaceChildren(
      h('a.author', { href: `#/user/${v.author.id}` }, `@${v.author.name}`),
      h('p.title', {}, v.title));
  }

  async function like(s) {
    if (!await requireLogin('登录后即可点赞')) return;
    const v = s.v;
    const on = !v.is_favorite;
    const apply = (state) => {
      if (v.is_favorite === state) return;
      v.is_favorite = state;
      v.favorite_count = Math.max(0, v.favorite_count + (state ? 1 : -1));
      publish({ type: 'video', video: v });
    };
    apply(on); // optimistic
    try {
      await api.like(v.id, on);
    } catch (err) {
      apply(!on);
      toast(err.message, 'error');
    }
  }

  async function follow(s) {
    const a = s.v.author;
    if (s.justFollowed || !await requireLogin('登录后即可关注')) return;
    if (a.id === session.userId) { toast('不能关注自己'); return; }
    s.justFollowed = true;
    publish({ type: 'follow', userId: a.id, following: true });
    try {
      await api.follow(a.id, true);
      toast(`已关注 ${a.name}`);
      setTimeout(() => { s.justFollowed = false; if (!destroyed) renderInfo(s); }, 1200);
    } catch (err) {
      s.justFollowed = false;
      publish({ type: 'follow', userId: a.id, following: false });
      toast(err.message, 'error');
    }
  }

  const unsubscribe = subscribe((e) => {
    for (const s of slides) {
      if (e.type === 'video' && s.v.id === e.video.id) {
        if (s.v !== e.video) Object.assign(s.v, { is_favorite: e.video.is_favorite, favorite_count: e.video.favorite_count, comment_count: e.video.comment_count });
        renderInfo(s);
      }
      if (e.type === 'follow' && s.v.author.id === e.userId) {
        s.v.author.is_follow = e.following;
        renderInfo(s);
      }
    }
  });

  function togglePause(s) {
    if (s.video.paused) { s.video.play().catch(() => {}); s.el.classList.remove('paused'); } else { s.video.pause(); s.el.classList.add('paused'); }
  }

  // attach keeps sources on the current video and its neighbours only.
  function attach() {
    slides.forEach((s, i) => {
      const near = Math.abs(i - index) <= 1;
      if (near && !s.video.getAttribute('src')) { s.video.src = s.v.play_url; }
      if (!near && s.video.getAttribute('src')) { s.video.pause(); s.video.removeAttribute('src'); s.video.load(); }
      s.video.preload = i === index ? 'auto' : 'metadata';
      s.el.classList.toggle('active', i === index);
      s.el.setAttribute('aria-hidden', String(i !== index));
      s.el.inert = i !== index;
      const live = i === index && danmakuSetting.enabled && !destroyed;
      if (live && !s.live) s.live = attachDanmaku(s.el, s.v.id);
      if (!live && s.live) { s.live.stop(); s.live = null; }
      if (i === index) {
        s.el.classList.remove('paused');
        s.video.muted = muted;
        s.video.play().catch(() => {}); // muted autoplay is allowed; a refusal leaves the poster
      } else if (!s.video.paused) {
        s.video.pause();
        s.video.currentTime = 0;
      }
    });
    steps.children[0].disabled = index === 0;
    steps.children[1].disabled = index >= slides.length - 1 && exhausted;
  }

  function go(i) {
    const max = slides.length - 1 + (endSlide ? 1 : 0);
    if (i < 0 || i > max || destroyed) return;
    index = i;
    track.style.transform = `translateY(${-index * 100}%)`;
    attach();
    if (index >= slides.length - 3) more();
  }

  function addVideos(list) {
    const known = new Set(videos.map((v) => v.id));
    for (const v of list) {
      if (known.has(v.id)) continue;
      videos.push(v);
      const s = slideFor(v, slides.length);
      slides.push(s);
      track.append(s.el);
    }
  }

  function showEnd() {
    if (endSlide || !slides.length) return;
    endSlide = h('article.slide', { style: { top: `${slides.length * 100}%` } },
      h('div.state.feed-end', {}, h('h2', {}, '已经到底了'), h('p', {}, '没有更早的视频了'),
        h('button.btn.ghost', { type: 'button', onclick: () => go(0) }, '回到第一个')));
    track.append(endSlide);
  }

  function more() {
    if (exhausted || loadingMore || !source) return loadingMore;
    loadingMore = source(cursor).then(({ videos: list, next }) => {
      if (destroyed) return;
      addVideos(list);
      cursor = next;
      if (!next || !list.length) { exhausted = true; showEnd(); }
      attach();
    }).catch((err) => {
      if (!destroyed && slides.length) toast(err.message, 'error');
      throw err;
    }).finally(() => { loadingMore = null; });
    return loadingMore;
  }

  function showState(el) {
    root.querySelector(':scope > .state')?.remove();
    if (el) root.append(el);
  }

  async function begin() {
    if (first) {
      addVideos(first);
      exhausted = !source;
      if (exhausted) showEnd();
      go(Math.min(start, slides.length - 1));
      return;
    }
    showState(loading('正在加载视频…'));
    try {
      await more();
      showState(slides.length ? null : (emptyState || empty('还没有视频', '发布第一个作品吧')));
      go(0);
    } catch (err) {
      showState(failure(err, () => { showState(null); begin(); }));
    }
  }

  // Input: wheel (one step per gesture), swipe, keys.
  let wheelLock = 0;
  let wheelSum = 0;
  root.addEventListener('wheel', (e) => {
    e.preventDefault();
    const now = Date.now();
    if (now < wheelLock) return;
    wheelSum += e.deltaY;
    if (Math.abs(wheelSum) > 40) {
      go(index + Math.sign(wheelSum));
      wheelSum = 0;
      wheelLock = now + 550;
    }
  }, { passive: false });
  let touchY = null;
  root.addEventListener('touchstart', (e) => { touchY = e.touches[0].clientY; }, { passive: true });
  root.addEventListener('touchend', (e) => {
    if (touchY === null) return;
    const dy = e.changedTouches[0].clientY - touchY;
    touchY = null;
    if (Math.abs(dy) > 50) go(index + (dy < 0 ? 1 : -1));
  });
  function onKey(e) {
    if (e.defaultPrevented || document.getElementById('layer').childElementCount) return;
    if (e.target.closest?.('input, textarea, [contenteditable]')) return;
    const s = slides[index];
    switch (e.key) {
      case 'ArrowDown': case 'PageDown': case 'j': go(index + 1); break;
      case 'ArrowUp': case 'PageUp': case 'k': go(index - 1); break;
      case ' ': if (e.target.closest?.('button, a')) return; if (s) togglePause(s); break;
      case 'm': setMuted(!muted); break;
      case 'l': if (s) like(s); break;
      case 'c': if (s) openComments(s.v); break;
      default: return;
    }
    e.preventDefault();
  }
  document.addEventListener('keydown', onKey);
  const onVisibility = () => {
    const s = slides[index];
    if (!s) return;
    if (document.hidden) s.video.pause(); else if (!s.el.classList.contains('paused')) s.video.play().catch(() => {});
  };
  document.addEventListener('visibilitychange', onVisibility);

  setDanmaku(danmakuSetting.enabled);
  begin();

  return {
    el: root,
    destroy() {
      destroyed = true;
      unsubscribe();
      document.removeEventListener('keydown', onKey);
      document.removeEventListener('visibilitychange', onVisibility);
      slides.forEach((s) => {
        s.video.pause(); s.video.removeAttribute('src'); s.video.load();
        if (s.live) { s.live.stop(); s.live = null; }
      });
    },
  };
}

// feedSource pages the main feed by latest_time/next_time.
export function feedSource(cursor) {
  return api.feed(cursor).then((r) => ({ videos: r.video_list, next: r.next_time }));
}

// followingSource pages the videos of the people the viewer follows, like the main feed.
export function followingSource(cursor) {
  return api.followingFeed(cursor).then((r) => ({ videos: r.video_list, next: r.next_time }));
}

// recommendSource asks for the next ranked page: the server remembers what it has shown, so
// there is no cursor, and it goes on while pages come.
export function recommendSource() {
  return api.recommendFeed().then((r) => ({ videos: r.video_list, next: r.video_list.length ? 1 : 0 }));
}
