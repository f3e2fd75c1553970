// The device check before joining: camera preview, device choice, microphone
// level meter and the "audio only" option. It hands its stream to the room.
import { el } from "./dom.js";
import { watchLevel } from "./meter.js";

const VIDEO = { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 24 } };
const AUDIO = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };

function describe(error) {
  if (error && error.name === "NotAllowedError") {
    return "The browser was not allowed to use your camera or microphone. Allow them in the address bar, then choose a device again.";
  }
  if (error && error.name === "NotFoundError") return "No camera or microphone was found.";
  if (error && error.name === "NotReadableError") {
    return "Your camera or microphone is in use by another application.";
  }
  return "Your camera or microphone could not be started.";
}

/**
 * ui: {preview, previewNote, cameraSelect, micSelect, meter, audioOnly, error}
 * Returns {start, stream(), audioOnly(), release()}.
 */
export function createDeviceCheck(ui) {
  let stream = null;
  let stopMeter = () => {};
  let generation = 0; // a later acquire() wins over an earlier one still pending
  let settled = Promise.resolve(); // the latest acquire(), done (well or not)

  function stopTracks() {
    stopMeter();
    stopMeter = () => {};
    if (stream) stream.getTracks().forEach((t) => t.stop());
    stream = null;
  }

  async function open(withVideo) {
    const audio = ui.micSelect.value ? { ...AUDIO, deviceId: { exact: ui.micSelect.value } } : AUDIO;
    const video = !withVideo ? false
      : ui.cameraSelect.value ? { ...VIDEO, deviceId: { exact: ui.cameraSelect.value } } : VIDEO;
    return navigator.mediaDevices.getUserMedia({ audio, video });
  }

  function acquire() {
    settled = pick().catch(() => {});
    return settled;
  }

  async function pick() {
    const mine = ++generation;
    stopTracks();
    ui.error.hidden = true;
    const wantVideo = !ui.audioOnly.checked;
    let next = null;
    try {
      next = await open(wantVideo);
    } catch (error) {
      if (mine !== generation) return; // given up on, or superseded: ask for nothing more
      if (wantVideo) {
        // A missing or busy camera should not keep someone out: try the microphone alone.
        try { next = await open(false); } catch { /* reported below */ }
      }
      ui.error.textContent = next
        ? "Your camera could not be started; you can still join with your microphone."
        : describe(error) + " You can still join to watch and listen.";
      ui.error.hidden = false;
    }
    if (mine !== generation) {
      if (next) next.getTracks().forEach((t) => t.stop());
      return;
    }
    stream = next;
    ui.preview.srcObject = stream && stream.getVideoTracks().length ? stream : null;
    ui.previewNote.hidden = Boolean(ui.preview.srcObject);
    ui.previewNote.textContent = ui.audioOnly.checked
      ? "Audio only: your camera stays off and you will not receive video."
      : "No camera picture.";
    stopMeter = watchLevel(stream, (level) => { ui.meter.value = level; });
    await listDevices();
  }

  function fill(select, devices, activeId, noun) {
    const chosen = select.value || activeId;
    select.replaceChildren(
      ...devices.map((d, i) => el("option", { value: d.deviceId }, d.label || `${noun} ${i + 1}`)),
    );
    if (!devices.length) select.append(el("option", { value: "" }, `No ${noun.toLowerCase()} found`));
    if (devices.some((d) => d.deviceId === chosen)) select.value = chosen;
  }

  async function listDevices() {
    const devices = await navigator.mediaDevices.enumerateDevices();
    const settings = (kind) => {
      const track = stream && (kind === "audio" ? stream.getAudioTracks() : stream.getVideoTracks())[0];
      return track ? track.getSettings().deviceId : "";
    };
    fill(ui.micSelect, devices.filter((d) => d.kind === "audioinput"), settings("audio"), "Microphone");
    fill(ui.cameraSelect, devices.filter((d) => d.kind === "videoinput"), settings("video"), "Camera");
    ui.cameraSelect.disabled = ui.audioOnly.checked;
  }

  async function start() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      ui.error.textContent = "This browser cannot use a camera or microphone here (a secure https page is needed). You can still join to watch and listen.";
      ui.error.hidden = false;
      return;
    }
    ui.micSelect.addEventListener("change", acquire);
    ui.cameraSelect.addEventListener("change", acquire);
    ui.audioOnly.addEventListener("change", acquire);
    navigator.mediaDevices.addEventListener("devicechange", () => listDevices().catch(() => {}));
    await acquire();
  }

  return {
    start,
    stream: () => stream,
    audioOnly: () => ui.audioOnly.checked,
    /**
     * Once the camera and microphone have answered (a click on "join" can come
     * before they do), stop the preview's meter and hand over the live tracks:
     * the room now owns them. If `giveUp` settles first (the person chose to
     * join without devices that never answered), hand over nothing; a late
     * answer is then stopped, never published.
     */
    async release(giveUp = new Promise(() => {})) {
      const gaveUp = giveUp.then(() => true);
      let waited;
      do {
        waited = settled;
        if (await Promise.race([waited.then(() => false), gaveUp])) {
          generation++;
          stopTracks();
          ui.preview.srcObject = null;
          return null;
        }
      } while (waited !== settled); // a device changed meanwhile: wait for that one too
      generation++;
      stopMeter();
      ui.preview.srcObject = null;
      return stream;
    },
    /** For pages that never publish (observers): drop the tracks entirely. */
    discard: stopTracks,
  };
}
