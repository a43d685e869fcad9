// A 2D SVG face, drawn on the CPU: the mouth follows the visemes of the playing answer, the eyes blink,
// and the brows and mouth corners show the emotion of the turn.

const SVG = "http://www.w3.org/2000/svg";

// Mouth shape per viseme: how open (0..1), how wide (0..1), how rounded (0..1, lips pushed forward).
const MOUTHS = {
  sil: { open: 0.0, wide: 0.5, round: 0.0 },
  PP: { open: 0.0, wide: 0.45, round: 0.1 },
  FF: { open: 0.12, wide: 0.55, round: 0.0 },
  TH: { open: 0.2, wide: 0.55, round: 0.0 },
  DD: { open: 0.3, wide: 0.55, round: 0.0 },
  kk: { open: 0.35, wide: 0.5, round: 0.1 },
  CH: { open: 0.3, wide: 0.35, round: 0.6 },
  SS: { open: 0.15, wide: 0.65, round: 0.0 },
  nn: { open: 0.25, wide: 0.55, round: 0.0 },
  RR: { open: 0.3, wide: 0.4, round: 0.5 },
  aa: { open: 0.9, wide: 0.6, round: 0.1 },
  E: { open: 0.55, wide: 0.7, round: 0.0 },
  ih: { open: 0.4, wide: 0.75, round: 0.0 },
  oh: { open: 0.7, wide: 0.35, round: 0.8 },
  ou: { open: 0.45, wide: 0.25, round: 1.0 },
};

// Expression per emotion: brow tilt (+ = inner ends raised), brow lift, smile (+ up, - down), eye opening.
const EXPRESSIONS = {
  neutral: { tilt: 0, lift: 0, smile: 0.15, eyes: 1 },
  joy: { tilt: 0, lift: 2, smile: 1, eyes: 0.8 },
  anger: { tilt: -7, lift: -3, smile: -0.5, eyes: 0.85 },
  sadness: { tilt: 7, lift: 0, smile: -0.8, eyes: 0.75 },
  fear: { tilt: 6, lift: 5, smile: -0.4, eyes: 1.25 },
  surprise: { tilt: 0, lift: 8, smile: 0, eyes: 1.3 },
};

function element(name, attributes, parent) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  if (parent) parent.appendChild(node);
  return node;
}

export class Avatar {
  constructor(container) {
    this.svg = element("svg", { viewBox: "0 0 200 200", role: "img", "aria-label": "assistant's face" });
    container.appendChild(this.svg);
    element("circle", { cx: 100, cy: 100, r: 88, class: "face" }, this.svg);
    this.eyes = [70, 130].map((cx) => element("ellipse", { cx, cy: 82, rx: 9, ry: 11, class: "eye" }, this.svg));
    this.brows = [70, 130].map(() => element("path", { class: "brow" }, this.svg));
    this.mouth = element("path", { class: "mouth" }, this.svg);
    this.track = []; // [{viseme, start_ms, duration_ms}] of the current turn, in turn-audio time
    this.turn = null;
    this.current = { ...MOUTHS.sil };
    this.expression = { ...EXPRESSIONS.neutral };
    this.targetExpression = EXPRESSIONS.neutral;
    this.emotion = "neutral";
    this.blinkUntil = 0;
    this.nextBlink = performance.now() + 2000;
    this.position = null; // () => ms of the turn's audio played, or null when nothing plays
    this.stats = { visemes_shown: 0, shapes: new Set(), blinks: 0, mouth_changes: 0 };
    this.shown = "sil";
    this.lastPath = "";
    const frame = (now) => {
      this.draw(now);
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  }

  startTurn(turn) {
    this.turn = turn;
    this.track = [];
  }

  addVisemes(turn, visemes) {
    if (turn !== this.turn) this.startTurn(turn);
    this.track.push(...visemes);
  }

  setEmotion(label) {
    this.emotion = EXPRESSIONS[label] ? label : "neutral";
    this.targetExpression = EXPRESSIONS[this.emotion];
  }

  update(nodes, name, value) {
    nodes.forEach((node, index) => {
      const text = value(index);
      if (node.getAttribute(name) !== text) node.setAttribute(name, text);
    });
  }

  visemeAt(ms) {
    for (const item of this.track) {
      if (ms >= item.start_ms && ms < item.start_ms + item.duration_ms) return item.viseme;
    }
    return "sil";
  }

  draw(now) {
    const ms = this.position ? this.position() : null;
    const viseme = ms === null ? "sil" : this.visemeAt(ms);
    if (viseme !== this.shown) {
      this.shown = viseme;
      if (viseme !== "sil") {
        this.stats.visemes_shown++;
        this.stats.shapes.add(viseme);
      }
    }
    const target = MOUTHS[viseme] || MOUTHS.sil;
    for (const key of Object.keys(this.current)) this.current[key] += (target[key] - this.current[key]) * 0.5;
    for (const key of Object.keys(this.expression)) {
      this.expression[key] += (this.targetExpression[key] - this.expression[key]) * 0.15;
    }
    if (now > this.nextBlink) {
      this.blinkUntil = now + 140;
      this.nextBlink = now + 2500 + Math.random() * 3000;
      this.stats.blinks++;
    }
    const { tilt, lift, smile, eyes } = this.expression;
    const open = now < this.blinkUntil ? 0.08 : eyes;
    // Attributes change only when the picture does: an idle face costs the page no style work.
    this.update(this.eyes, "ry", () => (11 * open).toFixed(1));
    this.update(this.brows, "d", (side) => {
      const outer = side === 0 ? 55 : 145;
      const inner = side === 0 ? 85 : 115;
      const y = 62 - lift;
      const ends = [y + tilt / 2, y - tilt / 2].map((value) => value.toFixed(1));
      return `M${outer} ${ends[0]} Q${(outer + inner) / 2} ${(y - 5).toFixed(1)} ${inner} ${ends[1]}`;
    });
    const { open: jaw, wide, round } = this.current;
    const half = Math.round(10 * (14 + 22 * wide - 8 * round)) / 10;
    const corner = (140 - 8 * smile).toFixed(1);
    const upper = 140 - 2 - 6 * jaw * (0.5 + round) + 6 * smile * (1 - jaw);
    const lower = 140 + 2 + 26 * jaw + 6 * smile;
    const path =
      `M${(100 - half).toFixed(1)} ${corner} Q100 ${upper.toFixed(1)} ${(100 + half).toFixed(1)} ${corner} ` +
      `Q100 ${lower.toFixed(1)} ${(100 - half).toFixed(1)} ${corner} Z`;
    if (path !== this.lastPath) {
      this.mouth.setAttribute("d", path);
      if (ms !== null) this.stats.mouth_changes++;
      this.lastPath = path;
    }
  }
}
