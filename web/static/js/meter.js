// Audio levels with WebAudio: the microphone meter on the device check and the
// speaking indicator on every tile. One AudioContext serves the whole page.

let context = null;

/** The page's AudioContext, resumed if the browser started it suspended. */
export function audioContext() {
  if (!context) context = new AudioContext();
  if (context.state === "suspended") context.resume().catch(() => {});
  return context;
}

/** Browsers start audio only after a user gesture: resume on the first one. */
export function resumeAudioOnGesture() {
  const resume = () => audioContext();
  for (const type of ["pointerdown", "keydown"]) {
    window.addEventListener(type, resume, { once: true, capture: true });
  }
}

/** Map an RMS amplitude to 0…1 on a -60…0 dBFS scale, which reads like a VU meter. */
export function levelOf(rms) {
  if (rms <= 0) return 0;
  return Math.max(0, Math.min(1, (20 * Math.log10(rms) + 60) / 60));
}

/**
 * Call onLevel(level 0…1, rms) every intervalMs with the loudness of the
 * stream's first audio track. Returns a function that stops watching.
 */
export function watchLevel(stream, onLevel, intervalMs = 100) {
  const track = stream && stream.getAudioTracks()[0];
  if (!track) return () => {};
  const ac = audioContext();
  const source = ac.createMediaStreamSource(new MediaStream([track]));
  const analyser = ac.createAnalyser();
  analyser.fftSize = 1024;
  source.connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  const timer = setInterval(() => {
    analyser.getFloatTimeDomainData(samples);
    let sum = 0;
    for (const s of samples) sum += s * s;
    const rms = Math.sqrt(sum / samples.length);
    onLevel(levelOf(rms), rms);
  }, intervalMs);
  return () => {
    clearInterval(timer);
    source.disconnect();
  };
}

const SPEAKING_RMS = 0.02; // about -34 dBFS: speech, not room noise
const HOLD_MS = 400; // keep the indicator on across the gaps between words

/** Call onChange(true|false) when the stream starts or stops carrying speech. */
export function watchSpeaking(stream, onChange) {
  let speaking = false;
  let lastLoud = 0;
  return watchLevel(stream, (_level, rms) => {
    const now = performance.now();
    if (rms >= SPEAKING_RMS) lastLoud = now;
    const next = now - lastLoud < HOLD_MS;
    if (next !== speaking) {
      speaking = next;
      onChange(speaking);
    }
  });
}
