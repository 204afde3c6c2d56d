// The feed's upload form: sends the file through the resumable chunked API (/v1/uploads)
// with the session cookie, shows the progress, completes the upload, then shows the feed.
(() => {
  "use strict";
  const form = document.getElementById("upload-form");
  if (!form) return;
  const chunkBytes = Number(form.dataset.chunkBytes) || 8 * 1024 * 1024;
  const maxBytes = Number(form.dataset.maxBytes) || Infinity;
  const button = document.getElementById("upload-button");
  const progress = document.getElementById("upload-progress");
  const status = document.getElementById("upload-status");
  const HASH_LIMIT = 64 * 1024 * 1024; // hash in the browser up to this size
  const RETRIES = 5;

  const say = (text, bad = false) => {
    status.textContent = text;
    status.classList.toggle("bad", bad);
  };
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  async function answer(response) {
    let body = null;
    try {
      body = await response.json();
    } catch (_) {
      body = null;
    }
    if (!response.ok) {
      const error = new Error(body && body.error ? body.error.message : `HTTP ${response.status}`);
      error.status = response.status;
      error.details = body && body.error ? body.error.details || {} : {};
      throw error;
    }
    return body;
  }

  async function sha256(file) {
    if (!window.crypto || !crypto.subtle || file.size > HASH_LIMIT) return null;
    const digest = await crypto.subtle.digest("SHA-256", await file.arrayBuffer());
    return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  async function offsetOf(id) {
    return (await answer(await fetch(`/v1/uploads/${id}`))).offset;
  }

  // One chunk at `offset`; on a dropped connection ask the server where it stands and go on
  // from there. Returns the new offset.
  async function sendChunk(id, file, offset) {
    for (let attempt = 0; ; attempt += 1) {
      try {
        const response = await fetch(`/v1/uploads/${id}?offset=${offset}`, {
          method: "PUT",
          headers: { "Content-Type": "application/offset+octet-stream" },
          body: file.slice(offset, Math.min(offset + chunkBytes, file.size)),
        });
        return (await answer(response)).offset;
      } catch (error) {
        if (error.status === 409 && Number.isInteger(error.details.offset)) {
          return error.details.offset; // the server has more (or less) than we thought
        }
        if (error.status || attempt >= RETRIES) throw error;
        await sleep(500 * 2 ** attempt);
        offset = await offsetOf(id);
      }
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = form.elements.file.files[0];
    if (!file) {
      say("Choose a file to upload.", true);
      return;
    }
    if (file.size === 0 || file.size > maxBytes) {
      say(file.size === 0 ? "That file is empty." : "That file is too large.", true);
      return;
    }
    button.disabled = true;
    progress.hidden = false;
    progress.value = 0;
    try {
      say("Preparing…");
      const created = await answer(
        await fetch("/v1/uploads", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({
            filename: file.name,
            size: file.size,
            sha256: await sha256(file),
            declared_type: file.type || null,
            declared_ai: form.elements.declared_ai.checked,
            caption: form.elements.caption.value,
          }),
        }),
      );
      let offset = created.offset;
      while (offset < file.size) {
        offset = await sendChunk(created.id, file, offset);
        const percent = Math.floor((offset / file.size) * 100);
        progress.value = percent;
        say(`Uploading… ${percent}%`);
      }
      say("Inspecting and labelling…");
      const post = await answer(
        await fetch(`/v1/uploads/${created.id}/complete`, { method: "POST" }),
      );
      say(post.duplicate ? "Already posted; showing that post." : "Posted.");
      window.location.assign("/ui/feed"); // the newest post is first
    } catch (error) {
      say(`Upload failed: ${error.message}`, true);
      progress.hidden = true;
    } finally {
      button.disabled = false;
    }
  });
})();
