// Log in and register, in a dialog over the current page, so an expired session or a guest's
// like brings the person back to exactly where they were.
import { api, session, ApiError } from './api.js';
import { h, icon, openLayer, toast } from './ui.js';

let pending = null; // one dialog at a time; concurrent callers share its outcome

// requireLogin resolves true once the person is logged in (at once when they are already).
export function requireLogin(reason) {
  if (session.token) return Promise.resolve(true);
  return openLogin(reason);
}

export function openLogin(reason = '登录后即可点赞、评论、关注和发布作品') {
  if (pending) return pending;
  pending = new Promise((resolve) => {
    let mode = 'login';
    let done = false;
    const err = h('p.form-error', { role: 'alert' });
    const user = h('input', { name: 'username', autocomplete: 'username', required: true, maxlength: 32, placeholder: '字母、数字或邮箱' });
    const pass = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true, minlength: 6, maxlength: 32, placeholder: '6–32 位' });
    const submit = h('button.btn', { type: 'submit' }, '登录');
    const title = h('h2', { id: 'login-title' }, '登录');
    const tabs = ['login', 'register'].map((m) => h('button', {
      type: 'button', role: 'tab', 'aria-selected': String(m === mode),
      onclick: () => setMode(m),
    }, m === 'login' ? '登录' : '注册'));
    function setMode(m) {
      mode = m;
      tabs.forEach((t, i) => t.setAttribute('aria-selected', String((i === 0) === (m === 'login'))));
      title.textContent = submit.textContent = m === 'login' ? '登录' : '注册';
      pass.autocomplete = m === 'login' ? 'current-password' : 'new-password';
      err.textContent = '';
    }
    const form = h('form', {
      novalidate: true,
      onsubmit: async (e) => {
        e.preventDefault();
        const name = user.value.trim();
        if (!name) { err.textContent = '请输入用户名'; user.focus(); return; }
        if (pass.value.length < 6) { err.textContent = '密码至少 6 位'; pass.focus(); return; }
        submit.disabled = true;
        err.textContent = '';
        try {
          const r = mode === 'login' ? await api.login(name, pass.value) : await api.register(name, pass.value);
          session.set({ token: r.token, user_id: r.user_id, name });
          done = true;
          close();
          toast(mode === 'login' ? '登录成功' : '注册成功，欢迎！');
          resolve(true);
        } catch (ex) {
          err.textContent = ex instanceof ApiError ? ex.message : String(ex);
          submit.disabled = false;
        }
      },
    },
    h('div.seg', { role: 'tablist', 'aria-label': '登录或注册' }, tabs),
    h('label.field', {}, h('span', {}, '用户名'), user),
    h('label.field', {}, h('span', {}, '密码'), pass),
    err, submit);
    const dialog = h('div.dialog', { role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'login-title' },
      h('button.close', { type: 'button', 'aria-label': '关闭', onclick: () => close() }, icon('close')),
      title, h('p.sub', {}, reason), form);
    const close = openLayer(dialog, {
      onClose: () => { pending = null; if (!done) resolve(false); },
    });
    user.focus();
  });
  return pending;
}
