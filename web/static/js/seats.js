// How to name seats for people. The server decides what a seat is and may do (the
// join preview and state.actions; a recording's `viewer` and `roles`); these are
// labels, plus the one reading of the token the page does before it joins (to greet
// the person; the server verifies it).

export function seatLabel(seat) {
  if (seat === "mediator") return "Mediator";
  if (seat === "coach") return "Coach";
  if (seat === "admin") return "Admin";
  const party = /^party_([a-d])$/.exec(seat);
  if (party) return `Party ${party[1].toUpperCase()}`;
  const observer = /^observer_(\d)$/.exec(seat);
  if (observer) return `Observer ${observer[1]}`;
  return seat;
}

/** The scenario's character for a party seat, if any: {seat, name, label}. */
export function partyOf(state, seat) {
  return (state.scenario.parties || []).find((p) => p.seat === seat) || null;
}

/** The role-play name of a party seat ("Amara Okafor"), else the seat label. */
export function characterName(state, seat) {
  const party = partyOf(state, seat);
  return party ? party.name : seatLabel(seat);
}

/** The token's claims, decoded without verification, or null if unreadable. */
export function peekToken(token) {
  try {
    const body = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const json = decodeURIComponent(
      Array.from(atob(body), (c) => "%" + c.charCodeAt(0).toString(16).padStart(2, "0")).join(""),
    );
    const claims = JSON.parse(json);
    return typeof claims === "object" && claims ? claims : null;
  } catch {
    return null;
  }
}
