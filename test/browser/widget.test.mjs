// Headless Chromium calls the IVR through the widget. Started by
// browser_test.go, which runs `ivr serve` twice (the demo line and a
// speech-first line), the host pages, and passes their addresses in the
// environment:
//
//   IVR_URL       the demo line's HTTP server (demo page at /, widget, signalling)
//   SPEECH_URL    the speech-first line's HTTP server (testdata/speech.yaml)
//   ALLOWED_PAGE  a plain page on another origin that is allowed
//   REFUSED_PAGE  a plain page on an origin that is not
//   FAKE_MIC      the WAV file the browser's microphone plays: silence,
//                 a lost-card request ("I lost my card"), silence
//   CHROMIUM      the browser (default /usr/bin/chromium)
//   OUT_DIR       where screenshots and the captured offer go
//
// Run it through `go test ./test/browser/` (or `npm test` here).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const env = (name) => {
  const v = process.env[name];
  if (!v) {
    throw new Error(`${name} is not set: run this through go test ./test/browser/`);
  }
  return v;
};
const IVR_URL = env('IVR_URL');
const SPEECH_URL = env('SPEECH_URL');
const ALLOWED_PAGE = env('ALLOWED_PAGE');
const REFUSED_PAGE = env('REFUSED_PAGE');
const FAKE_MIC = env('FAKE_MIC');
const OUT_DIR = env('OUT_DIR');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

const GREETING = /Thank you for calling Super Awesome Company/;
const DIRECTORY = /No directory entries match your search\./;

let browser;

