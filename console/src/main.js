// The argus web console: every call goes to this server's public API (AWS
// JSON 1.1 + SigV4), signed in the browser with the AWS SDK for JavaScript v3
// using the key the user entered (kept in sessionStorage only). Governance
// views use the documented ArgusAdmin operations.
import {
  RekognitionClient, DetectFacesCommand, DetectLabelsCommand, DetectTextCommand,
  DetectModerationLabelsCommand, CompareFacesCommand, ListCollectionsCommand,
  DescribeCollectionCommand, CreateCollectionCommand, DeleteCollectionCommand, IndexFacesCommand,
  ListFacesCommand, SearchFacesByImageCommand, ListUsersCommand, CreateUserCommand,
  DeleteUserCommand, StartFaceDetectionCommand, GetFaceDetectionCommand,
  StartLabelDetectionCommand, GetLabelDetectionCommand, StartContentModerationCommand,
  GetContentModerationCommand, StartTextDetectionCommand, GetTextDetectionCommand,
  StartPersonTrackingCommand, GetPersonTrackingCommand,
} from '@aws-sdk/client-rekognition';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-browser';

const $ = (sel, root = document) => root.querySelector(sel);
const KEY = 'argus.credentials';
const SVG = 'http://www.w3.org/2000/svg';

function el(tag, attrs = {}, ...children) {
  const e = tag.startsWith('svg:') ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c);
  return e;
}

// ---------------------------------------------------------------- session
function creds() {
  try { return JSON.parse(sessionStorage.getItem(KEY)); } catch { return null; }
}
let client = null;
function makeClient(c) {
  const rc = new RekognitionClient({
    endpoint: location.origin, region: c.region, maxAttempts: 1,
    credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey },
  });
  // X-Argus-Purpose / X-Argus-Case-Id (docs/POLICY.md), signed with the rest.
  rc.middlewareStack.add((next) => async (args) => {
    if (c.purpose) args.request.headers['x-argus-purpose'] = c.purpose;
    if (c.caseId) args.request.headers['x-argus-case-id'] = c.caseId;
    return next(args);
  }, { step: 'build', name: 'argusHeaders' });
  return rc;
}
const send = (command) => client.send(command);

// ArgusAdmin.<op>: the same SigV4 signing, on the admin target.
async function admin(op, body = {}) {
  const c = creds();
  const signer = new SignatureV4({
    service: 'rekognition', region: c.region, sha256: Sha256,
    credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey },
  });
  const payload = JSON.stringify(body);
  const headers = {
    host: location.host, 'content-type': 'application/x-amz-json-1.1',
    'x-amz-target': 'ArgusAdmin.' + op,
  };
  if (c.purpose) headers['x-argus-purpose'] = c.purpose;
  if (c.caseId) headers['x-argus-case-id'] = c.caseId;
  const signed = await signer.sign({
    method: 'POST', protocol: location.protocol, hostname: location.hostname,
    port: location.port ? Number(location.port) : undefined, path: '/', headers, body: payload,
  });
  const h = { ...signed.headers };
  delete h.host;
  const res = await fetch('/', { method: 'POST', headers: h, body: payload });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) {
    const err = new Error(json.message || json.Message || ('HTTP ' + res.status));
    err.name = String(json.__type || 'Error').split('#').pop();
    throw err;
  }
  return json;
}

// An API error as the API gave it; a policy denial as a denial with its reason.
function showError(target, err) {
  const name = err?.name || 'Error';
  const message = err?.message || String(err);
  const denial = name === 'AccessDeniedException' && /^Denied by rule/.test(message);
  const box = denial
    ? el('div', { class: 'denial', role: 'alert', 'data-kind': 'denial' },
        el('strong', { text: 'Denied by policy' }), el('span', { class: 'reason', text: message }))
    : el('div', { class: 'error', role: 'alert', 'data-kind': 'error' },
        el('strong', { text: name }), el('span', { class: 'reason', text: message }));
  target.replaceChildren(box);
}
function status(target, text) { target.replaceChildren(text ? el('span', { text }) : ''); }

