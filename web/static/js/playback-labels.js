// Names for what a recording shows: seats (with the scenario's characters when
// the API sends them), phases, rubric skills and each skill's colour. Each seat's
// role is the API's (`roles`), never read from the seat's name.
import { seatLabel } from "./seats.js";

/** Colour-blind-friendly, distinct on white and on the dark timeline. */
export const SKILL_COLOURS = [
  "#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00",
  "#56b4e9", "#8c564b", "#7b3fbf", "#a08000", "#2f6f6f",
];
export const NEUTRAL_COLOUR = "#6b7785";

function hash(text) {
  let h = 0x811c9dc5; // FNV-1a: the same id gets the same colour on every page
  for (let i = 0; i < text.length; i += 1) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * rubric: [{id, name}] (may be empty). A skill's colour is its place in the
 * scenario's rubric (fixed by the scenario, so stable across sessions and pages);
 * a skill the rubric does not list falls back to a hash of its id.
 */
export function createSkills(rubric) {
  const list = Array.isArray(rubric) ? rubric.filter((s) => s && typeof s.id === "string") : [];
  const index = new Map(list.map((s, i) => [s.id, i]));
  return {
    list,
    name: (id) => (list.find((s) => s.id === id) || {}).name || String(id).replace(/_/g, " "),
    colour(id) {
      if (!id) return NEUTRAL_COLOUR;
      const i = index.has(id) ? index.get(id) : hash(id);
      return SKILL_COLOURS[i % SKILL_COLOURS.length];
    },
  };
}

/**
 * Seat names. parties: [{seat, name, label}] (the scenario's characters, when the
 * API sends them); timeline: the recording's events, whose joins name the people;
 * roles: {seat: role} (the API's `roles`).
 */
export function createSeatNames(parties, timeline = [], roles = {}) {
  const bySeat = new Map((Array.isArray(parties) ? parties : []).map((p) => [p.seat, p]));
  const people = new Map();
  for (const e of Array.isArray(timeline) ? timeline : []) {
    if ((e.kind === "join" || e.kind === "resume") && e.seat && typeof e.name === "string" && e.name) people.set(e.seat, e.name);
  }
  return {
    /** The tile's first line: the person, else the character, else the seat. */
    name: (seat) => people.get(seat) || (bySeat.get(seat) || {}).name || seatLabel(seat),
    /** The role-play character of a party seat (as the room's phase banner names it). */
    character: (seat) => (bySeat.get(seat) || {}).name || seatLabel(seat),
    /** The second line: "Party A · as Amara Okafor" (the room view's wording). */
    role(seat) {
      const party = bySeat.get(seat);
      if (people.has(seat)) return party ? `${seatLabel(seat)} · as ${party.name}` : seatLabel(seat);
      return party ? [seatLabel(seat), party.label].filter(Boolean).join(" · ") : roleWord(roles[seat]);
    },
    /** Short form for lists: "Party A (Wanjiru Kamau)". */
    short(seat) {
      if (!seat) return "Admin";
      const who = people.get(seat) || (bySeat.get(seat) || {}).name;
      return who && who !== seatLabel(seat) ? `${seatLabel(seat)} (${who})` : seatLabel(seat);
    },
  };
}

function roleWord(role) {
  switch (role) {
    case "mediator": return "Trainee mediator";
    case "party": return "Party (role-play)";
    case "coach": return "Observing coach";
    case "observer": return "Observer";
    default: return "";
  }
}

const ROLE_ORDER = ["mediator", "party", "coach", "observer"];

/**
 * A comparison of seats in the order people expect to see them: mediator, parties,
 * coach, observers. roles: {seat: role} (the API's `roles`).
 */
export function seatOrder(roles) {
  const rank = (s) => (ROLE_ORDER.indexOf(roles[s]) + 1) || 9;
  return (a, b) => rank(a) - rank(b) || a.localeCompare(b);
}

/** A phase band's label; `names` from createSeatNames. */
export function bandLabel(band, names) {
  if (band.hidden) return "Private caucus — not available to you";
  const [kind, seat] = String(band.phase).split(":");
  switch (kind) {
    case "lobby": return "Lobby";
    case "joint": return "Joint session";
    case "caucus": return `Caucus with ${names.character(seat)}`;
    case "timeout": return "Time-out";
    case "debrief": return "Debrief";
    case "ended": return "Ended";
    default: return band.phase;
  }
}
