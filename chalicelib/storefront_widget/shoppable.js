/**
 * <shoppable-post>: a shoppable post a shopper can buy from. One ES module, no dependencies,
 * no build step; it loads shoppable.css from beside itself unless the page links it already.
 *
 *   <script type="module" src="https://api.example.com/widget/shoppable.js"></script>
 *   <shoppable-post api="https://api.example.com/" post="post_…" stripe-key="pk_live_…">
 *   </shoppable-post>
 *
 * Attributes
 *   api          the Shoppable API's base URL (relative URLs resolve against the page)
 *   post         the post's id
 *   stripe-key   the Stripe publishable key (pk_…) payments are made with
 *   stripe-js    where Stripe.js is loaded from; default https://js.stripe.com/v3/
 *   locale       how prices are written; default the browser's language
 *   country      the shipping country first selected; default the locale's region
 *   countries    comma-separated ISO codes the shop ships to; default every country
 *   ref          a creator's link ref; default the `ref` of the page's URL
 *   creator-code present: the checkout offers an optional "Creator code" field
 *
 * What it calls: GET {api}v1/storefront/posts/{post}; POST {api}v1/checkouts (with an
 * Idempotency-Key); Stripe.js's confirmCardPayment with the checkout's client_secret and the
 * Card Element; then GET {api}v1/checkouts/{order_id}?client_secret=… until the order is paid.
 * When it is, the element dispatches a `shoppable:paid` event ({detail: {order_id}}).
 *
 * Creators and the funnel: a shopper who arrived by a creator's link (`?ref=…`) checks out
 * with `attribution: {ref, clicked_at, platform}`, and the widget reports the post seen and
 * each hotspot clicked to POST {api}v1/storefront/beacon. No cookie, no storage, nothing about
 * the shopper: the platform is named from `utm_source` or the referrer's host (instagram,
 * facebook, tiktok, pinterest, x), and neither is sent itself. Everything is kept in memory
 * for the page's life only.
 *
 * The API is called through client.js beside this file (generated from the OpenAPI document).
 * Everything that comes from the API is put in the page as text, never parsed as HTML.
 */

import {ShoppableClient} from './client.js';

const STYLESHEET = new URL('./shoppable.css', import.meta.url).href;
const DEFAULT_STRIPE_JS = 'https://js.stripe.com/v3/';
const PAID_STATES = new Set(['paid', 'fulfilled', 'delivered', 'partially_refunded']);
const POLL_INTERVALS_MS = [500, 1000, 1000, 1000, 2000];  // then every 3 s
const POLL_ATTEMPTS = 60;
const MAX_QUANTITY = 99;

// ISO 4217 minor units of the currencies that do not have two: the API's amounts are integers
// in these units. Intl's own digits come from CLDR, which differs from ISO 4217 for some
// currencies (IQD, HUF, LBP, RSD: 0 in Chromium), so they are not used to scale amounts.
const MINOR_UNITS = {
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0, UGX: 0,
  VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
};

const COUNTRIES = `AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL
  BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE
  DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ
  GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM
  KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ
  MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN
  PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY
  SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS
  YE YT ZA ZM ZW`.split(/\s+/);

export function minorUnits(currency) {
  return MINOR_UNITS[currency] ?? 2;
}

/** `{amount: 4900, currency: 'EUR'}` as the locale writes it, e.g. "€49.00" or "49,00 €". */
export function formatMoney({amount, currency}, locale) {
  const digits = minorUnits(currency);
  const units = String(Math.abs(amount)).padStart(digits + 1, '0');
  const decimal = digits ? `${units.slice(0, -digits)}.${units.slice(-digits)}` : units;
  const format = new Intl.NumberFormat(locale, {
    style: 'currency', currency, minimumFractionDigits: digits, maximumFractionDigits: digits,
  });
  // A decimal string is formatted exactly (no binary floating point in between).
  return format.format((amount < 0 ? '-' : '') + decimal);
}

function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name === 'text') node.textContent = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) node.append(child);
  }
  return node;
}

function ensureStylesheet() {
  if (document.querySelector('link[data-shoppable-styles], link[href$="shoppable.css"]')) return;
  document.head.append(h('link', {rel: 'stylesheet', href: STYLESHEET,
                                  'data-shoppable-styles': true}));
}

const stripeScripts = new Map();