// ---------------------------------------------------------------- images
async function loadImage(file) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  const url = URL.createObjectURL(file);
  const img = new Image();
  img.alt = file.name || 'image';
  img.src = url;
  await img.decode();
  return { bytes, url, img, name: file.name || 'pasted.png' };
}
const toPx = (b, w, h) => ({ x: b.Left * w, y: b.Top * h, w: b.Width * w, h: b.Height * h });
function stage(container, image) {
  const W = image.img.naturalWidth, H = image.img.naturalHeight;
  const svg = el('svg:svg', { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', 'aria-hidden': 'true' });
  const img = image.img.cloneNode();
  container.replaceChildren(img, svg);
  return { svg, W, H, sw: Math.max(2, W / 300) };
}
function rect(s, box, cls, title) {
  const p = toPx(box, s.W, s.H);
  const r = el('svg:rect', { class: cls, x: p.x, y: p.y, width: p.w, height: p.h, 'stroke-width': s.sw });
  if (title) r.append(el('svg:title', { text: title }));
  s.svg.append(r);
}
function label(s, box, text) {
  const p = toPx(box, s.W, s.H);
  s.svg.append(el('svg:text', { x: p.x + s.sw, y: Math.max(p.y - s.sw * 2, s.sw * 8), fill: '#fff',
    stroke: '#000', 'stroke-width': s.sw / 3, 'font-size': s.sw * 8, text }));
}
// A face cropped on the client (a square around the box) onto a canvas.
function crop(image, box, size = 120) {
  const c = el('canvas', { width: size, height: size, role: 'img', 'aria-label': 'face thumbnail' });
  const W = image.img.naturalWidth, H = image.img.naturalHeight;
  const p = toPx(box, W, H);
  const side = Math.max(p.w, p.h) * 1.2, cx = p.x + p.w / 2, cy = p.y + p.h / 2;
  c.getContext('2d').drawImage(image.img, cx - side / 2, cy - side / 2, side, side, 0, 0, size, size);
  return c;
}

// ---------------------------------------------------------------- analyse
const fmt = (n) => (typeof n === 'number' ? n.toFixed(1) : n);
async function analyse(file) {
  const out = $('#analyse-status'), summary = $('#analyse-summary');
  summary.replaceChildren();
  status(out, 'Analysing ' + (file.name || 'image') + '…');
  let image;
  try { image = await loadImage(file); } catch { showError(out, { name: 'InvalidImageFormatException', message: 'The browser cannot read this file as an image.' }); return; }
  const s = stage($('#analyse-stage'), image);
  const raw = {};
  const runs = [];
  const Image = { Bytes: image.bytes };
  if ($('#run-faces').checked) runs.push(['DetectFaces', () => send(new DetectFacesCommand({ Image, Attributes: ['ALL'] }))]);
  if ($('#run-labels').checked) runs.push(['DetectLabels', () => send(new DetectLabelsCommand({ Image, MaxLabels: 25 }))]);
  if ($('#run-text').checked) runs.push(['DetectText', () => send(new DetectTextCommand({ Image }))]);
  if ($('#run-moderation').checked) runs.push(['DetectModerationLabels', () => send(new DetectModerationLabelsCommand({ Image }))]);
  const errors = el('div');
  summary.append(errors);
  for (const [name, run] of runs) {
    try {
      const r = await run();
      delete r.$metadata;
      raw[name] = r;
      render[name](s, r, summary);
    } catch (err) {
      raw[name] = { error: err.name, message: err.message };
      const box = el('div');
      showError(box, err);
      box.firstChild.prepend(el('em', { text: name + ': ' }));
      errors.append(box);
    }
  }
  $('#analyse-json').textContent = JSON.stringify(raw, null, 2);
  status(out, 'Done: ' + runs.map(([n]) => n).join(', ') + '.');
  $('#analyse-stage').dataset.done = '1';
}
const render = {
  DetectFaces(s, r, summary) {
    const list = el('ol');
    r.FaceDetails.forEach((f, i) => {
      rect(s, f.BoundingBox, 'face-box', `face ${i + 1}`);
      label(s, f.BoundingBox, String(i + 1));
      for (const l of f.Landmarks || []) {
        s.svg.append(el('svg:circle', { class: 'landmark', cx: l.X * s.W, cy: l.Y * s.H, r: s.sw * 1.2 }));
      }
      const emo = (f.Emotions || []).slice().sort((a, b) => b.Confidence - a.Confidence)[0];
      const bits = [
        `confidence ${fmt(f.Confidence)}%`,
        f.AgeRange && `age ${f.AgeRange.Low}–${f.AgeRange.High}`,
        f.Gender && `${f.Gender.Value} (${fmt(f.Gender.Confidence)}%)`,
        emo && `${emo.Type.toLowerCase()} (${fmt(emo.Confidence)}%)`,
        f.Smile && (f.Smile.Value ? 'smiling' : 'not smiling'),
        f.Eyeglasses?.Value && 'eyeglasses', f.Sunglasses?.Value && 'sunglasses',
        f.EyesOpen && (f.EyesOpen.Value ? 'eyes open' : 'eyes closed'),
        f.Pose && `pose roll ${fmt(f.Pose.Roll)}°, yaw ${fmt(f.Pose.Yaw)}°, pitch ${fmt(f.Pose.Pitch)}°`,
        f.Quality && `sharpness ${fmt(f.Quality.Sharpness)}, brightness ${fmt(f.Quality.Brightness)}`,
      ].filter(Boolean);
      list.append(el('li', { text: bits.join(' · ') }));
    });
    summary.append(el('h3', { text: `Faces (${r.FaceDetails.length})`, id: 'faces-count', 'data-count': r.FaceDetails.length }), list);
  },
  DetectLabels(s, r, summary) {
    const items = [];
    for (const l of r.Labels) {
      for (const inst of l.Instances || []) {
        rect(s, inst.BoundingBox, 'label-box', `${l.Name} ${fmt(inst.Confidence)}%`);
        label(s, inst.BoundingBox, l.Name);
      }
      items.push(el('li', { text: `${l.Name} ${fmt(l.Confidence)}%${l.Instances?.length ? ` (${l.Instances.length} boxed)` : ''}` }));
    }
    summary.append(el('h3', { text: `Labels (${r.Labels.length})` }), el('ul', {}, items));
  },
  DetectText(s, r, summary) {
    const lines = r.TextDetections.filter((t) => t.Type === 'LINE');
    for (const t of r.TextDetections.filter((t) => t.Type === 'WORD')) {
      const pts = (t.Geometry?.Polygon || []).map((p) => `${p.X * s.W},${p.Y * s.H}`).join(' ');
      const poly = el('svg:polygon', { class: 'text-poly', points: pts, 'stroke-width': s.sw / 2 });
      poly.append(el('svg:title', { text: t.DetectedText }));
      s.svg.append(poly);
    }
    summary.append(el('h3', { text: `Text (${lines.length} lines)` }),
      el('ul', {}, lines.map((t) => el('li', { text: `${t.DetectedText} (${fmt(t.Confidence)}%)` }))));
  },
  DetectModerationLabels(s, r, summary) {
    const l = r.ModerationLabels;
    summary.append(el('h3', { text: `Moderation (${l.length})` }),
      l.length ? el('ul', {}, l.map((m) => el('li', { text: `${m.ParentName ? m.ParentName + ' › ' : ''}${m.Name} ${fmt(m.Confidence)}%` })))
        : el('p', { text: 'No moderation labels.' }));
  },
};

function setupAnalyse() {
  const drop = $('#analyse-drop');
  $('#analyse-file').addEventListener('change', (e) => e.target.files[0] && analyse(e.target.files[0]));
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault(); drop.classList.remove('over');
    const f = e.dataTransfer.files[0];
    if (f) analyse(f);
  });
  drop.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); $('#analyse-file').click(); }
  });
  document.addEventListener('paste', (e) => {
    if (currentPage() !== 'analyse') return;
    const item = [...(e.clipboardData?.items || [])].find((i) => i.type.startsWith('image/'));
    if (item) analyse(item.getAsFile());
  });
}

