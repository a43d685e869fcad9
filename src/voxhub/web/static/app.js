// The voxhub web client: one native-protocol WebSocket (docs/protocol.md), the microphone in, the answer
// out, the transcript, and a face. No build step; served by voxhub itself at `/`.
import { AudioIO } from "./audio.js";
import { Avatar } from "./avatar.js";

const $ = (selector) => document.querySelector(selector);
const MODE_KEYS = ["voice_input", "text_input", "voice_output", "text_output"];
const BACKOFF_SECS = [0.5, 1, 2, 4, 8, 15];
const CAPACITY_RETRY_SECS = 10;
const CLOSE_POLICY = 1008;
const CLOSE_CAPACITY = 1013;
const CLOSE_GOING_AWAY = 1001; // with "no message for N s": the server's idle timeout
// Barge-in, heard in the page: this many loud frames in a row while the answer plays pause it at once
// (the browser's echo cancellation keeps the answer itself out of the microphone); the server's
// `speech_started` confirms, or after BARGE_IN_CONFIRM_MS without it playback resumes.
const BARGE_IN_LEVEL = 0.03;
const BARGE_IN_FRAMES = 3;
const BARGE_IN_CONFIRM_MS = 800;

// Whatever the tests and the latency benchmark read: counters, per-turn timings, the face's statistics.
const state = {
  connection: "idle",
  sessionId: null,
  events: [],
  turns: [],
  errors: [],
  closes: [],
  stops: [], // answers cut short: how much of their audio played, and how much was sent
  pauses: [], // playback paused for a possible barge-in: {by: "page" | "server", at}
  micFramesSent: 0,
  playback: null,
  avatar: null,
};
window.voxhub = state;

const audio = new AudioIO();
const avatar = new Avatar($("#avatar"));
state.avatar = avatar.stats;
avatar.position = () => (audio.playingTurn !== null && avatar.turn === audio.playingTurn ? audio.playedMs() : null);

let socket = null;
let attempts = 0;
let retryTimer = null;
let mode = Object.fromEntries(MODE_KEYS.map((key) => [key, true]));
let token = new URLSearchParams(location.search).get("token") || sessionStorage.getItem("voxhub-token") || "";
let answerTurn = null; // the turn whose audio binary frames belong to
let bargePause = null; // a timer: playback paused because the user may be speaking over it
const bubbles = new Map(); // turn_id → the assistant's <li>
const timings = new Map(); // turn_id → that turn's latency marks (context seconds)
let pendingEndOfSpeech = null; // marks of the utterance whose final transcript has not come yet
let loudFrames = 0;

if (new URLSearchParams(location.search).has("token")) {
  // Keep the token out of the address bar (and so out of history and screenshots).
  const url = new URL(location.href);
  url.searchParams.delete("token");
  history.replaceState(null, "", url);
}
$("#token").value = token;

function setStatus(text, kind = "idle") {
  state.connection = kind;
  $("#status").textContent = text;
  $("#status").dataset.state = kind;
}

function apiUrl(path) {
  return new URL(path, location.href); // relative: works behind a path prefix
}

async function api(path) {
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  const response = await fetch(apiUrl(path), { headers });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

function socketUrl() {
  const url = new URL("ws", location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  const query = { sample_rate: "16000", avatar: String($("#avatar-on").checked), ...mode };
  if (token) query.token = token;
  if (state.sessionId) query.session_id = state.sessionId;
  for (const [key, value] of Object.entries(query)) url.searchParams.set(key, String(value));
  return url;
}

// -- connection ---------------------------------------------------------------------------------------

function connect() {
  clearTimeout(retryTimer);
  if (socket) {
    socket.onclose = null;
    socket.close();
  }
  setStatus(attempts ? `Reconnecting (attempt ${attempts + 1})…` : "Connecting…", "connecting");
  socket = new WebSocket(socketUrl());
  socket.binaryType = "arraybuffer";
  socket.onmessage = (message) => {
    if (typeof message.data === "string") onEvent(JSON.parse(message.data));
    else onAudio(message.data);
  };
  socket.onclose = (close) => onClose(close);
}

function onClose(close) {
  state.closes.push({ code: close.code, reason: close.reason });
  socket = null;
  audio.stop();
  if (close.code === CLOSE_POLICY && /token/i.test(close.reason)) {
    setStatus("The access token is wrong or missing: enter it under Settings and press Connect.", "error");
    $("#token").focus();
    return; // retrying with the same token cannot help
  }
  if (close.code === CLOSE_GOING_AWAY && /no message/i.test(close.reason)) {
    // The server let an idle conversation go: coming back on our own would hold a slot nobody uses.
    setStatus("Disconnected after a quiet while: press Connect to carry on.", "error");
    return;
  }
  if (close.code === CLOSE_CAPACITY) {
    setStatus(`The server is at capacity; trying again in ${CAPACITY_RETRY_SECS} s.`, "error");
    retryTimer = setTimeout(connect, CAPACITY_RETRY_SECS * 1000);
    return;
  }
  const delay = BACKOFF_SECS[Math.min(attempts, BACKOFF_SECS.length - 1)];
  attempts++;
  const why = close.reason ? ` (${close.reason})` : "";
  setStatus(`Disconnected${why}; reconnecting in ${delay} s…`, "connecting");
  retryTimer = setTimeout(connect, delay * 1000);
}

function send(type, data = {}) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type, data }));
}

