/*
 * The Phone Numbers console: every action is a call to the agnitel API
 * with the key the user pasted, kept in sessionStorage (this tab only)
 * and sent as X-Api-Key, never in a URL.  No framework, no build step.
 */

'use strict';

(function () {

const KEY = 'agnitel.api_key';
const SYMBOLS = { USD: '$', INR: '₹' };

let config = { api: '/api/v1/', sip_termination_uri: '' };
let termsVersion = null;
let ruleOf = {};        /* phone_number -> dispatch rule */

const $ = (sel, root) => (root || document).querySelector(sel);
const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));


/* --- the API --- */

class ApiError extends Error {
    constructor(status, code, field, message) {
        super(message);
        this.status = status;
        this.code = code;
        this.field = field;
    }
}

function apiKey() {
    return sessionStorage.getItem(KEY) || '';
}

async function api(method, path, body, headers) {
    const opts = { method: method, headers: { 'X-Api-Key': apiKey() } };

    Object.assign(opts.headers, headers || {});

    if (body instanceof Blob) {
        opts.body = body;

    } else if (body !== undefined) {
        opts.headers['Content-Type'] = 'application/json';
        opts.body = JSON.stringify(body);
    }

    let res;

    try {
        res = await fetch(config.api + path, opts);

    } catch (e) {
        const msg = 'The API cannot be reached: check the connection, '
                    + 'then try again.';
        showBanner(msg);
        throw new ApiError(0, 'unreachable', null, msg);
    }

    let json = null;

    try {
        json = await res.json();
    } catch (e) {
        /* not JSON: something in front of the API answered */
    }

    if (res.status === 401) {
        showBanner('Your API key was refused: it is unknown, revoked or '
                   + 'expired. Paste a valid key above.');
    }

    if (!res.ok || !json || json.success !== true) {
        const err = (json && json.error) || {};
        throw new ApiError(res.status, err.code || 'error', err.field || null,
                           (json && json.message)
                           || 'The API answered ' + res.status + '.');
    }

    hideBanner();
    return json;
}


/* --- the page's pieces --- */

function showBanner(text) {
    const b = $('#banner');
    b.textContent = text;
    b.hidden = false;
}

function hideBanner() {
    $('#banner').hidden = true;
}

function money(amount, currency) {
    if (amount === null || amount === undefined) {
        return '–';
    }

    return (SYMBOLS[currency] || (currency + ' ')) + String(amount);
}

function day(iso) {
    return iso ? iso.slice(0, 10) : '–';
}

function cell(tr, content) {
    const td = document.createElement('td');

    if (content instanceof Node) {
        td.appendChild(content);
    } else {
        td.textContent = content === null || content === undefined
                         ? '–' : String(content);
    }

    tr.appendChild(td);
    return td;
}

function button(text, cls) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = text;
    if (cls) {
        b.className = cls;
    }
    return b;
}

function clearErrors(form) {
    $$('[data-error-for]', form).forEach(e => { e.textContent = ''; });
    $$('[aria-invalid]', form).forEach(e => e.removeAttribute('aria-invalid'));
    $$('.form-error, .form-ok', form).forEach(e => { e.textContent = ''; });
}

/* the message next to the field it names, else under the form */
function showError(form, err) {
    if (!(err instanceof ApiError)) {
        console.error(err);
        err = { message: 'Something went wrong: try again.' };
    }

    const name = err.field && CSS.escape(err.field);
    const slot = name && form.querySelector('[data-error-for="' + name + '"]');
    const input = name && form.querySelector('[name="' + name + '"]');

    if (slot) {
        slot.textContent = err.message;

        if (input) {
            if (!slot.id) {
                slot.id = 'err-' + form.id + '-' + err.field.replace(/\W/g, '-');
            }
            input.setAttribute('aria-invalid', 'true');
            input.setAttribute('aria-describedby', slot.id);
            input.focus();
        }
        return;
    }

    const general = $('.form-error', form);
    general.textContent = err.message;
}

/* a long action: its button disabled and saying so until it is over */
async function busy(btn, label, fn) {
    const text = btn.textContent;

    btn.disabled = true;
    btn.textContent = label;
    btn.setAttribute('aria-busy', 'true');

    try {
        return await fn();
    } finally {
        btn.disabled = false;
        btn.textContent = text;
        btn.removeAttribute('aria-busy');
    }
}