// ---------------------------------------------------------------- compare
// False match rates measured on celeba-dev's 4,690 impostor pairs
// (docs/MODEL_CARD.md, Verification, "identity pairs").
const FMR = [[80, '4.26e-3 (about 1 in 235)'], [90, '1.92e-3 (about 1 in 520)'],
  [95, '4.26e-4 (about 1 in 2,350)'], [99, 'none of 4,690 (under 1 in 4,690)']];
function setupCompare() {
  $('#compare-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = e.target, out = $('#compare-status'), res = $('#compare-result');
    res.replaceChildren();
    status(out, 'Comparing…');
    try {
      const [a, b] = await Promise.all([loadImage(f.source.files[0]), loadImage(f.target.files[0])]);
      const r = await send(new CompareFacesCommand({
        SourceImage: { Bytes: a.bytes }, TargetImage: { Bytes: b.bytes }, SimilarityThreshold: 0 }));
      const fa = el('figure', { class: 'stage' }), fb = el('figure', { class: 'stage' });
      $('#compare-pair').replaceChildren(fa, fb);
      const sa = stage(fa, a), sb = stage(fb, b);
      if (r.SourceImageFace?.BoundingBox) rect(sa, r.SourceImageFace.BoundingBox, 'face-box', 'source face');
      for (const m of r.FaceMatches) { rect(sb, m.Face.BoundingBox, 'face-box', `${fmt(m.Similarity)}`); label(sb, m.Face.BoundingBox, fmt(m.Similarity)); }
      for (const u of r.UnmatchedFaces || []) rect(sb, u.BoundingBox, 'label-box', 'unmatched');
      const best = r.FaceMatches.reduce((m, x) => Math.max(m, x.Similarity), 0);
      const rows = FMR.map(([t, fmr]) => el('tr', {},
        el('td', { text: `≥ ${t}` }), el('td', { class: best >= t ? 'ok' : 'bad', text: best >= t ? 'match' : 'no match' }),
        el('td', { text: fmr })));
      res.append(
        el('p', { id: 'similarity', text: r.FaceMatches.length ? `Similarity of the best target face: ${best.toFixed(2)}` : 'No face of the target could be compared.' }),
        el('table', {}, el('caption', { text: 'What this Similarity means at common thresholds' }),
          el('thead', {}, el('tr', {}, el('th', { scope: 'col', text: 'Threshold' }), el('th', { scope: 'col', text: 'This pair' }),
            el('th', { scope: 'col', text: 'Different people scoring this high (false match rate, model card)' }))),
          el('tbody', {}, rows)),
        el('p', { class: 'note', text: 'Similarity is a calibrated score, not a probability that the faces are the same person. Within one demographic group false matches are more frequent; see the demographics report.' }));
      status(out, '');
    } catch (err) { showError(out, err); }
  });
}

