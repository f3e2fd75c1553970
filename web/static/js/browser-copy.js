// @ts-check
// The browser's second copy: while this seat is recorded with its consent (room
// state `recording.you`), the page also records its own camera and microphone
// (MediaRecorder, WebM) in chunks of a few seconds, each a whole WebM file placed on
// the session clock, keeps them in IndexedDB until the server has them, and uploads
// them in the background, during and after the session. A closed page loses at most
// the chunk it was recording; reopened, it uploads what it still holds and numbers
// new chunks after the server's. The server fills its own recording's gaps from them.
// Protocol: docs/protocol.md "The browser's second copy".

/** How long each chunk runs; the next starts before this one stops, so none are missed. */
const CHUNK_MS = 4000;
/** At most this many chunks wait in IndexedDB; past it, new ones are not kept. */
const MAX_HELD = 90;
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30000;
const DB_NAME = "caucus-browser-copy";
const STORE = "chunks";

/**
 * @typedef {{key: string, room: string, seat: string, n: number, t_ms: number,
 *   duration_ms: number, type: string, blob: Blob}} Chunk
 */

/** Matroska's Cluster ID (0x1F43B675): the frames of a WebM file are in its Clusters. */
const CLUSTER_ID = 0x1f43b675;

/**
 * Whether a recorded chunk holds any frame: a recorder stopped before its first frame
 * (a rotation just before the session ends) gives the WebM header alone, which the
 * server refuses (415); such a chunk is let go before it is sent.
 * @param {Blob} blob
 */
async function holdsFrames(blob) {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  const view = new DataView(bytes.buffer);
  // only where the ID's first byte is: a chunk is ~150 KB, read once when it ends
  for (let i = bytes.indexOf(0x1f); i >= 0 && i + 3 < bytes.length; i = bytes.indexOf(0x1f, i + 1)) {
    if (view.getUint32(i) === CLUSTER_ID) return true;
  }
  return false;
}

