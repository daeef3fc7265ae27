// Shoppable's dev stack appends this to localstripe's Stripe.js stand-in (localstripe-v3.js),
// so it sees that script's names: Stripe, Element, LOCALSTRIPE_BASE_API, openModal.
// Why: devstack/localstripe_browser.py. In short, confirmCardPayment here does what
// Stripe.js does: it confirms the PaymentIntent with the card and the client_secret, and asks
// for 3-D Secure only when the intent requires it.
(() => {
  const localstripeStripe = Stripe;
  const FIELDS = {
    number: ['Card number', 'cc-number'],
    exp_month: ['Expiry month (MM)', 'cc-exp-month'],
    exp_year: ['Expiry year (YY)', 'cc-exp-year'],
    cvc: ['Security code (CVC)', 'cc-csc'],
    postal_code: ['Postal code', 'postal-code'],
  };

  const mount = Element.prototype.mount;
  Element.prototype.mount = function (domElement) {
    mount.call(this, domElement);
    if (this._options && this._options.hidePostalCode) this._inputs.postal_code.remove();
    for (const [field, input] of Object.entries(this._inputs || {})) {
      const [label, autocomplete] = FIELDS[field] || [field, 'off'];
      input.setAttribute('aria-label', label);
      input.setAttribute('autocomplete', autocomplete);
      input.setAttribute('inputmode', 'numeric');
    }
  };

  async function post(path, body) {
    // A body without a Content-Type is text/plain: a simple cross-origin request, no preflight.
    try {
      const response = await fetch(LOCALSTRIPE_BASE_API + path, {
        method: 'POST',
        body: JSON.stringify(body),
      });
      const answer = await response.json().catch(() => ({}));
      if (response.ok && !answer.error) return {intent: answer};
      return {error: answer.error || {message: `localstripe answered ${response.status}`}};
    } catch (failure) {
      return {error: {type: 'api_connection_error', message: String(failure)}};
    }
  }

  Stripe = (apiKey, options) => {
    const stripe = localstripeStripe(apiKey, options);
    const elements = stripe.elements;
    stripe.elements = (...args) => {
      const made = elements(...args);
      const create = made.create;
      made.create = function (type, elementOptions = {}) {
        const element = create.call(this, type, elementOptions);
        element._options = elementOptions;  // for hidePostalCode, as Stripe's Card Element
        return element;
      };
      return made;
    };
    stripe.confirmCardPayment = async (clientSecret, data = {}) => {
      const intentId = (/^(pi_[A-Za-z0-9]+)_secret_/.exec(clientSecret || '') || [])[1];
      const method = data.payment_method || {};
      const card = method.card instanceof Element
        ? method.card.value && method.card.value.card
        : method.card;
      if (!intentId || !card || !card.number) {
        return {error: {type: 'validation_error', code: 'incomplete_number',
                        message: 'Your card number is incomplete.'}};
      }
      let result = await post(`/v1/payment_intents/${intentId}/confirm`, {
        key: apiKey,
        client_secret: clientSecret,
        payment_method_data: {
          type: 'card',
          card: {...card, number: String(card.number).replace(/\D/g, '')},
          billing_details: method.billing_details || {},
        },
      });
      if (result.intent && result.intent.status === 'requires_action') {
        const authenticated = await openModal('3D Secure\nDo you want to confirm or cancel?',
                                              'Complete authentication', 'Fail authentication');
        result = await post(
          `/v1/payment_intents/${intentId}/_authenticate?success=${authenticated}`,
          {key: apiKey, client_secret: clientSecret});
        if (result.intent && result.intent.status === 'requires_payment_method') {
          result = {error: {code: 'payment_intent_authentication_failure',
                            message: 'We are unable to authenticate your payment method. ' +
                                     'Please choose a different payment method and try again.'}};
        }
      }
      return result.error ? {error: result.error} : {paymentIntent: result.intent};
    };
    return stripe;
  };
})();