// ---------------------------------------------------------------- collections
const thumbsById = new Map();   // ImageId → image indexed in this tab
const thumbsByExt = new Map();  // ExternalImageId → image provided
let current = null;
const extId = (name) => name.replace(/[^a-zA-Z0-9_.\-:]/g, '_').slice(0, 255) || 'image';

async function loadCollections() {
  const out = $('#collections-status'), body = $('#collections-table tbody');
  try {
    const r = await send(new ListCollectionsCommand({}));
    const rows = await Promise.all(r.CollectionIds.map(async (id, i) => {
      let count = '?';
      try { count = (await send(new DescribeCollectionCommand({ CollectionId: id }))).FaceCount; } catch {}
      return el('tr', {}, el('td', { text: id }), el('td', { text: String(count) }),
        el('td', { text: r.FaceModelVersions?.[i] || '' }),
        el('td', {}, el('button', { class: 'secondary', text: 'Open', 'aria-label': `Open ${id}`, onclick: () => openCollection(id) }), ' ',
          el('button', { class: 'danger', text: 'Delete', 'aria-label': `Delete ${id}`, onclick: async () => {
            if (!confirm(`Delete collection ${id} and all its faces?`)) return;
            try { await send(new DeleteCollectionCommand({ CollectionId: id })); if (current === id) { current = null; $('#collection-detail').hidden = true; } loadCollections(); } catch (err) { showError(out, err); }
          } })));
    }));
    body.replaceChildren(...rows);
    if (!rows.length) body.append(el('tr', {}, el('td', { colspan: 4, text: 'No collections yet.' })));
  } catch (err) { showError(out, err); }
}
async function openCollection(id) {
  current = id;
  $('#collection-detail').hidden = false;
  $('#collection-title').textContent = 'Collection ' + id;
  $('#search-result').replaceChildren();
  await Promise.all([loadFaces(), loadUsers()]);
}
function thumbFor(face) {
  const image = thumbsById.get(face.ImageId) || thumbsByExt.get(face.ExternalImageId);
  return image ? crop(image, face.BoundingBox) : el('div', { class: 'nothumb', text: 'no image' });
}
async function loadFaces() {
  const list = $('#faces-list');
  try {
    const faces = [];
    let token;
    do {
      const r = await send(new ListFacesCommand({ CollectionId: current, MaxResults: 1000, NextToken: token }));
      faces.push(...r.Faces);
      token = r.NextToken;
    } while (token && faces.length < 5000);
    list.replaceChildren(...faces.map((f) => el('div', { class: 'face', 'data-face-id': f.FaceId },
      thumbFor(f), el('div', { text: f.ExternalImageId || '(no external id)' }),
      el('div', { text: f.FaceId.slice(0, 8) + '…' }), f.UserId ? el('div', { text: 'user ' + f.UserId }) : null)));
    if (!faces.length) list.append(el('p', { text: 'No faces yet: index an image.' }));
  } catch (err) { showError(list, err); }
}
async function loadUsers() {
  const body = $('#users-table tbody');
  try {
    const r = await send(new ListUsersCommand({ CollectionId: current }));
    body.replaceChildren(...r.Users.map((u) => el('tr', {}, el('td', { text: u.UserId }), el('td', { text: u.UserStatus || '' }),
      el('td', {}, el('button', { class: 'danger', text: 'Delete', 'aria-label': `Delete user ${u.UserId}`, onclick: async () => {
        try { await send(new DeleteUserCommand({ CollectionId: current, UserId: u.UserId })); loadUsers(); } catch (err) { showError($('#collections-status'), err); }
      } })))));
    if (!r.Users.length) body.append(el('tr', {}, el('td', { colspan: 3, text: 'No users.' })));
  } catch (err) { body.replaceChildren(el('tr', {}, el('td', { colspan: 3 }, el('div')))); showError(body.querySelector('div'), err); }
}
function setupCollections() {
  const out = $('#collections-status');
  $('#refresh-collections').addEventListener('click', loadCollections);
  $('#create-collection').addEventListener('submit', async (e) => {
    e.preventDefault();
    const id = e.target.id.value.trim();
    try { await send(new CreateCollectionCommand({ CollectionId: id })); e.target.reset(); status(out, `Created ${id}.`); await loadCollections(); openCollection(id); } catch (err) { showError(out, err); }
  });
  $('#index-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = e.target;
    try {
      const image = await loadImage(f.image.files[0]);
      const ext = f.external.value.trim() || extId(image.name);
      const r = await send(new IndexFacesCommand({ CollectionId: current, Image: { Bytes: image.bytes }, ExternalImageId: ext, DetectionAttributes: ['DEFAULT'] }));
      for (const rec of r.FaceRecords) thumbsById.set(rec.Face.ImageId, image);
      thumbsByExt.set(ext, image);
      status(out, `Indexed ${r.FaceRecords.length} face(s) from ${image.name}` + (r.UnindexedFaces?.length ? `; ${r.UnindexedFaces.length} not indexed (${r.UnindexedFaces.map((u) => u.Reasons.join('/')).join(', ')})` : '') + '.');
      f.reset();
      await loadFaces();
      loadCollections();
    } catch (err) { showError(out, err); }
  });
  $('#search-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = e.target, res = $('#search-result');
    res.replaceChildren(el('p', { text: 'Searching…' }));
    try {
      const image = await loadImage(f.image.files[0]);
      const r = await send(new SearchFacesByImageCommand({ CollectionId: current, Image: { Bytes: image.bytes }, FaceMatchThreshold: Number(f.threshold.value), MaxFaces: 10 }));
      // Each row: the searched face and the match, side by side.
      const matches = r.FaceMatches.map((m) => el('div', { class: 'match', 'data-similarity': m.Similarity },
        el('figure', {}, crop(image, r.SearchedFaceBoundingBox), el('figcaption', { text: 'searched face' })),
        el('figure', {}, thumbFor(m.Face), el('figcaption', { text: 'match' })),
        el('div', {}, el('strong', { text: `Similarity ${m.Similarity.toFixed(2)}` }), el('div', { text: m.Face.ExternalImageId || m.Face.FaceId }))));
      res.replaceChildren(el('h4', { id: 'matches-h', 'data-count': r.FaceMatches.length, text: `${r.FaceMatches.length} match(es) at Similarity ≥ ${f.threshold.value}` }), ...matches);
    } catch (err) { showError(res, err); }
  });
  $('#thumbs-form').image.addEventListener('change', async (e) => {
    const file = e.target.files[0];
    if (!file) return;
    const image = await loadImage(file);
    thumbsByExt.set(extId(image.name), image);
    loadFaces();
  });
  $('#user-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    try { await send(new CreateUserCommand({ CollectionId: current, UserId: e.target.user.value.trim() })); e.target.reset(); loadUsers(); } catch (err) { showError(out, err); }
  });
}