/* the form's fields as an object; "a.b" names nest; empty ones are left out */
function values(form) {
    const out = {};

    $$('input[name], select[name]', form).forEach(input => {
        const v = input.value.trim();
        if (v === '') {
            return;
        }

        const path = input.name.split('.');
        let o = out;

        for (let i = 0; i < path.length - 1; i++) {
            o = o[path[i]] = o[path[i]] || {};
        }
        o[path[path.length - 1]] = v;
    });

    return out;
}

/* a modal: resolves true when its OK button closed it */
function ask(dialog) {
    return new Promise(resolve => {
        dialog.returnValue = '';
        dialog.addEventListener('close',
                                () => resolve(dialog.returnValue === 'ok'),
                                { once: true });
        dialog.showModal();
    });
}

function confirmAction(title, text, ok) {
    const d = $('#confirm');
    $('#confirm-h').textContent = title;
    $('#confirm-text').textContent = text;
    $('[data-close="ok"]', d).textContent = ok;
    return ask(d);
}

function idempotencyKey() {
    if (crypto.randomUUID) {
        return crypto.randomUUID();
    }

    const b = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(b, x => x.toString(16).padStart(2, '0')).join('');
}

/* runs a form's action, its errors shown in it */
function onSubmit(form, fn) {
    form.addEventListener('submit', async ev => {
        ev.preventDefault();
        clearErrors(form);

        const btn = form.querySelector('button[type="submit"]');

        try {
            await busy(btn, btn.textContent + '…', () => fn(form));
        } catch (err) {
            showError(form, err);
        }
    });
}


/* --- navigation --- */

const loaders = {};

function show() {
    const id = (location.hash || '#owned').slice(1);
    const panel = document.getElementById(id);
    const keyed = apiKey() !== '';

    $('#no-key').hidden = keyed;
    $('#forget-key').hidden = !keyed;

    $$('.panel').forEach(p => { p.hidden = !keyed || p !== panel; });
    $$('.menu a').forEach(a => {
        if (a.getAttribute('href') === '#' + id) {
            a.setAttribute('aria-current', 'page');
        } else {
            a.removeAttribute('aria-current');
        }
    });

    if (keyed && panel && loaders[id]) {
        loaders[id]().catch(err => {
            const target = panel.querySelector('.form-error');
            if (target) {
                target.textContent = err.message;
            }
        });
    }
}


/* --- the key --- */

onSubmit($('#key-form'), async form => {
    const input = $('#api-key');
    const value = input.value.trim();

    if (value === '') {
        throw new ApiError(400, 'invalid_field', 'api_key',
                           'Paste an API key (agn_…).');
    }

    sessionStorage.setItem(KEY, value);

    try {
        await api('GET', 'telephony/providers');
    } catch (err) {
        if (err.status === 401) {
            sessionStorage.removeItem(KEY);
            err.field = 'api_key';
            err.message = 'This key is refused: unknown, revoked or expired.';
        }
        throw err;
    }

    input.value = '';
    show();
});

$('#forget-key').addEventListener('click', () => {
    sessionStorage.removeItem(KEY);
    hideBanner();
    show();
});


/* --- Custom Provider --- */

onSubmit($('#import-form'), async form => {
    const body = values(form);
    const res = await api('POST', 'phone-numbers/import', body);

    form.reset();
    $('#import-uri').value = config.sip_termination_uri;
    $('.form-ok', form).textContent = 'Imported ' + res.data.phone_number
                                      + ': it is in your owned numbers.';
});


/* --- Twilio --- */

loaders.twilio = async () => {
    const res = await api('GET', 'telephony/providers');
    const p = res.data.find(x => x.type === 'twilio_own'
                                 || x.type === 'twilio_managed');
    const note = $('#twilio-connected');

    $('#twilio-cards').hidden = !!p;
    note.hidden = !p;

    if (p) {
        $('#own-form').hidden = true;
        $('#managed-form').hidden = true;
        note.textContent = 'Connected: ' + p.friendly_name + ' ('
            + (p.type === 'twilio_managed' ? 'managed account'
                                           : 'your own account')
            + (p.account_sid ? ', ' + p.account_sid : '') + ').';
    }
};

$('#own-choose').addEventListener('click', async () => {
    if (await ask($('#own-confirm'))) {
        $('#managed-form').hidden = true;
        $('#own-form').hidden = false;
        $('#own-name').focus();
    }
});

