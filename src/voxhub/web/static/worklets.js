// Audio worklets of the voxhub web client: microphone capture (→ 16 kHz s16le) and answer playback
// (a jitter buffer). Both run in the page's one AudioContext, so their times share one clock.

const MIC_RATE_HZ = 16000;
const MIC_FRAME_SAMPLES = 320; // 20 ms at 16 kHz

// Captures the microphone, resampled to 16 kHz by averaging each output sample's share of the input
// (a box filter: crude, but enough against aliasing for speech), and posts 20 ms frames of int16 PCM
// with the context time of their first sample and their level (RMS, 0..1).
class MicCapture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.step = sampleRate / MIC_RATE_HZ; // input samples per output sample
    this.position = 0; // fractional input position of the next output sample, relative to this block
    this.frame = new Int16Array(MIC_FRAME_SAMPLES);
    this.filled = 0;
    this.frameStart = 0;
    this.energy = 0;
    this.carry = 0; // the partial sum of an output sample that spans two blocks
    this.carryCount = 0;
  }

  process(inputs) {
    const input = inputs[0] && inputs[0][0];
    if (!input) return true;
    let sum = this.carry;
    let count = this.carryCount;
    let next = this.position + this.step;
    for (let i = 0; i < input.length; i++) {
      sum += input[i];
      count++;
      if (i + 1 >= next) {
        this.push(sum / count, currentTime + i / sampleRate);
        sum = 0;
        count = 0;
        next += this.step;
      }
    }
    this.carry = sum;
    this.carryCount = count;
    this.position = next - this.step - input.length;
    return true;
  }

  push(sample, at) {
    if (this.filled === 0) this.frameStart = at;
    const clipped = Math.max(-1, Math.min(1, sample));
    this.frame[this.filled++] = clipped < 0 ? clipped * 0x8000 : clipped * 0x7fff;
    this.energy += clipped * clipped;
    if (this.filled === MIC_FRAME_SAMPLES) {
      const level = Math.sqrt(this.energy / MIC_FRAME_SAMPLES);
      this.port.postMessage({ pcm: this.frame.buffer, at: this.frameStart, level }, [this.frame.buffer]);
      this.frame = new Int16Array(MIC_FRAME_SAMPLES);
      this.filled = 0;
      this.energy = 0;
    }
  }
}

// Plays the answer's PCM as it streams in. Audio waits in a queue until PREBUFFER_MS of it are there (or
// the answer's audio is complete), then plays without gaps; an underrun plays silence and buffers again.
// Linear interpolation takes the TTS rate to the context's rate.
const PREBUFFER_MS = 80;

class Playback extends AudioWorkletProcessor {
  constructor() {
    super();
    this.reset();
    this.counters = { received_samples: 0, played_samples: 0, underruns: 0, turns: 0 };
    this.ticks = 0;
    this.port.onmessage = (event) => this.command(event.data);
  }

  reset() {
    this.chunks = [];
    this.offset = 0; // fractional read position in chunks[0]
    this.buffered = 0;
    this.turn = null;
    this.rate = 24000;
    this.playing = false;
    this.paused = false;
    this.complete = false;
    this.playedInTurn = 0; // source samples of whole chunks played
    this.sounded = false;
  }

  command(message) {
    if (message.type === "start") {
      // A new answer: whatever is left of an old one is dropped.
      this.reset();
      this.turn = message.turn;
      this.rate = message.rate;
      this.counters.turns++;
    } else if (message.type === "audio") {
      if (message.turn !== this.turn) return;
      const samples = new Int16Array(message.pcm);
      const floats = new Float32Array(samples.length);
      for (let i = 0; i < samples.length; i++) floats[i] = samples[i] / 0x8000;
      this.chunks.push(floats);
      this.buffered += floats.length;
      this.counters.received_samples += floats.length;
    } else if (message.type === "end") {
      if (message.turn === this.turn) this.complete = true;
    } else if (message.type === "pause") {
      this.paused = message.paused;
    } else if (message.type === "stop") {
      const report = this.status("stopped");
      this.reset();
      this.port.postMessage(report);
    }
  }

  status(type) {
    return {
      type,
      turn: this.turn,
      played_ms: this.positionMs(),
      at: currentTime,
      counters: { ...this.counters },
    };
  }

  process(_inputs, outputs) {
    const out = outputs[0][0];
    out.fill(0);
    if (this.turn === null || this.paused) return true;
    if (!this.playing) {
      if (this.buffered * 1000 < PREBUFFER_MS * this.rate && !this.complete) return true;
      if (this.buffered === 0) return true;
      this.playing = true;
    }
    const step = this.rate / sampleRate;
    let written = 0;
    for (; written < out.length && this.chunks.length; written++) {
      const chunk = this.chunks[0];
      const index = Math.floor(this.offset);
      const fraction = this.offset - index;
      const after = this.chunks.length > 1 ? this.chunks[1][0] : chunk[index];
      const following = index + 1 < chunk.length ? chunk[index + 1] : after;
      out[written] = chunk[index] + (following - chunk[index]) * fraction;
      this.offset += step;
      while (this.chunks.length && this.offset >= this.chunks[0].length) {
        this.offset -= this.chunks[0].length;
        this.buffered -= this.chunks[0].length;
        this.playedInTurn += this.chunks[0].length;
        this.counters.played_samples += this.chunks[0].length;
        this.chunks.shift();
      }
    }
    if (!this.sounded && written > 0) {
      this.sounded = true;
      this.port.postMessage(this.status("first_sound"));
    }
    if (written < out.length) {
      if (this.complete) {
        this.port.postMessage(this.status("finished"));
        this.turn = null;
        this.playing = false;
      } else {
        this.counters.underruns++;
        this.playing = false; // buffer again before going on
      }
    }
    // The position within the turn, for the avatar's lip sync (posted about every 20 ms).
    if (written > 0 && ++this.ticks % 8 === 0) {
      this.port.postMessage(this.status("position"));
    }
    return true;
  }

  positionMs() {
    return (1000 * (this.playedInTurn + this.offset)) / this.rate;
  }
}

registerProcessor("voxhub-mic", MicCapture);
registerProcessor("voxhub-playback", Playback);
