// hallmark web UI: the studio page. A small timeline editor over the JSON API, which the session
// cookie authenticates: the media library (/v1/studio/media), voice-over, captions and render
// jobs (/v1/studio/...), their progress (/v1/jobs/{id}/events) and the labelled video
// (/v1/contents/{id}/raw).
//
// The page keeps its own simple model (a main visual track played back to back, text, voice
// and music clips placed freely) and writes the studio's project JSON from it: media as
// media:ID, overlapping clips of one lane spread over as many tracks as they need (a project's
// track may not hold overlapping clips). The model is saved in localStorage per tenant.
//
// File names, captions and server messages are only ever set as text, never as HTML.
(() => {
  "use strict";

  const root = document.getElementById("studio");
  if (!root) return;

  const IMAGE_SECONDS = 3; // an image's default length on the timeline
  const TEXT_SECONDS = 3;
  const FALLBACK_SECONDS = 5; // a video whose length the browser cannot read
  const MIN_LENGTH = 0.1;
  const MAX_SECONDS = 3 * 3600; // the project format's limit
  const DUCK = 0.3; // music's gain while a voice speaks
  const ZOOM_TO = 1.15; // an image's slow zoom ends here
  const TITLE_Y = 0.15; // titles sit near the top, captions near the bottom
  const CAPTION_STYLE = { size: 0.045, bold: true, stroke: 0.1 };
  const TITLE_STYLE = { size: 0.06, bold: true };
  const DEFAULT_CANVAS = { width: 1080, height: 1920, max_fps: 30 };
  const FPS = 30;
  const METADATA_TIMEOUT_MS = 20000;
  const POLL_MS = 1000;
  const DONE = new Set(["succeeded", "failed"]);
  const LANES = ["visual", "text", "voice", "music"];
  const KIND_NAMES = {
    video: "Video",
    image: "Image",
    text: "Text",
    caption: "Caption",
    voice: "Voice",
    music: "Music",
  };

  const byId = (id) => document.getElementById(id);
  const maxBytes = Number(root.dataset.maxBytes) || Infinity;
  const storageKey = root.dataset.storageKey || "hallmark.studio";

  // --- small helpers ---------------------------------------------------------------------------

  const round = (value) => Math.round(value * 1000) / 1000;
  const clamp = (value, low, high) => Math.min(Math.max(value, low), high);
  const seconds = (value) => `${(Math.round(value * 10) / 10).toFixed(1)} s`;

  function sizeText(size) {
    if (size < 1024) return `${size} B`;
    if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KiB`;
    return `${(size / 1024 / 1024).toFixed(1)} MiB`;
  }

  async function api(url, options) {
    const response = await fetch(url, {
      credentials: "same-origin",
      ...options,
      headers: { Accept: "application/json", ...((options && options.headers) || {}) },
    });
    let body = null;
    try {
      body = await response.json();
    } catch (_) {
      body = null;
    }
    if (!response.ok) throw errorOf(body, response.status);
    return body;
  }

  const postJson = (url, data) =>
    api(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(data),
    });

  function showError(message) {
    const box = byId("studio-error");
    box.textContent = message || "";
    box.hidden = !message;
  }

  function say(id, text) {
    byId(id).textContent = text;
  }

  // --- the page's model ----------------------------------------------------------------------
  //
  // visual: [{id, kind: "video", media, name, in, out, volume} | {id, kind: "image", media,
  //          name, duration, zoom}]                       (played back to back, in this order)
  // texts:  [{id, kind: "text", text, start, duration, caption}]
  // voice:  [{id, kind: "voice", media, name, start, in, out, volume}]
  // music:  [{id, kind: "music", media, name, start, in, out, volume, duck}]
  // lengths: {mediaId: seconds} read from the media's metadata

  function emptyModel() {
    return { visual: [], texts: [], voice: [], music: [], lengths: {}, next: 1 };
  }

  const finite = (value) => typeof value === "number" && Number.isFinite(value);

  // A saved model, kept only as far as it still makes sense (it may come from an older page).
  function restored(data) {
    const model = emptyModel();
    if (!data || typeof data !== "object") return model;
    const list = (value) => (Array.isArray(value) ? value : []);
    const timed = (clip) => finite(clip.start) && clip.start >= 0;
    const cut = (clip) => finite(clip.in) && finite(clip.out) && clip.out > clip.in;
    model.visual = list(data.visual).filter(
      (clip) =>
        clip &&
        typeof clip.media === "string" &&
        ((clip.kind === "video" && cut(clip)) ||
          (clip.kind === "image" && finite(clip.duration) && clip.duration > 0)),
    );
    model.texts = list(data.texts).filter(
      (clip) =>
        clip && typeof clip.text === "string" && clip.text.trim() && timed(clip) &&
        finite(clip.duration) && clip.duration > 0,
    );
    const audio = (clip) => clip && typeof clip.media === "string" && timed(clip) && cut(clip);
    model.voice = list(data.voice).filter(audio);
    model.music = list(data.music).filter(audio);
    if (data.lengths && typeof data.lengths === "object") {
      for (const [key, value] of Object.entries(data.lengths)) {
        if (finite(value) && value > 0) model.lengths[key] = value;
      }
    }
    model.next = finite(data.next) ? data.next : 1;
    for (const lane of [model.visual, model.texts, model.voice, model.music]) {
      for (const clip of lane) {
        if (typeof clip.id !== "string") clip.id = `c${model.next++}`;
      }
    }
    model.preset = typeof data.preset === "string" ? data.preset : "";
    model.template = typeof data.template === "string" ? data.template : "";
    return model;
  }

  function load() {
    try {
      const text = localStorage.getItem(storageKey);
      return restored(text ? JSON.parse(text) : null);
    } catch (_) {
      return emptyModel(); // storage off or a broken entry: start afresh
    }
  }

  let model = load();
  let selected = null;
  let library = []; // the media items, as the server lists them
  let presets = [];
  let busy = false; // a job (captions or render) is running

  function save() {
    try {
      localStorage.setItem(storageKey, JSON.stringify(model));
    } catch (_) {
      // storage may be off or full; the work then lasts as long as the page
    }
  }

  const newId = () => `c${model.next++}`;

  // --- times ---------------------------------------------------------------------------------

  function lengthOf(clip) {
    if (clip.kind === "video" || clip.kind === "voice" || clip.kind === "music") {
      return clip.out - clip.in;
    }
    return clip.duration;
  }

  // The main track's clips start where the one before ends.
  function visualStarts() {
    const starts = new Map();
    let at = 0;
    for (const clip of model.visual) {
      starts.set(clip.id, round(at));
      at += lengthOf(clip);
    }
    return starts;
  }

  function startOf(clip) {
    return clip.kind === "video" || clip.kind === "image" ? visualStarts().get(clip.id) : clip.start;
  }

  function laneClips(lane) {
    return { visual: model.visual, text: model.texts, voice: model.voice, music: model.music }[lane];
  }

  function laneOf(clip) {
    if (clip.kind === "video" || clip.kind === "image") return "visual";
    return clip.kind === "text" ? "text" : clip.kind;
  }

  function findClip(id) {
    for (const lane of LANES) {
      const clip = laneClips(lane).find((item) => item.id === id);
      if (clip) return clip;
    }
    return null;
  }

  function totalDuration() {
    let end = 0;
    for (const lane of LANES) {
      for (const clip of laneClips(lane)) end = Math.max(end, startOf(clip) + lengthOf(clip));
    }
    return round(end);
  }

  // Clips in rows that do not overlap, each in the first row free at its start.
  function pack(clips) {
    const rows = [];
    const sorted = [...clips].sort((a, b) => startOf(a) - startOf(b));
    for (const clip of sorted) {
      const start = startOf(clip);
      let row = rows.find((candidate) => candidate.end <= start + 1e-6);
      if (!row) {
        row = { end: 0, clips: [] };
        rows.push(row);
      }
      row.clips.push(clip);
      row.end = start + lengthOf(clip);
    }
    return rows.map((row) => row.clips);
  }

  // --- the project JSON ----------------------------------------------------------------------

  function canvas() {
    const name = byId("preset").value;
    return presets.find((preset) => preset.name === name) || DEFAULT_CANVAS;
  }

  function sourceClip(clip, start) {
    const data = { kind: "video", source: `media:${clip.media}`, start: round(start) };
    data.in = round(clip.in);
    data.out = round(clip.out);
    if (clip.volume !== undefined && clip.volume !== 1) data.volume = round(clip.volume);
    return data;
  }

  function projectClip(clip, starts) {
    if (clip.kind === "video") return sourceClip(clip, starts.get(clip.id));
    if (clip.kind === "image") {
      return {
        kind: "image",
        source: `media:${clip.media}`,
        start: starts.get(clip.id),
        duration: round(clip.duration),
        zoom_from: 1,
        zoom_to: clip.zoom ? ZOOM_TO : 1,
      };
    }
    if (clip.kind === "text") {
      const data = {
        kind: "text",
        text: clip.text,
        start: round(clip.start),
        duration: round(clip.duration),
      };
      if (clip.caption) {
        data.style = { ...CAPTION_STYLE };
      } else {
        data.y = TITLE_Y;
        data.style = { ...TITLE_STYLE };
      }
      return data;
    }
    const data = { ...sourceClip(clip, clip.start), kind: "audio" };
    if (clip.kind === "music") data.duck = round(clip.duck === undefined ? 1 : clip.duck);
    return data;
  }

  function project() {
    const size = canvas();
    const starts = visualStarts();
    const tracks = [];
    const add = (clips, track) => {
      pack(clips).forEach((row, index) => {
        tracks.push({
          ...track,
          name: index ? `${track.name} ${index + 1}` : track.name,
          clips: row.map((clip) => projectClip(clip, starts)),
        });
      });
    };
    if (model.visual.length) {
      tracks.push({
        kind: "visual",
        role: "main",
        name: "Visual",
        clips: model.visual.map((clip) => projectClip(clip, starts)),
      });
    }
    add(
      model.texts.filter((clip) => clip.caption),
      { kind: "text", role: "caption", name: "Captions" },
    );
    add(
      model.texts.filter((clip) => !clip.caption),
      { kind: "text", name: "Text" },
    );
    add(model.voice, { kind: "audio", role: "voice", name: "Voice" });
    add(model.music, { kind: "audio", role: "music", name: "Music" });
    return {
      version: 1,
      name: "studio",
      width: size.width,
      height: size.height,
      fps: Math.min(FPS, size.max_fps || FPS),
      tracks,
    };
  }

  // --- drawing the timeline ------------------------------------------------------------------

  function clipLabel(clip) {
    if (clip.kind === "text") return clip.text.replace(/\s+/g, " ");
    return clip.name || clip.media;
  }

  function kindName(clip) {
    return KIND_NAMES[clip.kind === "text" && clip.caption ? "caption" : clip.kind];
  }

  function drawRuler(scale) {
    const ruler = byId("ruler");
    ruler.replaceChildren();
    const steps = [0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800];
    const step = steps.find((candidate) => scale / candidate <= 10) || 3600;
    for (let at = 0; at <= scale + 1e-6; at += step) {
      const tick = element("span", "tick", `${Math.round(at * 10) / 10}s`);
      tick.style.left = `${(at / scale) * 100}%`;
      ruler.append(tick);
    }
  }

  function drawTimeline() {
    const focused = document.activeElement && document.activeElement.dataset.clipId;
    const total = totalDuration();
    const scale = Math.max(total, 5);
    drawRuler(scale);
    let refocus = null;
    for (const lane of LANES) {
      const rows = byId(`lane-${lane}`);
      rows.replaceChildren();
      const packed = lane === "visual" ? [model.visual] : pack(laneClips(lane));
      for (const clips of packed.length ? packed : [[]]) {
        const row = element("div", "lane-row");
        for (const clip of clips) {
          const start = startOf(clip);
          const length = lengthOf(clip);
          const block = element("button", `clip-block clip-${clip.kind}`);
          block.type = "button";
          block.dataset.clipId = clip.id;
          block.dataset.kind = clip.kind;
          if (clip.caption) block.classList.add("clip-caption");
          block.style.left = `${(start / scale) * 100}%`;
          block.style.width = `${(length / scale) * 100}%`;
          block.setAttribute("aria-pressed", String(clip.id === selected));
          block.title = `${kindName(clip)}: ${clipLabel(clip)} (${seconds(start)} to ${seconds(
            start + length,
          )})`;
          block.setAttribute("aria-label", block.title);
          block.append(element("span", "clip-name", clipLabel(clip)));
          block.append(element("span", "clip-length", seconds(length)));
          block.addEventListener("click", () => select(clip.id));
          row.append(block);
          if (clip.id === focused) refocus = block; // redrawn blocks keep the keyboard's place
        }
        rows.append(row);
      }
    }
    if (refocus) refocus.focus();
    byId("total-duration").textContent = seconds(total);
    byId("timeline-empty").hidden = LANES.some((lane) => laneClips(lane).length);
  }

  function drawJson() {
    byId("project-json").textContent = JSON.stringify(project(), null, 2);
  }

  // --- the selected clip's form ----------------------------------------------------------------

  const FIELDS = {
    video: ["start", "in", "out", "volume", "move"],
    image: ["start", "duration", "zoom", "move"],
    text: ["start", "duration", "text"],
    voice: ["start", "in", "out", "volume"],
    music: ["start", "in", "out", "volume", "duck"],
  };

  function drawForm() {
    const form = byId("clip-form");
    const clip = selected && findClip(selected);
    if (!clip) {
      form.hidden = true;
      return;
    }
    form.hidden = false;
    form.dataset.kind = clip.kind;
    byId("clip-form-title").textContent = `${kindName(clip)}: ${clipLabel(clip)}`;
    const shown = new Set(FIELDS[clip.kind]);
    form.querySelectorAll("[data-for]").forEach((field) => {
      field.hidden = !shown.has(field.dataset.for);
    });
    const start = byId("clip-start");
    start.value = String(startOf(clip));
    start.disabled = laneOf(clip) === "visual"; // the main track places its clips itself
    if (clip.in !== undefined) byId("clip-in").value = String(round(clip.in));
    if (clip.out !== undefined) byId("clip-out").value = String(round(clip.out));
    if (clip.duration !== undefined) byId("clip-duration").value = String(round(clip.duration));
    byId("clip-volume").value = String(clip.volume === undefined ? 1 : clip.volume);
    byId("clip-duck").value = String(clip.duck === undefined ? 1 : clip.duck);
    byId("clip-zoom").checked = Boolean(clip.zoom);
    if (clip.kind === "text" && document.activeElement !== byId("clip-text")) {
      byId("clip-text").value = clip.text;
    }
    const index = model.visual.indexOf(clip);
    byId("clip-left").disabled = index <= 0;
    byId("clip-right").disabled = index < 0 || index >= model.visual.length - 1;
  }

  function refresh() {
    save();
    drawTimeline();
    drawForm();
    drawJson();
  }

  function select(id) {
    selected = id;
    say("clip-status", "");
    const clip = findClip(id);
    if (clip) byId("cursor").value = String(startOf(clip));
    refresh();
  }

  // A field's new value, kept within what the clip allows; says so when it had to be changed.
  function applyField(name, raw) {
    const clip = selected && findClip(selected);
    if (!clip) return;
    if (name === "text") {
      if (raw.trim()) clip.text = raw;
      refresh();
      return;
    }
    if (name === "zoom") {
      clip.zoom = raw;
      refresh();
      return;
    }
    const value = Number(raw);
    const known = model.lengths[clip.media];
    let kept = value;
    if (raw === "" || !Number.isFinite(value)) {
      say("clip-status", "Enter a number.");
      drawForm();
      return;
    }
    if (name === "start") kept = clamp(value, 0, MAX_SECONDS);
    if (name === "duration") kept = clamp(value, MIN_LENGTH, MAX_SECONDS);
    if (name === "volume") kept = clamp(value, 0, 4);
    if (name === "duck") kept = clamp(value, 0, 1);
    if (name === "in") kept = clamp(value, 0, clip.out - MIN_LENGTH);
    if (name === "out") {
      kept = clamp(value, clip.in + MIN_LENGTH, known ? known : MAX_SECONDS);
    }
    clip[name] = round(kept);
    say("clip-status", kept === value ? "" : `Kept within range: ${round(kept)}.`);
    refresh();
  }

  function removeSelected() {
    const clip = selected && findClip(selected);
    if (!clip) return;
    const lane = laneClips(laneOf(clip));
    lane.splice(lane.indexOf(clip), 1);
    selected = null;
    refresh();
  }

  function move(by) {
    const clip = selected && findClip(selected);
    const index = clip ? model.visual.indexOf(clip) : -1;
    const to = index + by;
    if (index < 0 || to < 0 || to >= model.visual.length) return;
    model.visual.splice(index, 1);
    model.visual.splice(to, 0, clip);
    refresh();
    byId(by < 0 ? "clip-left" : "clip-right").focus();
  }

  function cursor() {
    const value = Number(byId("cursor").value);
    return Number.isFinite(value) ? clamp(round(value), 0, MAX_SECONDS) : 0;
  }

  // --- the media library ---------------------------------------------------------------------

  const rawUrl = (mediaId) => `/v1/studio/media/${encodeURIComponent(mediaId)}/raw`;
  const mediumOf = (item) => String(item.media_type || "").split("/")[0];

  // The length of a video or audio file, read by the browser from its metadata.
  function readLength(item) {
    if (model.lengths[item.id]) return Promise.resolve(model.lengths[item.id]);
    return new Promise((resolve, reject) => {
      const probe = document.createElement("video");
      probe.hidden = true;
      probe.muted = true;
      probe.preload = "metadata";
      const done = (value, error) => {
        clearTimeout(timer);
        probe.removeAttribute("src");
        probe.load();
        probe.remove();
        if (error) reject(error);
        else resolve(value);
      };
      const timer = setTimeout(() => done(null, new Error("timed out")), METADATA_TIMEOUT_MS);
      probe.addEventListener("loadedmetadata", () => {
        const length = probe.duration;
        if (Number.isFinite(length) && length > 0) done(round(length));
        else done(null, new Error("no length"));
      });
      probe.addEventListener("error", () => done(null, new Error("unreadable")));
      document.body.append(probe);
      probe.src = rawUrl(item.id);
    });
  }

  async function lengthFor(item) {
    try {
      const length = await readLength(item);
      model.lengths[item.id] = length;
      return { length, known: true };
    } catch (_) {
      showError(
        `The browser could not read the length of ${item.name}; ` +
          `it was set to ${FALLBACK_SECONDS} s: check the clip's out point.`,
      );
      return { length: FALLBACK_SECONDS, known: false };
    }
  }

  async function addToTimeline(item, button) {
    showError("");
    const medium = mediumOf(item);
    let clip;
    if (button) button.disabled = true;
    try {
      if (medium === "image") {
        clip = { kind: "image", duration: IMAGE_SECONDS, zoom: false };
        model.visual.push(clip);
      } else if (medium === "video") {
        const { length } = await lengthFor(item);
        clip = { kind: "video", in: 0, out: length, volume: 1 };
        model.visual.push(clip);
      } else if (medium === "audio") {
        const { length } = await lengthFor(item);
        clip = { kind: "music", start: 0, in: 0, out: length, volume: 1 };
        clip.duck = model.voice.length ? DUCK : 1;
        model.music.push(clip);
      } else {
        showError(`${item.name} is not a video, image or audio file.`);
        return;
      }
    } finally {
      if (button) button.disabled = false;
    }
    Object.assign(clip, { id: newId(), media: item.id, name: item.name });
    select(clip.id);
  }

  function thumbnail(item) {
    const medium = mediumOf(item);
    if (medium === "image") {
      const image = element("img", "thumb");
      image.alt = "";
      image.loading = "lazy";
      image.src = rawUrl(item.id);
      return image;
    }
    if (medium === "video") {
      const video = element("video", "thumb");
      video.muted = true;
      video.preload = "metadata";
      video.setAttribute("aria-hidden", "true");
      video.src = rawUrl(item.id);
      return video;
    }
    const icon = element("span", "thumb thumb-icon", medium === "audio" ? "♪" : "?");
    icon.setAttribute("aria-hidden", "true");
    return icon;
  }

  function drawLibrary() {
    const list = byId("media-list");
    list.replaceChildren();
    for (const item of library) {
      const row = element("li", "media-item");
      row.dataset.mediaId = item.id;
      const about = element("div", "media-about");
      about.append(element("span", "media-name", item.name));
      about.append(element("span", "media-type muted", `${item.media_type} · ${sizeText(item.size)}`));
      const add = element("button", "secondary", "Add");
      add.type = "button";
      add.setAttribute("aria-label", `Add ${item.name} to the timeline`);
      add.addEventListener("click", () => addToTimeline(item, add));
      row.append(thumbnail(item), about, add);
      list.append(row);
    }
    byId("media-empty").hidden = library.length > 0;

    const choice = byId("captions-source");
    const chosen = choice.value;
    choice.replaceChildren(new Option("First video clip on the timeline", ""));
    for (const item of library) {
      const medium = mediumOf(item);
      if (medium === "video" || medium === "audio") choice.append(new Option(item.name, item.id));
    }
    choice.value = [...choice.options].some((option) => option.value === chosen) ? chosen : "";
  }

  function remember(item) {
    library = library.filter((known) => known.id !== item.id);
    library.push(item);
    drawLibrary();
    const row = byId("media-list").lastElementChild;
    if (row) row.scrollIntoView({ block: "nearest" }); // the newest, in the scrolled list
  }

  async function loadLibrary() {
    try {
      library = (await api("/v1/studio/media")).media || [];
      drawLibrary();
    } catch (error) {
      showError(`The media library could not be read: ${error.message}`);
    }
  }

  function upload(event) {
    event.preventDefault();
    showError("");
    const input = byId("media-file");
    const file = input.files && input.files[0];
    if (!file) {
      showError("Choose a file to upload.");
      return;
    }
    if (file.size > maxBytes) {
      showError(`${file.name} is too large: at most ${sizeText(maxBytes)}.`);
      return;
    }
    const button = byId("upload-button");
    const progress = byId("upload-progress");
    button.disabled = true;
    progress.hidden = false;
    progress.value = 0;
    say("upload-status", "Uploading…");
    const finish = () => {
      button.disabled = false;
      progress.hidden = true;
    };
    const request = new XMLHttpRequest();
    request.open("POST", "/v1/studio/media");
    request.setRequestHeader("Accept", "application/json");
    request.responseType = "json";
    request.upload.addEventListener("progress", (progressEvent) => {
      if (!progressEvent.lengthComputable) return;
      const percent = Math.floor((progressEvent.loaded / progressEvent.total) * 100);
      progress.value = percent;
      say("upload-status", `Uploading… ${percent}%`);
    });
    request.addEventListener("load", () => {
      finish();
      const body = request.response;
      if (request.status >= 200 && request.status < 300 && body && body.id) {
        say("upload-status", `Uploaded ${body.name}.`);
        input.value = "";
        remember(body);
      } else {
        say("upload-status", "Upload failed.");
        showError(`Upload failed: ${errorOf(body, request.status).message}`);
      }
    });
    request.addEventListener("error", () => {
      finish();
      say("upload-status", "Upload failed.");
      showError("Upload failed: the connection to the server was lost.");
    });
    const form = new FormData();
    form.append("file", file, file.name);
    request.send(form);
  }

  // --- jobs ----------------------------------------------------------------------------------

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  // The job once it is done, calling onProgress on the way: its events, or polling should the
  // stream drop.
  async function follow(job, onProgress) {
    let last = job;
    onProgress(last);
    const url = `/v1/jobs/${encodeURIComponent(job.id)}`;
    try {
      const response = await fetch(`${url}/events`, {
        credentials: "same-origin",
        headers: { Accept: "text/event-stream" },
      });
      if (response.ok && response.body) {
        await readEvents(response, (data) => {
          last = data;
          onProgress(data);
        });
      }
    } catch (_) {
      // fall back to polling below
    }
    while (!DONE.has(last.state)) {
      await sleep(POLL_MS);
      last = await api(url);
      onProgress(last);
    }
    return last;
  }

  function showJob(prefix, job) {
    byId(`${prefix}-job`).hidden = false;
    byId(`${prefix}-progress`).value = clamp(Number(job.progress) || 0, 0, 1);
    const percent = Math.round((Number(job.progress) || 0) * 100);
    say(`${prefix}-status`, `${job.message || job.state} (${percent}%)`);
  }

  const jobError = (job) =>
    (job.error && (job.error.message || String(job.error))) || `the job ${job.state}`;

  function setBusy(value) {
    busy = value;
    for (const id of ["captions-button", "preview-button", "render-button"]) {
      byId(id).disabled = value;
    }
  }

  // --- captions and voice-over ----------------------------------------------------------------

  // What to caption, and where its words land on the timeline.
  function captionTarget() {
    const chosen = byId("captions-source").value;
    if (!chosen) {
      const clip = model.visual.find((candidate) => candidate.kind === "video");
      if (!clip) return null;
      return { media: clip.media, start: startOf(clip), in: clip.in, out: clip.out };
    }
    const clip = [...model.visual, ...model.voice, ...model.music].find(
      (candidate) => candidate.media === chosen && candidate.kind !== "image",
    );
    if (clip) return { media: chosen, start: startOf(clip), in: clip.in, out: clip.out };
    return { media: chosen, start: cursor(), in: 0, out: Infinity };
  }

  async function autoCaptions() {
    showError("");
    const target = captionTarget();
    if (!target) {
      showError("Add a video to the timeline first, or choose a file to caption.");
      return;
    }
    if (busy) return;
    setBusy(true);
    try {
      const job = await postJson("/v1/studio/captions", { media: target.media });
      const done = await follow(job, (update) => showJob("captions", update));
      if (done.state !== "succeeded") throw new Error(jobError(done));
      const cues = (done.result && done.result.captions && done.result.captions.cues) || [];
      const texts = [];
      for (const cue of cues) {
        const from = Math.max(cue.start, target.in);
        const to = Math.min(cue.end, target.out);
        if (to - from < MIN_LENGTH || !String(cue.text || "").trim()) continue;
        texts.push({
          id: newId(),
          kind: "text",
          caption: true,
          text: String(cue.text),
          start: round(target.start + from - target.in),
          duration: round(to - from),
        });
      }
      // Captions made again for the same stretch replace the earlier ones.
      const begin = target.start;
      const end = target.start + (target.out - target.in);
      model.texts = model.texts.filter(
        (clip) => !clip.caption || clip.start + clip.duration <= begin || clip.start >= end,
      );
      model.texts.push(...texts);
      say(
        "captions-status",
        texts.length
          ? `${texts.length} ${texts.length === 1 ? "caption" : "captions"} added.`
          : "No speech was heard: no captions.",
      );
      refresh();
    } catch (error) {
      say("captions-status", "Captions failed.");
      showError(`Auto-captions failed: ${error.message}`);
    } finally {
      setBusy(false);
    }
  }

  async function voiceOver() {
    showError("");
    const text = byId("voiceover-text").value.trim();
    if (!text) {
      showError("Write what the voice-over says first.");
      return;
    }
    const button = byId("voiceover-button");
    button.disabled = true;
    say("voiceover-status", "Speaking…");
    try {
      const language = byId("voiceover-language").value;
      const item = await postJson("/v1/studio/voiceover", { text, language });
      remember(item);
      const length = round(Number(item.duration) || 0);
      if (length <= 0) throw new Error("the voice-over came back empty");
      model.lengths[item.id] = length;
      const clip = {
        id: newId(),
        kind: "voice",
        media: item.id,
        name: text.length > 40 ? `${text.slice(0, 39)}…` : text,
        start: cursor(),
        in: 0,
        out: length,
        volume: 1,
      };
      model.voice.push(clip);
      for (const music of model.music) {
        if (music.duck === undefined || music.duck === 1) music.duck = DUCK; // dip under the voice
      }
      say("voiceover-status", `Voice-over added (${seconds(length)}).`);
      select(clip.id);
    } catch (error) {
      say("voiceover-status", "");
      showError(`Voice-over failed: ${error.message}`);
    } finally {
      button.disabled = false;
    }
  }

  function addText() {
    showError("");
    const clip = {
      id: newId(),
      kind: "text",
      caption: false,
      text: "Your text",
      start: cursor(),
      duration: TEXT_SECONDS,
    };
    model.texts.push(clip);
    select(clip.id);
    byId("clip-text").value = clip.text;
    byId("clip-text").focus();
    byId("clip-text").select();
  }

  // --- export --------------------------------------------------------------------------------

  async function loadChoices() {
    const preset = byId("preset");
    const template = byId("template");
    try {
      presets = (await api("/v1/studio/presets")).presets || [];
      preset.replaceChildren(
        ...presets.map(
          (item) => new Option(`${item.name} (${item.width}×${item.height})`, item.name),
        ),
      );
      if (presets.some((item) => item.name === model.preset)) preset.value = model.preset;
    } catch (error) {
      preset.replaceChildren(new Option("project size", ""));
      showError(`The export formats could not be read: ${error.message}`);
    }
    try {
      const templates = (await api("/v1/studio/templates")).templates || [];
      template.replaceChildren(new Option("none", ""));
      for (const item of templates) {
        const option = new Option(item.name, item.name);
        if (item.description) option.title = item.description;
        template.append(option);
      }
      if (templates.some((item) => item.name === model.template)) template.value = model.template;
    } catch (error) {
      showError(`The templates could not be read: ${error.message}`);
    }
    drawJson();
  }

  function showResult(job, preview) {
    const result = job.result || {};
    const url = `/v1/contents/${encodeURIComponent(result.content_id)}/raw`;
    const video = byId("result-video");
    video.src = url;
    video.dataset.contentId = result.content_id;
    const link = byId("download-link");
    link.href = url;
    link.download = `studio-${result.content_id}.mp4`;
    link.textContent = preview ? "Download the preview" : "Download the video";
    const facts = [];
    const studio = result.studio || {};
    if (studio.width && studio.height) facts.push(`${studio.width}×${studio.height}`);
    if (finite(studio.duration)) facts.push(seconds(studio.duration));
    if (result.size) facts.push(sizeText(result.size));
    facts.push(preview ? "preview" : "final render");
    byId("result-facts").textContent = facts.join(" · ");
    const labels = byId("result-labels");
    labels.replaceChildren(
      ...(result.labels || []).map((label) => element("li", "label-item", label)),
    );
    if (!labels.children.length) labels.append(element("li", "muted", "none"));
    byId("render-result").hidden = false;
  }

  async function exportVideo(preview) {
    showError("");
    if (!model.visual.length) {
      showError("Add a video or an image to the timeline first.");
      return;
    }
    if (busy) return;
    setBusy(true);
    byId("render-result").hidden = true;
    const body = { project: project(), preview };
    if (byId("preset").value) body.preset = byId("preset").value;
    if (byId("template").value) body.template = byId("template").value;
    try {
      const job = await postJson("/v1/studio/render", body);
      const done = await follow(job, (update) => showJob("render", update));
      if (done.state !== "succeeded") throw new Error(jobError(done));
      say("render-status", preview ? "Preview ready." : "Render ready.");
      showResult(done, preview);
    } catch (error) {
      say("render-status", "Render failed.");
      showError(`${preview ? "Preview" : "Render"} failed: ${error.message}`);
    } finally {
      setBusy(false);
    }
  }

  // --- wiring --------------------------------------------------------------------------------

  byId("upload-form").addEventListener("submit", upload);
  byId("add-text").addEventListener("click", addText);
  byId("captions-button").addEventListener("click", autoCaptions);
  byId("voiceover-button").addEventListener("click", voiceOver);
  byId("preview-button").addEventListener("click", () => exportVideo(true));
  byId("render-button").addEventListener("click", () => exportVideo(false));
  byId("clip-left").addEventListener("click", () => move(-1));
  byId("clip-right").addEventListener("click", () => move(1));
  byId("clip-remove").addEventListener("click", removeSelected);
  byId("clear-timeline").addEventListener("click", () => {
    if (!window.confirm("Remove every clip from the timeline?")) return;
    model = { ...emptyModel(), lengths: model.lengths, next: model.next };
    selected = null;
    refresh();
  });
  byId("clip-form").addEventListener("submit", (event) => event.preventDefault());
  for (const name of ["start", "in", "out", "duration", "volume", "duck"]) {
    byId(`clip-${name}`).addEventListener("change", (event) => applyField(name, event.target.value));
  }
  byId("clip-zoom").addEventListener("change", (event) => applyField("zoom", event.target.checked));
  byId("clip-text").addEventListener("input", (event) => applyField("text", event.target.value));
  byId("clip-text").addEventListener("change", () => {
    const clip = selected && findClip(selected);
    if (clip && clip.kind === "text") byId("clip-text").value = clip.text; // emptied: the kept one
  });
  byId("timeline").addEventListener("keydown", (event) => {
    if ((event.key === "Delete" || event.key === "Backspace") && event.target.dataset.clipId) {
      event.preventDefault();
      removeSelected();
    }
  });
  byId("preset").addEventListener("change", () => {
    model.preset = byId("preset").value;
    refresh();
  });
  byId("template").addEventListener("change", () => {
    model.template = byId("template").value;
    save();
  });

  // The server would otherwise speak in its labels' language, which is not the writer's.
  if (String(navigator.language || "").toLowerCase().startsWith("zh")) {
    byId("voiceover-language").value = "zh";
  }

  refresh();
  loadLibrary();
  loadChoices();
})();
