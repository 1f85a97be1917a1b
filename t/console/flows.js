// The console's flows in headless chromium, for t/console.t: every check
// is one JSON line {ok, name, diag} on stdout.  Each step is asserted on
// the page and on the API.  The environment says where things are:
// CONSOLE_BASE, CONSOLE_KEYS and CONSOLE_WORKSPACES (three each),
// CONSOLE_ARTIFACTS, CONSOLE_CHROMIUM, CONSOLE_PATIENCE (ms).

'use strict';

const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const BASE = process.env.CONSOLE_BASE;
const KEYS = process.env.CONSOLE_KEYS.split(',');
const WS = process.env.CONSOLE_WORKSPACES.split(',');
const ARTIFACTS = process.env.CONSOLE_ARTIFACTS;
const PATIENCE = Number(process.env.CONSOLE_PATIENCE || 15000);
const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

function check(ok, name, diag) {
    process.stdout.write(JSON.stringify({ ok: !!ok, name: name,
                                          diag: ok ? undefined : diag })
                         + '\n');
    return !!ok;
}

async function api(ws, method, p, body) {
    const res = await fetch(BASE + '/api/v1/' + p, {
        method: method,
        headers: { 'X-Api-Key': KEYS[ws - 1],
                   'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body)
    });
    return { status: res.status, body: await res.json().catch(() => null) };
}

async function admin(method, p, body) {
    const res = await fetch(BASE + '/admin/v1/' + p, {
        method: method,
        headers: { 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body)
    });
    return { status: res.status, body: await res.json().catch(() => null) };
}

async function until(fn, what) {
    const deadline = Date.now() + PATIENCE;

    while (Date.now() < deadline) {
        if (await fn()) {
            return true;
        }
        await new Promise(r => setTimeout(r, 100));
    }

    throw new Error('timed out waiting for ' + what);
}

async function shot(page, name) {
    await page.screenshot({ path: path.join(ARTIFACTS, name + '.png'),
                            fullPage: true });
}

// no serious or critical axe-core violation on what the page shows now
async function accessible(page, what) {
    await page.evaluate(AXE);
    const result = await page.evaluate(() =>
        window.axe.run(document, { resultTypes: ['violations'] }));
    const bad = result.violations.filter(v => v.impact === 'serious'
                                              || v.impact === 'critical');
    check(bad.length === 0, 'axe: no serious violation on ' + what,
          JSON.stringify(bad.map(v => ({ id: v.id, impact: v.impact,
              nodes: v.nodes.map(n => n.target.join(' ')) })), null, 1));
}

async function text(page, sel) {
    return (await page.locator(sel).first().textContent() || '').trim();
}

async function useKey(page, ws) {
    if (await page.locator('#forget-key').isVisible()) {
        await page.click('#forget-key');
    }
    await page.fill('#api-key', KEYS[ws - 1]);
    await page.click('#key-form button[type="submit"]');
    await page.locator('#forget-key').waitFor({ state: 'visible' });
}

async function go(page, panel) {
    await page.evaluate(h => { location.hash = h; }, panel);
    await page.locator('#' + panel).waitFor({ state: 'visible' });
}

// a confirmation dialog: its text, then OK
async function confirm(page, id) {
    const d = page.locator(id);
    await d.waitFor({ state: 'visible' });
    const t = (await d.textContent()).replace(/\s+/g, ' ');
    await d.locator('[data-close="ok"]').click();
    await d.waitFor({ state: 'hidden' });
    return t;
}

async function main() {
    const browser = await chromium.launch({
        executablePath: process.env.CONSOLE_CHROMIUM,
        args: ['--no-sandbox', '--disable-dev-shm-usage']
    });

    const context = await browser.newContext({
        viewport: { width: 1280, height: 900 }
    });
    context.setDefaultTimeout(PATIENCE);

    const page = await context.newPage();
    const problems = [];

    page.on('pageerror', e => problems.push('page error: ' + e.message));
    page.on('console', m => {
        if (m.type() === 'error' && /Content.Security.Policy/i.test(m.text())) {
            problems.push('CSP: ' + m.text());
        }
    });

    try {
        await flows(page, context);
    } catch (e) {
        await shot(page, '99-failure').catch(() => {});
        throw e;
    } finally {
        check(problems.length === 0,
              'no script error and nothing blocked by the CSP',
              problems.join('\n'));
        await browser.close();
    }
}

async function flows(page, context) {

    // --- the page itself

    const res = await page.goto(BASE + '/console/');
    const csp = res.headers()['content-security-policy'] || '';
    check(res.status() === 200, 'the console is served');
    check(/default-src 'self'/.test(csp) && !/unsafe-inline/.test(csp),
          "with a strict Content-Security-Policy", csp);
    const html = await res.text();
    check(!/<script(?![^>]*\bsrc=)[^>]*>/i.test(html),
          'and no inline script in the page');

    check(await page.locator('#no-key').isVisible(),
          'without a key it asks for one');
    check(await page.locator('.panel:visible').count() === 0,
          'and shows no panel');
    await page.keyboard.press('Tab');
    check(await page.evaluate(() => document.activeElement.id) === 'api-key',
          'the key field is the first stop of the keyboard');
    await accessible(page, 'the page without a key');
    await shot(page, '01-no-key');

    await page.fill('#api-key', 'agn_' + 'x'.repeat(32));
    await page.click('#key-form button[type="submit"]');
    await page.locator('[data-error-for="api_key"]').filter({ hasText: /refused/ })
              .waitFor();
    check(true, 'a wrong key is refused next to the key field');

    await useKey(page, 1);
    check(await page.evaluate(() => sessionStorage.getItem('agnitel.api_key'))
          === KEYS[0], 'the key is kept in sessionStorage');
    check(!page.url().includes(KEYS[0]), 'and never in the URL');
    check(await page.locator('#owned').isVisible(),
          'with a key the owned numbers show');

    // --- Custom Provider: BYOC import

    await go(page, 'custom');
    check(await page.inputValue('#import-uri') === 'sip:console.example.com',
          'the termination URI is filled in from the configuration');
    await accessible(page, 'Custom Provider');

    await page.fill('#import-number', '4155550100');
    await page.fill('#import-name', 'Support');
    await page.fill('#import-user', 'trunk');
    await page.fill('#import-pass', 'secret');
    await page.click('#import-form button[type="submit"]');
    await page.locator('#import-form [data-error-for="phone_number"]')
              .filter({ hasText: /E\.164/ }).waitFor();
    check(await page.getAttribute('#import-number', 'aria-invalid') === 'true',
          "a bad number: the API's message next to the phone number field");
    await shot(page, '02-custom-error');

    await page.fill('#import-number', '+14155550100');
    await page.click('#import-form button[type="submit"]');
    await page.locator('#import-form .form-ok').filter({ hasText: /Imported/ })
              .waitFor();
    let r = await api(1, 'GET', 'phone-numbers/%2B14155550100');
    check(r.status === 200 && r.body.data.provider === 'custom'
          && r.body.data.inbound_trunk.termination_uri
             === 'sip:console.example.com',
          'Import Custom Number: the number is in the API, custom, with the URI',
          JSON.stringify(r.body));
    await shot(page, '03-custom');

    // --- Twilio, your own account

    await go(page, 'twilio');
    await accessible(page, 'Twilio');
    await page.click('#own-choose');
    await page.locator('#own-confirm').waitFor({ state: 'visible' });
    await accessible(page, 'the own-account confirmation');
    await shot(page, '04-own-confirm');
    await page.keyboard.press('Escape');
    await page.locator('#own-confirm').waitFor({ state: 'hidden' });
    check(await page.locator('#own-form').isHidden(),
          'Escape closes the confirmation, and nothing goes on');

    await page.click('#own-choose');
    await confirm(page, '#own-confirm');
    await page.fill('#own-name', 'Main Twilio');
    await page.fill('#own-sid', 'AC00000000000000000000000000000000');
    await page.fill('#own-token', 'wrong-token');
    await page.click('#own-form button[type="submit"]');
    await page.locator('#own-form .form-error').filter({ hasText: /./ }).waitFor();
    check(true, 'wrong credentials: the refusal is shown in the form');

    await page.fill('#own-token', 'sandbox-auth-token');
    await page.click('#own-form button[type="submit"]');
    await page.locator('#twilio-connected').filter({ hasText: /Connected/ }).waitFor();
    r = await api(1, 'GET', 'telephony/providers');
    check(r.body.data.some(p => p.type === 'twilio_own'),
          'Connect Account: the API has the own-account provider');
    check(!(await page.content()).includes('sandbox-auth-token'),
          'and the token is nowhere on the page');
    await shot(page, '05-own-connected');

    // --- Buy: search, prices, Buy Number with a price confirmation

    await go(page, 'buy');
    await page.fill('#search-area', '533');
    await page.click('#search-form button[type="submit"]');
    await page.locator('#results-empty').waitFor({ state: 'visible' });
    check(true, 'a search that finds nothing says so');

    await page.fill('#search-area', '500');
    await page.click('#search-form button[type="submit"]');
    await page.locator('#results tbody tr').first().waitFor();
    const row = page.locator('#results tbody tr',
                             { hasText: '+15005550006' });
    check(/\$1\.15/.test(await row.textContent()),
          'results show the monthly price', await row.textContent());
    check(/\$0\.0085/.test(await row.textContent())
          && /\$0\.0945/.test(await row.textContent()),
          'and the per-minute prices in and out');
    await accessible(page, 'search results');
    await shot(page, '06-search');

    let requests = [];
    page.on('request', q => {
        if (q.url().endsWith('/phone-numbers/buy')) {
            requests.push(q.headers()['idempotency-key']);
        }
    });

    await row.locator('button').click();
    const said = await confirm(page, '#confirm');
    check(/\$1\.15 a month/.test(said), 'Buy asks first, saying the price', said);
    await page.locator('#buy-status').filter({ hasText: /Bought \+15005550006/ })
              .waitFor();
    check(requests.length === 1 && /^[0-9a-f-]{32,36}$/.test(requests[0]),
          'the purchase carries an Idempotency-Key', JSON.stringify(requests));
    r = await api(1, 'GET', 'phone-numbers/%2B15005550006');
    check(r.status === 200 && r.body.data.status === 'active',
          'the API has the number, active');
    await shot(page, '07-bought');

    // --- Owned: status, provider, renewal; dispatch rule; release

    await go(page, 'owned');
    const owned = page.locator('#numbers tbody tr', { hasText: '+15005550006' });
    await owned.waitFor();
    check(/twilio/.test(await owned.textContent())
          && /active/.test(await owned.textContent()),
          'owned numbers show provider and status');
    await accessible(page, 'owned numbers');

    await owned.locator('input.agent').fill('agent_7');
    await owned.locator('button', { hasText: 'Save' }).click();
    await page.locator('#owned-status').filter({ hasText: /agent_7/ }).waitFor();
    r = await api(1, 'GET', 'dispatch-rules');
    check(r.body.data.some(x => x.phone_number === '+15005550006'
                                && x.agent_id === 'agent_7'),
          'the dispatch rule set inline is in the API');

    const custom = page.locator('#numbers tbody tr', { hasText: '+14155550100' });
    await custom.locator('button', { hasText: 'Release' }).click();
    await page.locator('#confirm').waitFor({ state: 'visible' });
    await page.locator('#confirm [data-close="cancel"]').click();
    r = await api(1, 'GET', 'phone-numbers/%2B14155550100');
    check(r.status === 200 && r.body.data.status !== 'released',
          'release asks first: cancelled, the number stays');

    await custom.locator('button', { hasText: 'Release' }).click();
    await confirm(page, '#confirm');
    await page.locator('#owned-status').filter({ hasText: /Released/ }).waitFor();
    r = await api(1, 'GET', 'phone-numbers/%2B14155550100');
    check(r.status === 404 || r.body.data.status === 'released',
          'confirmed: the API releases it', JSON.stringify(r));
    await shot(page, '08-owned');

    // --- more numbers than a page: the pager

    await Promise.all(Array.from({ length: 200 }, (_, i) =>
        api(1, 'POST', 'phone-numbers/import', {
            phone_number: '+1646555' + String(1000 + i),
            friendly_name: 'Line ' + i, sip_username: 'u' + i,
            sip_password: 'p' + i })));
    const total = (await api(1, 'GET', 'phone-numbers?limit=1')).body.meta.total;
    await go(page, 'buy');
    await go(page, 'owned');
    await page.locator('#numbers-pager').waitFor({ state: 'visible' });
    check(await text(page, '#numbers-range') === '1–200 of ' + total
          && await page.locator('#numbers tbody tr').count() === 200,
          'over 200 numbers (' + total + '): the first 200, and a pager',
          await text(page, '#numbers-range'));
    check(await page.isDisabled('#numbers-prev'),
          'on the first page, Previous is disabled');
    await page.click('#numbers-next');
    await page.locator('#numbers-range')
              .filter({ hasText: '201–' + total + ' of ' + total }).waitFor();
    check(await page.locator('#numbers tbody tr').count() === total - 200
          && await page.isDisabled('#numbers-next'),
          'Next: the rest, and Next disabled on the last page');
    await accessible(page, 'owned numbers, second page');
    await shot(page, '08-owned-page-2');
    await page.click('#numbers-prev');
    await page.locator('#numbers-range')
              .filter({ hasText: '1–200 of ' + total }).waitFor();
    check(await page.locator('#numbers tbody tr', { hasText: '+15005550006' })
              .count() === 1,
          'Previous: back to the first page');

    // --- the API going away mid-session, then a refused key

    await page.route('**/api/v1/**', route => route.abort());
    await go(page, 'billing');
    await page.click('#billing-form button[type="submit"]');
    await page.locator('#banner').filter({ hasText: /cannot be reached/ }).waitFor();
    const banner = await text(page, '#banner');
    check(!/at |Error:|TypeError|\.js:/.test(banner),
          'the API gone: a clear message, no stack trace', banner);
    await shot(page, '09-api-gone');
    await page.unroute('**/api/v1/**');

    await page.evaluate(() => sessionStorage.setItem('agnitel.api_key',
                                                     'agn_' + '9'.repeat(32)));
    await page.click('#billing-form button[type="submit"]');
    await page.locator('#banner').filter({ hasText: /refused/ }).waitFor();
    check(!/at |TypeError|\.js:/.test(await text(page, '#banner')),
          'an expired key (401): a clear message, no stack trace');
    await shot(page, '10-key-refused');

    // --- Twilio managed: the terms, credits, buy, grace and renew

    await useKey(page, 2);
    await go(page, 'twilio');
    await page.click('#managed-choose');
    const terms = page.locator('#terms');
    await terms.waitFor({ state: 'visible' });
    check(await page.locator('#terms-clauses li').count() === 4,
          'the terms modal shows the four clauses');
    check(await terms.locator('[data-close="ok"]').isDisabled(),
          'Accept waits for the box to be ticked');
    await accessible(page, 'the terms');
    await shot(page, '11-terms');
    await page.check('#terms-accept');
    await confirm(page, '#terms');
    await page.fill('#managed-name', 'Managed');
    await page.click('#managed-form button[type="submit"]');
    await page.locator('#twilio-connected').filter({ hasText: /managed/ }).waitFor();
    r = await api(2, 'GET', 'telephony/providers');
    check(r.body.data.some(p => p.type === 'twilio_managed'
                                && p.terms && p.terms.version),
          'the API has the managed provider, its terms accepted',
          JSON.stringify(r.body.data));

    r = await admin('POST', 'workspaces/' + WS[1] + '/credits',
                    { amount: 1.15, reference: 'console-1' });
    check(r.status === 201, 'an operator tops up 1.15');

    await go(page, 'buy');
    await page.fill('#search-area', '500');
    await page.click('#search-form button[type="submit"]');
    const row2 = page.locator('#results tbody tr', { hasText: '+15005550100' });
    await row2.locator('button').click();
    await confirm(page, '#confirm');
    await page.locator('#buy-status').filter({ hasText: /Bought/ }).waitFor();
    check(true, 'a managed number bought from credits');

    // renewal every 2 s here: the credits are gone, so grace
    await until(async () => (await api(2, 'GET', 'phone-numbers/%2B15005550100'))
                .body.data.status === 'grace', 'grace');

    await go(page, 'billing');
    await go(page, 'owned');
    const grace = page.locator('#numbers tbody tr.grace', { hasText: '+15005550100' });
    await grace.waitFor();
    check(/h left to renew/.test(await grace.textContent()),
          'a number in grace shows the hours left', await grace.textContent());
    check(await grace.evaluate(tr => getComputedStyle(tr.cells[0]).color)
          === 'rgb(163, 0, 27)', 'in red');
    await accessible(page, 'a number in grace');
    await shot(page, '12-grace');

    await grace.locator('button', { hasText: 'Renew' }).click();
    await page.locator('#owned-error').filter({ hasText: /top up/ }).waitFor();
    check(true, 'Renew with no credits: the API says to top up');

    await admin('POST', 'workspaces/' + WS[1] + '/credits',
                { amount: 100, reference: 'console-2' });
    await page.locator('#numbers tbody tr', { hasText: '+15005550100' })
              .locator('button', { hasText: 'Renew' }).click();
    await page.locator('#owned-status').filter({ hasText: /Renewed/ }).waitFor();
    r = await api(2, 'GET', 'phone-numbers/%2B15005550100');
    check(r.body.data.status === 'active', 'Renew from grace: active again');

    // --- Billing: the number released first, so that no renewal (every
    // 2 s here) moves the balance between the page's read and ours

    r = await api(2, 'DELETE', 'phone-numbers/%2B15005550100/release');
    check(r.status === 200, 'the managed number is released');

    await go(page, 'billing');
    await page.click('#billing-form button[type="submit"]');
    await page.locator('#ledger tbody tr').first().waitFor();
    r = await api(2, 'GET', 'billing');
    const ledger = await api(2, 'GET', 'billing/ledger?limit=50');
    check(await text(page, '#balance') === '$' + r.body.data.balance,
          'the balance is the API\'s', await text(page, '#balance'));
    check(await page.locator('#ledger tbody tr').count()
          === ledger.body.data.length, 'and so is the ledger');
    check(/renewed every 28 days/.test(await text(page, '#billing .warning')),
          "with the seed's renewal warning");
    await accessible(page, 'billing');
    await shot(page, '13-billing');

    // more entries than a page: 50 top-ups, then the ledger's pager
    for (let i = 0; i < 50; i++) {
        await admin('POST', 'workspaces/' + WS[1] + '/credits',
                    { amount: 1, reference: 'page-' + i });
    }
    const entries = (await api(2, 'GET', 'billing/ledger?limit=1')).body.meta.total;
    await page.click('#billing-form button[type="submit"]');
    await page.locator('#ledger-range')
              .filter({ hasText: '1–50 of ' + entries }).waitFor();
    await page.click('#ledger-next');
    await page.locator('#ledger-range')
              .filter({ hasText: '51–' + entries + ' of ' + entries }).waitFor();
    const oldest = await api(2, 'GET', 'billing/ledger?limit=1&offset='
                                       + (entries - 1));
    check(await page.locator('#ledger tbody tr').count() === entries - 50
          && /topup/.test(await page.locator('#ledger tbody tr').last()
                                    .textContent())
          && oldest.body.data[0].type === 'topup',
          'the ledger pages: Next shows the older entries, the first top-up '
          + 'last');
    await page.click('#ledger-prev');
    await page.locator('#ledger-range')
              .filter({ hasText: '1–50 of ' + entries }).waitFor();
    check(await page.isDisabled('#ledger-prev'),
          'Previous back to the newest, and disabled there');

    // --- Indian telephony: OTP, KYC, approval, +91 numbers

    await useKey(page, 3);
    await go(page, 'india');
    await page.fill('#india-name', 'India');
    await page.click('#india-create button[type="submit"]');
    await page.locator('#otp-send').waitFor({ state: 'visible' });
    await page.fill('#otp-mobile', '+911234');
    await page.click('#otp-send button[type="submit"]');
    await page.locator('#otp-send [data-error-for="mobile"]').filter({ hasText: /./ })
              .waitFor();
    check(true, 'a bad mobile: the error next to the mobile field');
    await page.fill('#otp-mobile', '+919876543210');
    await page.click('#otp-send button[type="submit"]');
    await page.locator('#otp-check').waitFor({ state: 'visible' });
    await page.fill('#otp-code', '123456');
    await page.click('#otp-check button[type="submit"]');
    await page.locator('#kyc').waitFor({ state: 'visible' });
    r = await api(3, 'GET', 'telephony/providers');
    check(r.body.data[0].state === 'kyc_required',
          'the OTP verified: the API is at KYC');
    await accessible(page, 'the KYC step');

    const pdf = Buffer.from('%PDF-1.7\n' + 'k'.repeat(300));
    for (const type of ['pan_card', 'address_proof']) {
        await page.setInputFiles('#doc-' + type,
            { name: type + '.pdf', mimeType: 'application/pdf', buffer: pdf });
        await page.click('[data-upload="' + type + '"]');
        await page.locator('[data-doc="' + type + '"] .doc-state')
                  .filter({ hasText: /Uploaded/ }).waitFor();
    }
    check(true, 'the documents are uploaded, each with its progress');

    await page.fill('#kyc-legal', 'Asha Rao');
    await page.fill('#kyc-pan', 'AAPFU0939');
    await page.fill('#kyc-line1', '1 MG Road');
    await page.fill('#kyc-city', 'Bengaluru');
    await page.fill('#kyc-state', 'Karnataka');
    await page.fill('#kyc-pin', '560001');
    await page.fill('#kyc-sig-name', 'Asha Rao');
    await page.fill('#kyc-sig-id', '234123412346');
    await page.click('#kyc-form button[type="submit"]');
    await page.locator('#kyc-form [data-error-for="pan"]').filter({ hasText: /./ })
              .waitFor();
    check(await page.getAttribute('#kyc-pan', 'aria-invalid') === 'true',
          'a bad PAN: the error next to the PAN field');
    await shot(page, '14-kyc-error');

    await page.fill('#kyc-pan', 'AAPFU0939F');
    await page.click('#kyc-form button[type="submit"]');
    await page.locator('#india-state').filter({ hasText: /reviewing/ }).waitFor();
    check(true, 'KYC submitted: the state banner says it is under review');

    r = await admin('POST', 'kyc/' + WS[2] + '/approve');
    check(r.status === 200, 'an operator approves');
    await page.evaluate(() => { location.hash = 'owned'; });
    await go(page, 'india');
    await page.locator('#india-state').filter({ hasText: /Approved/ }).waitFor();
    check(true, 'the state banner says approved');
    await shot(page, '15-india-approved');

    await admin('POST', 'workspaces/' + WS[2] + '/credits',
                { amount: 1000, currency: 'INR', reference: 'console-3' });
    await go(page, 'buy');
    await page.selectOption('#search-country', 'IN');
    await page.fill('#search-area', '');
    await page.fill('#search-region', 'KA');
    await page.click('#search-form button[type="submit"]');
    const inRow = page.locator('#results tbody tr').first();
    await inRow.waitFor();
    check(/₹295/.test(await inRow.textContent())
          && /₹0\.6/.test(await inRow.textContent()),
          'Indian numbers at ₹295 a month, ₹0.60 a minute',
          await inRow.textContent());
    const inNumber = (await inRow.locator('td').first().textContent()).trim();
    await inRow.locator('button').click();
    await confirm(page, '#confirm');
    await page.locator('#buy-status').filter({ hasText: /Bought/ }).waitFor();
    r = await api(3, 'GET', 'phone-numbers/' + encodeURIComponent(inNumber));
    check(r.status === 200 && r.body.data.provider === 'india'
          && r.body.data.currency === 'INR',
          'a +91 number bought, paid in rupees', JSON.stringify(r.body));

    // --- 360 px and 1920 px

    for (const [w, h] of [[360, 740], [1920, 1080]]) {
        await page.setViewportSize({ width: w, height: h });

        for (const panel of ['owned', 'buy', 'india', 'billing', 'custom']) {
            await go(page, panel);
            const wide = await page.evaluate(() =>
                document.documentElement.scrollWidth);
            check(wide <= w, panel + ' fits ' + w + ' px (' + wide + ')');
            await shot(page, '20-' + w + '-' + panel);
        }
    }
}

main().catch(e => {
    check(false, 'the flows ran to the end', e.stack || String(e));
    process.exitCode = 1;
});