// -- server events ------------------------------------------------------------------------------------

function onEvent(event) {
  const { type, data, turn_id: turn } = event;
  state.events.push(type);
  const now = audio.now();
  switch (type) {
    case "session_started":
      attempts = 0;
      state.sessionId = event.session_id;
      setStatus("Connected", "open");
      showMode(data.mode);
      $("#profile").value = data.config.profile;
      if (data.config.persona) $("#persona").value = data.config.persona;
      break;
    case "speech_started":
      // The user speaks over the answer: hush it (if the page has not already); `interrupted` follows.
      if (audio.playingTurn !== null) pausePlayback("server", 2000);
      break;
    case "speech_stopped":
      pendingEndOfSpeech = { end_of_speech: audio.lastLoudAt ?? now, speech_stopped: now };
      break;
    case "transcript":
      if (!data.is_final) {
        $("#partial").textContent = data.text;
        break;
      }
      $("#partial").textContent = "";
      if (data.text) addMessage("user", data.text);
      if (pendingEndOfSpeech) timings.set(turn, { ...pendingEndOfSpeech, final_transcript: now });
      pendingEndOfSpeech = null;
      break;
    case "response_delta":
      assistantBubble(turn).textContent += data.text;
      mark(turn, "first_text", now);
      break;
    case "response":
      assistantBubble(turn).textContent = data.text;
      break;
    case "audio_start":
      answerTurn = turn;
      clearTimeout(bargePause);
      audio.startTurn(turn, data.sample_rate_hz);
      avatar.startTurn(turn);
      mark(turn, "first_audio", now);
      break;
    case "audio_end":
      audio.endTurn(turn);
      break;
    case "viseme":
      avatar.addVisemes(turn, data.visemes || [data]);
      break;
    case "emotion":
      avatar.setEmotion(data.label);
      $("#emotion").textContent = data.label || "neutral";
      break;
    case "interrupted":
      clearTimeout(bargePause);
      if (turn && turn === audio.playingTurn) audio.stop(); // its report says how much was heard
      if (turn === answerTurn) answerTurn = null;
      bubbles.get(turn)?.classList.add("interrupted"); // an answer cut before it said anything has none
      break;
    case "audio_played":
      for (const stop of state.stops) if (stop.turn_id === turn) stop.sent_ms = data.sent_ms;
      if (data.text !== null && data.text !== undefined) assistantBubble(turn).textContent = data.text;
      break;
    case "mode_changed":
      showMode(data.mode);
      break;
    case "config_updated":
      $("#profile").value = data.config.profile;
      break;
    case "error":
      state.errors.push(data);
      addMessage("error", data.error);
      if (data.code === "invalid_input") showMode(mode); // e.g. a refused mode change
      break;
  }
}

function onAudio(buffer) {
  if (answerTurn === null) return; // the rest of an interrupted answer
  audio.audio(answerTurn, buffer);
}

audio.onPlayback = (message) => {
  state.playback = message.counters;
  if (message.type === "first_sound") {
    mark(message.turn, "first_sound", message.at);
    showLatency(message.turn);
  } else if (message.type === "stopped" && message.turn) {
    state.stops.push({ turn_id: message.turn, played_ms: message.played_ms });
    send("audio_played", { turn_id: message.turn, played_ms: Math.round(message.played_ms) });
  }
};

// -- latency ------------------------------------------------------------------------------------------

function mark(turn, name, at) {
  const marks = timings.get(turn);
  if (marks && marks[name] === undefined) marks[name] = at;
}

function showLatency(turn) {
  const marks = timings.get(turn);
  if (!marks || marks.first_sound === undefined) return;
  const ms = (name) => Math.round(1000 * (marks[name] - marks.end_of_speech));
  const row = {
    turn_id: turn,
    end_of_speech_to_first_sound_ms: ms("first_sound"),
    endpoint_ms: ms("speech_stopped"),
    final_transcript_ms: ms("final_transcript"),
    first_text_ms: marks.first_text === undefined ? null : ms("first_text"),
    first_audio_ms: ms("first_audio"),
  };
  state.turns.push(row);
  const parts = [
    ["endpoint", row.endpoint_ms],
    ["final transcript", row.final_transcript_ms],
    ["first text", row.first_text_ms],
    ["first audio", row.first_audio_ms],
  ].filter(([, value]) => value !== null);
  $("#latency").textContent =
    `End of speech → first sound: ${row.end_of_speech_to_first_sound_ms} ms\n` +
    parts.map(([name, value]) => `${name} at ${value} ms`).join(" · ") +
    ` · sound +${row.end_of_speech_to_first_sound_ms - row.first_audio_ms} ms`;
}