// ---------------------------------------------------------------- video
const VIDEO = {
  FaceDetection: [StartFaceDetectionCommand, GetFaceDetectionCommand, 'Faces', (i) => 'face'],
  LabelDetection: [StartLabelDetectionCommand, GetLabelDetectionCommand, 'Labels', (i) => i.Label?.Name],
  ContentModeration: [StartContentModerationCommand, GetContentModerationCommand, 'ModerationLabels', (i) => i.ModerationLabel?.Name],
  TextDetection: [StartTextDetectionCommand, GetTextDetectionCommand, 'TextDetections', (i) => i.TextDetection?.DetectedText],
  PersonTracking: [StartPersonTrackingCommand, GetPersonTrackingCommand, 'Persons', (i) => 'person ' + (i.Person?.Index ?? '')],
};
function setupVideo() {
  $('#video-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = e.target, out = $('#video-status');
    const [Start, Get, key, name] = VIDEO[f.kind.value];
    try {
      const { JobId } = await send(new Start({ Video: { S3Object: { Bucket: f.bucket.value, Name: f.key.value } } }));
      const card = el('div', { class: 'card', 'data-job': JobId }, el('h4', { text: `${f.kind.value} of ${f.bucket.value}/${f.key.value}` }),
        el('div', { class: 'job-status', role: 'status', text: 'IN_PROGRESS' }), el('progress', { 'aria-label': 'job progress' }), el('div', { class: 'job-result' }));
      $('#video-jobs').prepend(card);
      status(out, `Started job ${JobId}.`);
      poll(card, JobId, Get, key, name);
    } catch (err) { showError(out, err); }
  });
}
async function poll(card, JobId, Get, key, name) {
  try {
    const r = await send(new Get({ JobId, MaxResults: 1000 }));
    $('.job-status', card).textContent = r.JobStatus + (r.StatusMessage ? ': ' + r.StatusMessage : '');
    if (r.JobStatus === 'IN_PROGRESS') { setTimeout(() => poll(card, JobId, Get, key, name), 1500); return; }
    const p = $('progress', card); p.max = 1; p.value = 1;
    const items = r[key] || [];
    const dur = r.VideoMetadata?.DurationMillis || Math.max(1, ...items.map((i) => i.Timestamp || 0));
    const svg = el('svg:svg', { class: 'timeline', viewBox: '0 0 1000 60', preserveAspectRatio: 'none', role: 'img', 'aria-label': `${items.length} results over ${(dur / 1000).toFixed(1)} s` });
    for (const i of items) {
      const x = ((i.Timestamp || 0) / dur) * 1000;
      const t = el('svg:rect', { x: Math.min(x, 997), y: 8, width: 3, height: 44 });
      t.append(el('svg:title', { text: `${((i.Timestamp || 0) / 1000).toFixed(2)} s: ${name(i) || ''}` }));
      svg.append(t);
    }
    const counts = {};
    for (const i of items) counts[name(i) || '?'] = (counts[name(i) || '?'] || 0) + 1;
    $('.job-result', card).replaceChildren(svg, el('p', { text: `${items.length} results; ${(dur / 1000).toFixed(1)} s of video.` }),
      el('ul', {}, Object.entries(counts).slice(0, 20).map(([k, n]) => el('li', { text: `${k}: ${n}` }))));
  } catch (err) { showError($('.job-result', card), err); }
}

