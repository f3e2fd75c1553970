// @ts-check
// Console: live rooms (filled in by the simulations work).
import { startConsole } from "./console.js";

startConsole("live");
