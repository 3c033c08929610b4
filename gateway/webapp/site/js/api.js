// The API client: every call goes to this origin; the token travels in the Authorization
// header (never in a URL the page shows) and is kept in localStorage.

const SESSION_KEY = 'douyin.session';

export class ApiError extends Error {
  constructor(message, { code = -1, httpStatus = 0 } = {}) {
    super(message);
    this.code = code;
    this.httpStatus = httpStatus;
  }
  get expired() { return this.httpStatus === 401; }
}

const listeners = new Set();

export const session = {
  get() {
    try { return JSON.parse(localStorage.getItem(SESSION_KEY)) || null; } catch { return null; }
  },
  set(s) { localStorage.setItem(SESSION_KEY, JSON.stringify(s)); listeners.forEach((f) => f(s, {})); },
  // clear forgets the session; expired tells listeners the login dialog is coming.
  clear({ expired = false } = {}) { localStorage.removeItem(SESSION_KEY); listeners.forEach((f) => f(null, { expired })); },
  onChange(f) { listeners.add(f); return () => listeners.delete(f); },
  get userId() { return this.get()?.user_id || 0; },
  get token() { return this.get()?.token || ''; },
};

// expiryHandler is called when a token is refused (401); it asks the person to log in again
// and resolves when they did, so the call can be retried on the same page.
let expiryHandler = null;
export function onSessionExpired(f) { expiryHandler = f; }

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

async function parse(resp) {
  let body = null;
  try { body = await resp.json(); } catch { /* not JSON: handled below */ }
  if (!body || typeof body.status_code !== 'number') {
    throw new ApiError(resp.ok ? '服务器返回了无法识别的内容' : `服务器错误（HTTP ${resp.status}）`, { httpStatus: resp.status });
  }
  if (body.status_code !== 0) {
    throw new ApiError(body.status_msg || '请求失败', { code: body.status_code, httpStatus: resp.status });
  }
  return body;
}

// call sends one API request. With retryOnExpiry, a refused token opens the login and the
// call is sent again with the new token once the person logged in.
export async function call(method, path, params, { retryOnExpiry = true, signal } = {}) {
  const token = session.token;
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  // POST parameters travel as a form body, so passwords and texts stay out of URLs.
  const init = { method, headers, signal, cache: 'no-store' };
  let url = path;
  if (method === 'POST') init.body = new URLSearchParams(query(params).slice(1));
  else url += query(params);
  let resp;
  try {
    resp = await fetch(url, init);
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError('网络连接失败，请检查网络后重试');
  }
  try {
    return await parse(resp);
  } catch (err) {
    if (err instanceof ApiError && err.expired && token) {
      session.clear({ expired: true });
      if (retryOnExpiry && expiryHandler && await expiryHandler()) {
        return call(method, path, params, { retryOnExpiry: false, signal });
      }
    }
    throw err;
  }
}

export const get = (path, params, opts) => call('GET', path, params, opts);
export const post = (path, params, opts) => call('POST', path, params, opts);

// upload publishes a video with progress reports (fetch cannot report upload progress).
export function upload(file, title, onProgress) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    form.append('title', title);
    form.append('data', file, file.name || 'video.mp4');
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/douyin/publish/action/');
    const token = session.token;
    if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    xhr.responseType = 'json';
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    xhr.onerror = () => reject(new ApiError('上传失败，请检查网络后重试'));
    xhr.onload = () => {
      const body = xhr.response;
      if (xhr.status === 401) session.clear({ expired: true });
      if (!body || typeof body.status_code !== 'number') {
        reject(new ApiError(`上传失败（HTTP ${xhr.status}）`, { httpStatus: xhr.status }));
      } else if (body.status_code !== 0) {
        reject(new ApiError(body.status_msg || '上传失败', { code: body.status_code, httpStatus: xhr.status }));
      } else {
        resolve(body);
      }
    };
    xhr.send(form);
  });
}

// The app's endpoints.
export const api = {
  feed: (latestTime, opts) => get('/douyin/feed/', { latest_time: latestTime || undefined }, opts),
  followingFeed: (latestTime, opts) => get('/douyin/feed/following/', { latest_time: latestTime || undefined }, opts),
  recommendFeed: (opts) => get('/douyin/feed/recommend/', {}, opts),
  register: (username, password) => post('/douyin/user/register/', { username, password }, { retryOnExpiry: false }),
  login: (username, password) => post('/douyin/user/login/', { username, password }, { retryOnExpiry: false }),
  user: (userId) => get('/douyin/user/', { user_id: userId || undefined }),
  publishList: (userId) => get('/douyin/publish/list/', { user_id: userId }),
  favoriteList: (userId) => get('/douyin/favorite/list/', { user_id: userId }),
  like: (videoId, on) => post('/douyin/favorite/action/', { video_id: videoId, action_type: on ? 1 : 2 }),
  comments: (videoId) => get('/douyin/comment/list/', { video_id: videoId }),
  postComment: (videoId, text) => post('/douyin/comment/action/', { video_id: videoId, action_type: 1, comment_text: text }),
  deleteComment: (videoId, commentId) => post('/douyin/comment/action/', { video_id: videoId, action_type: 2, comment_id: commentId }),
  follow: (userId, on) => post('/douyin/relation/action/', { to_user_id: userId, action_type: on ? 1 : 2 }),
  follows: (userId) => get('/douyin/relation/follow/list/', { user_id: userId }),
  followers: (userId) => get('/douyin/relation/follower/list/', { user_id: userId }),
  friends: () => get('/douyin/relation/friend/list/', { user_id: session.userId }),
  send: (userId, content) => post('/douyin/message/action/', { to_user_id: userId, action_type: 1, content }),
  chat: (userId, preMsgTime, opts) => get('/douyin/message/chat/', { to_user_id: userId, pre_msg_time: preMsgTime || undefined }, opts),
};