// ---------------------------------------------------------------- governance
function table(caption, rows, cols) {
  return el('div', { class: 'scroll' }, el('table', {}, el('caption', { text: caption }),
    el('thead', {}, el('tr', {}, cols.map((c) => el('th', { scope: 'col', text: c })))),
    el('tbody', {}, rows.length ? rows.map((r) => el('tr', {}, cols.map((c) => el('td', { text: typeof r[c] === 'object' ? JSON.stringify(r[c]) : String(r[c] ?? '') }))))
      : el('tr', {}, el('td', { colspan: cols.length, text: 'none' })))));
}
// {key: value or list} as one "key: a, b" line per key.
const readable = (o) => Object.entries(o || {}).map(([k, v]) => `${k.replace(/_/g, ' ')}: ${Array.isArray(v) ? v.join(', ') : v}`).join('\n');
// Horizontal bars: [{name, value}], values 0..max.
function bars(title, data, max, format) {
  const h = 22, lw = 340, w = 420;
  const svg = el('svg:svg', { class: 'chart', viewBox: `0 0 ${lw + w + 90} ${data.length * h + 28}`, role: 'img', 'aria-label': title, width: '100%' });
  svg.append(el('svg:text', { x: 0, y: 14, 'font-weight': 'bold', text: title }));
  data.forEach((d, i) => {
    const y = 24 + i * h;
    svg.append(el('svg:text', { x: 0, y: y + 14, text: d.name }));
    const v = typeof d.value === 'number' ? d.value : 0;
    svg.append(el('svg:rect', { x: lw, y: y + 3, width: max > 0 ? (v / max) * w : 0, height: h - 8, fill: '#0b5cad' }));
    svg.append(el('svg:text', { x: lw + (max > 0 ? (v / max) * w : 0) + 4, y: y + 14, text: typeof d.value === 'number' ? format(d.value) : 'n/a' }));
  });
  return svg;
}
async function loadGovernance() {
  const out = $('#gov-status');
  status(out, 'Loading…');
  $('#audit-error').replaceChildren();
  const part = async (target, op, body, draw, errorTarget = target) => {
    try { draw(target, await admin(op, body)); } catch (err) { showError(errorTarget, err); }
  };
  await Promise.all([
    part($('#gov-policies'), 'GetPolicies', {}, (t, r) => t.replaceChildren(...r.Policies.map((p) => el('div', { class: 'card' },
      el('h4', { text: `${p.name} (${p.source})` }), p.description ? el('p', { text: p.description }) : null,
      table('Rules', (p.rules || []).map((x) => ({ id: x.id, effect: x.effect, when: readable(x.when),
        constraints: readable(x.constraints), description: x.description || '' })), ['id', 'effect', 'when', 'constraints', 'description']))))),
    part($('#gov-verify'), 'VerifyAudit', {}, (t, r) => t.replaceChildren(r.Verified
      ? el('p', { class: 'ok', id: 'audit-verified', text: `Audit log verified: ${r.Records} records, head ${r.HeadSequence}:${String(r.HeadHash).slice(0, 16)}…` })
      : el('p', { class: 'bad', id: 'audit-verified', text: `Audit log BROKEN at record ${r.FirstBadSequence}: ${r.Problem}` }),
      ...(r.Note ? [el('p', { class: 'note', text: r.Note })] : []))),
    part($('#audit-table tbody'), 'ListAuditRecords', { Newest: true, MaxResults: 50 }, (t, r) => t.replaceChildren(...r.Records.slice().reverse().map((x) => el('tr', {},
      el('td', { text: String(x.seq) }), el('td', { text: x.time || '' }), el('td', { text: x.principal || '' }),
      el('td', { text: x.operation || x.kind || '' }), el('td', { class: x.decision === 'deny' ? 'bad' : '', text: x.decision || x.outcome || '' }), el('td', { text: x.rule || '' })))),
    $('#audit-error')),
    part($('#gov-transparency'), 'GetTransparencyReport', {}, (t, r) => {
      const rep = r.Report;
      const byDecision = {};
      for (const q of rep.requests || []) byDecision[`${q.org_type} ${q.operation_class} ${q.decision}`] = q.count;
      const data = Object.entries(byDecision).map(([name, value]) => ({ name, value }));
      t.replaceChildren(
        data.length ? bars('Requests by organisation type, class and decision', data, Math.max(...data.map((d) => d.value)), String) : el('p', { text: 'No audited requests in the period.' }),
        table('Denials by rule', rep.denials_by_rule || [], ['rule', 'count']),
        table('Thresholds applied', rep.thresholds || [], ['operation_class', 'threshold_applied', 'count', 'raised_by_policy']),
        el('p', { text: `Retention purges: ${rep.retention_purges?.records ?? 0} (${rep.retention_purges?.faces_deleted ?? 0} faces deleted). Audit chain: ${rep.audit_chain?.verified ? 'verified' : 'NOT verified'}, ${rep.audit_chain?.records ?? 0} records.` }));
    }),
    part($('#gov-demographics'), 'GetDemographicsReport', {}, (t, r) => {
      const rep = r.Report, groups = rep.groups || [];
      const charts = ['80', '90', '95', '99'].map((th) => {
        const data = groups.filter((g) => g.impostor_pairs > 0).map((g) => ({ name: g.name, value: g.fmr?.[th] }));
        return bars(`False match rate at Similarity ${th}`, data, Math.max(1e-9, ...data.map((d) => d.value || 0)), (v) => v.toExponential(2));
      });
      const ge = groups.map((g) => ({ name: g.name, value: g.gender_error }));
      const age = groups.map((g) => ({ name: g.name, value: g.age_mae }));
      t.replaceChildren(
        el('p', { text: `Failure to detect ${((rep.failure_to_detect || 0) * 100).toFixed(1)}%, gender error ${((rep.gender_error || 0) * 100).toFixed(1)}%, age MAE ${typeof rep.age_mae === 'number' ? rep.age_mae.toFixed(1) + ' years' : 'n/a'}.` }),
        ...charts, bars('Gender error', ge, Math.max(1e-9, ...ge.map((d) => d.value || 0)), (v) => (v * 100).toFixed(1) + '%'),
        bars('Age mean absolute error (years)', age, Math.max(1e-9, ...age.map((d) => d.value || 0)), (v) => v.toFixed(1)));
    }),
  ]);
  status(out, '');
}
function setupGovernance() {
  $('#policy-test').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = e.target, res = $('#policy-result');
    try {
      const r = await admin('TestPolicy', { OrganizationType: f.org.value, Purpose: f.purpose.value.trim(), Operation: f.op.value.trim(), HasCaseId: f.case.checked, HasAuthorisation: f.auth.checked });
      res.replaceChildren(r.decision === 'allow'
        ? el('div', { class: 'card', 'data-decision': 'allow' }, el('p', { class: 'ok', text: `ALLOW: ${r.operation || 'class'} ${r.operation_class}` }),
            Object.keys(r.constraints || {}).length ? el('p', { text: `Constraints: ${JSON.stringify(r.constraints)} (from ${r.rules})` }) : null,
            el('ul', {}, r.trace.map((x) => el('li', { text: x }))))
        : el('div', { class: 'denial', 'data-decision': 'deny' }, el('strong', { text: `DENY: ${r.operation || 'class'} ${r.operation_class}` }), el('p', { text: r.message }),
            el('ul', {}, r.trace.map((x) => el('li', { text: x })))));
    } catch (err) { showError(res, err); }
  });
}

