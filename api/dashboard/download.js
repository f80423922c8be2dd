// Files the API answers (CSV, JSON records): fetched with the signed-in key, then handed to the
// browser as a Blob behind an object URL, so the key never sits in a link. A refusal is thrown as the
// same `Problem` every other call throws.

import { Problem, parseJson } from "./api.js";

/** The file name of a Content-Disposition header, else `fallback`. */
function fileName(response, fallback) {
  const header = response.headers.get("content-disposition") || "";
  const match = /filename=\x22?([^\x22;]+)/.exec(header);
  return match ? match[1] : fallback;
}

/** GET `path` (under /v1) and save what it answers as a file; resolves to the file name and size. */
export async function download(api, path, fallback) {
  const response = await fetch(`${api.base}${path}`, { headers: { Authorization: `Bearer ${api.key}` }, cache: "no-store" });
  if (!response.ok) {
    const text = await response.text();
    let body = null;
    try {
      body = text ? parseJson(text) : null;
    } catch {
      body = { title: response.statusText, detail: text.slice(0, 300) };
    }
    throw new Problem(response.status, body);
  }
  const blob = await response.blob();
  const name = fileName(response, fallback);
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return { name, size: blob.size };
}
