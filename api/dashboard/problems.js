// Refusals as sentences: a problem+json answer is shown by what it means in the chosen language,
// with what to do next. A decoded contract error (`contract_error.name`) has its sentence under
// `error.<Name>`; the API's own problems under `problem.<slug>` (the end of `type`); anything
// else gets the generic sentence. The API's own detail is always shown beneath, for support.

import { Problem } from "./api.js";
import { has, t } from "./i18n.js";

/** {sentence, detail, status, code} of an error thrown by the page's API calls (or any error). */
export function describeProblem(error) {
  if (!(error instanceof Problem)) {
    const message = String((error && error.message) || error);
    const network = error instanceof TypeError && /fetch|network/i.test(message);
    return { sentence: t(network ? "problem.network" : "problem.page"), detail: message, status: null, code: null };
  }
  const body = error.body || {};
  const contract = body.contract_error && body.contract_error.name ? String(body.contract_error.name) : null;
  const slug = typeof body.type === "string" ? body.type.replace(/\/+$/, "").split("/").pop() : null;
  let sentence = null;
  let code = null;
  if (contract && has(`error.${contract}`)) {
    sentence = t(`error.${contract}`);
    code = contract;
  } else if (slug && has(`problem.${slug}`)) {
    sentence = t(`problem.${slug}`);
    code = slug;
  } else if (contract) {
    sentence = t("problem.contractGeneric");
    code = contract;
  } else {
    sentence = t("problem.generic");
    code = slug;
  }
  return { sentence, detail: body.detail || body.title || "", status: error.status, code };
}