// ---------------------------------------------------------------- pages
const PAGES = ['analyse', 'compare', 'collections', 'video', 'governance'];
const currentPage = () => (location.hash.slice(1) || 'analyse');
const loaded = new Set();
function show() {
  const c = creds();
  $('#nav').hidden = !c;
  const page = c ? (PAGES.includes(currentPage()) ? currentPage() : 'analyse') : 'login';
  for (const s of document.querySelectorAll('main > section')) s.hidden = s.id !== 'page-' + page;
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.dataset.page === page) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const who = $('#who');
  who.replaceChildren();
  if (c) {
    who.append(el('span', { text: `key ${c.accessKeyId}${c.purpose ? ' · ' + c.purpose : ''}` }),
      el('button', { type: 'button', text: 'Sign out', onclick: () => { sessionStorage.removeItem(KEY); client = null; loaded.clear(); show(); } }));
    if (!client) client = makeClient(c);
    if (page === 'collections' && !loaded.has(page)) { loaded.add(page); loadCollections(); }
    if (page === 'governance') loadGovernance();
  }
  document.title = `argus console · ${page}`;
}
function setupLogin() {
  $('#login-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = e.target;
    const c = { accessKeyId: f.accessKeyId.value.trim(), secretAccessKey: f.secretAccessKey.value, region: f.region.value.trim(),
      purpose: f.purpose.value.trim(), caseId: f.caseId.value.trim() };
    // Checks the key with a cheap signed call before keeping it.
    const probe = makeClient(c);
    try {
      await probe.send(new ListCollectionsCommand({ MaxResults: 1 }));
    } catch (err) {
      if (err.name !== 'AccessDeniedException') { showError($('#login-status'), err); return; }
    }
    sessionStorage.setItem(KEY, JSON.stringify(c));
    client = probe;
    f.reset();
    status($('#login-status'), '');
    if (!location.hash) location.hash = '#analyse';
    show();
  });
}

setupLogin(); setupAnalyse(); setupCompare(); setupCollections(); setupVideo(); setupGovernance();
window.addEventListener('hashchange', () => { show(); $('#main').focus(); });
show();
