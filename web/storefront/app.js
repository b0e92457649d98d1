// etalase storefront: one page over both accounts' HTTP APIs on one origin.
//
// /social/v1/...   the social account: feed, promotions, hand-off tokens, creator earnings
// /commerce/v1/... the commerce account: catalog, carts, checkout, orders
//
// The buyer never sees the hand-over: "Buy" asks social for a signed hand-off token and
// gives it straight to commerce's cart, in one click, on one page. Plain JavaScript, no
// build step; hash routes (#/feed, #/p/{id}, #/cart, #/orders/{id}, #/creator, #/seller).
'use strict';

(() => {
  // ---- state ----------------------------------------------------------------------

  const IDENTITIES = {
    'buyer-1': ['buyer'],
    'buyer-2': ['buyer'],
    'creator-1': ['creator'],
    'seller-1': ['seller'],
  };
  const SESSION_KEY = 'etalase.session';
  const GUEST_CART_KEY = 'etalase.guestCart';
  const CHECKOUT_KEY = 'etalase.pendingCheckout';
  const XRAY_KEY = 'etalase.xray';
  const ORDERS_KEY = 'etalase.orders';

  const state = {
    session: readJSON(sessionStorage, SESSION_KEY),
    route: null,
    renderSeq: 0,
    timers: [],
  };

  function readJSON(store, key) {
    try { return JSON.parse(store.getItem(key) || 'null'); } catch { return null; }
  }
  function writeJSON(store, key, v) {
    if (v == null) store.removeItem(key); else store.setItem(key, JSON.stringify(v));
  }
  const hasScope = (s) => !!(state.session && state.session.scopes.includes(s));
  const isBuyer = () => hasScope('buyer');

  // ---- DOM helpers ----------------------------------------------------------------

  // h builds an element: h('a', {href: '#/x', class: 'c'}, 'text', child, ...). Text is
  // always text (never HTML): captions and titles come from other people.
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null || v === false) continue;
      if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else if (k === 'class') el.className = v;
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (v === true) el.setAttribute(k, '');
      else el.setAttribute(k, String(v));
    }
    for (const c of children.flat()) {
      if (c == null || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }
  const $ = (sel, root = document) => root.querySelector(sel);
  const view = () => $('#view');

  function mount(...nodes) {
    view().replaceChildren(...nodes.flat().filter((n) => n != null && n !== false));
  }

  // notice is a message box: notice('bad', 'text') or notice('bad', {id: 'x', class: 'extra'}, 'text').
  function notice(kind, ...content) {
    let attrs = {};
    if (content[0] && typeof content[0] === 'object' && !(content[0] instanceof Node)) attrs = content.shift();
    const cls = ['notice', kind, attrs.class].filter(Boolean).join(' ');
    return h('div', Object.assign({ role: kind === 'bad' ? 'alert' : 'status' }, attrs, { class: cls }), ...content);
  }

  let toastTimer;
  function toast(msg) {
    const t = $('#toast');
    t.textContent = msg;
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { t.hidden = true; }, 3500);
  }

  // ---- money ----------------------------------------------------------------------

  const ZERO_DIGIT = new Set(['IDR', 'JPY', 'VND']);
  // formatMoney formats minor units for people: "Rp 85.000", "USD 12.50".
  function formatMoney(m) {
    if (!m) return '—';
    const digits = ZERO_DIGIT.has(m.currency) ? 0 : 2;
    const neg = m.amount < 0;
    let a = Math.abs(m.amount);
    const major = Math.floor(a / 10 ** digits);
    const minor = a % 10 ** digits;
    const grouped = String(major).replace(/\B(?=(\d{3})+(?!\d))/g, '.');
    const sign = neg ? '−' : '';
    if (m.currency === 'IDR') return sign + 'Rp ' + grouped;
    return sign + m.currency + ' ' + grouped + (digits ? ',' + String(minor).padStart(digits, '0') : '');
  }
  const sameMoney = (a, b) => !!a && !!b && a.amount === b.amount && a.currency === b.currency;

  // ---- the API ----------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message || code || ('HTTP ' + status));
      this.status = status;
      this.code = code || '';
    }
  }
  class NetworkError extends Error {}

  function account(path) {
    if (path.startsWith('/social/')) return 'social';
    if (path.startsWith('/commerce/')) return 'commerce';
    return 'local';
  }

  function xray(method, path, status, ms) {
    const log = $('#xray-log');
    const acct = account(path);
    const label = { social: 'social acct', commerce: 'commerce acct', local: 'local tool' }[acct];
    log.prepend(h('li', null,
      h('span', { class: 'acct ' + acct }, label),
      h('span', null, method + ' ' + path.replace(/\?.*$/, '')),
      h('span', { class: 'muted' }, status ? String(status) : 'network error'),
      h('span', { class: 'muted' }, ms + ' ms')));
    while (log.children.length > 40) log.lastChild.remove();
  }

  // api calls one of the two accounts' APIs (or a local tool) on this origin. It adds
  // the bearer token when signed in, the guest cart id for guest-cart routes, and turns
  // failures into ApiError (with the API's stable error code) or NetworkError.
  async function api(method, path, opts = {}) {
    const headers = Object.assign({ Accept: 'application/json' }, opts.headers || {});
    if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
    if (opts.auth !== false && state.session && path.startsWith('/') && !path.startsWith('/_local/')) {
      await ensureFreshToken();
      headers.Authorization = 'Bearer ' + state.session.token;
    }
    if (path.startsWith('/commerce/v1/guest-cart') || path === '/commerce/v1/cart/merge') {
      const id = localStorage.getItem(GUEST_CART_KEY);
      if (id) headers['X-Cart-Id'] = id;
    }
    const started = performance.now();
    let resp;
    try {
      resp = await fetch(path, {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        credentials: 'same-origin',
        cache: 'no-store',
      });
    } catch (e) {
      xray(method, path, 0, Math.round(performance.now() - started));
      throw new NetworkError(e && e.message);
    }
    xray(method, path, resp.status, Math.round(performance.now() - started));
    const cartId = resp.headers.get('X-Cart-Id');
    if (cartId) localStorage.setItem(GUEST_CART_KEY, cartId);
    let data = null;
    const text = await resp.text().catch(() => '');
    if (text) { try { data = JSON.parse(text); } catch { data = null; } }
    if (!resp.ok) {
      const err = data && (data.error || data);
      const ae = new ApiError(resp.status, err && err.code, err && (err.message || err.Message));
      ae.details = err && err.details;
      throw ae;
    }
    return data;
  }

  // ---- sign-in (local identity provider) -------------------------------------------

  async function mint(sub) {
    const scopes = IDENTITIES[sub];
    const data = await api('POST', '/_local/idp/token', { auth: false, body: { sub, scopes, ttlSeconds: 3600 } });
    return { sub, scopes, token: data.access_token, exp: Date.now() + (data.expires_in || 3600) * 1000 };
  }

  async function ensureFreshToken() {
    const s = state.session;
    if (s && s.exp - Date.now() < 60_000) {
      state.session = await mint(s.sub);
      writeJSON(sessionStorage, SESSION_KEY, state.session);
    }
  }

  async function signIn(who) {
    closePicker();
    if (who === 'guest') {
      state.session = null;
      writeJSON(sessionStorage, SESSION_KEY, null);
      renderHeader();
      toast('You are browsing as a guest');
      return route();
    }
    try {
      state.session = await mint(who);
    } catch (e) {
      return showError(e, 'sign in');
    }
    writeJSON(sessionStorage, SESSION_KEY, state.session);
    renderHeader();
    let msg = 'Signed in as ' + who;
    if (isBuyer() && localStorage.getItem(GUEST_CART_KEY)) {
      try {
        const m = await api('POST', '/commerce/v1/cart/merge');
        if (m.mergedLines > 0) msg += ' · your guest cart moved into your cart';
      } catch (e) {
        if (e instanceof ApiError && e.code === 'cart_not_found') {
          // Nothing to merge: the guest cart expired or was merged already.
        } else if (e instanceof ApiError) {
          msg += ' · your guest cart could not be merged: ' + e.message;
        } else {
          return showError(e, 'merge your cart');
        }
      }
      localStorage.removeItem(GUEST_CART_KEY);
    }
    toast(msg);
    return route();
  }

  function openPicker() {
    $('#picker').hidden = false;
    $('#signin').setAttribute('aria-expanded', 'true');
  }
  function closePicker() {
    $('#picker').hidden = true;
    $('#signin').setAttribute('aria-expanded', 'false');
  }

  function renderHeader() {
    const s = state.session;
    const btn = $('#signin');
    btn.replaceChildren(s ? h('span', null, s.sub, h('span', { class: 'role' }, '· ' + s.scopes.join(', ') + ' · switch')) : 'Guest · Sign in');
    btn.dataset.who = s ? s.sub : 'guest';
    $('#nav-creator').hidden = !hasScope('creator');
    $('#nav-seller').hidden = !hasScope('seller');
    $('#nav-orders').hidden = !isBuyer();
    $('#nav-cart').hidden = !!s && !isBuyer();
    for (const a of document.querySelectorAll('[data-nav]')) {
      a.classList.toggle('active', state.route && a.dataset.nav === state.route.name);
    }
  }

  function setCartCount(n) {
    const c = $('#cart-count');
    c.hidden = !n;
    c.textContent = n ? String(n) : '';
  }

  // ---- errors -----------------------------------------------------------------------

  // showError says plainly what went wrong: a network error gets the banner with
  // "Try again"; an API error its message in the view.
  function showError(e, doing) {
    if (e instanceof NetworkError) {
      $('#net-error').hidden = false;
      if (view().querySelector('.loading')) mount(notice('bad', { class: 'network' }, 'Could not ' + doing + ': etalase cannot be reached right now.'));
      return;
    }
    console.error(e);
    const msg = e instanceof ApiError ? e.message : 'Something went wrong';
    mount(notice('bad', 'Could not ' + doing + ': ' + msg + '.'));
  }

  // messageFor turns the APIs' stable error codes into what a person needs to know.
  function messageFor(e) {
    if (e instanceof NetworkError) return 'Network error: we could not reach etalase. Check your connection and try again.';
    switch (e.code) {
      case 'out_of_stock':
      case 'product_unavailable':
        return 'Out of stock: this product has sold out. The seller may restock soon.';
      case 'product_delisted':
        return 'This product is no longer sold.';
      case 'promotion_not_live':
        return 'This promotion is not running any more.';
      case 'handoff_expired':
        return 'This took too long; press Buy again.';
      case 'quantity_out_of_range':
        return 'You can buy 1 to 99 of one product.';
      case 'cart_full':
        return 'Your cart is full (50 products). Check out or remove something first.';
      case 'currency_mismatch':
        return 'This product is priced in another currency than your cart.';
      case 'unauthenticated':
        return 'Please sign in again.';
      default:
        return e.message || 'Something went wrong.';
    }
  }

  // ---- router -------------------------------------------------------------------------

  function parseRoute() {
    const hash = location.hash.replace(/^#\/?/, '');
    const parts = hash.split('/').filter(Boolean).map(decodeURIComponent);
    const params = new URLSearchParams(location.search);
    // A payment provider's finish redirect may land on /?order_id=... without a hash.
    if (!parts.length && params.get('order_id')) return { name: 'order', id: params.get('order_id') };
    switch (parts[0]) {
      case undefined: case 'feed': return { name: 'feed' };
      case 'p': return { name: 'promotion', id: parts[1] || '' };
      case 'cart': return { name: 'cart' };
      case 'orders': return parts[1] ? { name: 'order', id: parts[1] } : { name: 'orders' };
      case 'creator': return { name: 'creator' };
      case 'seller': return { name: 'seller' };
      default: return { name: 'notfound' };
    }
  }

  async function route() {
    for (const t of state.timers) clearTimeout(t);
    state.timers = [];
    $('#net-error').hidden = true;
    state.route = parseRoute();
    const seq = ++state.renderSeq;
    renderHeader();
    const pages = { feed: feedPage, promotion: promotionPage, cart: cartPage, order: orderPage, orders: ordersPage, creator: creatorPage, seller: sellerPage };
    const page = pages[state.route.name];
    if (!page) return mount(h('h1', null, 'Not found'), h('p', null, h('a', { href: '#/feed' }, 'Back to the feed')));
    document.body.dataset.page = state.route.name;
    try {
      await page(state.route, () => seq === state.renderSeq);
    } catch (e) {
      if (seq === state.renderSeq) showError(e, 'load this page');
    }
    refreshCartCount();
  }

  function later(fn, ms) {
    state.timers.push(setTimeout(fn, ms));
  }

  async function refreshCartCount() {
    if (state.session && !isBuyer()) return setCartCount(0);
    try {
      const c = isBuyer() ? await api('GET', '/commerce/v1/cart')
        : localStorage.getItem(GUEST_CART_KEY) ? await api('GET', '/commerce/v1/guest-cart') : null;
      setCartCount(c ? c.itemCount : 0);
    } catch {
      // The count is a nicety; the cart page says what is wrong.
    }
  }

  // ---- feed (social) ---------------------------------------------------------------

  function kindBadge(p) {
    if (p.kind === 'live') return h('span', { class: 'badge live' }, '● LIVE');
    if (p.kind === 'video') return h('span', { class: 'badge' }, 'VIDEO');
    return null;
  }

  function mediaOf(p) {
    const src = (p.mediaUrl && /\.(svg|png|jpe?g|webp|gif)(\?|$)/i.test(p.mediaUrl)) ? p.mediaUrl : (p.product && p.product.imageUrl);
    return h('div', { class: 'media' },
      h('img', { src: src || '/assets/logo.svg', alt: p.product ? p.product.title : '', loading: 'lazy' }),
      kindBadge(p),
      p.kind !== 'showcase' ? h('div', { class: 'play', 'aria-hidden': 'true' }, h('span', null, '▶')) : null,
      p.product && !p.product.available ? h('span', { class: 'badge soldout' }, 'SOLD OUT') : null);
  }

  async function feedPage(_, current) {
    mount(h('h1', null, 'For you'), h('p', { class: 'loading' }, 'Loading the feed…'));
    const items = [];
    let cursor = '';
    const load = async () => {
      const q = new URLSearchParams({ limit: '20' });
      if (cursor) q.set('cursor', cursor);
      const page = await api('GET', '/social/v1/feed?' + q);
      items.push(...page.items);
      cursor = page.nextCursor || '';
    };
    await load();
    if (!current()) return;
    const grid = h('div', { class: 'grid', id: 'feed' });
    const more = h('button', { class: 'btn secondary', type: 'button', hidden: !cursor, onclick: async () => {
      more.disabled = true;
      try { await load(); } catch (e) { return showError(e, 'load more'); } finally { more.disabled = false; }
      draw();
    } }, 'Show more');
    const draw = () => {
      grid.replaceChildren(...items.map(promoCard));
      more.hidden = !cursor;
    };
    draw();
    mount(
      h('h1', null, 'For you'),
      items.length ? grid : h('div', { class: 'empty' },
        h('p', null, 'No promotions yet.'),
        h('p', null, 'Start the demo shop with ', h('code', null, 'make dev-demo'), ' (or ', h('code', null, 'SEED=1 make dev'), '), or sign in as creator-1 to promote a product.')),
      h('p', null, more));
  }

  function promoCard(p) {
    return h('a', { class: 'promo', href: '#/p/' + encodeURIComponent(p.promotionId), dataset: { promotion: p.promotionId } },
      mediaOf(p),
      h('div', { class: 'body' },
        h('span', { class: 'creator' }, '@' + p.creatorId),
        p.caption ? h('p', { class: 'caption' }, p.caption) : null,
        h('span', { class: 'ptitle' }, p.product ? p.product.title : ''),
        h('span', { class: 'price' }, p.product ? formatMoney(p.product.price) : '')));
  }

  // ---- promotion page and Buy (the hand-over) --------------------------------------

  async function promotionPage(r, current) {
    mount(h('p', { class: 'loading' }, 'Loading…'));
    let p;
    try {
      p = await api('GET', '/social/v1/promotions/' + encodeURIComponent(r.id));
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        return mount(h('h1', null, 'Promotion not found'), h('p', null, h('a', { href: '#/feed' }, 'Back to the feed')));
      }
      throw e;
    }
    if (!current()) return;
    const prod = p.product || {};
    const live = p.state === 'LIVE';
    const status = h('div', { id: 'notice' });
    const buy = h('button', { class: 'btn', id: 'buy', type: 'button', disabled: !live || !prod.available }, 'Buy now');
    buy.addEventListener('click', () => doBuy(p, buy, status));
    if (!live) status.replaceChildren(notice('warn', 'This promotion is ' + p.state.toLowerCase() + '; it cannot be bought from here any more.'));
    else if (!prod.available) status.replaceChildren(notice('bad', { class: 'out-of-stock' }, messageFor({ code: prod.listed === false ? 'product_delisted' : 'out_of_stock' })));
    mount(h('article', { class: 'promotion', id: 'promotion', dataset: { promotion: p.promotionId } },
      mediaOf(p),
      h('div', null,
        h('a', { class: 'creator', href: '#/feed' }, '@' + p.creatorId),
        p.caption ? h('p', { class: 'caption' }, p.caption) : null,
        h('h1', null, prod.title || 'Product'),
        h('div', { class: 'price', id: 'displayed-price' }, formatMoney(prod.price)),
        h('div', { class: 'stock ' + (prod.available ? 'in' : 'out') }, prod.available ? 'In stock' : (prod.listed === false ? 'No longer sold' : 'Out of stock')),
        h('div', { class: 'buy-row' }, buy, h('a', { href: '#/cart', class: 'btn secondary' }, 'View cart')),
        status,
        h('p', { class: 'muted' }, 'Sold and shipped through etalase\'s shop. Price and stock are checked again in your cart.'))));
  }

  // doBuy is the hand-over the buyer never sees: a hand-off token from social, handed
  // straight to commerce's cart (the buyer's or the guest's), then the cart.
  async function doBuy(p, button, status) {
    button.disabled = true;
    button.textContent = 'Adding to your cart…';
    status.replaceChildren();
    try {
      const handoff = await api('POST', '/social/v1/promotions/' + encodeURIComponent(p.promotionId) + '/handoff');
      const ep = isBuyer() ? handoff.commerce.addToCart : handoff.commerce.guestAddToCart;
      const body = {};
      body[ep.tokenField || 'handoffToken'] = handoff.token;
      body.quantity = 1;
      await api(ep.method || 'POST', ep.path, { body });
      toast('Added to your cart');
      location.hash = '#/cart';
    } catch (e) {
      button.disabled = false;
      button.textContent = 'Buy now';
      const out = e.code === 'out_of_stock' || e.code === 'product_unavailable';
      if (out) {
        button.disabled = true;
        button.textContent = 'Sold out';
      }
      status.replaceChildren(notice('bad', { class: out ? 'out-of-stock' : e instanceof NetworkError ? 'network' : '' }, messageFor(e)));
    }
  }

  // ---- cart (commerce) ----------------------------------------------------------------

  const REASONS = {
    out_of_stock: 'Out of stock for this quantity. Lower it or remove the line.',
    product_delisted: 'No longer sold. Remove it to check out.',
    product_not_found: 'This product no longer exists.',
    currency_mismatch: 'Priced in another currency now.',
  };

  async function loadCart() {
    if (isBuyer()) return api('GET', '/commerce/v1/cart');
    if (!localStorage.getItem(GUEST_CART_KEY)) return null;
    try {
      return await api('GET', '/commerce/v1/guest-cart');
    } catch (e) {
      if (e instanceof ApiError && e.code === 'cart_not_found') {
        localStorage.removeItem(GUEST_CART_KEY);
        return null;
      }
      throw e;
    }
  }

  async function cartPage(_, current) {
    if (state.session && !isBuyer()) {
      return mount(h('h1', null, 'Cart'), notice('info', 'Signed in as ' + state.session.sub + ', who does not buy. Sign in as a buyer or continue as a guest.'));
    }
    mount(h('h1', null, 'Your cart'), h('p', { class: 'loading' }, 'Loading your cart…'));
    const cart = await loadCart();
    if (!current()) return;
    if (!cart || !cart.lines.length) {
      setCartCount(0);
      return mount(h('h1', null, 'Your cart'), h('div', { class: 'empty', id: 'cart-empty' }, h('p', null, 'Your cart is empty.'), h('a', { class: 'btn', href: '#/feed' }, 'Discover the feed')));
    }
    setCartCount(cart.itemCount);
    const base = isBuyer() ? '/commerce/v1/cart/items/' : '/commerce/v1/guest-cart/items/';
    const lines = cart.lines.map((l) => cartLine(l, base));
    const anyAvailable = cart.lines.some((l) => l.available);
    const anyUnavailable = cart.lines.some((l) => !l.available);
    const anyChanged = cart.lines.some((l) => l.priceChanged);
    const pendingOrder = readJSON(sessionStorage, CHECKOUT_KEY);
    const provider = h('select', { id: 'provider', 'aria-label': 'Payment method' },
      h('option', { value: 'midtrans' }, 'Midtrans (card, e-wallet, VA)'),
      h('option', { value: 'xendit' }, 'Xendit (invoice)'));
    const checkoutMsg = h('div', { id: 'checkout-notice' });
    const checkoutBtn = h('button', { class: 'btn', id: 'checkout', type: 'button', disabled: !anyAvailable || anyUnavailable }, 'Checkout');
    checkoutBtn.addEventListener('click', () => doCheckout(cart, provider.value, checkoutBtn, checkoutMsg));
    const guestNote = !isBuyer() ? h('div', { class: 'guest-checkout' },
      h('span', { class: 'muted' }, 'Shopping as a guest: sign in to check out, your cart comes with you.'),
      h('button', { class: 'btn', type: 'button', id: 'signin-to-checkout', onclick: (ev) => { ev.stopPropagation(); openPicker(); } }, 'Sign in to check out')) : null;
    mount(
      h('h1', null, 'Your cart'),
      anyChanged ? notice('warn', { class: 'price-changed-note' }, 'Some prices changed since the video. You pay the price shown here, the shop\'s current price.') : null,
      anyUnavailable ? notice('bad', 'Some items cannot be bought right now. Remove them or lower the quantity to check out.') : null,
      pendingOrder && pendingOrder.orderId ? notice('info', 'You have an order waiting: ', h('a', { href: '#/orders/' + pendingOrder.orderId }, 'view it')) : null,
      h('ul', { class: 'lines', id: 'cart-lines' }, lines),
      h('div', { class: 'summary' },
        h('div', null, h('div', { class: 'muted' }, cart.itemCount + (cart.itemCount === 1 ? ' item' : ' items')), h('div', { class: 'total', id: 'cart-total' }, 'Total ' + formatMoney(cart.total))),
        isBuyer() ? h('div', { class: 'providers' }, provider, checkoutBtn) : guestNote),
      checkoutMsg);
  }

  function cartLine(l, base) {
    const err = h('div', { class: 'line-error', role: 'alert' });
    const setQty = async (q, btn) => {
      btn.disabled = true;
      err.textContent = '';
      try {
        await api('PATCH', base + encodeURIComponent(l.productId), { body: { quantity: q } });
        await route();
      } catch (e) {
        btn.disabled = false;
        err.textContent = e.code === 'out_of_stock' ? 'Not enough stock for ' + q + '. ' + (l.quantity > 1 ? 'Keep ' + l.quantity + ' or lower it.' : '') : messageFor(e);
        if (e.code === 'out_of_stock') err.classList.add('out-of-stock');
      }
    };
    const dec = h('button', { class: 'dec', type: 'button', 'aria-label': 'One less', disabled: l.quantity <= 1 }, '−');
    const inc = h('button', { class: 'inc', type: 'button', 'aria-label': 'One more', disabled: l.quantity >= 99 }, '+');
    dec.addEventListener('click', () => setQty(l.quantity - 1, dec));
    inc.addEventListener('click', () => setQty(l.quantity + 1, inc));
    const remove = h('button', { class: 'remove', type: 'button' }, 'Remove');
    remove.addEventListener('click', async () => {
      remove.disabled = true;
      try {
        await api('DELETE', base + encodeURIComponent(l.productId));
        await route();
      } catch (e) {
        remove.disabled = false;
        err.textContent = messageFor(e);
      }
    });
    const a = l.attribution;
    return h('li', { class: 'line' + (l.available ? '' : ' unavailable'), dataset: { product: l.productId } },
      h('img', { src: l.imageUrl || '/assets/logo.svg', alt: '' }),
      h('div', { class: 'meta' },
        h('strong', { class: 'title' }, l.title || 'Product no longer available'),
        a ? h('span', { class: 'via' }, 'from @' + a.creatorId + '\'s promotion') : null,
        h('span', { class: 'unit' }, formatMoney(l.unitPrice) + ' each'),
        l.priceChanged && a ? h('span', { class: 'price-changed' }, 'Price changed since the video: ', h('s', null, formatMoney(a.displayedPrice)), ' → ' + formatMoney(l.unitPrice)) : null,
        !l.available ? h('span', { class: 'unavailable-reason', dataset: { reason: l.unavailableReason || '' } }, REASONS[l.unavailableReason] || 'Not available.') : null,
        err),
      h('div', { class: 'right' },
        h('div', { class: 'qty-row' }, dec, h('span', { class: 'qty', 'aria-label': 'Quantity' }, String(l.quantity)), inc),
        h('strong', { class: 'line-total' }, formatMoney(l.lineTotal)),
        remove));
  }

  // ---- checkout and payment ----------------------------------------------------------

  function newKey() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    const x = [...b].map((v) => v.toString(16).padStart(2, '0')).join('');
    return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
  }

  // doCheckout places the order. Its Idempotency-Key is kept for this cart version, so
  // pressing Checkout again after a network error can never place a second order.
  async function doCheckout(cart, provider, button, msg) {
    button.disabled = true;
    button.textContent = 'Placing your order…';
    msg.replaceChildren();
    let pending = readJSON(sessionStorage, CHECKOUT_KEY);
    if (!pending || pending.cartVersion !== cart.version || pending.provider !== provider || pending.orderId) {
      pending = { key: newKey(), cartVersion: cart.version, provider };
      writeJSON(sessionStorage, CHECKOUT_KEY, pending);
    }
    try {
      const res = await api('POST', '/commerce/v1/checkout', {
        headers: { 'Idempotency-Key': pending.key },
        body: { provider },
      });
      rememberOrder(res.orderId);
      writeJSON(sessionStorage, CHECKOUT_KEY, Object.assign(pending, { orderId: res.orderId }));
      setCartCount(0);
      goPay(res);
    } catch (e) {
      button.disabled = false;
      button.textContent = 'Checkout';
      msg.replaceChildren(notice('bad', { class: e.code === 'insufficient_stock' ? 'out-of-stock' : '' }, checkoutMessage(e, cart)));
    }
  }

  // goPay leaves for the provider's hosted payment page. The order page takes the
  // cart's place in the history first, so that coming back (the provider's "back to
  // the shop" link, or the Back button) shows the order, which then turns paid.
  function goPay(res) {
    const orderHash = '#/orders/' + encodeURIComponent(res.orderId);
    if (res.paymentUrl) {
      history.replaceState(null, '', orderHash);
      location.assign(res.paymentUrl);
    } else {
      location.hash = orderHash; // the order page says why and offers to try again
    }
  }

  function checkoutMessage(e, cart) {
    const titles = (details) => (details || [])
      .map((d) => (cart.lines.find((l) => 'lines.' + l.productId === d.field) || {}).title)
      .filter(Boolean).join(', ');
    switch (e.code) {
      case 'insufficient_stock':
        return 'Out of stock: ' + (titles(e.details) || 'an item') + ' sold out while you were checking out. Lower the quantity or remove it; nothing was charged.';
      case 'items_unavailable':
        return 'Some items can no longer be bought (' + (titles(e.details) || 'see your cart') + '). Remove them to check out.';
      case 'cart_empty':
        return 'Your cart is empty, or it expired.';
      case 'cart_changed':
      case 'conflict':
      case 'idempotency_in_progress':
        return 'Your cart changed while we were placing the order. Check it and press Checkout again.';
      default:
        return messageFor(e);
    }
  }

  function rememberOrder(id) {
    if (!id) return;
    const list = readJSON(localStorage, ORDERS_KEY) || [];
    if (!list.includes(id)) list.unshift(id);
    writeJSON(localStorage, ORDERS_KEY, list.slice(0, 20));
  }

  const ORDER_STATES = {
    PENDING_PAYMENT: ['warn', 'Waiting for your payment.'],
    PAID: ['ok', 'Paid. Thank you! The seller has your order.'],
    FAILED: ['bad', 'Payment failed. Nothing was charged and the items went back on sale. You can shop again from the feed.'],
    EXPIRED: ['bad', 'Payment expired: the time to pay ran out, so the order was cancelled and the items went back to stock.'],
    CANCELLED: ['bad', 'This order was cancelled; the items went back to stock.'],
    PAID_LATE: ['bad', 'Your payment arrived after the order expired. It will be refunded in full.'],
    REFUNDED: ['ok', 'Refunded.'],
  };

  async function orderPage(r, current) {
    mount(h('p', { class: 'loading' }, 'Loading your order…'));
    if (!isBuyer()) {
      return mount(h('h1', null, 'Order'), notice('info', 'Sign in as the buyer who placed this order to see it.'));
    }
    rememberOrder(r.id);
    const started = Date.now();
    const poll = async () => {
      let o;
      try {
        o = await api('GET', '/commerce/v1/orders/' + encodeURIComponent(r.id));
      } catch (e) {
        if (!current()) return;
        if (e instanceof ApiError && e.status === 404) return mount(h('h1', null, 'Order not found'), h('p', null, 'No order ' + r.id + ' for ' + state.session.sub + '.'));
        if (e instanceof NetworkError) {
          $('#net-error').hidden = false;
          return later(poll, 3000);
        }
        throw e;
      }
      if (!current()) return;
      $('#net-error').hidden = true;
      drawOrder(o);
      // Until the payment settles the page asks again: each second for a minute, then
      // every five.
      if (o.status === 'PENDING_PAYMENT') later(poll, Date.now() - started < 60_000 ? 1000 : 5000);
    };
    await poll();
  }

  function drawOrder(o) {
    const [kind, text] = ORDER_STATES[o.status] || ['info', o.status];
    const lines = (o.lines || []).map((l) => h('tr', null,
      h('td', null, l.title || l.productId),
      h('td', { class: 'r' }, String(l.quantity)),
      h('td', { class: 'r' }, formatMoney(l.unitPrice)),
      h('td', { class: 'r' }, formatMoney(l.lineTotal || (l.unitPrice && { amount: l.unitPrice.amount * l.quantity, currency: l.unitPrice.currency })))));
    const deadline = o.deadline || o.paymentDeadline || o.expiresAt;
    mount(
      h('h1', null, 'Order ', h('code', null, o.orderId)),
      h('p', null, h('span', { class: 'status ' + o.status, id: 'order-status', dataset: { status: o.status } }, o.status.replace('_', ' '))),
      notice(kind, { id: 'order-message' }, text,
        o.status === 'PENDING_PAYMENT' && deadline ? ' Pay before ' + new Date(deadline).toLocaleString() + '.' : ''),
      o.status === 'PENDING_PAYMENT' ? payActions(o) : null,
      h('table', { class: 'order-lines' },
        h('thead', null, h('tr', null, h('th', null, 'Product'), h('th', { class: 'r' }, 'Qty'), h('th', { class: 'r' }, 'Price'), h('th', { class: 'r' }, 'Total'))),
        h('tbody', null, lines),
        h('tfoot', null, h('tr', null, h('th', { colspan: 3 }, 'Total'), h('th', { class: 'r', id: 'order-total' }, formatMoney(o.total))))),
      h('p', null, h('a', { href: '#/feed' }, 'Continue shopping')));
  }

  // payActions are a pending order's ways forward: pay (or open the payment session
  // again when the provider could not be reached at checkout), or cancel.
  function payActions(o) {
    const msg = h('div');
    const busy = (b, fn) => async () => {
      b.disabled = true;
      msg.replaceChildren();
      try { await fn(); } catch (e) { b.disabled = false; msg.replaceChildren(notice('bad', messageFor(e))); }
    };
    const cancel = h('button', { class: 'btn danger', type: 'button', id: 'cancel-order' }, 'Cancel order');
    cancel.addEventListener('click', busy(cancel, async () => {
      await api('POST', '/commerce/v1/orders/' + encodeURIComponent(o.orderId) + '/cancel');
      route();
    }));
    let pay;
    if (o.paymentUrl) {
      pay = h('a', { class: 'btn', id: 'pay-now', href: o.paymentUrl }, 'Go to payment');
    } else {
      pay = h('button', { class: 'btn', type: 'button', id: 'pay-now' }, 'Open the payment page');
      pay.addEventListener('click', busy(pay, async () => {
        const res = await api('POST', '/commerce/v1/orders/' + encodeURIComponent(o.orderId) + '/payment', { body: { provider: o.paymentProvider || 'midtrans' } });
        goPay(res);
      }));
    }
    return h('div', null,
      !o.paymentUrl ? notice('warn', 'The payment page could not be opened yet (the payment provider did not answer). Your items stay reserved until the deadline.') : null,
      h('div', { class: 'buy-row' }, pay, cancel), msg);
  }

  async function ordersPage(_, current) {
    if (!isBuyer()) return mount(h('h1', null, 'Orders'), notice('info', 'Sign in as a buyer to see your orders.'));
    let items = null;
    try {
      const list = await api('GET', '/commerce/v1/orders?limit=20');
      items = list.orders || list.items || [];
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 404)) throw e;
    }
    if (!current()) return;
    if (items) {
      return mount(h('h1', null, 'Your orders'), items.length ? h('table', { class: 'data', id: 'orders' },
        h('thead', null, h('tr', null, h('th', null, 'Order'), h('th', null, 'Status'), h('th', { class: 'n' }, 'Total'), h('th', null, 'Placed'))),
        h('tbody', null, items.map((o) => h('tr', null,
          h('td', null, h('a', { href: '#/orders/' + o.orderId }, o.orderId)),
          h('td', null, h('span', { class: 'pill' }, o.status)),
          h('td', { class: 'n' }, formatMoney(o.total)),
          h('td', null, o.createdAt ? new Date(o.createdAt).toLocaleString() : ''))))) : h('div', { class: 'empty' }, 'No orders yet.'));
    }
    const ids = readJSON(localStorage, ORDERS_KEY) || [];
    mount(h('h1', null, 'Your orders'), ids.length ? h('ul', null, ids.map((id) => h('li', null, h('a', { href: '#/orders/' + id }, id)))) : h('div', { class: 'empty' }, 'No orders yet.'));
  }

  // ---- creator (social) -------------------------------------------------------------

  async function creatorPage(_, current) {
    if (!hasScope('creator')) return mount(h('h1', null, 'Creator'), notice('info', 'Sign in as creator-1 to see your promotions and earnings.'));
    mount(h('h1', null, 'Creator studio'), h('p', { class: 'loading' }, 'Loading…'));
    const sub = state.session.sub;
    const [own, earnings, feed] = await Promise.all([
      api('GET', '/social/v1/creator/promotions?limit=50'),
      api('GET', '/social/v1/creators/' + encodeURIComponent(sub) + '/earnings'),
      api('GET', '/social/v1/feed?limit=50').catch(() => ({ items: [] })),
    ]);
    if (!current()) return;
    const promos = own.items || [];
    const sum = (f) => promos.reduce((a, p) => a + f(p), 0);
    const e = (earnings.earnings || [])[0];
    const currency = e ? e.currency : 'IDR';
    const stats = h('div', { class: 'stats', id: 'creator-totals' },
      stat('Promotions', promos.length, 'promotions'),
      stat('Clicks', sum((p) => p.clicks || 0), 'clicks'),
      stat('Sales', e ? e.sales : sum((p) => p.sales ? p.sales.count : 0), 'sales'),
      stat('Sales amount', formatMoney({ amount: e ? e.salesAmount : 0, currency }), 'sales-amount'),
      stat('Earnings (net)', formatMoney({ amount: e ? e.net : 0, currency }), 'earnings'));
    const table = promos.length ? h('table', { class: 'data', id: 'creator-promotions' },
      h('thead', null, h('tr', null, h('th', null, ''), h('th', null, 'Promotion'), h('th', null, 'State'), h('th', { class: 'n' }, 'Rate'),
        h('th', { class: 'n' }, 'Clicks'), h('th', { class: 'n' }, 'Sales'), h('th', { class: 'n' }, 'Units'), h('th', { class: 'n' }, 'Sold'), h('th', { class: 'n' }, 'Earned'), h('th', null, ''))),
      h('tbody', null, promos.map((p) => h('tr', { dataset: { promotion: p.promotionId } },
        h('td', null, h('img', { src: (p.product && p.product.imageUrl) || '/assets/logo.svg', alt: '' })),
        h('td', null, h('a', { href: '#/p/' + p.promotionId }, (p.product && p.product.title) || p.productId), h('div', { class: 'muted' }, p.kind + (p.caption ? ' · ' + p.caption : ''))),
        h('td', null, h('span', { class: 'pill ' + p.state }, p.state)),
        h('td', { class: 'n' }, (p.commissionBps / 100) + '%'),
        h('td', { class: 'n clicks' }, String(p.clicks)),
        h('td', { class: 'n sales' }, String(p.sales.count)),
        h('td', { class: 'n' }, String(p.sales.units)),
        h('td', { class: 'n' }, formatMoney(p.sales.amount)),
        h('td', { class: 'n earned' }, formatMoney({ amount: p.earnings.net, currency: p.earnings.currency || currency })),
        h('td', null, promoActions(p)))))) : h('div', { class: 'empty' }, 'No promotions yet. Promote a product below.');
    mount(h('h1', null, 'Creator studio · @' + sub), stats, h('h2', null, 'Your promotions'), table, h('h2', null, 'Promote a product'), promoteForm(feed.items || []));
  }

  function stat(k, v, id) {
    return h('div', { class: 'stat', id: 'stat-' + id }, h('div', { class: 'v' }, String(v)), h('div', { class: 'k' }, k));
  }

  function promoActions(p) {
    if (p.status === 'ENDED') return null;
    const set = (status) => async () => {
      try {
        await api('PATCH', '/social/v1/promotions/' + p.promotionId, { body: { status } });
        toast('Promotion ' + status.toLowerCase());
        route();
      } catch (e) { toast(messageFor(e)); }
    };
    return h('div', { class: 'inline' },
      p.status === 'ACTIVE' ? h('button', { class: 'btn small secondary', type: 'button', onclick: set('PAUSED') }, 'Pause')
        : h('button', { class: 'btn small secondary', type: 'button', onclick: set('ACTIVE') }, 'Resume'),
      h('button', { class: 'btn small danger', type: 'button', onclick: set('ENDED') }, 'End'));
  }

  function promoteForm(feedItems) {
    const known = new Map();
    for (const it of feedItems) if (it.product) known.set(it.productId, it.product.title);
    const product = h('input', { name: 'productId', required: true, list: 'known-products', placeholder: 'p_…', autocomplete: 'off' });
    const msg = h('div', { class: 'wide' });
    const form = h('form', { class: 'panel', id: 'promote-form' },
      h('label', null, 'Product id', product,
        h('datalist', { id: 'known-products' }, [...known].map(([id, title]) => h('option', { value: id }, title)))),
      h('label', null, 'Kind', h('select', { name: 'kind' }, h('option', { value: 'showcase' }, 'Showcase'), h('option', { value: 'video' }, 'Video'), h('option', { value: 'live' }, 'Live'))),
      h('label', null, 'Commission %', h('input', { name: 'rate', type: 'number', min: 1, max: 50, step: 0.5, value: 10, required: true })),
      h('label', null, 'Runs for (days)', h('input', { name: 'days', type: 'number', min: 1, max: 366, value: 30, required: true })),
      h('label', { class: 'wide' }, 'Caption', h('input', { name: 'caption', maxlength: 500, placeholder: 'What makes it worth buying?' })),
      h('label', { class: 'wide' }, 'Video or image URL (for video and live)', h('input', { name: 'mediaUrl', placeholder: '/assets/kopi-gayo.svg or https://…' })),
      h('div', null, h('button', { class: 'btn', type: 'submit' }, 'Promote')),
      msg);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const f = new FormData(form);
      const body = {
        productId: String(f.get('productId')).trim(),
        kind: f.get('kind'),
        caption: String(f.get('caption') || ''),
        commissionBps: Math.round(Number(f.get('rate')) * 100),
        endsAt: new Date(Date.now() + Number(f.get('days')) * 86400_000).toISOString(),
      };
      const media = String(f.get('mediaUrl') || '').trim();
      if (media) body.mediaUrl = media;
      try {
        await api('POST', '/social/v1/promotions', { body });
        toast('Promotion created');
        route();
      } catch (e) {
        msg.replaceChildren(notice('bad', e.code === 'product_not_found' ? 'Social does not know this product yet (it appears a moment after the seller lists it).' : messageFor(e)));
      }
    });
    return form;
  }

  // ---- seller (commerce) ------------------------------------------------------------

  const IMAGES = ['batik-parang', 'kopi-gayo', 'sambal-bawang', 'tenun-sumba', 'rendang', 'keripik-balado', 'madu-sumbawa', 'tas-rotan'];

  async function sellerPage(_, current) {
    if (!hasScope('seller')) return mount(h('h1', null, 'Seller'), notice('info', 'Sign in as seller-1 to list products and set stock.'));
    mount(h('h1', null, 'Seller centre'), h('p', { class: 'loading' }, 'Loading…'));
    const list = await api('GET', '/commerce/v1/seller/products?limit=100');
    if (!current()) return;
    const items = list.items || [];
    const table = items.length ? h('table', { class: 'data', id: 'seller-products' },
      h('thead', null, h('tr', null, h('th', null, ''), h('th', null, 'Product'), h('th', null, 'Status'), h('th', null, 'Price'), h('th', null, 'Stock'), h('th', null, ''))),
      h('tbody', null, items.map(sellerRow))) : h('div', { class: 'empty' }, 'No products yet. List your first one below.');
    mount(h('h1', null, 'Seller centre · ' + state.session.sub), table, h('h2', null, 'List a product'), listForm());
  }

  function sellerRow(p) {
    const msg = h('div', { class: 'line-error' });
    const digits = ZERO_DIGIT.has(p.price.currency) ? 0 : 2;
    const price = h('input', { type: 'number', min: 1, step: digits ? 0.01 : 1, value: p.price.amount / 10 ** digits, 'aria-label': 'Price', class: 'price-input' });
    const stock = h('input', { type: 'number', min: 0, step: 1, value: p.stock, 'aria-label': 'Stock', class: 'stock-input' });
    const act = (fn, ok) => async () => {
      msg.textContent = '';
      try { await fn(); toast(ok); route(); } catch (e) { msg.textContent = messageFor(e); }
    };
    const listed = p.status === 'LISTED';
    return h('tr', { dataset: { product: p.productId } },
      h('td', null, h('img', { src: p.imageUrl, alt: '' })),
      h('td', null, h('strong', null, p.title), h('div', { class: 'muted' }, h('code', null, p.productId)), msg),
      h('td', null, h('span', { class: 'pill ' + p.status }, p.status), p.stock === 0 && listed ? h('div', { class: 'unavailable-reason' }, 'Out of stock') : null),
      h('td', null, h('div', { class: 'inline' }, price, listed ? h('button', { class: 'btn small secondary save-price', type: 'button',
        onclick: act(() => api('PATCH', '/commerce/v1/products/' + p.productId, { body: { price: { amount: Math.round(Number(price.value) * 10 ** digits), currency: p.price.currency } } }), 'Price saved') }, 'Save') : null)),
      h('td', null, h('div', { class: 'inline' }, stock, listed ? h('button', { class: 'btn small secondary save-stock', type: 'button',
        onclick: act(() => api('PUT', '/commerce/v1/products/' + p.productId + '/stock', { body: { stock: Number(stock.value) } }), 'Stock set') }, 'Set') : null)),
      h('td', null, listed ? h('button', { class: 'btn small danger', type: 'button',
        onclick: act(() => api('DELETE', '/commerce/v1/products/' + p.productId), 'Delisted') }, 'Delist') : null));
  }

  function listForm() {
    const msg = h('div', { class: 'wide' });
    const form = h('form', { class: 'panel', id: 'list-form' },
      h('label', null, 'Title', h('input', { name: 'title', required: true, maxlength: 200, placeholder: 'Kopi Arabika Gayo 250 g' })),
      h('label', null, 'Price (Rp)', h('input', { name: 'price', type: 'number', min: 1, step: 1, required: true, placeholder: '85000' })),
      h('label', null, 'Stock', h('input', { name: 'stock', type: 'number', min: 0, step: 1, value: 10, required: true })),
      h('label', null, 'Image', h('select', { name: 'image' }, IMAGES.map((i) => h('option', { value: '/assets/' + i + '.svg' }, i.replace('-', ' '))))),
      h('label', { class: 'wide' }, 'Description', h('textarea', { name: 'description', rows: 2, maxlength: 5000 })),
      h('div', null, h('button', { class: 'btn', type: 'submit' }, 'List product')),
      msg);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const f = new FormData(form);
      try {
        const p = await api('POST', '/commerce/v1/products', { body: {
          title: String(f.get('title')), description: String(f.get('description') || ''), imageUrl: String(f.get('image')),
          price: { amount: Math.round(Number(f.get('price'))), currency: 'IDR' }, stock: Math.round(Number(f.get('stock'))),
        } });
        toast('Listed ' + p.title);
        route();
      } catch (e) {
        msg.replaceChildren(notice('bad', messageFor(e)));
      }
    });
    return form;
  }

  // ---- start --------------------------------------------------------------------------

  document.addEventListener('DOMContentLoaded', () => {
    $('#signin').addEventListener('click', (ev) => {
      ev.stopPropagation();
      if ($('#picker').hidden) openPicker(); else closePicker();
    });
    for (const b of document.querySelectorAll('[data-who]')) {
      if (b.id !== 'signin') b.addEventListener('click', () => signIn(b.dataset.who));
    }
    document.addEventListener('click', (ev) => {
      if (!$('#picker').hidden && !ev.target.closest('.who')) closePicker();
    });
    document.addEventListener('keydown', (ev) => { if (ev.key === 'Escape') closePicker(); });
    $('#net-retry').addEventListener('click', () => route());
    const xt = $('#xray-toggle');
    xt.checked = localStorage.getItem(XRAY_KEY) === '1';
    $('#xray').hidden = !xt.checked;
    xt.addEventListener('change', () => {
      localStorage.setItem(XRAY_KEY, xt.checked ? '1' : '0');
      $('#xray').hidden = !xt.checked;
    });
    window.addEventListener('hashchange', route);
    // Back from the payment page may restore this page as it was left: look again.
    window.addEventListener('pageshow', (ev) => { if (ev.persisted) route(); });
    window.addEventListener('online', () => { if (!$('#net-error').hidden) route(); });
    route();
  });
})();
