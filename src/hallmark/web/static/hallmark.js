// hallmark web UI: follow running jobs on the dashboard. The session cookie
// authenticates these same-origin requests to the JSON API.
"use strict";

const POLL_MS = 1000;

function showJob(row, job) {
  const state = row.querySelector('[data-field="state"]');
  const bar = row.querySelector('[data-field="bar"]');
  const percent = row.querySelector('[data-field="percent"]');
  const message = row.querySelector('[data-field="message"]');
  if (state) {
    state.textContent = job.state;
    state.className = "badge state-" + job.state;
  }
  if (bar) bar.value = job.progress;
  if (percent) percent.textContent = Math.round(job.progress * 100) + "%";
  if (message) message.textContent = job.message;
}

function follow(row) {
  const url = "/v1/jobs/" + encodeURIComponent(row.dataset.jobId);
  const timer = setInterval(async () => {
    try {
      const response = await fetch(url, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (!response.ok) throw new Error("HTTP " + response.status);
      const job = await response.json();
      showJob(row, job);
      if (job.state === "succeeded" || job.state === "failed") clearInterval(timer);
    } catch (error) {
      clearInterval(timer);
    }
  }, POLL_MS);
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("tr[data-job-id][data-live]").forEach(follow);
});

// The inspect page: drop files on the form to inspect them. The plain form works without this.
function dropzone(form) {
  const input = form.querySelector('input[type="file"]');
  if (!input) return;
  const hint = form.querySelector(".drop-hint");
  if (hint) hint.hidden = false;
  const hasFiles = (event) =>
    event.dataTransfer && Array.from(event.dataTransfer.types).includes("Files");
  ["dragenter", "dragover"].forEach((type) =>
    form.addEventListener(type, (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      form.classList.add("dragging");
    })
  );
  ["dragleave", "dragend"].forEach((type) =>
    form.addEventListener(type, (event) => {
      if (event.target === form) form.classList.remove("dragging");
    })
  );
  form.addEventListener("drop", (event) => {
    form.classList.remove("dragging");
    if (!hasFiles(event) || event.dataTransfer.files.length === 0) return;
    event.preventDefault();
    input.files = event.dataTransfer.files;
    form.requestSubmit();
  });
  // A file dropped beside the zone must not make the browser leave the page to open it.
  ["dragover", "drop"].forEach((type) =>
    document.addEventListener(type, (event) => {
      if (hasFiles(event) && !form.contains(event.target)) event.preventDefault();
    })
  );
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("form[data-dropzone]").forEach(dropzone);
});

// --- helpers shared by the pages' scripts (chat.js, studio.js load after this file) ---------

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

// An error of the JSON API: its message, its code ("http_<status>" when the body gave none)
// and the HTTP status (0 for an error event inside a stream).
class ApiError extends Error {
  constructor(message, code, status) {
    super(message);
    this.code = code || "error";
    this.status = status || 0;
  }
}

// The ApiError of a failed response's JSON body: hallmark's {"error": {...}}, or a bare
// {"detail": "..."} from the framework.
function errorOf(body, status) {
  const error = body && body.error;
  if (error && typeof error === "object") {
    return new ApiError(error.message || "the request failed", error.code, status);
  }
  const code = "http_" + status;
  if (body && typeof body.detail === "string") return new ApiError(body.detail, code, status);
  return new ApiError("the request failed (HTTP " + status + ")", code, status);
}

// --- server-sent events ----------------------------------------------------------------------

// Reads a fetch response of server-sent events (the chat stream, a job's progress), calling
// onEvent with each event's parsed data; true when the stream ended with [DONE], false when
// it simply ended. Shared by chat.js and studio.js, which load after this file.
async function readEvents(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const boundary = /\r?\n\r?\n/;
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    buffer += decoder.decode(value || new Uint8Array(), { stream: !done });
    let match;
    while ((match = boundary.exec(buffer)) !== null) {
      const block = buffer.slice(0, match.index);
      buffer = buffer.slice(match.index + match[0].length);
      const data = block
        .split(/\r?\n/)
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).replace(/^ /, ""))
        .join("\n");
      if (data === "[DONE]") return true;
      if (data) onEvent(JSON.parse(data));
    }
    if (done) return false;
  }
}
