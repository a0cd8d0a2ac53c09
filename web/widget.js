/*
 * openivr call widget: a "call us" button that reaches the IVR from the
 * browser over WebRTC, with a keypad, live captions, mute and hang-up.
 *
 * Embed with one line (no framework needed):
 *
 *   <script src="https://ivr.example.com/widget.js" data-flow="main" defer></script>
 *
 * Attributes:
 *   data-flow      the flow to call (default: the line's start)
 *   data-label     the call button's text (default "Call")
 *   data-title     the widget's heading (default "Call us")
 *   data-target    a CSS selector of an element to render into (default:
 *                  right after the script element)
 *   data-endpoint  the signalling URL (default: "webrtc" beside widget.js)
 *
 * The widget renders into an open shadow root, so the host page's styles
 * do not leak in and ours do not leak out. Signalling: GET
 * {endpoint}/config for ICE servers, POST {endpoint}/calls with the offer,
 * DELETE the returned Location to hang up. Keys go as RFC 4733 events
 * (RTCDTMFSender); captions and call state come over a data channel "ivr".
 */
(function () {
  'use strict';

  var script = document.currentScript;
  if (!script || !window.RTCPeerConnection || !window.fetch) {
    return;
  }
  var base = new URL('.', script.src);
  var opts = {
    flow: script.getAttribute('data-flow') || '',
    label: script.getAttribute('data-label') || 'Call',
    title: script.getAttribute('data-title') || 'Call us',
    endpoint: (script.getAttribute('data-endpoint') || new URL('webrtc', base).href).replace(/\/+$/, '')
  };
  var KEYS = [
    ['1', ''], ['2', 'ABC'], ['3', 'DEF'],
    ['4', 'GHI'], ['5', 'JKL'], ['6', 'MNO'],
    ['7', 'PQRS'], ['8', 'TUV'], ['9', 'WXYZ'],
    ['*', ''], ['0', '+'], ['#', '']
  ];
  var KEY_NAMES = { '*': 'star', '#': 'pound' };

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs) {
      if (Object.prototype.hasOwnProperty.call(attrs, k)) {
        e.setAttribute(k, attrs[k]);
      }
    }
    if (text) {
      e.textContent = text;
    }
    return e;
  }

  // Build the widget.
  var host = el('div', { 'class': 'openivr-call-widget' });
  var target = script.getAttribute('data-target');
  var mount = target && document.querySelector(target);
  if (mount) {
    mount.appendChild(host);
  } else if (script.parentNode && script.parentNode !== document.head) {
    script.parentNode.insertBefore(host, script.nextSibling);
  } else {
    document.body.appendChild(host);
  }
  var root = host.attachShadow ? host.attachShadow({ mode: 'open' }) : host;
  root.appendChild(el('link', { rel: 'stylesheet', href: new URL('widget.css', base).href }));

  var headingId = 'openivr-h-' + Math.random().toString(36).slice(2);
  var box = el('section', { 'class': 'ivr', 'aria-labelledby': headingId });
  box.appendChild(el('h2', { id: headingId, 'class': 'title' }, opts.title));
  var bar = el('div', { 'class': 'bar' });
  var callBtn = el('button', { type: 'button', 'class': 'call' }, opts.label);
  var muteBtn = el('button', { type: 'button', 'class': 'mute', 'aria-pressed': 'false', hidden: '' }, 'Mute');
  var hangBtn = el('button', { type: 'button', 'class': 'hangup', hidden: '' }, 'Hang up');
  bar.appendChild(callBtn);
  bar.appendChild(muteBtn);
  bar.appendChild(hangBtn);
  box.appendChild(bar);
  var status = el('p', { 'class': 'status', role: 'status' }, 'Press Call to talk to us from your browser.');
  box.appendChild(status);
  var keypad = el('div', { 'class': 'keypad', role: 'group', 'aria-label': 'Keypad', hidden: '' });
  KEYS.forEach(function (k) {
    var b = el('button', { type: 'button', 'class': 'key', 'data-key': k[0], 'aria-label': k[0] });
    b.appendChild(el('span', { 'class': 'digit', 'aria-hidden': 'true' }, k[0]));
    if (k[1]) {
      b.appendChild(el('span', { 'class': 'letters', 'aria-hidden': 'true' }, k[1]));
    }
    keypad.appendChild(b);
  });
  box.appendChild(keypad);
  var captions = el('div', { 'class': 'captions', role: 'log', 'aria-live': 'polite', 'aria-label': 'Captions', tabindex: '0' });
  box.appendChild(captions);
  var audioEl = el('audio', { autoplay: '' });
  box.appendChild(audioEl);
  root.appendChild(box);

  // Call state.
  var call = null; // { pc, dc, sender, track, stream, location, ended }

  function setStatus(text) {
    status.textContent = text;
  }

  function caption(who, text, cls) {
    var p = el('p', { 'class': 'line from-' + who + (cls ? ' ' + cls : '') });
    p.appendChild(el('span', { 'class': 'who' }, who === 'ivr' ? 'IVR: ' : 'You: '));
    p.appendChild(document.createTextNode(text));
    captions.appendChild(p);
    captions.scrollTop = captions.scrollHeight;
  }

  function inCall(on) {
    callBtn.hidden = on;
    muteBtn.hidden = !on;
    hangBtn.hidden = !on;
    keypad.hidden = !on;
    callBtn.disabled = false;
    if (!on) {
      muteBtn.setAttribute('aria-pressed', 'false');
      muteBtn.textContent = 'Mute';
    }
  }

  function waitGathering(pc, ms) {
    return new Promise(function (resolve) {
      if (pc.iceGatheringState === 'complete') {
        resolve();
        return;
      }
      var t = setTimeout(resolve, ms);
      pc.addEventListener('icegatheringstatechange', function () {
        if (pc.iceGatheringState === 'complete') {
          clearTimeout(t);
          resolve();
        }
      });
    });
  }

  function errorText(res) {
    return res.json().then(function (b) {
      return (b && b.error) || ('error ' + res.status);
    }, function () {
      return 'error ' + res.status;
    });
  }

  // A silent track stands in for a microphone the caller refused or lacks,
  // so the keypad still works.
  function silentTrack() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) {
      return null;
    }
    var ctx = new Ctx();
    var dest = ctx.createMediaStreamDestination();
    var gain = ctx.createGain();
    gain.gain.value = 0;
    var osc = ctx.createOscillator();
    osc.connect(gain);
    gain.connect(dest);
    osc.start();
    return { stream: dest.stream, close: function () { ctx.close(); } };
  }

  function getMicrophone() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      return Promise.reject(new Error('no microphone API'));
    }
    return navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      video: false
    });
  }

  function start() {
    if (call) {
      return;
    }
    callBtn.disabled = true;
    setStatus('Connecting…');
    captions.textContent = '';
    var c = { ended: false };
    call = c;
    fetch(opts.endpoint + '/config', { credentials: 'omit' }).then(function (res) {
      if (!res.ok) {
        return errorText(res).then(function (msg) { throw new Error(msg); });
      }
      return res.json();
    }).then(function (cfg) {
      c.ice = (cfg && cfg.iceServers) || [];
      return getMicrophone().then(function (stream) {
        c.stream = stream;
      }, function () {
        var s = silentTrack();
        if (!s) {
          throw new Error('no microphone');
        }
        c.stream = s.stream;
        c.silent = s;
        caption('ivr', 'No microphone: you can still use the keypad.', 'notice');
      });
    }).then(function () {
      if (c.ended) {
        throw new Error('cancelled');
      }
      var pc = new RTCPeerConnection({ iceServers: c.ice });
      c.pc = pc;
      c.dc = pc.createDataChannel('ivr');
      c.dc.onmessage = function (e) { onMessage(c, e.data); };
      c.track = c.stream.getAudioTracks()[0];
      c.sender = pc.addTrack(c.track, c.stream);
      pc.ontrack = function (e) {
        audioEl.srcObject = e.streams[0] || new MediaStream([e.track]);
        var p = audioEl.play();
        if (p && p.catch) {
          p.catch(function () {});
        }
      };
      pc.onconnectionstatechange = function () {
        if (pc.connectionState === 'failed') {
          end(c, 'The connection was lost.');
        }
      };
      return pc.createOffer().then(function (offer) {
        return pc.setLocalDescription(offer);
      }).then(function () {
        return waitGathering(pc, 2000);
      }).then(function () {
        return fetch(opts.endpoint + '/calls', {
          method: 'POST',
          credentials: 'omit',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ type: 'offer', sdp: pc.localDescription.sdp, flow: opts.flow })
        });
      }).then(function (res) {
        if (res.status !== 201) {
          return errorText(res).then(function (msg) { throw new Error(msg); });
        }
        var loc = res.headers.get('Location');
        c.location = loc ? new URL(loc, opts.endpoint).href : null;
        return res.json();
      }).then(function (ans) {
        if (c.ended) {
          throw new Error('cancelled');
        }
        return pc.setRemoteDescription({ type: 'answer', sdp: ans.sdp });
      });
    }).catch(function (err) {
      if (err && err.message === 'cancelled') {
        return;
      }
      end(c, 'Could not call: ' + ((err && err.message) || 'unknown error') + '.');
    });
  }

  function onMessage(c, data) {
    var m;
    try {
      m = JSON.parse(data);
    } catch (e) {
      return;
    }
    if (!m || typeof m.type !== 'string') {
      return;
    }
    if (m.type === 'caption' && typeof m.text === 'string') {
      caption(m.who === 'caller' ? 'caller' : 'ivr', m.text);
    } else if (m.type === 'state' && m.state === 'connected') {
      setStatus('Connected. Speak, or use the keypad.');
      inCall(true);
      hangBtn.focus();
    } else if (m.type === 'state' && m.state === 'ended') {
      end(c, 'Call ended.');
    }
  }

  function press(key) {
    var c = call;
    if (!c || !c.sender) {
      return;
    }
    var dtmf = c.sender.dtmf;
    if (!dtmf || (dtmf.canInsertDTMF === false)) {
      setStatus('The keypad is not available yet.');
      return;
    }
    dtmf.insertDTMF(key, 120, 70);
    caption('caller', 'pressed ' + (KEY_NAMES[key] || key), 'pressed');
  }

  function hangup() {
    var c = call;
    if (!c) {
      return;
    }
    if (c.dc && c.dc.readyState === 'open') {
      try {
        c.dc.send(JSON.stringify({ type: 'hangup' }));
      } catch (e) { /* closing anyway */ }
    }
    if (c.location) {
      fetch(c.location, { method: 'DELETE', credentials: 'omit', keepalive: true }).catch(function () {});
    }
    end(c, 'Call ended.');
  }

  // end tears a call down once and returns the widget to its idle state.
  function end(c, text) {
    if (c.ended) {
      return;
    }
    c.ended = true;
    if (c.stream) {
      c.stream.getTracks().forEach(function (t) { t.stop(); });
    }
    if (c.silent) {
      c.silent.close();
    }
    if (c.pc) {
      // Let a hang-up message leave before closing.
      setTimeout(function () { c.pc.close(); }, 100);
    }
    audioEl.srcObject = null;
    if (call === c) {
      call = null;
    }
    var hadFocus = root.activeElement && root.activeElement !== callBtn;
    inCall(false);
    setStatus(text);
    if (hadFocus) {
      callBtn.focus();
    }
  }

  callBtn.addEventListener('click', start);
  hangBtn.addEventListener('click', hangup);
  muteBtn.addEventListener('click', function () {
    var c = call;
    if (!c || !c.track) {
      return;
    }
    c.track.enabled = !c.track.enabled;
    var muted = !c.track.enabled;
    muteBtn.setAttribute('aria-pressed', muted ? 'true' : 'false');
    muteBtn.textContent = muted ? 'Unmute' : 'Mute';
    setStatus(muted ? 'Microphone muted.' : 'Microphone on.');
  });
  keypad.addEventListener('click', function (e) {
    var b = e.target.closest ? e.target.closest('button[data-key]') : null;
    if (b) {
      press(b.getAttribute('data-key'));
    }
  });
  // Typing digits while the widget has focus presses keys too.
  box.addEventListener('keydown', function (e) {
    if (!call || e.altKey || e.ctrlKey || e.metaKey) {
      return;
    }
    if (/^[0-9*#]$/.test(e.key)) {
      e.preventDefault();
      press(e.key);
    }
  });
  window.addEventListener('pagehide', function () {
    if (call) {
      hangup();
    }
  });
})();
