// @ts-check
// Times on pages are UTC milliseconds from the API, shown in the viewer's own IANA
// time zone (their account's, from /api/me). Typed times go back to the server as
// local wall-clock text plus that zone; the server turns them into UTC (zoneinfo).

/** @type {Intl.DateTimeFormatOptions} */
const LONG = { weekday: "long", day: "numeric", month: "long", hour: "2-digit", minute: "2-digit" };
/** @type {Intl.DateTimeFormatOptions} */
const SHORT = { weekday: "short", day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit" };

/**
 * `ms` as a person in `timeZone` reads it: "Wednesday 10 March, 19:00" (long) or shorter.
 * @param {number} ms @param {string} timeZone @param {"long" | "short"} [style]
 */
export function zonedText(ms, timeZone, style = "long") {
  const options = style === "long" ? LONG : SHORT;
  try {
    return new Intl.DateTimeFormat(undefined, { ...options, timeZone }).format(new Date(ms));
  } catch {
    return new Date(ms).toLocaleString(); // an unknown zone: the browser's own
  }
}

/**
 * `ms` as wall-clock "YYYY-MM-DDTHH:MM" in `timeZone` (a datetime-local input's value).
 * @param {number} ms @param {string} timeZone
 */
export function zonedInput(ms, timeZone) {
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(new Date(ms));
  /** @type {Record<string, string>} */
  const p = {};
  for (const part of parts) p[part.type] = part.value;
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
}