$('#managed-choose').addEventListener('click', async () => {
    const d = $('#terms');
    const list = $('#terms-clauses');
    const accept = $('#terms-accept');
    const ok = $('[data-close="ok"]', d);

    try {
        const res = await api('GET', 'telephony/terms');
        termsVersion = res.data.version;
        list.replaceChildren(...res.data.clauses.map(c => {
            const li = document.createElement('li');
            li.textContent = c;
            return li;
        }));
    } catch (err) {
        $('#twilio .form-error, #managed-form .form-error').textContent =
            err.message;
        return;
    }

    accept.checked = false;
    ok.disabled = true;

    if (await ask(d)) {
        $('#own-form').hidden = true;
        $('#managed-form').hidden = false;
        $('#managed-name').focus();
    }
});

$('#terms-accept').addEventListener('change', ev => {
    $('#terms [data-close="ok"]').disabled = !ev.target.checked;
});

onSubmit($('#own-form'), async form => {
    await api('POST', 'telephony/providers/twilio',
              Object.assign({ mode: 'own' }, values(form)));
    form.reset();
    await loaders.twilio();
});

onSubmit($('#managed-form'), async form => {
    await api('POST', 'telephony/providers/twilio',
              Object.assign({ mode: 'managed', accept_terms: true,
                              terms_version: termsVersion }, values(form)));
    form.reset();
    await loaders.twilio();
});


/* --- Indian telephony --- */

const INDIA_STATES = {
    none: 'Not started: give the provider a name to begin.',
    otp_required: 'Step 1 of 2: verify your mobile number.',
    kyc_required: 'Step 2 of 2: upload your documents and submit your KYC.',
    kyc_submitted: 'KYC submitted: an operator is reviewing it.',
    approved: 'Approved: buy +91 numbers under Buy numbers.',
    rejected: 'KYC rejected: correct it and submit again.'
};

loaders.india = async () => {
    const res = await api('GET', 'telephony/providers');
    const p = res.data.find(x => x.type === 'india');
    const state = p ? p.state : 'none';
    let text = INDIA_STATES[state] || state;

    if (state === 'rejected' && p.rejection_reason) {
        text += ' Reason: ' + p.rejection_reason;
    }

    $('#india-state').textContent = text;
    $('#india-create').hidden = state !== 'none';
    $('#otp-send').hidden = state !== 'otp_required';
    $('#otp-check').hidden = state !== 'otp_required'
                             || !$('#otp-check').dataset.mobile;
    $('#kyc').hidden = state !== 'kyc_required' && state !== 'rejected';
};

onSubmit($('#india-create'), async form => {
    await api('POST', 'telephony/providers/india', values(form));
    await loaders.india();
});

onSubmit($('#otp-send'), async form => {
    const body = values(form);

    await api('POST', 'telephony/india/otp', body);
    $('#otp-check').dataset.mobile = body.mobile;
    $('.form-ok', form).textContent = 'A code was sent to ' + body.mobile + '.';
    $('#otp-check').hidden = false;
    $('#otp-code').focus();
});

onSubmit($('#otp-check'), async form => {
    await api('POST', 'telephony/india/otp/check',
              { mobile: form.dataset.mobile, code: values(form).code });
    form.reset();
    await loaders.india();
});

const DOC_TYPES = { pdf: 'application/pdf', jpg: 'image/jpeg',
                    jpeg: 'image/jpeg', png: 'image/png' };

$$('[data-upload]').forEach(btn => btn.addEventListener('click', async () => {
    const type = btn.dataset.upload;
    const row = btn.closest('.doc');
    const file = $('input[type="file"]', row).files[0];
    const state = $('.doc-state', row);

    if (!file) {
        state.textContent = 'Choose a file first.';
        return;
    }

    const ext = file.name.split('.').pop().toLowerCase();
    const ctype = file.type || DOC_TYPES[ext] || 'application/octet-stream';

    try {
        const res = await busy(btn, 'Uploading…', () =>
            api('PUT', 'telephony/india/kyc/documents/' + type,
                new Blob([file], { type: ctype }),
                { 'Content-Type': ctype }));
        state.textContent = 'Uploaded (' + res.data.size + ' bytes).';
    } catch (err) {
        state.textContent = err.message;
    }
}));

onSubmit($('#kyc-form'), async form => {
    await api('POST', 'telephony/india/kyc', values(form));
    await loaders.india();
});


/* --- Buy --- */

onSubmit($('#search-form'), async form => {
    const q = new URLSearchParams(values(form));
    const body = $('#results tbody');

    $('#buy-status').textContent = '';
    $('#results').hidden = true;
    $('#results-empty').hidden = true;

    const res = await api('GET', 'phone-numbers/available?' + q);

    body.replaceChildren(...res.data.map(n => resultRow(n)));
    $('#results').hidden = res.data.length === 0;
    $('#results-empty').hidden = res.data.length !== 0;
});

