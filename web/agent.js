/*
 * openivr agent desk: sign in, choose Available or Away and where calls
 * ring (this browser or the agent's phone), see the screen pop of the
 * call that rings (who, what they said, intents, collected data, the
 * path through the menus) and answer it here over WebRTC.
 *
 * Server side: package agentdesk.
 *   GET  /api/agent/me        the agent's status, or 401
 *   POST /api/agent/login     {agent, password}; the session is an HttpOnly cookie
 *   GET  /api/agent/events    Server-Sent Events: "status" (the agent's status),
 *                             "signed_out", "closing"; heartbeat comments
 *   POST /api/agent/state     {state: "available"|"away", device: "browser"|"phone"}
 *   POST /api/agent/answer    {ticket, sdp} -> {sdp}: the browser's offer, the server's answer
 *   POST /api/agent/decline   {ticket}
 *   POST /api/agent/hangup
 *   GET  /webrtc/config       ICE servers
 * During a call the data channel "ivr" carries {"type":"state","state":"ended"}
 * when the caller leaves.
 */
(function () {
  'use strict';

  var $ = function (id) { return document.getElementById(id); };
  var ui = {
    signin: $('signin'), form: $('signin-form'), agent: $('agent'), password: $('password'),
    signinError: $('signin-error'), who: $('who'), whoName: $('who-name'), logout: $('logout'),
    desk: $('desk'), badge: $('state-badge'), timer: $('state-timer'), hint: $('state-hint'),
    call: $('call'), callH: $('call-h'), idle: $('idle'), callStatus: $('call-status'),
    vip: $('badge-vip'), cb: $('badge-callback'),
    caller: $('pop-caller'), channel: $('pop-channel'), queue: $('pop-queue'), waited: $('pop-waited'),
    intents: $('pop-intents'), path: $('pop-path'), vars: $('pop-vars'), transcript: $('pop-transcript'),
    answer: $('answer'), decline: $('decline'), hangup: $('hangup'), mute: $('mute'),
    announce: $('announce'), message: $('message'), remote: $('remote')
  };
  var STATES = {
    available: 'Available', away: 'Away', ringing: 'Ringing', busy: 'On a call',
    wrap_up: 'Wrap-up', offline: 'Offline'
  };
  var DEVICE_KEY = 'openivr-agent-device';

  var me = null;          // the latest status
  var events = null;      // the EventSource
  var clockSkew = 0;      // server time minus ours, ms
  var popAt = 0;          // when the shown pop arrived (our clock)
  var shownTicket = '';   // the ticket whose pop is shown
  var call = null;        // the call answered here: {pc, dc, stream, ticket, ended}
  var lastPop = null;     // the screen pop of the latest call, kept through wrap-up
  var ringer = null;      // the ring tone
  var audioCtx = null;

  function storedDevice() {
    try {
      return localStorage.getItem(DEVICE_KEY) === 'phone' ? 'phone' : 'browser';
    } catch (e) {
      return 'browser';
    }
  }

  var sayTimer = null;

  // say shows a passing message (announced politely), cleared after a while.
  function say(text) {
    ui.message.textContent = text || '';
    clearTimeout(sayTimer);
    if (text) {
      sayTimer = setTimeout(function () { ui.message.textContent = ''; }, 10000);
    }
  }

  function api(method, path, body) {
    var init = { method: method, credentials: 'same-origin', headers: {} };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (res) {
      if (res.status === 204) {
        return null;
      }
      return res.json().catch(function () { return {}; }).then(function (b) {
        if (!res.ok) {
          var err = new Error((b && b.error) || ('error ' + res.status));
          err.status = res.status;
          throw err;
        }
        return b;
      });
    });
  }

  // --- signing in and out ---------------------------------------------

  function showSignIn(msg) {
    closeEvents();
    endLocalCall();
    stopRing();
    me = null;
    lastPop = null;
    ui.desk.hidden = true;
    ui.who.hidden = true;
    ui.signin.hidden = false;
    ui.signinError.textContent = msg || '';
    ui.agent.focus();
  }

  function showDesk(st) {
    ui.signin.hidden = true;
    ui.desk.hidden = false;
    ui.who.hidden = false;
    ui.whoName.textContent = st.display_name || st.name;
    ui.password.value = '';
    render(st);
    openEvents();
  }

  ui.form.addEventListener('submit', function (e) {
    e.preventDefault();
    unlockAudio();
    var agent = ui.agent.value.trim();
    if (!agent || !ui.password.value) {
      ui.signinError.textContent = 'Give your agent name and password.';
      (agent ? ui.password : ui.agent).focus();
      return;
    }
    var btn = ui.form.querySelector('button');
    btn.disabled = true;
    ui.signinError.textContent = '';
    api('POST', '/api/agent/login', { agent: agent, password: ui.password.value }).then(function (st) {
      btn.disabled = false;
      showDesk(st);
      say('Signed in.');
    }, function (err) {
      btn.disabled = false;
      ui.signinError.textContent = err.message;
      ui.password.select();
    });
  });

  ui.logout.addEventListener('click', function () {
    api('POST', '/api/agent/logout').catch(function () {}).then(function () {
      showSignIn('');
      say('Signed out.');
    });
  });

  // --- the status stream ---------------------------------------------

  function openEvents() {
    closeEvents();
    var es = new EventSource('/api/agent/events?device=' + encodeURIComponent(storedDevice()));
    events = es;
    es.addEventListener('status', function (e) {
      try {
        render(JSON.parse(e.data));
      } catch (err) {
        /* a malformed event: the next one corrects the page */
      }
    });
    es.addEventListener('signed_out', function () {
      showSignIn('You were signed out.');
    });
    es.addEventListener('closing', function () {
      say('The server is restarting; reconnecting…');
    });
    es.onopen = function () {
      if (/Reconnecting|restarting/.test(ui.message.textContent)) {
        say('');
      }
    };
    es.onerror = function () {
      if (es !== events) {
        return;
      }
      if (es.readyState === EventSource.CLOSED) {
        // The stream was refused (signed out, server gone): ask why.
        events = null;
        api('GET', '/api/agent/me').then(function (st) {
          showDesk(st);
        }, function (err) {
          if (err.status === 401) {
            showSignIn('Your session ended: sign in again.');
          } else {
            say('Lost contact with the server; retrying…');
            setTimeout(function () { if (me && !events) { openEvents(); } }, 3000);
          }
        });
      } else {
        say('Reconnecting…');
      }
    };
  }

  function closeEvents() {
    if (events) {
      events.close();
      events = null;
    }
  }

  // --- rendering --------------------------------------------------------

  function fmtDuration(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    var h = Math.floor(s / 3600);
    var m = Math.floor((s % 3600) / 60);
    var r = s % 60;
    var mm = h ? String(m).padStart(2, '0') : String(m);
    return (h ? h + ':' : '') + mm + ':' + String(r).padStart(2, '0');
  }

  function setChecked(name, value) {
    var inputs = document.querySelectorAll('input[name="' + name + '"]');
    for (var i = 0; i < inputs.length; i++) {
      inputs[i].checked = inputs[i].value === value;
    }
  }

  function render(st) {
    // A status older than the one shown (an HTTP answer overtaken by the
    // event stream) would undo a newer state: drop it.
    if (me && me.name === st.name && typeof st.version === 'number' && st.version < me.version) {
      return;
    }
    var prev = me;
    me = st;
    clockSkew = Date.parse(st.now) - Date.now();
    var state = st.state;
    ui.badge.textContent = STATES[state] || state;
    ui.badge.className = 'badge state-' + state;
    if (state === 'available' || state === 'away') {
      setChecked('presence', state);
    }
    setChecked('device', st.device);
    ui.hint.textContent = hintFor(st);
    tick();

    var pop = (state === 'ringing' || state === 'busy') ? st.call : null;
    if (pop) {
      lastPop = pop;
      showPop(st, pop, prev);
    } else if (state === 'wrap_up' && lastPop) {
      // Keep the caller's details in view while the agent wraps up.
      stopRing();
      if (call) {
        endLocalCall();
      }
      showLastCall(lastPop);
    } else {
      ui.call.hidden = true;
      ui.call.classList.remove('ringing');
      shownTicket = '';
      ui.idle.hidden = false;
      ui.idle.textContent = state === 'ringing' ? 'A customer is being called back for you…' : 'No call right now.';
      stopRing();
      if (call && state !== 'busy') {
        endLocalCall();
        say('The call ended.');
      }
    }
  }

  function showLastCall(pop) {
    shownTicket = '';
    ui.idle.hidden = true;
    ui.call.hidden = false;
    ui.call.classList.remove('ringing');
    ui.callH.textContent = 'Last call';
    ui.answer.hidden = true;
    ui.decline.hidden = true;
    ui.hangup.hidden = true;
    ui.mute.hidden = true;
  }

  function hintFor(st) {
    switch (st.state) {
      case 'available':
        return st.device === 'phone' ? 'Calls ring your phone; the caller’s details show here.' : 'Calls ring here.';
      case 'away':
        return 'You get no calls.';
      case 'wrap_up':
        return 'Resting after the call. Choose Available to take calls now.';
      case 'offline':
        return st.device === 'phone' ? 'Your phone is not connected: calls cannot reach you.' : 'Connecting…';
      default:
        return '';
    }
  }

  function showPop(st, pop, prev) {
    var ringing = st.state === 'ringing';
    var isNew = st.ticket !== shownTicket;
    shownTicket = st.ticket;
    ui.idle.hidden = true;
    ui.call.hidden = false;
    ui.call.classList.toggle('ringing', ringing);
    ui.callH.textContent = ringing ? 'Incoming call' : 'On a call';
    ui.vip.hidden = !pop.vip;
    ui.cb.hidden = !pop.callback;
    ui.caller.textContent = pop.caller || pop.from || 'Unknown';
    ui.channel.textContent = pop.channel || '—';
    ui.queue.textContent = pop.queue || '—';
    if (isNew || ringing) {
      // While it rings the wait goes on; once answered it stands still.
      popAt = Date.now();
      ui.waited.dataset.base = String(pop.waited_ms || 0);
    } else if (prev && prev.state === 'ringing') {
      ui.waited.dataset.base = String(Number(ui.waited.dataset.base || 0) + Date.now() - popAt);
    }
    var intents = (pop.intents && pop.intents.length) ? pop.intents : (pop.intent ? [pop.intent] : []);
    ui.intents.textContent = intents.length ? intents.join(', ') : '—';
    fillList(ui.path, pop.path || [], function (li, node) { li.textContent = node; });
    fillVars(pop.vars || {});
    fillList(ui.transcript, pop.transcript || [], function (li, line) {
      li.className = line.who === 'caller' ? 'caller' : 'ivr';
      var who = document.createElement('span');
      who.className = 'who';
      who.textContent = (line.who === 'caller' ? 'Caller' : 'IVR') + ': ';
      li.appendChild(who);
      li.appendChild(document.createTextNode(line.text));
    });

    var here = st.device === 'browser';
    ui.answer.hidden = !(ringing && here);
    ui.decline.hidden = !(ringing && here);
    ui.answer.disabled = !!call;
    ui.decline.disabled = !!call;
    ui.hangup.hidden = !(call && !ringing);
    ui.mute.hidden = !(call && !ringing);
    if (ringing && !here) {
      ui.callStatus.textContent = 'Answer on your phone.';
    } else if (ringing && !call) {
      ui.callStatus.textContent = '';
    }
    if (ringing && isNew) {
      // Cleared first, so the same caller ringing again is announced again.
      var words = 'Incoming call from ' + ui.caller.textContent +
        (pop.queue ? ' in queue ' + pop.queue : '') + (pop.vip ? ', VIP' : '') + (pop.callback ? ', a callback' : '') + '.';
      ui.announce.textContent = '';
      setTimeout(function () { ui.announce.textContent = words; }, 50);
      if (here) {
        startRing();
        // Move focus to Answer unless the agent is typing somewhere.
        var active = document.activeElement;
        var typing = active && (active.tagName === 'TEXTAREA' || active.isContentEditable ||
          (active.tagName === 'INPUT' && !/^(radio|checkbox|button|submit)$/.test(active.type)));
        if (!typing) {
          ui.answer.focus();
        }
      }
    }
    if (!ringing) {
      stopRing();
      if (prev && prev.state === 'ringing' && !call && here) {
        ui.callStatus.textContent = 'Answered elsewhere.';
      }
    }
  }

  function fillList(ol, items, fill) {
    ol.textContent = '';
    if (!items.length) {
      var li = document.createElement('li');
      li.className = 'empty';
      li.textContent = 'None';
      ol.appendChild(li);
      return;
    }
    items.forEach(function (it) {
      var li = document.createElement('li');
      fill(li, it);
      ol.appendChild(li);
    });
  }

  function fillVars(vars) {
    ui.vars.textContent = '';
    var keys = Object.keys(vars).sort();
    if (!keys.length) {
      var dd = document.createElement('dd');
      dd.className = 'empty';
      dd.textContent = 'None';
      ui.vars.appendChild(dd);
      return;
    }
    keys.forEach(function (k) {
      var dt = document.createElement('dt');
      dt.textContent = k;
      var dd = document.createElement('dd');
      dd.textContent = vars[k];
      ui.vars.appendChild(dt);
      ui.vars.appendChild(dd);
    });
  }

  function tick() {
    if (!me) {
      return;
    }
    var now = Date.now() + clockSkew;
    ui.timer.textContent = fmtDuration(now - Date.parse(me.since));
    ui.timer.setAttribute('datetime', me.since);
    if (!ui.call.hidden) {
      var base = Number(ui.waited.dataset.base || 0);
      var extra = me.state === 'ringing' ? Date.now() - popAt : 0;
      ui.waited.textContent = fmtDuration(base + extra);
    }
  }
  setInterval(tick, 1000);

  // --- availability and device -----------------------------------------

  document.querySelectorAll('input[name="presence"]').forEach(function (input) {
    input.addEventListener('change', function () {
      unlockAudio();
      api('POST', '/api/agent/state', { state: input.value }).then(render, function (err) {
        say('Could not change your availability: ' + err.message);
      });
    });
  });

  document.querySelectorAll('input[name="device"]').forEach(function (input) {
    input.addEventListener('change', function () {
      try {
        localStorage.setItem(DEVICE_KEY, input.value);
      } catch (e) {
        /* private mode: the choice lasts this page */
      }
      if (input.value === 'browser') {
        warmMicrophone();
      }
      api('POST', '/api/agent/state', { device: input.value }).then(render, function (err) {
        say('Could not change where calls ring: ' + err.message);
      });
    });
  });

  // --- answering in the browser ----------------------------------------

  function getMicrophone() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      return Promise.reject(new Error('no microphone API'));
    }
    return navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      video: false
    });
  }

  // Ask for the microphone early (a user gesture), so answering is quick.
  function warmMicrophone() {
    getMicrophone().then(function (s) {
      s.getTracks().forEach(function (t) { t.stop(); });
    }, function () {
      say('The microphone is blocked: allow it to talk to callers.');
    });
  }

  function silentStream() {
    var ctx = audioContext();
    if (!ctx) {
      return null;
    }
    var dest = ctx.createMediaStreamDestination();
    return dest.stream;
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

  ui.answer.addEventListener('click', function () {
    if (!me || me.state !== 'ringing' || call) {
      return;
    }
    unlockAudio();
    stopRing();
    var ticket = me.ticket;
    var c = { ticket: ticket, ended: false };
    call = c;
    ui.answer.disabled = true;
    ui.decline.disabled = true;
    ui.callStatus.textContent = 'Connecting…';
    var ice = [];
    fetch('/webrtc/config', { credentials: 'omit' }).then(function (res) {
      return res.ok ? res.json() : {};
    }, function () { return {}; }).then(function (cfg) {
      ice = (cfg && cfg.iceServers) || [];
      return getMicrophone().then(function (s) { return s; }, function () {
        say('No microphone: the caller cannot hear you.');
        return silentStream();
      });
    }).then(function (stream) {
      if (c.ended) {
        throw new Error('cancelled');
      }
      if (!stream) {
        throw new Error('no microphone');
      }
      c.stream = stream;
      var pc = new RTCPeerConnection({ iceServers: ice });
      c.pc = pc;
      c.dc = pc.createDataChannel('ivr');
      c.dc.onmessage = function (e) {
        var m;
        try {
          m = JSON.parse(e.data);
        } catch (err) {
          return;
        }
        if (call !== c) {
          return;
        }
        if (m.type === 'state' && m.state === 'connected') {
          ui.callStatus.textContent = 'Connected.';
        } else if (m.type === 'state' && m.state === 'ended') {
          endLocalCall();
          ui.callStatus.textContent = 'The call ended.';
          say('The call ended.');
        }
      };
      stream.getAudioTracks().forEach(function (t) { pc.addTrack(t, stream); });
      pc.ontrack = function (e) {
        ui.remote.srcObject = e.streams[0] || new MediaStream([e.track]);
        var p = ui.remote.play();
        if (p && p.catch) {
          p.catch(function () {});
        }
      };
      pc.onconnectionstatechange = function () {
        if (pc.connectionState === 'failed' && call === c) {
          endLocalCall();
          ui.callStatus.textContent = 'The connection was lost.';
        }
      };
      return pc.createOffer().then(function (offer) {
        return pc.setLocalDescription(offer);
      }).then(function () {
        return waitGathering(pc, 2000);
      }).then(function () {
        return api('POST', '/api/agent/answer', { ticket: ticket, type: 'offer', sdp: pc.localDescription.sdp });
      }).then(function (ans) {
        if (c.ended) {
          throw new Error('cancelled');
        }
        return pc.setRemoteDescription({ type: 'answer', sdp: ans.sdp });
      });
    }).then(function () {
      ui.hangup.hidden = false;
      ui.mute.hidden = false;
      ui.hangup.focus();
    }).catch(function (err) {
      if (err && err.message === 'cancelled') {
        return;
      }
      endLocalCall();
      ui.callStatus.textContent = 'Could not answer: ' + ((err && err.message) || 'unknown error') + '.';
      if (me) {
        render(me);
      }
    });
  });

  ui.decline.addEventListener('click', function () {
    if (!me || me.state !== 'ringing') {
      return;
    }
    stopRing();
    ui.decline.disabled = true;
    api('POST', '/api/agent/decline', { ticket: me.ticket }).then(function () {
      ui.callStatus.textContent = 'Declined.';
      say('Call declined.');
    }, function (err) {
      ui.decline.disabled = false;
      ui.callStatus.textContent = 'Could not decline: ' + err.message;
    });
  });

  ui.hangup.addEventListener('click', function () {
    // The server hangs up first (so the record says the agent did), then
    // the connection closes here.
    var c = detachCall();
    ui.callStatus.textContent = 'You hung up.';
    say('You hung up.');
    api('POST', '/api/agent/hangup').catch(function () {
      /* the call had already ended */
    }).then(function () {
      closeCall(c);
    });
  });

  ui.mute.addEventListener('click', function () {
    if (!call || !call.stream) {
      return;
    }
    var muted = ui.mute.getAttribute('aria-pressed') !== 'true';
    call.stream.getAudioTracks().forEach(function (t) { t.enabled = !muted; });
    ui.mute.setAttribute('aria-pressed', muted ? 'true' : 'false');
    ui.mute.textContent = muted ? 'Unmute' : 'Mute';
  });

  function endLocalCall() {
    closeCall(detachCall());
  }

  // detachCall forgets the call here (buttons, events) and returns it.
  function detachCall() {
    var c = call;
    call = null;
    ui.hangup.hidden = true;
    ui.mute.hidden = true;
    ui.mute.setAttribute('aria-pressed', 'false');
    ui.mute.textContent = 'Mute';
    if (c) {
      c.ended = true;
    }
    return c;
  }

  // closeCall releases a detached call's connection and microphone.
  function closeCall(c) {
    if (!c) {
      return;
    }
    if (c.pc) {
      c.pc.close();
    }
    if (c.stream) {
      c.stream.getTracks().forEach(function (t) { t.stop(); });
    }
    if (!call) {
      ui.remote.srcObject = null;
    }
  }

  // --- the ring tone ----------------------------------------------------

  function audioContext() {
    if (!audioCtx) {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) {
        return null;
      }
      audioCtx = new Ctx();
    }
    return audioCtx;
  }

  // Browsers start audio only after a user gesture: sign-in and the
  // availability buttons are ones.
  function unlockAudio() {
    var ctx = audioContext();
    if (ctx && ctx.state === 'suspended') {
      ctx.resume().catch(function () {});
    }
  }

  // startRing plays a soft two-tone ring (1 s on, 2 s off) until stopped.
  function startRing() {
    var ctx = audioContext();
    if (!ctx || ringer) {
      return;
    }
    var gain = ctx.createGain();
    gain.gain.value = 0;
    gain.connect(ctx.destination);
    var oscs = [440, 480].map(function (hz) {
      var o = ctx.createOscillator();
      o.frequency.value = hz;
      o.connect(gain);
      o.start();
      return o;
    });
    var on = function () {
      var t = ctx.currentTime;
      gain.gain.setValueAtTime(0.08, t);
      gain.gain.setValueAtTime(0, t + 1);
    };
    on();
    ringer = { gain: gain, oscs: oscs, timer: setInterval(on, 3000) };
  }

  function stopRing() {
    if (!ringer) {
      return;
    }
    clearInterval(ringer.timer);
    ringer.oscs.forEach(function (o) { o.stop(); });
    ringer.gain.disconnect();
    ringer = null;
  }

  // --- start --------------------------------------------------------------

  api('GET', '/api/agent/me').then(showDesk, function (err) {
    showSignIn(err.status === 401 ? '' : 'The server did not answer: ' + err.message);
  });
})();