function loadStripeJs(url) {
  if (!stripeScripts.has(url)) {
    stripeScripts.set(url, new Promise((resolve, reject) => {
      if (window.Stripe) return resolve(window.Stripe);
      // A classic script, as Stripe.js must be (it is not a module).
      const script = h('script', {src: url, async: true});
      script.addEventListener('load', () => (window.Stripe ? resolve(window.Stripe)
        : reject(new Error('Stripe.js loaded without defining Stripe'))));
      script.addEventListener('error', () => {
        stripeScripts.delete(url);
        reject(new Error(`Stripe.js could not be loaded from ${url}`));
      });
      document.head.append(script);
    }));
  }
  return stripeScripts.get(url);
}

const REF = /^[A-Za-z0-9][A-Za-z0-9_-]{2,31}$/;
const PLATFORM_NAMES = {instagram: 'instagram', ig: 'instagram', facebook: 'facebook',
                        fb: 'facebook', tiktok: 'tiktok', pinterest: 'pinterest', x: 'x',
                        twitter: 'x'};
const PLATFORM_HOSTS = [
  [/(^|\.)instagram\.com$/, 'instagram'],
  [/(^|\.)(facebook\.com|fb\.me|messenger\.com)$/, 'facebook'],
  [/(^|\.)tiktok\.com$/, 'tiktok'],
  [/(^|\.)pinterest\.[a-z.]+$|(^|\.)pin\.it$/, 'pinterest'],
  [/(^|\.)(x\.com|twitter\.com|t\.co)$/, 'x'],
];

/** How the shopper arrived: the creator's ref and the platform, from the page's address. */
export function arrival(search, refAttribute, referrer) {
  const params = new URLSearchParams(search || '');
  const ref = (refAttribute || params.get('ref') || '').trim();
  let platform = PLATFORM_NAMES[(params.get('utm_source') || '').trim().toLowerCase()] || null;
  if (!platform && referrer) {
    try {
      const host = new URL(referrer).hostname.toLowerCase();
      platform = (PLATFORM_HOSTS.find(([pattern]) => pattern.test(host)) || [])[1] || null;
    } catch {
      platform = null;  // not an address
    }
  }
  return {ref: REF.test(ref) ? ref : null, platform, clicked_at: new Date().toISOString()};
}

function idempotencyKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)),
                    (byte) => byte.toString(16).padStart(2, '0')).join('');
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function variantLabel(variant) {
  return Object.values(variant.options || {}).join(' / ');
}

function optionsLegend(variants) {
  const names = Object.keys(variants[0].options || {});
  if (!names.length) return 'Option';
  return names.map((name) => name.charAt(0).toUpperCase() + name.slice(1)).join(' / ');
}

function withoutEmpty(object) {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value));
}

let instances = 0;

export class ShoppablePost extends HTMLElement {
  static observedAttributes = ['api', 'post'];

  constructor() {
    super();
    this.uid = `shp${++instances}`;
    this.post = null;
    this.current = null;       // index of the tag whose product card is open
    this.choices = new Map();  // tag index -> chosen variant id
    this.cart = new Map();     // variant id -> {title, variant, quantity}
    this.checkout = null;      // {text, key, result}: the checkout placed for this cart
    this.card = null;
    this.cardReady = null;
    this.busy = false;
    this.loads = 0;
  }

  get client() {
    return new ShoppableClient(this.getAttribute('api') || '');
  }

  get locale() {
    return this.getAttribute('locale') || undefined;
  }

  connectedCallback() {
    ensureStylesheet();
    if (!this.arrival) {
      this.arrival = arrival(window.location.search, this.getAttribute('ref'),
                             document.referrer);
    }
    if (!this.root) this.build();
    this.load();
  }

  attributeChangedCallback(name, before, after) {
    if (this.root && this.isConnected && before !== after) this.load();
  }

  // Skeleton

