// Publishing: pick a file, give it a title, watch the upload, then the processing until the
// video is ready and plays.
import { api, session, upload } from './api.js';
import { requireLogin } from './auth.js';
import { empty, h, icon, pageHead } from './ui.js';

const READY_POLL_MS = 1500;
const READY_PATIENCE_MS = 10 * 60 * 1000;

// isReady: a listed video is playable unless it carries a status other than ready (the own
// publish list may list videos still processing).
const isReady = (v) => v.play_url && (!v.status || v.status === 'ready');

export function publishView() {
  const body = h('div.publish');
  const root = h('div.page', {}, pageHead('发布作品'), body);
  let stopped = false;
  let file = null;
  let previewURL = null;

  function form() {
    const fileInput = h('input', { type: 'file', accept: 'video/*', 'aria-label': '选择视频文件' });
    const drop = h('label.drop', {}, icon('upload'), h('strong', {}, '选择视频'), h('span', {}, '或把文件拖到这里，MP4 / MOV / WebM'), fileInput);
    const title = h('input', { name: 'title', maxlength: 100, required: true, placeholder: '给作品起个标题' });
    const err = h('p.form-error', { role: 'alert' });
    const submit = h('button.btn', { type: 'submit', disabled: true }, '发布');
    const choose = (f) => {
      if (!f) return;
      file = f;
      if (previewURL) URL.revokeObjectURL(previewURL);
      previewURL = URL.createObjectURL(f);
      drop.replaceChildren(h('video', { src: previewURL, muted: true, controls: true, 'aria-label': `已选择：${f.name}` }), fileInput);
      if (!title.value) title.value = f.name.replace(/\.[^.]+$/, '').slice(0, 100);
      submit.disabled = false;
    };
    fileInput.addEventListener('change', () => choose(fileInput.files[0]));
    drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
    drop.addEventListener('dragleave', () => drop.classList.remove('over'));
    drop.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('over'); choose(e.dataTransfer.files[0]); });
    body.replaceChildren(h('form', {
      novalidate: true,
      onsubmit: (e) => {
        e.preventDefault();
        if (!file) { err.textContent = '请先选择视频'; return; }
        if (!title.value.trim()) { err.textContent = '请填写标题'; title.focus(); return; }
        send(file, title.value.trim());
      },
    }, drop, h('label.field', {}, h('span', {}, '标题'), title), err, submit));
  }

  async function send(f, title) {
    const bar = h('i');
    const pct = h('span', {}, '0%');
    const status = h('div.publish-status', { role: 'status' }, h('span', {}, '正在上传…'), pct);
    const progress = h('div.bar', { role: 'progressbar', 'aria-label': '上传进度', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': '0' }, bar);
    body.replaceChildren(h('h2', {}, title), progress, status);
    let before;
    try {
      before = new Set((await api.publishList(session.userId)).video_list.map((v) => v.id));
      await upload(f, title, (p) => {
        const n = Math.round(p * 100);
        bar.style.width = `${n}%`;
        pct.textContent = `${n}%`;
        progress.setAttribute('aria-valuenow', String(n));
      });
    } catch (err) {
      status.className = 'publish-status err';
      status.replaceChildren(h('span.status-msg', {}, err.message));
      body.append(h('button.btn.ghost', { type: 'button', onclick: form }, '重新选择'));
      return;
    }
    bar.style.width = '100%';
    status.replaceChildren(h('div.spinner.small', { 'aria-hidden': 'true' }), h('span', {}, '上传完成，正在处理（生成封面、转码）…'));
    const deadline = Date.now() + READY_PATIENCE_MS;
    while (!stopped) {
      try {
        const list = (await api.publishList(session.userId)).video_list;
        const mine = list.find((v) => !before.has(v.id));
        if (mine && mine.status === 'failed') {
          status.className = 'publish-status err';
          status.replaceChildren(h('span', {}, '处理失败：文件无法转码'));
          return;
        }
        if (mine && isReady(mine)) { done(mine); return; }
      } catch (err) {
        status.replaceChildren(h('div.spinner.small', { 'aria-hidden': 'true' }), h('span', {}, `正在处理… (${err.message})`));
      }
      if (Date.now() > deadline) {
        status.replaceChildren(h('span', {}, '处理时间比预期长，作品准备好后会出现在你的主页'));
        return;
      }
      await new Promise((r) => setTimeout(r, READY_POLL_MS));
    }
  }

  function done(v) {
    body.replaceChildren(
      h('h2', {}, v.title),
      h('video.result', { src: v.play_url, poster: v.cover_url, controls: true, autoplay: true, muted: true, loop: true, playsInline: true, 'aria-label': `已发布：${v.title}` }),
      h('div.publish-status.ok', { role: 'status' }, icon('check'), h('span', {}, '发布成功，视频已就绪')),
      h('div.p-actions', {}, h('a.btn', { href: `#/user/${session.userId}` }, '查看我的作品'), h('button.btn.ghost', { type: 'button', onclick: form }, '再发一个')));
  }

  requireLogin('登录后即可发布作品').then((ok) => {
    if (stopped) return;
    if (ok) form();
    else body.replaceChildren(empty('登录后即可发布作品', '', h('button.btn', { type: 'button', onclick: () => requireLogin().then((y) => y && form()) }, '登录')));
  });
  return { el: root, destroy() { stopped = true; if (previewURL) URL.revokeObjectURL(previewURL); } };
}