// -- transcript ---------------------------------------------------------------------------------------

function addMessage(role, text) {
  const item = document.createElement("li");
  item.className = role;
  item.textContent = text;
  $("#log").appendChild(item);
  item.scrollIntoView({ block: "nearest" });
  return item;
}

function assistantBubble(turn) {
  if (!bubbles.has(turn)) bubbles.set(turn, addMessage("assistant", ""));
  return bubbles.get(turn);
}

// -- controls -----------------------------------------------------------------------------------------

function showMode(flags) {
  mode = { ...flags };
  for (const key of MODE_KEYS) $(`#mode input[name="${key}"]`).checked = Boolean(flags[key]);
  $("#text").disabled = !flags.text_input;
  $("#say button").disabled = !flags.text_input;
  $("#mic").disabled = !flags.voice_input;
  if (!flags.voice_input) setMic(false);
}

async function setMic(on) {
  if (on) {
    try {
      await audio.startMic();
    } catch (error) {
      addMessage("error", `Microphone unavailable: ${insecureContextReason() || error.message}`);
      on = false;
    }
  } else {
    audio.stopMic();
  }
  $("#mic").setAttribute("aria-pressed", String(on));
  $("#mic").textContent = on ? "Microphone on" : "Microphone off";
}

function pausePlayback(by, resumeAfterMs) {
  state.pauses.push({ by, at: audio.now() });
  audio.pause(true);
  clearTimeout(bargePause);
  bargePause = setTimeout(() => audio.pause(false), resumeAfterMs);
}

audio.onMicFrame = (pcm, level) => {
  loudFrames = level > BARGE_IN_LEVEL ? loudFrames + 1 : 0;
  if (loudFrames === BARGE_IN_FRAMES && audio.playingTurn !== null && mode.voice_input) {
    pausePlayback("page", BARGE_IN_CONFIRM_MS);
  }
  if (mode.voice_input && socket && socket.readyState === WebSocket.OPEN) {
    socket.send(pcm);
    state.micFramesSent++;
  }
};

$("#mic").addEventListener("click", () => setMic(!audio.micOn));
$("#say").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("#text").value.trim();
  if (!text) return;
  audio.start().catch(() => {}); // no audio here: the answer still comes as text
  send("text_message", { text });
  addMessage("user", text);
  $("#text").value = "";
});
$("#mode").addEventListener("change", (event) => {
  send("mode_change", { [event.target.name]: event.target.checked });
});
$("#profile").addEventListener("change", () => send("config_update", { profile: $("#profile").value }));
$("#persona").addEventListener("change", () => send("config_update", { persona: $("#persona").value }));
$("#avatar-on").addEventListener("change", () => send("config_update", { avatar: $("#avatar-on").checked }));
$("#auth").addEventListener("submit", (event) => {
  event.preventDefault();
  token = $("#token").value.trim();
  sessionStorage.setItem("voxhub-token", token);
  attempts = 0;
  loadPickers();
  connect();
});

async function loadPickers() {
  try {
    const profiles = await api("api/v1/profiles");
    fillSelect($("#profile"), (profiles.profiles || profiles).map((profile) => profile.name));
  } catch {
    $("#profile").disabled = true;
  }
  try {
    const personas = await api("api/v1/personas");
    fillSelect($("#persona"), (personas.personas || personas).map((persona) => persona.name ?? persona));
    $("#persona").hidden = $("#persona-label").hidden = false;
  } catch {
    $("#persona").hidden = $("#persona-label").hidden = true; // no personas on this server (yet)
  }
}

function fillSelect(select, names) {
  const current = select.value;
  select.replaceChildren(...names.map((name) => new Option(name, name)));
  if (names.includes(current)) select.value = current;
  select.disabled = names.length === 0;
}

function showAudioState() {
  // Browsers start audio only after a click or key press on the page (autoplay rules).
  const waiting = audio.context && audio.context.state !== "running";
  $("#audio-hint").hidden = !waiting;
}

// Browsers give the microphone (and AudioWorklet) only to secure pages: https, or http on localhost.
function insecureContextReason() {
  if (window.isSecureContext) return "";
  return (
    `this page came over plain http from ${location.host}, and browsers allow the microphone only ` +
    "over https or on localhost. Open it as https:// (voxhub serve --ssl-certfile/--ssl-keyfile, " +
    "a certificate from `voxhub cert`, or an https reverse proxy: see docs/deploy.md), or on this machine " +
    "as http://localhost."
  );
}

async function main() {
  try {
    await audio.start();
    audio.context.addEventListener("statechange", showAudioState);
    showAudioState();
  } catch (error) {
    // AudioWorklet and the microphone need a secure context: https, or http://localhost.
    const why = insecureContextReason() || error.message;
    addMessage("error", `Audio is unavailable, text still works: ${why}`);
  }
  loadPickers();
  connect();
  if (new URLSearchParams(location.search).get("mic") !== "off") setMic(true);
}

main();
