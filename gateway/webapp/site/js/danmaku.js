// Live comments (弹幕) over the playing video: a WebSocket to /douyin/comment/live/ pushes each
// comment posted on the video, and it crosses the picture from right to left in one of a few
// lanes. Watching needs no login, so no token goes into the socket's URL.
import { session } from './api.js';
import { h } from './ui.js';

const SETTING_KEY = 'douyin.danmaku';
const LANES = 6;
// MAX_ON_SCREEN bounds the moving comments: a burst beyond it is skipped, not queued.
const MAX_ON_SCREEN = 40;
const RECONNECT_MAX_MS = 15000;

export const danmakuSetting = {
  get enabled() { return localStorage.getItem(SETTING_KEY) !== 'off'; },
  set enabled(on) { localStorage.setItem(SETTING_KEY, on ? 'on' : 'off'); },
};

// attachDanmaku shows the live comments of videoId inside parent until stop() is called.
export function attachDanmaku(parent, videoId) {
  const layer = h('div.danmaku', { 'aria-hidden': 'true', dataset: { liveVideoId: videoId } });
  parent.append(layer);
  const laneFree = new Array(LANES).fill(0);
  let socket = null;
  let stopped = false;
  let retry = 0;
  let timer = 0;

  function show(comment) {
    if (layer.childElementCount >= MAX_ON_SCREEN || typeof comment?.content !== 'string') return;
    const now = Date.now();
    let lane = laneFree.findIndex((t) => t <= now);
    if (lane < 0) lane = laneFree.indexOf(Math.min(...laneFree));
    laneFree[lane] = now + 1200; // the next comment in this lane starts once this one has moved on
    const item = h('span.danmaku-item', { style: { top: `${12 + lane * 8}%` } }, comment.content);
    if (session.userId && comment.user?.id === session.userId) item.classList.add('mine');
    item.addEventListener('animationend', () => item.remove());
    layer.append(item);
  }

  function connect() {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    socket = new WebSocket(`${scheme}://${location.host}/douyin/comment/live/?video_id=${encodeURIComponent(videoId)}`);
    socket.onopen = () => { retry = 0; layer.dataset.live = 'open'; };
    socket.onmessage = (e) => {
      try { show(JSON.parse(e.data)); } catch { /* not a comment: ignored */ }
    };
    socket.onclose = () => {
      layer.dataset.live = 'closed';
      if (stopped) return;
      // Reconnect with backoff: the gateway restarted, or dropped us for falling behind.
      const wait = Math.min(RECONNECT_MAX_MS, 500 * 2 ** retry++);
      timer = setTimeout(connect, wait);
    };
  }
  connect();

  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      // Closing a socket still connecting makes the browser log an error: close it once open.
      if (socket?.readyState === WebSocket.CONNECTING) socket.onopen = () => socket.close(1000);
      else socket?.close(1000);
      layer.remove();
    },
  };
}
