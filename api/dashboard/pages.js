// The pages added beside app.js's panels: the supplier's proposal of an obligation, redeeming repaid
// pieces, one's own history, the bank's 中登网 registrations, the regulator's search, recoveries and
// reports, and the operator's lost-key recovery. Each module gets app.js's helpers (the `kit`) once, wires its forms, and loads its panels
// when they are shown.

import * as history from "./history_page.js";
import * as propose from "./propose_page.js";
import * as recovery from "./recovery_page.js";
import * as redeem from "./redeem_page.js";
import * as registration from "./registration_page.js";
import * as regulator from "./regulator_page.js";

const MODULES = [propose, redeem, history, registration, regulator, recovery];

/** The panels of these pages: their reviews and outcomes are closed when the page reloads them. */
export const PAGE_PANELS = MODULES.flatMap((m) => m.PANELS);

export function installPages(kit) {
  for (const module of MODULES) module.install(kit);
}

/** Load every shown panel of these pages; `shown(id)` says whether a panel is shown to the caller. */
export async function loadPages(shown) {
  await Promise.all(MODULES.map((m) => m.load(shown)));
}
