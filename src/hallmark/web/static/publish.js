// hallmark web UI: the "Publish to TikTok" button (templates/publish_button.html). It posts
// to POST /v1/publish/tiktok with the session cookie and follows the job's server-sent events
// (/v1/jobs/{id}/events) until it is done. The partial may appear, and this script load, more
// than once on a page: each form is bound once.
"use strict";

(() => {
  if (window.hallmarkPublishTikTok) return;
  window.hallmarkPublishTikTok = true;

  function say(form, text) {
    form.querySelector('[data-field="status"]').textContent = text;
  }

  function outcome(result) {
    const label = result.is_aigc ? "AI-generated label on" : "no AI-generated label";
    if (result.state === "inbox") return "Sent to the TikTok inbox as a draft (" + label + ").";
    return "Published on TikTok: " + result.publish_id + " (" + label + ").";
  }

  function follow(form, jobId) {
    const bar = form.querySelector("progress");
    const button = form.querySelector('button[type="submit"]');
    const events = new EventSource("/v1/jobs/" + encodeURIComponent(jobId) + "/events");
    const show = (event) => {
      const job = JSON.parse(event.data);
      bar.value = job.progress;
      say(form, job.message);
      if (event.type !== "done") return;
      events.close();
      button.disabled = false;
      if (job.state === "succeeded") say(form, outcome(job.result));
      else say(form, "Not published: " + ((job.error && job.error.message) || job.message));
    };
    events.addEventListener("progress", show);
    events.addEventListener("done", show);
    events.onerror = () => {
      events.close();
      button.disabled = false;
      say(form, "Lost track of the job " + jobId + "; see the jobs list.");
    };
  }

  async function submit(form) {
    const button = form.querySelector('button[type="submit"]');
    const data = new FormData(form);
    const inbox = data.get("inbox") === "on";
    const body = { content_id: form.dataset.contentId, mode: inbox ? "inbox" : "direct" };
    if (!inbox) {
      body.caption = data.get("caption") || "";
      body.privacy_level = data.get("privacy_level") || null;
    }
    button.disabled = true;
    form.querySelector("progress").hidden = false;
    say(form, "Sending…");
    try {
      const response = await fetch("/v1/publish/tiktok", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(body),
      });
      const answer = await response.json().catch(() => null);
      if (!response.ok) {
        const error = answer && answer.error;
        throw new Error((error && error.message) || "HTTP " + response.status);
      }
      follow(form, answer.id);
    } catch (error) {
      button.disabled = false;
      say(form, "Not published: " + error.message);
    }
  }

  function bind(form) {
    if (form.dataset.bound) return;
    form.dataset.bound = "1";
    const inbox = form.querySelector('input[name="inbox"]');
    inbox.addEventListener("change", () => {
      // An inbox draft takes no caption or privacy: the creator sets them in the app.
      form.querySelectorAll('[name="caption"], [name="privacy_level"]').forEach((field) => {
        field.disabled = inbox.checked;
      });
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      submit(form);
    });
  }

  const start = () => document.querySelectorAll("form[data-publish-tiktok]").forEach(bind);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