function resultRow(n) {
    const tr = document.createElement('tr');
    const buy = button('Buy Number', 'primary');

    buy.setAttribute('aria-label', 'Buy Number ' + n.phone_number);

    cell(tr, n.phone_number);
    cell(tr, n.region || n.locality);
    cell(tr, money(n.price, n.currency));
    cell(tr, money(n.per_minute_price_inbound, n.currency));
    cell(tr, money(n.per_minute_price_outbound, n.currency));
    cell(tr, buy);

    buy.addEventListener('click', async () => {
        const form = $('#search-form');
        clearErrors(form);

        const yes = await confirmAction('Buy ' + n.phone_number + '?',
            'It costs ' + money(n.price, n.currency) + ' a month; calls '
            + money(n.per_minute_price_inbound, n.currency) + ' a minute in, '
            + money(n.per_minute_price_outbound, n.currency)
            + ' a minute out.', 'Buy Number');

        if (!yes) {
            return;
        }

        try {
            /* one key per click: a retry of this click buys nothing twice */
            const key = idempotencyKey();

            await busy(buy, 'Buying…', () =>
                api('POST', 'phone-numbers/buy', {
                    phone_number: n.phone_number,
                    price: n.price,
                    per_minute_price_inbound: n.per_minute_price_inbound,
                    per_minute_price_outbound: n.per_minute_price_outbound
                }, { 'Idempotency-Key': key }));

            tr.remove();
            $('#buy-status').textContent = 'Bought ' + n.phone_number
                                           + ': it is in your owned numbers.';
        } catch (err) {
            showError(form, err);
        }
    });

    return tr;
}


/* --- Pages of a table: "201–201 of 201" between Previous and Next --- */

const pageAt = { numbers: 0, ledger: 0 };   /* each table's offset */

function showPage(table, size, shown, total) {
    const at = pageAt[table];

    $('#' + table + '-pager').hidden = total <= size;
    $('#' + table + '-range').textContent =
        (at + 1) + '–' + (at + shown) + ' of ' + total;
    $('#' + table + '-prev').disabled = at === 0;
    $('#' + table + '-next').disabled = at + size >= total;
}

/* Previous and Next move the table by size and load it; errors go in where */
function pager(table, size, load, where) {
    const move = step => () => {
        const was = pageAt[table];

        pageAt[table] = Math.max(0, was + step);
        return load().catch(err => {
            pageAt[table] = was;        /* still showing that page */
            showError(where, err);
        });
    };

    $('#' + table + '-prev').addEventListener('click', move(-size));
    $('#' + table + '-next').addEventListener('click', move(size));
}


/* --- Owned numbers --- */

const NUMBERS_PAGE = 200;       /* the API's largest page */

loaders.owned = async () => {
    const [numbers, rules] = await Promise.all([
        api('GET', 'phone-numbers?limit=' + NUMBERS_PAGE
                   + '&offset=' + pageAt.numbers),
        api('GET', 'dispatch-rules')
    ]);

    /* the last page emptied (its numbers released): show the one before */
    if (numbers.data.length === 0 && pageAt.numbers > 0) {
        pageAt.numbers = Math.max(0, pageAt.numbers - NUMBERS_PAGE);
        return loaders.owned();
    }

    ruleOf = {};
    rules.data.forEach(r => { ruleOf[r.phone_number] = r; });

    $('#owned-error').textContent = '';
    $('#owned-status').textContent = '';
    $('#numbers tbody').replaceChildren(...numbers.data.map(numberRow));
    $('#numbers').hidden = numbers.data.length === 0;
    $('#numbers-empty').hidden = numbers.data.length !== 0;
    showPage('numbers', NUMBERS_PAGE, numbers.data.length, numbers.meta.total);
};

pager('numbers', NUMBERS_PAGE, loaders.owned, $('#owned'));

