// The agent page in headless Chromium. Started by agent_test.go, which
// runs `ivr serve` on a line whose flow puts the caller in a queue, and
// passes in the environment:
//
//   IVR_URL          the line's HTTP server (agent page at /agent, widget demo page at /)
//   AGENT_MIC        the agent's microphone (WAV): tone pulses at AGENT_TONE_HZ
//   CALLER_MIC       the caller's microphone (WAV): silence, "I lost my card",
//                    silence, then tone pulses at CALLER_TONE_HZ
//   AGENT, AGENT_NAME, AGENT_PASSWORD   the agent who signs in
//   ADMIN_TOKEN      the line's admin token (GET /api/agents)
//   CHROMIUM         the browser (default /usr/bin/chromium)
//   OUT_DIR          where screenshots go
//
// The agent and the caller each get their own Chromium, since a fake
// microphone is a browser-wide setting.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const env = (name) => {
  const v = process.env[name];
  if (!v) {
    throw new Error(`${name} is not set: run this through go test ./test/browser/ -run TestAgentPage`);
  }
  return v;
};
const IVR_URL = env('IVR_URL');
const AGENT_MIC = env('AGENT_MIC');
const CALLER_MIC = env('CALLER_MIC');
const AGENT = env('AGENT');
const AGENT_NAME = env('AGENT_NAME');
const AGENT_PASSWORD = env('AGENT_PASSWORD');
const ADMIN_TOKEN = env('ADMIN_TOKEN');
const OUT_DIR = env('OUT_DIR');
const CALLER_TONE_HZ = Number(env('CALLER_TONE_HZ'));
const AGENT_TONE_HZ = Number(env('AGENT_TONE_HZ'));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

const launch = (mic) => chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
    `--use-file-for-fake-audio-capture=${mic}`,
    '--autoplay-policy=no-user-gesture-required',
    '--allow-loopback-in-peer-connection',
  ],
});

let agentBrowser;
let callerBrowser;

before(async () => {
  [agentBrowser, callerBrowser] = await Promise.all([launch(AGENT_MIC), launch(CALLER_MIC)]);
});

after(async () => {
  await agentBrowser?.close();
  await callerBrowser?.close();
});

// Keep every RTCPeerConnection a page makes, so the test can listen to
// what it receives without the page exposing anything.
const recordPeerConnections = () => {
  const Native = window.RTCPeerConnection;
  window.__pcs = [];
  window.RTCPeerConnection = function (...args) {
    const pc = new Native(...args);
    window.__pcs.push(pc);
    return pc;
  };
  window.RTCPeerConnection.prototype = Native.prototype;
};

async function newPage(browser, who, options = {}) {
  const context = await browser.newContext({ permissions: ['microphone'], ...options });
  const page = await context.newPage();
  await page.addInitScript(recordPeerConnections);
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') {
      console.log(`[${who} console ${m.type()}] ${m.text()}`);
    }
  });
  page.on('pageerror', (e) => console.log(`[${who} page error] ${e.message}`));
  return { context, page };
}

// hear listens for ms to what the page's latest peer connection receives
// (WebAudio on the remote track) and returns the level and the share of
// the power within 25 Hz of hz.
async function hear(page, hz, ms) {
  return page.evaluate(async ({ hz, ms }) => {
    const pc = window.__pcs[window.__pcs.length - 1];
    const recv = pc && pc.getReceivers().find((r) => r.track && r.track.kind === 'audio');
    if (!recv) {
      return { rms: 0, share: 0, peakHz: 0, error: 'no audio receiver' };
    }
    const ctx = new AudioContext();
    await ctx.resume();
    const src = ctx.createMediaStreamSource(new MediaStream([recv.track]));
    const an = ctx.createAnalyser();
    an.fftSize = 8192;
    an.smoothingTimeConstant = 0;
    src.connect(an);
    const freq = new Float32Array(an.frequencyBinCount);
    const wave = new Float32Array(an.fftSize);
    const acc = new Float64Array(an.frequencyBinCount);
    const binHz = ctx.sampleRate / an.fftSize;
    let sumSq = 0;
    let n = 0;
    const end = performance.now() + ms;
    while (performance.now() < end) {
      await new Promise((r) => setTimeout(r, 60));
      an.getFloatTimeDomainData(wave);
      for (const v of wave) {
        sumSq += v * v;
      }
      n += wave.length;
      an.getFloatFrequencyData(freq);
      for (let i = 0; i < freq.length; i++) {
        acc[i] += Math.pow(10, freq[i] / 10);
      }
    }
    await ctx.close();
    let total = 0;
    let band = 0;
    let peak = 0;
    let peakI = 0;
    for (let i = Math.ceil(100 / binHz); i < acc.length; i++) {
      total += acc[i];
      if (Math.abs(i * binHz - hz) <= 25) {
        band += acc[i];
      }
      if (acc[i] > peak) {
        peak = acc[i];
        peakI = i;
      }
    }
    return { rms: Math.sqrt(sumSq / Math.max(1, n)), share: total ? band / total : 0, peakHz: Math.round(peakI * binHz) };
  }, { hz, ms });
}