/** @returns {Promise<IDBDatabase|null>} */
function openDb() {
  return new Promise((resolve) => {
    if (typeof indexedDB === "undefined") { resolve(null); return; }
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => {
      const store = request.result.createObjectStore(STORE, { keyPath: "key" });
      store.createIndex("seat", ["room", "seat"]);
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => resolve(null); // private mode without storage: memory only
  });
}

/**
 * @param {IDBDatabase|null} db
 * @param {"readonly"|"readwrite"} mode
 * @param {(store: IDBObjectStore) => IDBRequest|void} work
 * @returns {Promise<any>}
 */
function inStore(db, mode, work) {
  return new Promise((resolve, reject) => {
    if (!db) { resolve(null); return; }
    const tx = db.transaction(STORE, mode);
    const request = work(tx.objectStore(STORE));
    tx.oncomplete = () => resolve(request ? request.result : null);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

/** The MediaRecorder type this browser records the stream in. */
function recordingType(stream) {
  const video = stream.getVideoTracks().length > 0;
  const wanted = video ? ["video/webm;codecs=vp8,opus", "video/webm"] : ["audio/webm;codecs=opus", "audio/webm"];
  return wanted.find((t) => MediaRecorder.isTypeSupported(t)) || null;
}

/**
 * room, seat, token: the seat's token (uploads carry it as Bearer); clock: the
 * session clock (signal.clock); local: the camera/microphone stream (null: nothing).
 * @param {{room: string, seat?: string, token: string,
 *   clock: import("./session-clock.js").SessionClock, local: MediaStream|null}} options
 */
export function createBrowserCopy({ room, token, clock, local }) {
  const base = `/api/simulations/${encodeURIComponent(room)}/browser-copy`;
  const auth = { Authorization: `Bearer ${token}` };
  /** @type {IDBDatabase|null} */
  let db = null;
  /** @type {Chunk[]} chunks waiting when there is no IndexedDB */
  const memory = [];
  let seat = "";
  let next = -1; // the next chunk number; -1 until the server said which it has
  let ready = null; // Promise: the database is open and numbering known
  let wanted = false; // the room says this seat is recorded now
  let phase = "";
  /** @type {{recorder: MediaRecorder, startedAt: number, stoppedAt: number, n: number, type: string}|null} */
  let current = null;
  let rotation = 0;
  let uploading = false;
  let retryMs = RETRY_MIN_MS;
  let retryTimer = 0;
  let closed = false;
  const counts = { recorded: 0, uploaded: 0, dropped: 0, refused: 0, empty: 0 };

  async function start(forSeat) {
    seat = forSeat;
    db = await openDb();
    let serverNext = 0;
    try {
      const response = await fetch(base, { headers: auth, cache: "no-store" });
      if (response.ok) serverNext = (await response.json()).next;
      else if (response.status === 401 || response.status === 403 || response.status === 404) {
        closed = true; // this seat keeps no copy here (an observer, a bad link)
      }
    } catch { /* offline: number after what we hold */ }
    const held = await pending();
    const stored = Number(localStorage.getItem(counterKey()) || "0");
    next = Math.max(serverNext, stored, ...held.map((c) => c.n + 1));
    upload();
  }

  function counterKey() { return `${DB_NAME}:${room}:${seat}`; }

  /** @returns {Promise<Chunk[]>} every chunk of this seat not yet uploaded, oldest first */
  async function pending() {
    if (!db) return memory.slice();
    const all = await inStore(db, "readonly", (s) => s.index("seat").getAll([room, seat]));
    return (all || []).sort((a, b) => a.n - b.n);
  }

  async function hold(chunk) {
    const held = await pending();
    if (held.length >= MAX_HELD) { counts.dropped += 1; return; }
    if (db) {
      try { await inStore(db, "readwrite", (s) => s.put(chunk)); } catch { memory.push(chunk); }
    } else {
      memory.push(chunk);
    }
  }

  async function release(chunk) {
    const i = memory.findIndex((c) => c.key === chunk.key);
    if (i >= 0) memory.splice(i, 1);
    if (db) await inStore(db, "readwrite", (s) => s.delete(chunk.key)).catch(() => {});
  }

  function begin() {
    if (!local || closed || next < 0) return;
    const stream = new MediaStream(local.getTracks().filter((t) => t.readyState === "live"));
    if (!stream.getTracks().length) return;
    const type = recordingType(stream);
    if (!type) return;
    const recorder = new MediaRecorder(stream, { mimeType: type });
    // Placed where start() and stop() were called: the recorder takes the frames that
    // arrive between the two (the first within a frame interval); its start and stop
    // events come later, by however long this page's event loop is busy.
    const entry = { recorder, startedAt: 0, stoppedAt: 0, n: next, type: type.split(";")[0] };
    next += 1;
    localStorage.setItem(counterKey(), String(next));
    /** @type {Blob[]} */
    const parts = [];
    recorder.addEventListener("dataavailable", (e) => { if (e.data && e.data.size) parts.push(e.data); });
    recorder.addEventListener("stop", async () => {
      const endedAt = entry.stoppedAt || clock.now();
      if (!parts.length) return;
      const chunk = {
        key: `${room}/${seat}/${entry.n}`, room, seat, n: entry.n,
        t_ms: Math.max(0, Math.round(entry.startedAt)),
        duration_ms: Math.max(1, Math.round(endedAt - entry.startedAt)),
        type: entry.type, blob: new Blob(parts, { type: entry.type }),
      };
      counts.recorded += 1;
      await hold(chunk);
      upload();
    });
    recorder.start();
    entry.startedAt = clock.now();
    current = entry;
  }

  function finish(entry) {
    if (!entry || entry.recorder.state === "inactive") return;
    entry.stoppedAt = clock.now();
    entry.recorder.stop();
  }

  function stopCurrent() {
    const entry = current;
    current = null;
    finish(entry);
  }

  /** The next chunk starts before this one stops: the copy has no holes between chunks. */
  function rotate() {
    const old = current;
    current = null;
    if (wanted && !closed) begin();
    finish(old);
  }

  function schedule() {
    clearInterval(rotation);
    rotation = wanted ? window.setInterval(rotate, CHUNK_MS) : 0;
  }

  async function upload() {
    // Offline, a request only fails (and fills the console): the "online" event resumes.
    if (uploading || next < 0 || !navigator.onLine) return;
    uploading = true;
    try {
      for (;;) {
        const [chunk] = await pending();
        if (!chunk) break;
        // checked here, held meanwhile: a chunk is always either held or let go
        if (!(await holdsFrames(chunk.blob))) {
          counts.empty += 1;
          await release(chunk);
          continue;
        }
        const query = `t_ms=${chunk.t_ms}&duration_ms=${chunk.duration_ms}`;
        let response;
        try {
          response = await fetch(`${base}/${chunk.n}?${query}`, {
            method: "PUT", headers: { ...auth, "Content-Type": chunk.type }, body: chunk.blob,
          });
        } catch {
          response = null; // offline: try again later
        }
        if (response && (response.ok || (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429))) {
          // stored (201), already there (200), or refused for good (no consent, caps): let go
          if (response.ok) counts.uploaded += 1; else counts.refused += 1;
          await release(chunk);
          retryMs = RETRY_MIN_MS;
          continue;
        }
        clearTimeout(retryTimer);
        retryTimer = window.setTimeout(upload, retryMs);
        retryMs = Math.min(RETRY_MAX_MS, retryMs * 2);
        break;
      }
    } finally {
      uploading = false;
    }
  }

  window.addEventListener("online", () => upload());
  // A closing page stops recording; what it holds is uploaded when it is opened again.
  window.addEventListener("pagehide", () => { wanted = false; schedule(); stopCurrent(); });

  return {
    counts,
    /** Follow the room: record while this seat is recorded, a new chunk at each phase. */
    update(state) {
      if (!ready) {
        // A seat that publishes nothing (an observer) keeps no copy: its page never asks
        // the server, which would refuse it.
        if (!state.actions.publish) return;
        ready = start(state.you.seat);
      }
      const now = Boolean(state.recording && state.recording.on && state.recording.you
        && state.actions.publish && state.phase.kind !== "ended");
      const phaseChanged = phase !== "" && phase !== state.phase.name;
      phase = state.phase.name;
      ready.then(() => {
        if (now === wanted && !(now && phaseChanged)) return;
        if (now && phaseChanged && wanted) { rotate(); schedule(); return; }
        wanted = now;
        schedule();
        if (wanted) begin(); else stopCurrent();
      });
    },
    /** Stop recording (the seat left); uploads go on while the page is open. */
    stop() { wanted = false; schedule(); stopCurrent(); },
  };
}