function numberRow(n) {
    const tr = document.createElement('tr');
    const path = 'phone-numbers/' + encodeURIComponent(n.phone_number);
    const rule = ruleOf[n.phone_number];
    let status = n.status;

    tr.dataset.number = n.phone_number;

    if (n.status === 'grace') {
        tr.className = 'grace';
        const hours = Math.max(0, Math.ceil(
            (Date.parse(n.grace_ends_at) - Date.now()) / 3600000));
        status = 'grace: ' + hours + ' h left to renew';
    }

    cell(tr, n.phone_number);
    cell(tr, n.friendly_name);
    cell(tr, n.provider);
    cell(tr, status).className = 'status';
    cell(tr, day(n.renews_at));

    /* the dispatch rule, set inline */
    const agent = document.createElement('input');
    agent.className = 'agent';
    agent.value = rule ? rule.agent_id : '';
    agent.setAttribute('aria-label', 'Agent for ' + n.phone_number);
    const save = button('Save');
    save.setAttribute('aria-label', 'Save the agent for ' + n.phone_number);
    const span = document.createElement('span');
    span.append(agent, ' ', save);
    cell(tr, span);

    save.addEventListener('click', () => act(save, 'Saving…', async () => {
        const id = agent.value.trim();

        if (rule && rule.agent_id === id) {
            return;
        }
        if (rule) {
            await api('DELETE', 'dispatch-rules/' + rule.id);
        }
        if (id !== '') {
            await api('POST', 'dispatch-rules',
                      { phone_number: n.phone_number, agent_id: id });
        }
        return 'Calls to ' + n.phone_number
               + (id ? ' go to ' + id + '.' : ' go to no agent.');
    }));

    const actions = document.createElement('span');

    if (n.status === 'grace') {
        const renew = button('Renew', 'primary');
        renew.setAttribute('aria-label', 'Renew ' + n.phone_number);
        renew.addEventListener('click', () => act(renew, 'Renewing…',
            async () => {
                await api('POST', path + '/renew');
                return 'Renewed ' + n.phone_number + '.';
            }));
        actions.append(renew, ' ');
    }

    if (n.status !== 'released') {
        const release = button('Release', 'danger');
        release.setAttribute('aria-label', 'Release ' + n.phone_number);
        release.addEventListener('click', async () => {
            const yes = await confirmAction('Release ' + n.phone_number + '?',
                'The number goes back to the carrier for good. Nothing is '
                + 'refunded.', 'Release');
            if (yes) {
                act(release, 'Releasing…', async () => {
                    await api('DELETE', path + '/release');
                    return 'Released ' + n.phone_number + '.';
                });
            }
        });
        actions.append(release);
    }

    cell(tr, actions);
    return tr;
}

/* an action on a number: done, the list is read again */
async function act(btn, label, fn) {
    $('#owned-error').textContent = '';
    $('#owned-status').textContent = '';

    try {
        const done = await busy(btn, label, fn);
        await loaders.owned();
        if (done) {
            $('#owned-status').textContent = done;
        }
    } catch (err) {
        $('#owned-error').textContent = err instanceof ApiError
            ? err.message : 'Something went wrong: try again.';
    }
}


/* --- Billing --- */

const LEDGER_PAGE = 50;

loaders.billing = async () => {
    const currency = $('#billing-currency').value;
    const [billing, ledger] = await Promise.all([
        api('GET', 'billing?currency=' + currency),
        api('GET', 'billing/ledger?limit=' + LEDGER_PAGE + '&offset='
                   + pageAt.ledger + '&currency=' + currency)
    ]);

    $('#balance').textContent = money(billing.data.balance, currency);
    $('#cycle-end').textContent = day(billing.data.cycle_end);

    $('#ledger tbody').replaceChildren(...ledger.data.map(e => {
        const tr = document.createElement('tr');
        cell(tr, day(e.created_at));
        cell(tr, e.type.replace(/_/g, ' '));
        cell(tr, e.phone_number);
        cell(tr, money(e.amount, currency));
        cell(tr, money(e.balance_after, currency));
        return tr;
    }));
    showPage('ledger', LEDGER_PAGE, ledger.data.length, ledger.meta.total);
};

/* another currency: its ledger from the newest entry */
onSubmit($('#billing-form'), () => {
    pageAt.ledger = 0;
    return loaders.billing();
});

pager('ledger', LEDGER_PAGE, loaders.billing, $('#billing-form'));


/* --- start --- */

/* a dialog's buttons close it, saying which: "ok" or "cancel" */
$$('dialog [data-close]').forEach(b => b.addEventListener('click', () =>
    b.closest('dialog').close(b.dataset.close)));

window.addEventListener('hashchange', show);

window.addEventListener('unhandledrejection', ev => {
    console.error(ev.reason);
    showBanner('Something went wrong: reload the page and try again.');
});

async function start() {
    try {
        const res = await fetch('config.json');
        Object.assign(config, await res.json());
    } catch (e) {
        /* the defaults will do */
    }

    $('#import-uri').value = config.sip_termination_uri;
    show();
}

start();

})();
