// A tile per visible seat: video (or initials), name and role, a speaking
// indicator from the seat's audio, the quality of its connection, and
// "Reconnecting media…" while the seat's media connection is being rebuilt, and
// "video paused — weak connection" over the last picture while the server holds
// that seat's video back from this page's weak downlink (its audio goes on).
import { el } from "./dom.js";
import { quality } from "./linkstats.js";
import { watchSpeaking } from "./meter.js";

function initials(name) {
  const words = String(name || "?").trim().split(/\s+/).filter(Boolean);
  return words.slice(0, 2).map((w) => w[0].toUpperCase()).join("") || "?";
}

function createTile(seat) {
  const video = el("video", { autoplay: true, playsinline: true, "aria-hidden": "true" });
  const avatar = el("div", { class: "avatar", "aria-hidden": "true" });
  const name = el("span", { class: "tile-name" });
  const role = el("span", { class: "tile-role" });
  const state = el("span", { class: "tile-state" });
  const link = el("span", { class: "tile-link", dataset: { quality: "unknown" } }, "—");
  const speaking = el("span", { class: "speaking-dot", "aria-hidden": "true" });
  const mediaNote = el("span", { class: "tile-note tile-media-note", role: "status", hidden: true }, RECONNECTING_MEDIA);
  const pausedNote = el("span", { class: "tile-note tile-paused-note", role: "status", hidden: true }, VIDEO_PAUSED);
  const li = el("li", { class: "tile", dataset: { seat } },
    el("div", { class: "tile-media" }, video, avatar, mediaNote, pausedNote),
    el("div", { class: "tile-info" },
      el("div", { class: "tile-line" }, speaking, name, state),
      el("div", { class: "tile-line" }, role, link)));
  return {
    li, video, avatar, name, role, state, link, mediaNote, pausedNote,
    stream: null, watched: null, paused: false, stopSpeaking: () => {},
  };
}

export const RECONNECTING_MEDIA = "Reconnecting media…";
export const VIDEO_PAUSED = "video paused — weak connection";

function hasLiveVideo(stream) {
  return Boolean(stream && stream.getVideoTracks().some((t) => t.readyState === "live" && t.enabled && !t.muted));
}