before(async () => {
  // Flags from FIELD-NOTES: what works as root here, plus the fake
  // microphone. Playwright gives each launch a fresh profile directory
  // itself (it refuses --user-data-dir).
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${FAKE_MIC}`,
      '--autoplay-policy=no-user-gesture-required',
      // Gather loopback candidates too: on a machine (CI sandbox) with no
      // interface but lo, Chromium otherwise has none and cannot reach the
      // IVR's loopback candidates (serve offers them when HTTP is on
      // loopback).
      '--allow-loopback-in-peer-connection',
    ],
  });
});

after(async () => {
  await browser?.close();
});

// Keep every RTCPeerConnection the page makes, so the test can read its
// statistics (codec, audio received) without the widget exposing anything.
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

async function newPage(options = {}) {
  const context = await browser.newContext({ permissions: ['microphone'], ...options });
  const page = await context.newPage();
  await page.addInitScript(recordPeerConnections);
  page.on('console', (m) => {
    if (m.type() === 'error') {
      console.log(`[page console] ${m.text()}`);
    }
  });
  return { context, page };
}

// audioStats reads the call's audio from the browser's side.
async function audioStats(page) {
  return page.evaluate(async () => {
    const pc = window.__pcs[window.__pcs.length - 1];
    const report = await pc.getStats();
    const out = {};
    const codecs = {};
    report.forEach((s) => {
      if (s.type === 'codec') {
        codecs[s.id] = s.mimeType;
      }
    });
    report.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'audio') {
        out.inCodec = codecs[s.codecId];
        out.packetsReceived = s.packetsReceived;
        out.totalAudioEnergy = s.totalAudioEnergy;
      }
      if (s.type === 'outbound-rtp' && s.kind === 'audio') {
        out.outCodec = codecs[s.codecId];
        out.packetsSent = s.packetsSent;
      }
    });
    out.offer = pc.localDescription && pc.localDescription.sdp;
    return out;
  });
}

test('demo page: call, greeting caption, keypad, hang-up', async () => {
  const { context, page } = await newPage({ viewport: { width: 1000, height: 900 } });
  try {
    await page.goto(`${IVR_URL}/`);
    const call = page.getByRole('button', { name: 'Call', exact: true });
    await call.waitFor();
    const captions = page.getByRole('log', { name: 'Captions' });
    await captions.waitFor();
    assert.equal(await captions.getAttribute('aria-live'), 'polite', 'captions are announced');

    await call.click();
    await page.getByText(GREETING).waitFor({ timeout: 20000 });
    const hangup = page.getByRole('button', { name: 'Hang up' });
    await hangup.waitFor();
    assert.equal(await hangup.evaluate((b) => b.getRootNode().activeElement === b), true, 'focus moves to Hang up');

    // The keypad: 4 is the directory, which says its piece and returns
    // to the main menu.
    const keypad = page.getByRole('group', { name: 'Keypad' });
    assert.equal(await keypad.getByRole('button').count(), 12, 'twelve named keys');
    await keypad.getByRole('button', { name: '#', exact: true }).waitFor();
    await keypad.getByRole('button', { name: '4', exact: true }).click();
    await page.getByText(DIRECTORY).waitFor({ timeout: 15000 });
    await page.getByText(/You: pressed 4/).waitFor();
    // Back at the main menu: the greeting again.
    await assert.doesNotReject(async () => {
      for (let i = 0; i < 100; i++) {
        if ((await page.getByText(GREETING).count()) >= 2) {
          return;
        }
        await page.waitForTimeout(100);
      }
      throw new Error('main menu not replayed');
    });

    const stats = await audioStats(page);
    writeFileSync(join(OUT_DIR, 'chromium-offer.sdp'), stats.offer || '');
    console.log(`browser audio: ${JSON.stringify({ ...stats, offer: undefined })}`);
    assert.match(stats.inCodec || '', /opus|PCMU/i, 'audio arrives with a negotiated codec');
    assert.ok(stats.packetsReceived > 50, 'the browser receives the IVR audio');
    assert.ok(stats.totalAudioEnergy > 0, 'the IVR audio is not silence');
    assert.ok(stats.packetsSent > 50, 'the microphone is sent');

    await page.screenshot({ path: join(OUT_DIR, 'widget-demo-call.png'), fullPage: true });

    await hangup.click();
    await page.getByRole('status').getByText('Call ended.').waitFor({ timeout: 5000 });
    await call.waitFor();
  } finally {
    await context.close();
  }
});

// SPEECH_CALLS (default 1) repeats the speech call, to measure how often
// the request is recognized through the browser path.
const SPEECH_CALLS = Number(process.env.SPEECH_CALLS || '1');
for (let n = 1; n <= SPEECH_CALLS; n++) {
  const name = SPEECH_CALLS > 1 ? ` (call ${n} of ${SPEECH_CALLS})` : '';
  test(`speech line: the caller says what they want, the IVR hears it and takes that branch${name}`, () => speechCall(n));
}

async function speechCall(n) {
  const { context, page } = await newPage({ viewport: { width: 1000, height: 900 } });
  try {
    await page.goto(`${SPEECH_URL}/`);
    const call = page.getByRole('button', { name: 'Call', exact: true });
    await call.click();
    const t0 = Date.now();
    const at = () => `+${Date.now() - t0} ms`;
    await page.getByText(/Welcome to Example Bank/).waitFor({ timeout: 20000 });
    console.log(`greeting caption ${at()}`);
    // The microphone says "I lost my card" over the greeting: the IVR
    // stops talking, captions what it heard and answers from the lost-card
    // branch.
    const captionLines = () => page.locator('.captions .line').evaluateAll((ps) =>
      ps.map((p) => ({ caller: p.classList.contains('from-caller'), text: p.textContent })));
    try {
      await page.getByText(/I am sorry to hear that\./).waitFor({ timeout: 20000 });
    } catch (e) {
      throw new Error(`no lost-card answer; captions: ${JSON.stringify(await captionLines())}`, { cause: e });
    }
    console.log(`lost-card prompt caption ${at()}`);
    const lines = await captionLines();
    console.log(`captions: ${JSON.stringify(lines)}`);
    const greeting = lines.findIndex((l) => /Welcome to Example Bank/.test(l.text));
    const heard = lines.findIndex((l) => l.caller);
    const answer = lines.findIndex((l) => /I am sorry to hear that/.test(l.text));
    assert.ok(heard >= 0, 'a caption of what the IVR heard');
    assert.match(lines[heard].text, /^You: \S/, 'the caption shows the request');
    assert.ok(greeting < heard && heard < answer, 'greeting, what was heard, then the answer');

    // The keypad: 1 blocks the card.
    await page.getByRole('group', { name: 'Keypad' }).getByRole('button', { name: '1', exact: true }).click();
    await page.getByText(/You: pressed 1/).waitFor();
    await page.getByText(/Your card is blocked\./).waitFor({ timeout: 15000 });
    console.log(`blocked caption ${at()}`);
    const stats = await audioStats(page);
    assert.match(stats.outCodec || '', /opus/i, 'the microphone is sent as Opus');
    if (n === 1) {
      await page.screenshot({ path: join(OUT_DIR, 'widget-speech-call.png'), fullPage: true });
    }

    await page.getByRole('button', { name: 'Hang up' }).click();
    await page.getByRole('status').getByText('Call ended.').waitFor({ timeout: 5000 });
  } finally {
    await context.close();
  }
}

test('allowed origin: the widget embeds on another site, keyboard only, phone-sized', async () => {
  const { context, page } = await newPage({
    viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2,
  });
  try {
    await page.goto(ALLOWED_PAGE);
    const call = page.getByRole('button', { name: 'Call', exact: true });
    await call.waitFor();
    // Keyboard only: Tab reaches the button, its focus is visible, Enter calls.
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => {
      let el = document.activeElement;
      while (el && el.shadowRoot && el.shadowRoot.activeElement) {
        el = el.shadowRoot.activeElement;
      }
      const cs = getComputedStyle(el);
      return { text: el.textContent, outline: cs.outlineStyle, width: parseFloat(cs.outlineWidth) };
    });
    assert.equal(focused.text, 'Call', 'Tab focuses the Call button');
    assert.ok(focused.outline !== 'none' && focused.width >= 2, `visible focus: ${JSON.stringify(focused)}`);
    await page.keyboard.press('Enter');
    await page.getByText(GREETING).waitFor({ timeout: 20000 });
    // Digits typed while the widget has focus are key presses.
    await page.keyboard.press('4');
    await page.getByText(DIRECTORY).waitFor({ timeout: 15000 });
    // The widget fits the phone's width.
    const width = await page.evaluate(() => document.querySelector('.openivr-call-widget').getBoundingClientRect().width);
    assert.ok(width <= 390, `widget ${width}px wide on a 390px screen`);
    await page.screenshot({ path: join(OUT_DIR, 'widget-allowed-origin-phone.png'), fullPage: true });
    await page.keyboard.press('Enter'); // focus is on Hang up
    await page.getByRole('status').getByText('Call ended.').waitFor({ timeout: 5000 });
  } finally {
    await context.close();
  }
});

test('refused origin: the widget says so and no call starts', async () => {
  const { context, page } = await newPage();
  try {
    await page.goto(REFUSED_PAGE);
    const call = page.getByRole('button', { name: 'Call', exact: true });
    await call.click();
    await page.getByRole('status').getByText(/not allowed/).waitFor({ timeout: 10000 });
    // Even a page that skips the widget cannot start a call.
    const status = await page.evaluate(async (endpoint) => {
      const res = await fetch(`${endpoint}/webrtc/calls`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ type: 'offer', sdp: 'v=0\r\n' }),
      });
      return res.status;
    }, IVR_URL);
    assert.equal(status, 403);
    assert.equal(await page.evaluate(() => window.__pcs.length), 0, 'no peer connection made');
    await page.screenshot({ path: join(OUT_DIR, 'widget-refused-origin.png') });
  } finally {
    await context.close();
  }
});