  build() {
    const id = this.uid;
    this.live = h('div', {class: 'shp-visually-hidden', 'aria-live': 'polite'});
    this.statusLine = h('p', {class: 'shp-loading', role: 'status', text: 'Loading the post…'});
    this.image = h('img', {class: 'shp-image', alt: '', decoding: 'async'});
    this.image.addEventListener('error', () => this.frame.setAttribute('data-missing', ''));
    this.frame = h('div', {class: 'shp-frame'}, this.image,
                   h('span', {class: 'shp-missing', 'aria-hidden': 'true',
                              text: 'Picture unavailable'}));
    this.caption = h('figcaption', {class: 'shp-caption'});
    this.hint = h('p', {class: 'shp-hint',
                        text: 'Select a + on the picture to see what’s in it.'});
    this.product = h('section', {class: 'shp-product', id: `${id}-product`, hidden: true,
                                 'aria-labelledby': `${id}-product-title`});
    this.product.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') this.closeProduct();
    });
    this.cartSection = this.buildCart();
    this.checkoutSection = this.buildCheckout();
    this.doneSection = h('section', {class: 'shp-done', hidden: true,
                                     'aria-labelledby': `${id}-done-title`});
    this.side = h('div', {class: 'shp-side'},
                  this.hint, this.product, this.cartSection, this.checkoutSection,
                  this.doneSection);
    this.root = h('div', {class: 'shp', 'data-view': 'shop', 'data-state': 'loading'},
                  this.statusLine,
                  h('div', {class: 'shp-layout'},
                    h('figure', {class: 'shp-media'}, this.frame, this.caption),
                    this.side),
                  this.live);
    this.replaceChildren(this.root);
  }

  buildCart() {
    const id = this.uid;
    this.cartTitle = h('h3', {class: 'shp-title', id: `${id}-cart-title`, tabindex: '-1',
                              text: 'Your cart'});
    this.cartEmpty = h('p', {class: 'shp-muted', text: 'Your cart is empty.'});
    this.cartLines = h('ul', {class: 'shp-lines'});
    this.subtotal = h('p', {class: 'shp-subtotal', hidden: true});
    this.cartMessage = h('p', {class: 'shp-message shp-message--error', role: 'alert',
                               tabindex: '-1', hidden: true});
    this.checkoutButton = h('button', {type: 'button', class: 'shp-button shp-button--primary',
                                       hidden: true, text: 'Check out',
                                       onclick: () => this.openCheckout()});
    return h('section', {class: 'shp-cart', 'aria-labelledby': `${id}-cart-title`},
             this.cartTitle, this.cartEmpty, this.cartLines, this.subtotal, this.cartMessage,
             this.checkoutButton);
  }

  field(name, label, props = {}) {
    const id = `${this.uid}-${name}`;
    const control = props.options
      ? h('select', {id, name, required: true, autocomplete: props.autocomplete},
          props.options)
      : h('input', {id, name, type: props.type || 'text', autocomplete: props.autocomplete,
                    required: !props.optional, maxlength: props.maxlength || 200,
                    inputmode: props.inputmode});
    const error = h('p', {class: 'shp-field-error', id: `${id}-error`, hidden: true});
    control.addEventListener('input', () => this.clearFieldError(control));
    return h('div', {class: `shp-field shp-field--${name}`},
             h('label', {for: id}, label,
               props.optional ? h('span', {class: 'shp-muted', text: ' (optional)'}) : null),
             control, error);
  }

  buildCheckout() {
    const id = this.uid;
    this.checkoutTitle = h('h3', {class: 'shp-title', id: `${id}-checkout-title`,
                                  tabindex: '-1', text: 'Checkout'});
    this.summary = h('p', {class: 'shp-summary'});
    this.cardSlot = h('div', {class: 'shp-card-input', id: `${id}-card`});
    this.cardError = h('p', {class: 'shp-field-error', role: 'alert'});
    this.payError = h('p', {class: 'shp-message shp-message--error', role: 'alert',
                            tabindex: '-1', hidden: true});
    this.payButton = h('button', {type: 'submit', class: 'shp-button shp-button--primary',
                                  text: 'Pay'});
    this.form = h('form', {class: 'shp-form', 'aria-labelledby': `${id}-checkout-title`,
                           onsubmit: (event) => this.pay(event)},
      h('fieldset', {class: 'shp-fieldset'}, h('legend', {text: 'Contact'}),
        this.field('email', 'Email', {type: 'email', autocomplete: 'email', maxlength: 254}),
        this.field('name', 'Full name', {autocomplete: 'name'}),
        this.hasAttribute('creator-code')
          ? this.field('referral_code', 'Creator code',
                       {autocomplete: 'off', optional: true, maxlength: 32})
          : null),
      h('fieldset', {class: 'shp-fieldset'}, h('legend', {text: 'Shipping address'}),
        this.field('line1', 'Address', {autocomplete: 'address-line1'}),
        this.field('line2', 'Apartment, suite, etc.',
                   {autocomplete: 'address-line2', optional: true}),
        h('div', {class: 'shp-row'},
          this.field('postal_code', 'Postal code', {autocomplete: 'postal-code', maxlength: 20}),
          this.field('city', 'City', {autocomplete: 'address-level2', maxlength: 100})),
        this.field('region', 'State or region',
                   {autocomplete: 'address-level1', optional: true, maxlength: 100}),
        this.field('country', 'Country', {autocomplete: 'country', options: []})),
      h('fieldset', {class: 'shp-fieldset'}, h('legend', {text: 'Payment'}),
        h('p', {class: 'shp-label', id: `${id}-card-label`, text: 'Card'}),
        this.cardSlot, this.cardError),
      this.payError,
      h('div', {class: 'shp-actions'},
        h('button', {type: 'button', class: 'shp-button', text: 'Back to cart',
                     onclick: () => this.showShop(this.cartTitle)}),
        this.payButton));
    return h('section', {class: 'shp-checkout', hidden: true,
                         'aria-labelledby': `${id}-checkout-title`},
             this.checkoutTitle, this.summary, this.form);
  }

  // The post

  async load() {
    const postId = this.getAttribute('post');
    const load = ++this.loads;
    if (!postId || !this.getAttribute('api')) {
      this.fail('This post cannot be shown: the element needs its api and post attributes.');
      return;
    }
    const response = await this.client.getStorefrontPost(postId);
    if (load !== this.loads) return;  // the attributes changed meanwhile
    if (!response.ok) {
      this.fail(response.status === 404 ? 'This post is not available.'
        : 'The post could not be loaded. Check your connection and reload the page.');
      return;
    }
    this.post = response.data;
    this.renderPost();
    this.report('view');
  }

  /** Tell the funnel (fire and forget: the client never rejects; a lost report is a count). */
  report(kind) {
    const {ref, platform} = this.arrival || {};
    this.client.sendBeacon(withoutEmpty({post_id: this.post.id, kind, ref, platform}));
  }

  async refreshAvailability() {
    const response = await this.client.getStorefrontPost(this.post.id);
    if (!response.ok) return;
    this.post = response.data;
    this.renderPost({keepProduct: true});
  }

  fail(message) {
    this.root.dataset.state = 'error';
    this.statusLine.textContent = message;
    this.statusLine.hidden = false;
  }

  renderPost({keepProduct = false} = {}) {
    const post = this.post;
    this.root.dataset.state = 'ready';
    this.statusLine.hidden = true;
    this.frame.style.aspectRatio = `${post.media.width} / ${post.media.height}`;
    if (this.image.getAttribute('src') !== post.media.url) {
      this.frame.removeAttribute('data-missing');
      this.image.src = post.media.url;
    }
    this.image.alt = post.caption || 'The shoppable post';
    this.caption.textContent = post.caption || '';
    this.frame.querySelectorAll('.shp-hotspot').forEach((node) => node.remove());
    this.hotspots = post.tags.map((tag, index) => {
      const soldOut = tag.availability !== 'in_stock';
      const spot = h('button', {
        type: 'button', class: 'shp-hotspot', 'aria-expanded': 'false',
        'aria-controls': `${this.uid}-product`, 'data-sold-out': soldOut,
        'aria-label': [tag.title, this.priceLabel(tag), soldOut ? 'sold out' : null]
          .filter(Boolean).join(', '),
        onclick: () => {
          this.report('click');
          this.openProduct(index);
        },
      }, h('span', {class: 'shp-hotspot-dot', 'aria-hidden': 'true', text: '+'}));
      spot.style.setProperty('--x', `${Math.min(Math.max(tag.x, 0), 1) * 100}%`);
      spot.style.setProperty('--y', `${Math.min(Math.max(tag.y, 0), 1) * 100}%`);
      this.frame.append(spot);
      return spot;
    });
    if (keepProduct && this.current !== null && this.current < post.tags.length) {
      this.openProduct(this.current, {focus: false});
    } else {
      this.current = null;
      this.product.hidden = true;
      this.hint.hidden = !post.tags.length;
    }
    this.renderCart();
  }

  priceLabel(tag) {
    const prices = new Set(tag.variants.map((variant) => variant.price.amount));
    const price = formatMoney(tag.price, this.locale);
    return prices.size > 1 ? `from ${price}` : price;
  }

  // The product card

  chosenVariant(index) {
    const tag = this.post.tags[index];
    const chosen = tag.variants.find((variant) => variant.id === this.choices.get(index));
    return chosen || tag.variants.find((variant) => variant.availability === 'in_stock')
      || tag.variants[0];
  }

  openProduct(index, {focus = true} = {}) {
    if (this.root.dataset.view !== 'shop') this.showShop();
    this.current = index;
    this.hotspots.forEach((spot, at) => spot.setAttribute('aria-expanded', String(at === index)));
    const tag = this.post.tags[index];
    const id = this.uid;
    const title = h('h3', {class: 'shp-title', id: `${id}-product-title`, tabindex: '-1',
                           text: tag.title});
    const price = h('p', {class: 'shp-price'});
    const availability = h('p', {class: 'shp-availability'});
    const message = h('p', {class: 'shp-message', id: `${id}-product-message`, role: 'status'});
    const add = h('button', {type: 'button', class: 'shp-button shp-button--primary',
                             'aria-describedby': `${id}-product-message`, text: 'Add to cart'});
    const update = () => {
      const variant = this.chosenVariant(index);
      const soldOut = variant.availability !== 'in_stock';
      price.textContent = formatMoney(variant.price, this.locale);
      availability.textContent = soldOut ? 'Sold out' : 'In stock';
      availability.dataset.availability = variant.availability;
      add.setAttribute('aria-disabled', String(soldOut));
      const others = tag.variants.some((other) => other.availability === 'in_stock');
      message.textContent = !soldOut ? ''
        : others ? `${variantLabel(variant) || 'This option'} is sold out. Choose another ${
          optionsLegend(tag.variants).toLowerCase()}.`
          : `Sorry, ${tag.title} is sold out.`;
      message.classList.toggle('shp-message--error', soldOut);
    };
    add.addEventListener('click', () => {
      const variant = this.chosenVariant(index);
      const name = this.lineName({title: tag.title, variant});
      if (variant.availability !== 'in_stock') {
        message.textContent = `Sorry, ${name} is sold out.`;
        return;
      }
      this.addToCart(tag, variant);
      message.classList.remove('shp-message--error');
      message.textContent = `Added to your cart: ${name}.`;
    });
    const picker = tag.variants.length > 1 ? this.variantPicker(index, update) : null;
    const closeButton = h('button', {type: 'button', class: 'shp-close',
                                     'aria-label': `Close ${tag.title}`,
                                     onclick: () => this.closeProduct()},
                          h('span', {'aria-hidden': 'true', text: '×'}));
    const parts = [
      h('div', {class: 'shp-product-head'}, title, closeButton),
      tag.image ? h('img', {class: 'shp-thumb', src: tag.image, alt: '', loading: 'lazy',
                            onerror: (event) => event.target.remove()}) : null,
      price, availability, picker,
      tag.variants.length === 1 && variantLabel(tag.variants[0])
        ? h('p', {class: 'shp-muted', text: variantLabel(tag.variants[0])}) : null,
      h('div', {class: 'shp-actions'}, add), message];
    this.product.replaceChildren(...parts.filter(Boolean));
    update();
    this.hint.hidden = true;
    this.product.hidden = false;
    if (focus) title.focus();
  }

  variantPicker(index, update) {
    const tag = this.post.tags[index];
    const chosen = this.chosenVariant(index);
    const name = `${this.uid}-variant-${index}`;
    return h('fieldset', {class: 'shp-variants'},
      h('legend', {text: optionsLegend(tag.variants)}),
      tag.variants.map((variant) => {
        const soldOut = variant.availability !== 'in_stock';
        // Sold-out choices stay selectable (and so reachable by keyboard and screen readers):
        // choosing one says it is sold out, and adding it to the cart is refused.
        return h('label', {class: 'shp-variant', 'data-sold-out': soldOut},
          h('input', {type: 'radio', name, value: variant.id,
                      checked: variant.id === chosen.id,
                      onchange: () => { this.choices.set(index, variant.id); update(); }}),
          h('span', {class: 'shp-variant-name', text: variantLabel(variant) || 'Standard'}),
          soldOut ? h('span', {class: 'shp-badge', text: 'Sold out'}) : null);
      }));
  }

  closeProduct() {
    if (this.current === null) return;
    const spot = this.hotspots[this.current];
    this.current = null;
    this.product.hidden = true;
    this.hint.hidden = false;
    this.hotspots.forEach((node) => node.setAttribute('aria-expanded', 'false'));
    spot?.focus();
  }

  // The cart

  addToCart(tag, variant) {
    const line = this.cart.get(variant.id);
    if (line) line.quantity = Math.min(line.quantity + 1, MAX_QUANTITY);
    else this.cart.set(variant.id, {title: tag.title, variant, quantity: 1});
    this.cartMessage.hidden = true;
    this.renderCart();
    this.announce(`Added ${this.lineName({title: tag.title, variant})} to your cart.`);
  }

  lineName(line) {
    const label = variantLabel(line.variant);
    return label ? `${line.title} (${label})` : line.title;
  }

  cartTotal() {
    const lines = [...this.cart.values()];
    if (!lines.length) return null;
    return {currency: lines[0].variant.price.currency,
            amount: lines.reduce((sum, line) => sum + line.variant.price.amount * line.quantity,
                                 0)};
  }

  renderCart() {
    const lines = [...this.cart.entries()];
    this.cartEmpty.hidden = lines.length > 0;
    this.checkoutButton.hidden = lines.length === 0;
    this.cartLines.replaceChildren(...lines.map(([variantId, line]) => {
      const quantityId = `${this.uid}-quantity-${variantId}`;
      const total = h('span', {class: 'shp-line-total'});
      const showTotal = () => {
        total.textContent = formatMoney({amount: line.variant.price.amount * line.quantity,
                                         currency: line.variant.price.currency}, this.locale);
      };
      showTotal();
      const quantity = h('input', {id: quantityId, class: 'shp-quantity', type: 'number',
                                   min: 1, max: MAX_QUANTITY, value: line.quantity,
                                   inputmode: 'numeric'});
      quantity.addEventListener('change', () => {
        const wanted = Math.round(Number(quantity.value));
        line.quantity = Number.isFinite(wanted) ? Math.min(Math.max(wanted, 1), MAX_QUANTITY)
          : line.quantity;
        quantity.value = line.quantity;
        showTotal();
        this.renderTotals();
      });
      return h('li', {class: 'shp-line', 'data-variant': variantId},
        h('span', {class: 'shp-line-name'},
          h('span', {class: 'shp-line-title', text: line.title}),
          h('span', {class: 'shp-muted', text: variantLabel(line.variant)})),
        h('label', {class: 'shp-line-quantity', for: quantityId},
          h('span', {class: 'shp-visually-hidden', text: `Quantity of ${this.lineName(line)}`}),
          h('span', {'aria-hidden': 'true', text: 'Qty'})),
        quantity, total,
        h('button', {type: 'button', class: 'shp-link', text: 'Remove',
                     'aria-label': `Remove ${this.lineName(line)}`,
                     onclick: () => {
                       this.cart.delete(variantId);
                       this.renderCart();
                       this.announce(`Removed ${this.lineName(line)} from your cart.`);
                       this.cartTitle.focus();
                     }}));
    }));
    this.renderTotals();
  }

  renderTotals() {
    const total = this.cartTotal();
    const count = [...this.cart.values()].reduce((sum, line) => sum + line.quantity, 0);
    this.subtotal.hidden = !total;
    this.cartTitle.textContent = count ? `Your cart (${count})` : 'Your cart';
    if (!total) return;
    const money = formatMoney(total, this.locale);
    this.subtotal.replaceChildren('Subtotal ', h('strong', {text: money}));
    this.summary.textContent = `${count} ${count === 1 ? 'item' : 'items'} · ${money}`;
    this.payButton.textContent = `Pay ${money}`;
  }

  // Checkout

  showView(view) {
    this.root.dataset.view = view;
    const shop = view === 'shop';
    this.hotspots?.forEach((spot, index) => {
      spot.setAttribute('aria-expanded', String(shop && index === this.current));
    });
    this.cartSection.hidden = !shop;
    this.hint.hidden = !shop || this.current !== null || !this.post?.tags.length;
    this.product.hidden = !shop || this.current === null;
    this.checkoutSection.hidden = view !== 'checkout';
    this.doneSection.hidden = view !== 'done';
  }

  showShop(focusTarget) {
    this.showView('shop');
    focusTarget?.focus();
  }

  openCheckout() {
    if (!this.cart.size) return;
    this.fillCountries();
    this.payError.hidden = true;
    this.renderTotals();
    this.showView('checkout');
    this.checkoutTitle.focus();
    this.cardReady = this.cardReady || this.mountCard();
  }

  fillCountries() {
    const select = this.form.elements.country;
    if (select.options.length) return;
    const wanted = (this.getAttribute('countries') || '').toUpperCase().split(',')
      .map((code) => code.trim()).filter((code) => COUNTRIES.includes(code));
    const codes = wanted.length ? wanted : COUNTRIES;
    let names;
    try {
      names = new Intl.DisplayNames(this.locale ? [this.locale] : undefined, {type: 'region'});
    } catch {
      names = {of: (code) => code};
    }
    const options = codes.map((code) => ({code, name: names.of(code) || code}))
      .sort((a, b) => a.name.localeCompare(b.name, this.locale));
    let preferred = (this.getAttribute('country') || '').toUpperCase();
    if (!codes.includes(preferred)) {
      try {
        preferred = new Intl.Locale(this.locale || navigator.language).maximize().region;
      } catch {
        preferred = '';
      }
    }
    select.replaceChildren(...options.map(({code, name}) => h('option', {
      value: code, text: name, selected: code === preferred})));
  }

  async mountCard() {
    const key = this.getAttribute('stripe-key');
    if (!key) {
      this.cardError.textContent = 'This shop does not take payments yet.';
      return null;
    }
    try {
      const Stripe = await loadStripeJs(this.getAttribute('stripe-js') || DEFAULT_STRIPE_JS);
      const stripe = Stripe(key);
      this.card = stripe.elements().create('card', {
        hidePostalCode: true,
        style: {base: {fontSize: '16px', fontFamily: 'system-ui, sans-serif'}},
      });
      this.card.mount(this.cardSlot);
      this.card.on('change', (event) => {
        this.cardError.textContent = (event && event.error && event.error.message) || '';
      });
      return stripe;
    } catch {
      this.cardReady = null;  // try again next time
      this.cardError.textContent =
        'The payment form could not be loaded. Check your connection and try again.';
      return null;
    }
  }

  values() {
    const value = (name) => this.form.elements[name].value.trim();
    return {
      email: value('email'), name: value('name'), line1: value('line1'), line2: value('line2'),
      city: value('city'), postal_code: value('postal_code'), region: value('region'),
      country: value('country'),
      referral_code: this.form.elements.referral_code ? value('referral_code') : '',
    };
  }

  checkoutBody(values) {
    const {ref, clicked_at, platform} = this.arrival || {};
    return {
      ...(values.referral_code ? {referral_code: values.referral_code} : {}),
      ...(ref ? {attribution: withoutEmpty({ref, clicked_at, platform})} : {}),
      post_id: this.post.id,
      lines: [...this.cart.entries()].map(([variant_id, line]) => ({
        variant_id, quantity: line.quantity})),
      customer: {email: values.email, name: values.name},
      shipping_address: withoutEmpty({
        line1: values.line1, line2: values.line2, city: values.city,
        postal_code: values.postal_code, region: values.region, country: values.country}),
    };
  }

  async pay(event) {
    event.preventDefault();
    if (this.busy) return;
    this.payError.hidden = true;
    this.form.querySelectorAll('[aria-invalid="true"]')
      .forEach((control) => this.clearFieldError(control));
    if (!this.form.checkValidity()) {
      this.form.reportValidity();
      this.form.querySelector(':invalid')?.focus();
      return;
    }
    this.setBusy(true);
    try {
      const stripe = await (this.cardReady = this.cardReady || this.mountCard());
      if (!stripe) {
        this.showPayError(this.cardError.textContent || 'Payments are unavailable right now.');
        return;
      }
      const values = this.values();
      const placed = await this.placeCheckout(this.checkoutBody(values));
      if (!placed) return;
      const result = await stripe.confirmCardPayment(placed.client_secret, {
        payment_method: {
          card: this.card,
          billing_details: {
            name: values.name, email: values.email,
            address: withoutEmpty({line1: values.line1, line2: values.line2, city: values.city,
                                   postal_code: values.postal_code, state: values.region,
                                   country: values.country}),
          },
        },
      });
      if (result.error) {
        // The same checkout can be paid with another card, unless Stripe says it is over.
        if (result.error.code === 'payment_intent_unexpected_state') this.checkout = null;
        this.showPayError(result.error.message || 'Your payment did not go through.');
        return;
      }
      this.showDone(placed);
    } finally {
      this.setBusy(false);
    }
  }

  setBusy(busy) {
    this.busy = busy;
    this.form.setAttribute('aria-busy', String(busy));
    this.payButton.disabled = busy;
    if (busy) this.payButton.textContent = 'Paying…';
    else this.renderTotals();
  }

  /** One order per cart and buyer: a retry of the same checkout replays the same answer. */
  async placeCheckout(body) {
    const text = JSON.stringify(body);
    if (this.checkout?.text === text && this.checkout.result) return this.checkout.result;
    if (this.checkout?.text !== text) this.checkout = {text, key: idempotencyKey(), result: null};
    const response = await this.client.createCheckout(body, {idempotencyKey: this.checkout.key});
    if (response.ok) {
      this.checkout.result = response.data;
      return response.data;
    }
    if (response.status >= 400 && response.status < 500) this.checkout = null;
    this.checkoutRefused(response);
    return null;
  }

  checkoutRefused(response) {
    const error = response.error || {};
    const param = error.param || '';
    const line = /^lines\[(\d+)\]/.exec(param);
    if (error.code === 'out_of_stock' && line) {
      const [, refused] = [...this.cart.entries()][Number(line[1])] || [];
      const name = refused ? this.lineName(refused) : 'An item in your cart';
      this.showShop();
      this.cartMessage.textContent =
        `Sorry, ${name} sold out, or not enough is left for your order. ` +
        'Change the quantity or remove it to check out.';
      this.cartMessage.hidden = false;
      this.cartLines.querySelectorAll('.shp-line').forEach((node, at) => {
        node.toggleAttribute('data-refused', at === Number(line[1]));
      });
      this.cartMessage.focus();
      this.refreshAvailability();
      return;
    }
    const field = param.split('.').pop();
    const control = /^(customer\.|shipping_address\.|referral_code$)/.test(param)
      && this.form.elements[field];
    if (control) {
      this.showFieldError(control, error.message || 'Please check this field.');
      return;
    }
    this.showPayError(response.status === 0 || response.status >= 500
      ? 'We could not reach the shop. Check your connection and try again.'
      : error.message || 'The checkout was refused.');
  }

  showFieldError(control, message) {
    const error = this.querySelector(`#${control.id}-error`);
    error.textContent = message.replace(/^[\w.[\]]+: /, '');
    error.hidden = false;
    control.setAttribute('aria-invalid', 'true');
    control.setAttribute('aria-describedby', error.id);
    control.focus();
  }

  clearFieldError(control) {
    control.removeAttribute('aria-invalid');
    control.removeAttribute('aria-describedby');
    const error = this.querySelector(`#${control.id}-error`);
    if (error) error.hidden = true;
  }

  showPayError(message) {
    this.payError.textContent = message;
    this.payError.hidden = false;
    this.payError.focus();
  }

  // After paying

  showDone(placed) {
    const id = this.uid;
    this.status = h('strong', {class: 'shp-order-status', 'data-order-status': 'pending_payment',
                               text: 'payment processing'});
    this.doneMessage = h('p', {class: 'shp-message', role: 'status',
                               text: 'We’re confirming your payment…'});
    const title = h('h3', {class: 'shp-title', id: `${id}-done-title`, tabindex: '-1',
                           text: 'Thank you for your order'});
    this.doneSection.replaceChildren(
      title,
      h('p', {class: 'shp-order'}, 'Order ', h('code', {class: 'shp-order-id',
                                                        text: placed.order_id})),
      h('p', {class: 'shp-order'}, 'Status ', this.status),
      this.doneMessage,
      h('div', {class: 'shp-actions'},
        h('button', {type: 'button', class: 'shp-button', text: 'Continue shopping',
                     onclick: () => this.showShop(this.cartTitle)})));
    this.cart.clear();
    this.checkout = null;
    this.renderCart();
    this.showView('done');
    title.focus();
    this.pollOrder(placed);
  }

  async pollOrder({order_id: orderId, client_secret: clientSecret}) {
    const client = this.client;
    for (let attempt = 0; attempt < POLL_ATTEMPTS && this.isConnected; attempt++) {
      const response = await client.getCheckoutStatus(orderId, {client_secret: clientSecret});
      const status = response.ok ? response.data.status : null;
      if (status && PAID_STATES.has(status)) {
        this.showOrderStatus('paid', 'Your payment went through: your order is paid.');
        this.dispatchEvent(new CustomEvent('shoppable:paid', {bubbles: true,
                                                              detail: {order_id: orderId}}));
        return;
      }
      if (status === 'refunded') {
        this.showOrderStatus('refunded', 'The items sold out before your payment arrived, ' +
                             'so it was refunded in full.');
        return;
      }
      await sleep(POLL_INTERVALS_MS[attempt] ?? 3000);
    }
    this.doneMessage.textContent =
      `Your payment is still being confirmed. Keep your order number, ${orderId}.`;
  }

  showOrderStatus(status, message) {
    this.status.dataset.orderStatus = status;
    this.status.textContent = status;
    this.doneMessage.textContent = message;
  }

  // Plumbing

  announce(text) {
    this.live.textContent = '';
    setTimeout(() => { this.live.textContent = text; }, 50);
  }
}

if (!customElements.get('shoppable-post')) customElements.define('shoppable-post', ShoppablePost);