// hearTone listens until the page hears hz (most of the power, audible)
// or the time is up.
async function hearTone(page, who, hz, timeoutMs) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    last = await hear(page, hz, 1500);
    if (last.share > 0.5 && last.rms > 0.005) {
      console.log(`${who} hears ${hz} Hz: ${JSON.stringify(last)}`);
      return last;
    }
  }
  throw new Error(`${who} did not hear ${hz} Hz: last ${JSON.stringify(last)}`);
}

test('agent page: sign in, available in the browser, screen pop, answer, audio both ways, hang up', async () => {
  const agent = await newPage(agentBrowser, 'agent', {
    viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2,
  });
  const caller = await newPage(callerBrowser, 'caller', { viewport: { width: 1000, height: 900 } });
  const a = agent.page;
  const c = caller.page;
  const T = Date.now();
  const mark = (what) => console.log(`+${Date.now() - T} ms: ${what}`);
  try {
    await a.goto(`${IVR_URL}/agent`);
    await a.getByRole('heading', { name: 'Sign in' }).waitFor();
    mark('sign-in form');

    // Keyboard only: the name field has focus; a wrong password is
    // refused with an alert.
    await a.waitForFunction(() => document.activeElement && document.activeElement.id === 'agent');
    await a.keyboard.type(AGENT);
    await a.keyboard.press('Tab');
    await a.keyboard.type('not-the-password');
    await a.keyboard.press('Enter');
    await a.getByRole('alert').filter({ hasText: 'wrong agent name or password' }).waitFor({ timeout: 15000 });
    mark('wrong password refused');

    await a.getByLabel('Password').fill(AGENT_PASSWORD);
    await a.getByLabel('Password').press('Enter');
    await a.getByRole('heading', { name: 'Your state' }).waitFor({ timeout: 15000 });
    assert.equal(await a.locator('#who-name').textContent(), AGENT_NAME);
    mark('signed in');
    const badge = a.locator('#state-badge');

    // Away, then available, answering in this browser.
    await a.getByRole('radio', { name: 'Away' }).check();
    await a.waitForFunction(() => document.getElementById('state-badge').textContent === 'Away');
    // Calls to the phone: alice has none registered, so she is offline
    // for the queues, and the page says why.
    await a.getByRole('radio', { name: 'On my phone' }).check();
    await a.getByRole('radio', { name: 'Available' }).check();
    await a.waitForFunction(() => document.getElementById('state-badge').textContent === 'Offline', null, { timeout: 15000 });
    assert.match(await a.locator('#state-hint').textContent(), /phone is not connected/);
    await a.getByRole('radio', { name: 'In this browser' }).check();
    await a.waitForFunction(() => document.getElementById('state-badge').textContent === 'Available', null, { timeout: 15000 });
    assert.match(await a.locator('#state-hint').textContent(), /Calls ring here/);
    const announce = a.locator('#announce');
    assert.equal(await announce.getAttribute('aria-live'), 'assertive', 'the ringing call is announced');
    const overflow = await a.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(overflow <= 390, `the page fits a 390 px screen (scroll width ${overflow})`);

    mark('available');
    // The caller: the widget on the line's demo page. The microphone
    // says "I lost my card"; the flow asks them to hold and queues them.
    await c.goto(`${IVR_URL}/`);
    await c.getByRole('button', { name: 'Call', exact: true }).click();
    const t0 = Date.now();
    await c.getByText(/Welcome to Example Bank/).waitFor({ timeout: 20000 });
    try {
      await c.getByText(/Please hold for the next available person/).waitFor({ timeout: 30000 });
    } catch (e) {
      const lines = await c.locator('.captions .line').allTextContents();
      throw new Error(`the caller did not reach the queue; captions: ${JSON.stringify(lines)}`, { cause: e });
    }
    mark(`caller queued, ${Date.now() - t0} ms after calling`);

    // The agent page rings: the live region says who, the screen pop
    // shows what the IVR knows, and Answer has the focus.
    await a.waitForFunction(() => /Incoming call from/.test(document.getElementById('announce').textContent), null, { timeout: 30000 });
    mark(`agent page rings: ${await announce.textContent()}`);
    const pop = a.getByRole('region', { name: 'Incoming call' });
    await pop.waitFor();
    assert.equal(await badge.textContent(), 'Ringing');
    assert.equal(await a.locator('#pop-channel').textContent(), 'webrtc');
    assert.equal(await a.locator('#pop-queue').textContent(), 'cards');
    assert.match(await a.locator('#pop-caller').textContent(), /\S/);
    assert.equal(await a.locator('#badge-vip').isVisible(), false, 'not a VIP');
    assert.equal(await a.locator('#badge-callback').isVisible(), false, 'not a callback');
    assert.match(await a.locator('#pop-intents').textContent(), /lost_card|check_balance/, 'the intent that routed the call');
    const path = await a.locator('#pop-path li').allTextContents();
    assert.ok(path.includes('main'), `path ${JSON.stringify(path)} starts at the menu`);
    const said = await a.locator('#pop-transcript li.caller').allTextContents();
    const ivrSaid = await a.locator('#pop-transcript li.ivr').allTextContents();
    console.log(`screen pop: path ${JSON.stringify(path)}, intents ${await a.locator('#pop-intents').textContent()}, ` +
      `caller said ${JSON.stringify(said)}, IVR said ${ivrSaid.length} lines, waited ${await a.locator('#pop-waited').textContent()}`);
    assert.ok(said.length >= 1, 'the transcript shows what the caller said');
    assert.ok(ivrSaid.some((l) => /Welcome to Example Bank/.test(l)), 'the transcript shows what the IVR said');
    assert.equal(await a.evaluate(() => document.activeElement.id), 'answer', 'focus moves to Answer');
    await a.screenshot({ path: join(OUT_DIR, 'agent-ringing-phone.png'), fullPage: true });

    // Decline: the caller keeps waiting and the queue offers the call
    // again (alice is its only member).
    await a.getByRole('button', { name: 'Decline' }).click();
    await a.locator('#message').filter({ hasText: 'Call declined.' }).waitFor({ timeout: 15000 });
    await a.waitForFunction(() => document.getElementById('state-badge').textContent !== 'Ringing', null, { timeout: 15000 });
    mark(`declined: ${await badge.textContent()}`);
    await a.waitForFunction(() => document.getElementById('state-badge').textContent === 'Ringing' &&
      /Incoming call from/.test(document.getElementById('announce').textContent), null, { timeout: 30000 });
    mark('rings again');
    assert.equal(await a.evaluate(() => document.activeElement.id), 'answer', 'focus moves to Answer again');

    // Answer with the keyboard.
    await a.keyboard.press('Enter');
    await a.waitForFunction(() => document.getElementById('state-badge').textContent === 'On a call', null, { timeout: 30000 });
    await a.getByRole('heading', { name: 'On a call' }).waitFor();
    await a.locator('#call-status').filter({ hasText: 'Connected.' }).waitFor({ timeout: 30000 });
    mark('agent connected');
    const hangup = a.getByRole('button', { name: 'Hang up' });
    assert.ok(await hangup.isVisible(), 'Hang up is offered');

    // Audio both ways: the caller hears the agent's tone (no more hold
    // music), the agent hears the caller's.
    await hearTone(c, 'caller', AGENT_TONE_HZ, 20000);
    await hearTone(a, 'agent', CALLER_TONE_HZ, 30000);
    mark('audio both ways');

    // The admin status API sees alice busy; without the token, nothing.
    const agents = await fetch(`${IVR_URL}/api/agents`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.equal(agents.status, 200);
    const me = (await agents.json()).find((x) => x.name === AGENT);
    assert.equal(me.state, 'busy', `admin view of ${AGENT}: ${JSON.stringify(me)}`);
    assert.equal((await fetch(`${IVR_URL}/api/agents`)).status, 401);
    const queues = await fetch(`${IVR_URL}/api/queues`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
    console.log(`queues: ${JSON.stringify(await queues.json())}`);

    await a.screenshot({ path: join(OUT_DIR, 'agent-on-call-phone.png'), fullPage: true });
    await c.screenshot({ path: join(OUT_DIR, 'agent-caller-widget.png'), fullPage: true });
    await a.setViewportSize({ width: 1100, height: 900 });
    await a.screenshot({ path: join(OUT_DIR, 'agent-on-call-desktop.png'), fullPage: true });

    // The agent hangs up; the caller's call ends.
    await hangup.click();
    await a.locator('#message').filter({ hasText: 'You hung up.' }).waitFor({ timeout: 15000 });
    await a.waitForFunction(() => /Wrap-up|Available/.test(document.getElementById('state-badge').textContent), null, { timeout: 10000 });
    const after = await badge.textContent();
    console.log(`agent state after the call: ${after}`);
    if (after === 'Wrap-up') {
      // The caller's details stay in view while the agent wraps up.
      await a.getByRole('heading', { name: 'Last call' }).waitFor();
      await a.screenshot({ path: join(OUT_DIR, 'agent-wrap-up-desktop.png'), fullPage: true });
    }
    try {
      await c.getByRole('status').getByText('Call ended.').waitFor({ timeout: 15000 });
    } catch (e) {
      throw new Error('the caller\'s call did not end when the agent hung up', { cause: e });
    }

    // Sign out: the sign-in form again.
    await a.getByRole('button', { name: 'Sign out' }).click();
    await a.getByRole('heading', { name: 'Sign in' }).waitFor({ timeout: 15000 });
    mark('signed out');
  } catch (e) {
    // What each page showed when it failed.
    await a.screenshot({ path: join(OUT_DIR, 'agent-failure-agent.png'), fullPage: true }).catch(() => {});
    await c.screenshot({ path: join(OUT_DIR, 'agent-failure-caller.png'), fullPage: true }).catch(() => {});
    console.log(`agent page at failure: badge ${await a.locator('#state-badge').textContent().catch(() => '?')}, ` +
      `message ${await a.locator('#message').textContent().catch(() => '?')}, status ${await a.locator('#call-status').textContent().catch(() => '?')}`);
    throw e;
  } finally {
    await agent.context.close();
    await caller.context.close();
  }
});