export function createTiles(list) {
  const tiles = new Map();
  const listened = new WeakSet();
  let notice = null;
  let paused = new Set(); // seats whose video the server holds back from this page

  function refreshVideo(tile) {
    // a paused video keeps its last picture on screen (the track may read as muted)
    tile.li.classList.toggle("has-video", hasLiveVideo(tile.stream) || (tile.paused && Boolean(tile.stream)));
  }

  function showPaused(seat, tile) {
    tile.paused = paused.has(seat);
    tile.li.classList.toggle("video-paused", tile.paused);
    tile.pausedNote.hidden = !tile.paused;
    refreshVideo(tile);
  }

  function watch(tile) {
    const audio = tile.stream ? tile.stream.getAudioTracks()[0] || null : null;
    if (audio === tile.watched) return;
    tile.watched = audio;
    tile.stopSpeaking();
    tile.li.classList.remove("speaking");
    tile.stopSpeaking = audio
      ? watchSpeaking(tile.stream, (on) => tile.li.classList.toggle("speaking", on))
      : () => {};
  }

  // Tracks are added to a seat's stream by script, which fires no "addtrack":
  // whoever changes the stream calls attach() again.
  function bind(tile, stream, self) {
    if (tile.stream !== stream) {
      tile.stream = stream;
      tile.video.muted = self; // never play your own microphone back to you
      tile.video.srcObject = stream;
      tile.li.classList.toggle("self", self);
      if (stream) tile.video.play().catch(() => {}); // the join click allows autoplay
    }
    for (const track of stream ? stream.getTracks() : []) {
      if (listened.has(track)) continue;
      listened.add(track);
      // Whichever tile shows the track now: a seat that leaves and rejoins gets a new
      // tile but the same receiver track back (muted until its packets flow again).
      const refresh = () => {
        for (const t of tiles.values()) if (t.stream && t.stream.getTracks().includes(track)) refreshVideo(t);
      };
      for (const type of ["mute", "unmute", "ended"]) track.addEventListener(type, refresh);
    }
    refreshVideo(tile);
    watch(tile);
  }

  return {
    /**
     * Show exactly these seats, in this order. Each entry:
     * {seat, name, role, connected, self, note, media}; media "reconnecting"
     * shows "Reconnecting media…" over the picture until it changes.
     */
    render(entries) {
      const keep = new Set(entries.map((e) => e.seat));
      for (const [seat, tile] of tiles) {
        if (!keep.has(seat)) {
          tile.stopSpeaking();
          tile.li.remove();
          tiles.delete(seat);
        }
      }
      entries.forEach((entry, index) => {
        let tile = tiles.get(entry.seat);
        if (!tile) {
          tile = createTile(entry.seat);
          tiles.set(entry.seat, tile);
          showPaused(entry.seat, tile);
        }
        tile.name.textContent = entry.self ? `${entry.name} (you)` : entry.name;
        tile.role.textContent = entry.role;
        tile.avatar.textContent = initials(entry.name);
        tile.state.textContent = entry.note || "";
        tile.li.classList.toggle("offline", !entry.connected);
        const rebuilding = entry.media === "reconnecting";
        tile.li.classList.toggle("media-reconnecting", rebuilding);
        tile.mediaNote.hidden = !rebuilding;
        tile.li.setAttribute("aria-label", [entry.self ? `${entry.name}, you` : entry.name, entry.role, entry.note]
          .filter(Boolean).join(", "));
        if (list.children[index] !== tile.li) list.insertBefore(tile.li, list.children[index] || null);
      });
      list.dataset.count = String(entries.length);
    },
    /** Media for a seat arrived, changed or ended (stream may be null). */
    attach(seat, stream, self = false) {
      const tile = tiles.get(seat);
      if (tile) bind(tile, stream, self);
    },
    has: (seat) => tiles.has(seat),
    /** A visible message above the tiles (e.g. no WebRTC in this browser); null removes it. */
    showNotice(text) {
      if (!text) {
        if (notice) notice.remove();
        notice = null;
        return;
      }
      if (!notice) {
        notice = el("p", { class: "media-unavailable", role: "alert" });
        list.parentNode.insertBefore(notice, list);
      }
      notice.textContent = text;
    },
    /** stats: {rttMs, lossPct, jitterMs} for the seat's link as this page sees it. */
    setStats(seat, stats) {
      const tile = tiles.get(seat);
      if (!tile || !stats) return;
      const level = quality(stats);
      const rtt = stats.rttMs === null || stats.rttMs === undefined ? "–" : `${stats.rttMs} ms`;
      const loss = `${(stats.lossPct || 0).toFixed(1)}% loss`;
      tile.link.dataset.quality = level;
      tile.link.dataset.rttMs = String(stats.rttMs ?? "");
      tile.link.dataset.lossPct = String(stats.lossPct ?? "");
      // a picture that stopped arriving is dimmed and said so, not left looking live
      tile.li.classList.toggle("stalled", level === "stalled");
      tile.link.textContent = level === "stalled" ? "No media arriving" : `${rtt} · ${loss}`;
      tile.link.setAttribute("aria-label", level === "stalled"
        ? "Nothing has arrived from this person for a few seconds; their connection may have dropped"
        : `Connection ${level}: round trip ${rtt}, ${loss}`);
      tile.link.title = tile.link.getAttribute("aria-label");
    },
    refresh(seat) {
      const tile = tiles.get(seat);
      if (tile) refreshVideo(tile);
    },
    /** The seats whose video is paused for this page's weak downlink (a Set). */
    setPaused(seats) {
      paused = new Set(seats);
      for (const [seat, tile] of tiles) showPaused(seat, tile);
    },
  };
}
