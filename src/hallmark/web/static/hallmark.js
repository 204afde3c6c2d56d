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
