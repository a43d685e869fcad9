// The page's audio: one AudioContext holding the microphone worklet and the playback worklet, so that the
// time the user stopped speaking and the time the answer's first sound played are read on one clock.

const LOUD_LEVEL = 0.005; // RMS (-46 dBFS) of a 20 ms microphone frame that counts as speech, for timing only
const FRAME_SECS = 0.02;

export class AudioIO {
  constructor() {
    this.context = null;
    this.playback = null;
    this.micNode = null;
    this.stream = null;
    this.onMicFrame = null; // (ArrayBuffer of s16le, RMS level 0..1) => void
    this.onPlayback = null; // (status message from the playback worklet) => void
    this.lastLoudAt = null; // context time of the end of the last loud microphone frame
    this.micFrames = 0;
    this.counters = { received_samples: 0, played_samples: 0, underruns: 0, turns: 0 };
    this.position = null; // {turn, played_ms, at}: the last playback position report
    this.playingTurn = null;
  }

  async start() {
    if (this.context) return;
    this.context = new AudioContext({ latencyHint: "interactive" });
    await this.context.audioWorklet.addModule(new URL("worklets.js", import.meta.url));
    this.playback = new AudioWorkletNode(this.context, "voxhub-playback", { outputChannelCount: [1] });
    this.playback.connect(this.context.destination);
    this.playback.port.onmessage = (event) => this.fromPlayback(event.data);
    if (this.context.state !== "running") {
      const resume = () => this.context.resume();
      for (const kind of ["click", "keydown", "touchstart"]) document.addEventListener(kind, resume, { once: true });
    }
  }

  now() {
    return this.context ? this.context.currentTime : performance.now() / 1000;
  }

  async startMic() {
    await this.start();
    if (this.stream) return;
    this.stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    });
    const source = this.context.createMediaStreamSource(this.stream);
    this.micNode = new AudioWorkletNode(this.context, "voxhub-mic", { numberOfOutputs: 0 });
    this.micNode.port.onmessage = (event) => {
      const { pcm, at, level } = event.data;
      if (level > LOUD_LEVEL) this.lastLoudAt = at + FRAME_SECS;
      this.micFrames++;
      if (this.onMicFrame) this.onMicFrame(pcm, level);
    };
    source.connect(this.micNode);
    this.micSource = source;
  }

  stopMic() {
    if (!this.stream) return;
    for (const track of this.stream.getTracks()) track.stop();
    this.micSource.disconnect();
    this.micNode.port.onmessage = null;
    this.stream = this.micNode = this.micSource = null;
  }

  get micOn() {
    return this.stream !== null;
  }

  fromPlayback(message) {
    this.counters = message.counters;
    if (message.type === "position" || message.type === "first_sound") {
      this.position = { turn: message.turn, played_ms: message.played_ms, at: message.at };
    } else if (message.type === "finished" || message.type === "stopped") {
      this.position = null;
      this.playingTurn = null;
    }
    if (this.onPlayback) this.onPlayback(message);
  }

  // The answer's audio -----------------------------------------------------------------------------

  startTurn(turn, rate) {
    this.playingTurn = turn;
    this.playback?.port.postMessage({ type: "start", turn, rate });
  }

  audio(turn, pcm) {
    this.playback?.port.postMessage({ type: "audio", turn, pcm }, [pcm]);
  }

  endTurn(turn) {
    this.playback?.port.postMessage({ type: "end", turn });
  }

  pause(paused) {
    this.playback?.port.postMessage({ type: "pause", paused });
  }

  stop() {
    this.playback?.port.postMessage({ type: "stop" });
  }

  // ms of the playing turn's audio heard by now, interpolated between the worklet's reports
  playedMs() {
    if (!this.position || !this.context) return null;
    return this.position.played_ms + 1000 * Math.max(0, Math.min(0.05, this.context.currentTime - this.position.at));
  }
}
