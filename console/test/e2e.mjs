// End-to-end test of the web console in a real browser: Debian's chromium
// driven by playwright-core, against a real `argus serve`. Fails (never
// skips) when chromium is missing. Writes a screenshot of each page to
// $ARGUS_CONSOLE_ARTIFACTS (the build's test-artifacts/console).
//
// env: ARGUS_BIN (the argus binary), ARGUS_CONSOLE_ARTIFACTS, ARGUS_MODEL_DIR,
//      ARGUS_DATA (optional: ../shared/data, for the demographics report),
//      CHROMIUM (default /usr/bin/chromium)
import { chromium } from 'playwright-core';
import { RekognitionClient, DetectFacesCommand } from '@aws-sdk/client-rekognition';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

const ARGUS = process.env.ARGUS_BIN;
const ARTIFACTS = process.env.ARGUS_CONSOLE_ARTIFACTS || join(process.cwd(), 'console-artifacts');
const MODELS = process.env.ARGUS_MODEL_DIR || join(homedir(), '.cache/argus/models');
// The evaluation data beside the project (ARGUS_DATA, else ../shared/data).
const DATA = process.env.ARGUS_DATA || fileURLToPath(new URL('../../../shared/data', import.meta.url));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const DEMO = join(MODELS, 'packages/face-api/package/demo');
const SAMPLE = join(DEMO, 'sample1.jpg');  // three faces
const PORTRAITS = join(DEMO, 'sample2.jpg');  // three faces: the largest is cut out

assert.ok(ARGUS && existsSync(ARGUS), 'ARGUS_BIN must name the argus binary');
if (!existsSync(CHROMIUM)) {
  console.error(`FAIL: ${CHROMIUM} not found: install Debian's chromium (scripts/setup-deps.sh)`);
  process.exit(1);
}
assert.ok(existsSync(SAMPLE), `${SAMPLE} missing: run make models`);
mkdirSync(ARTIFACTS, { recursive: true });

const work = mkdtempSync(join(tmpdir(), 'argus-console-'));
const dataDir = join(work, 'data');
const s3 = join(work, 's3');
mkdirSync(join(s3, 'clips'), { recursive: true });
let server = null, context = null;
const cleanup = async () => {
  if (context) await context.close().catch(() => {});
  if (server) server.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
};

function run(args) {
  const r = spawnSync(ARGUS, args, { encoding: 'utf8', env: { ...process.env, ARGUS_MODEL_DIR: MODELS } });
  assert.equal(r.status, 0, `argus ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
const key = (name, org, purpose, admin) =>
  JSON.parse(run(['keys', 'create', '--data-dir', dataDir, '--name', name, '--org-type', org, '--purpose', purpose, ...(admin ? ['--admin'] : [])]));
const freePort = () => new Promise((res) => {
  const s = createServer();
  s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); });
});
const step = (name) => console.log(`-- ${name}`);

try {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const adminKey = key('console-admin', 'commercial', 'photo_organization', true);
  const policeKey = key('console-police', 'law_enforcement', 'investigation', false);

  // The demographics report, from a few labelled faces when the data is here.
  const demoLabels = DATA && join(DATA, 'demographics/utkface-dev/labels.csv');
  let report = '';
  if (demoLabels && existsSync(demoLabels)) {
    step('argus eval demographics --limit 40');
    run(['eval', 'demographics', '--labels', demoLabels, '--images', join(DATA, 'demographics/utkface-dev/images'),
      '--out', join(work, 'demographics'), '--limit', '40', '--model-dir', MODELS]);
    report = join(work, 'demographics/report.json');
  }

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  server = spawn(ARGUS, ['serve', '--port', String(port), '--data-dir', dataDir, '--model-dir', MODELS,
    '--s3-root', s3, ...(report ? ['--demographics-report', report] : [])], { stdio: ['ignore', 'inherit', 'inherit'] });
  for (let i = 0; ; i++) {
    try { if ((await fetch(base + '/readyz')).ok) break; } catch {}
    assert.ok(i < 600 && server.exitCode === null, 'argus serve did not become ready');
    await new Promise((r) => setTimeout(r, 100));
  }

  // One face: the largest of sample2.jpg with a margin, cut out with OpenCV;
  // and a two-second clip of it for the video page.
  const sdk = new RekognitionClient({ endpoint: base, region: 'us-east-1', maxAttempts: 1,
    credentials: { accessKeyId: adminKey.AccessKeyId, secretAccessKey: adminKey.SecretAccessKey } });
  const largest = (await sdk.send(new DetectFacesCommand({ Image: { Bytes: readFileSync(PORTRAITS) } }))).FaceDetails
    .sort((a, b) => b.BoundingBox.Width * b.BoundingBox.Height - a.BoundingBox.Width * a.BoundingBox.Height)[0].BoundingBox;
  const ONE_FACE = join(work, 'face.jpg');
  const clip = join(s3, 'clips', 'portrait.mp4');
  const py = spawnSync('/usr/bin/python3', ['-c', `
import cv2, sys
img = cv2.imread(sys.argv[1])
h, w = img.shape[:2]
l, t, bw, bh = (float(v) for v in sys.argv[3:7])
cx, cy, side = (l + bw / 2) * w, (t + bh / 2) * h, max(bw * w, bh * h) * 2.2
x0, y0 = max(0, int(cx - side / 2)), max(0, int(cy - side / 2))
face = img[y0:int(cy + side / 2), x0:int(cx + side / 2)]
cv2.imwrite(sys.argv[2], face)
frame = cv2.resize(face, (480, 480))
v = cv2.VideoWriter(sys.argv[7], cv2.VideoWriter_fourcc(*'mp4v'), 5, (480, 480))
for _ in range(10): v.write(frame)
v.release()`, PORTRAITS, ONE_FACE, largest.Left, largest.Top, largest.Width, largest.Height, clip], { encoding: 'utf8' });
  assert.equal(py.status, 0, 'cutting out the face: ' + py.stderr);
  const oneFace = await sdk.send(new DetectFacesCommand({ Image: { Bytes: readFileSync(ONE_FACE) } }));
  assert.equal(oneFace.FaceDetails.length, 1, 'the cut-out has one face');

  // Served files: types and the Content-Security-Policy.
  step('static files');
  const index = await fetch(base + '/console/');
  assert.equal(index.status, 200);
  assert.match(index.headers.get('content-type'), /^text\/html/);
  const csp = index.headers.get('content-security-policy');
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'/);
  assert.match((await fetch(base + '/console/app.js')).headers.get('content-type'), /^text\/javascript/);
  assert.match((await fetch(base + '/console/app.css')).headers.get('content-type'), /^text\/css/);
  assert.equal((await fetch(base + '/console/nope.js')).status, 404);
  const redirect = await fetch(base + '/console', { redirect: 'manual' });
  assert.equal(redirect.status, 308);

  context = await chromium.launchPersistentContext(join(work, 'chromium-profile'), {
    executablePath: CHROMIUM, headless: true, viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = context.pages()[0] || await context.newPage();
  // Nothing may be fetched from anywhere but this server.
  const foreign = [];
  page.on('request', (r) => { if (!r.url().startsWith(base) && !r.url().startsWith('blob:') && !r.url().startsWith('data:')) foreign.push(r.url()); });
  const cspErrors = [];
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) cspErrors.push(m.text()); });
  const shot = (name) => page.screenshot({ path: join(ARTIFACTS, name + '.png'), fullPage: true });

  const login = async (k) => {
    await page.goto(base + '/console/');
    await page.getByLabel('Access key id').fill(k.AccessKeyId);
    await page.getByLabel('Secret access key').fill(k.SecretAccessKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#page-analyse').waitFor({ state: 'visible' });
  };

  step('login page');
  await page.goto(base + '/console/');
  assert.equal(await page.locator('#nav').isVisible(), false, 'no page links before signing in');
  await shot('01-login');
  // A wrong secret: the API's own message, no session kept.
  await page.getByLabel('Access key id').fill(adminKey.AccessKeyId);
  await page.getByLabel('Secret access key').fill('wrong-secret');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#login-status .error').waitFor();
  assert.match(await page.locator('#login-status .error').innerText(), /signature/i);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('argus.credentials')), null);

  step('analyse');
  await login(adminKey);
  const stored = JSON.parse(await page.evaluate(() => sessionStorage.getItem('argus.credentials')));
  assert.equal(stored.accessKeyId, adminKey.AccessKeyId);
  assert.equal(await page.evaluate(() => localStorage.length), 0);
  await page.setInputFiles('#analyse-file', SAMPLE);
  await page.locator('#analyse-stage[data-done]').waitFor({ timeout: 120000 });
  const drawn = await page.locator('#analyse-stage svg rect.face-box').count();
  const detected = await sdk.send(new DetectFacesCommand({ Image: { Bytes: readFileSync(SAMPLE) } }));
  assert.ok(detected.FaceDetails.length >= 1, 'DetectFaces finds the sample faces');
  assert.equal(drawn, detected.FaceDetails.length, 'one drawn box per DetectFaces face');
  assert.ok(await page.locator('#analyse-stage svg circle.landmark').count() >= drawn * 5, 'landmarks drawn');
  assert.match(await page.locator('#analyse-json').innerText(), /"FaceDetails"/);
  await shot('02-analyse');

  step('phone width');
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 1, `no sideways scrolling at 390 px (overflow ${overflow})`);
  await shot('03-analyse-phone');
  await page.setViewportSize({ width: 1280, height: 900 });

  step('compare, reached from the keyboard');
  // Tab order from the top: the skip link, then the pages.
  await page.reload();
  await page.locator('#page-analyse').waitFor({ state: 'visible' });
  const tabTo = async (text) => {
    for (let i = 0; i < 8; i++) {
      await page.keyboard.press('Tab');
      if ((await page.evaluate(() => document.activeElement?.textContent?.trim())) === text) return;
    }
    assert.fail(`${text} not reached with Tab`);
  };
  await tabTo('Compare');
  await page.keyboard.press('Enter');
  await page.locator('#page-compare').waitFor({ state: 'visible' });
  await page.setInputFiles('#compare-form input[name=source]', ONE_FACE);
  await page.setInputFiles('#compare-form input[name=target]', ONE_FACE);
  await page.locator('#compare-form button').click();
  await page.locator('#similarity').waitFor({ timeout: 60000 });
  assert.match(await page.locator('#similarity').innerText(), /Similarity of the best target face: (9\d|100)\./);
  assert.equal(await page.locator('#compare-result tbody tr').count(), 4);
  await shot('04-compare');

  step('collections: create, index, search');
  await page.getByRole('link', { name: 'Collections' }).click();
  await page.getByLabel('New collection id').fill('console-e2e');
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await page.locator('#collection-detail').waitFor({ state: 'visible' });
  await page.setInputFiles('#index-form input[name=image]', ONE_FACE);
  await page.locator('#index-form button').click();
  await page.locator('#faces-list .face canvas').first().waitFor({ timeout: 60000 });
  assert.equal(await page.locator('#faces-list .face').count(), 1);
  await page.setInputFiles('#search-form input[name=image]', ONE_FACE);
  await page.locator('#search-form button').click();
  await page.locator('#matches-h').waitFor({ timeout: 60000 });
  assert.equal(await page.locator('#search-result .match').count(), 1);
  assert.ok(Number(await page.locator('#search-result .match').first().getAttribute('data-similarity')) > 90);
  await page.getByLabel('New user id').fill('alice');
  await page.getByRole('button', { name: 'Create user' }).click();
  await page.locator('#users-table td', { hasText: 'alice' }).waitFor();
  await shot('05-collections');

  step('video');
  await page.getByRole('link', { name: 'Video' }).click();
  await page.getByLabel('Bucket', { exact: true }).fill('clips');
  await page.getByLabel('Key', { exact: true }).fill('portrait.mp4');
  await page.getByRole('button', { name: 'Start' }).click();
  await page.locator('#video-jobs .job-status', { hasText: 'SUCCEEDED' }).waitFor({ timeout: 180000 });
  assert.ok(await page.locator('#video-jobs svg.timeline rect').count() >= 1, 'faces on the timeline');
  // A missing video: the API's message.
  await page.getByLabel('Key', { exact: true }).fill('missing.mp4');
  await page.getByRole('button', { name: 'Start' }).click();
  await page.locator('#video-status .error').waitFor();
  await shot('06-video');

  step('governance');
  await page.getByRole('link', { name: 'Governance' }).click();
  await page.locator('#gov-policies .card h4', { hasText: 'moratorium-2020' }).waitFor();
  await page.locator('#audit-verified.ok').waitFor();
  assert.ok(await page.locator('#audit-table tbody tr').count() >= 1, 'audit records listed');
  await page.locator('#policy-test select[name=org]').selectOption('law_enforcement');
  await page.locator('#policy-test input[name=purpose]').fill('investigation');
  await page.getByRole('button', { name: 'Test' }).click();
  await page.locator('#policy-result [data-decision=deny]').waitFor();
  assert.match(await page.locator('#policy-result').innerText(), /law-enforcement-no-identification/);
  await page.locator('#gov-transparency svg.chart').waitFor();
  if (report) {
    await page.locator('#gov-demographics svg.chart').first().waitFor();
    assert.equal(await page.locator('#gov-demographics svg.chart').count(), 6);
  } else {
    // No report given to the server: the API's message is shown.
    await page.locator('#gov-demographics .error', { hasText: 'demographics report' }).waitFor();
  }
  await shot('07-governance');

  step('moratorium: a law-enforcement search is denied');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await login(policeKey);
  await page.getByRole('link', { name: 'Collections' }).click();
  await page.getByLabel('New collection id').fill('police-e2e');
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await page.locator('#collection-detail').waitFor({ state: 'visible' });
  await page.setInputFiles('#search-form input[name=image]', ONE_FACE);
  await page.locator('#search-form button').click();
  await page.locator('#search-result [data-kind=denial]').waitFor({ timeout: 60000 });
  assert.match(await page.locator('#search-result .reason').innerText(), /Denied by rule 'law-enforcement-no-identification'/);
  await shot('08-denied-search');
  // Not an administrator: the admin views show AccessDeniedException.
  await page.getByRole('link', { name: 'Governance' }).click();
  await page.locator('#gov-policies .error', { hasText: 'administrator keys only' }).waitFor();
  await page.locator('#audit-error .error', { hasText: 'administrator keys only' }).waitFor();
  assert.equal(await page.locator('#audit-table tbody tr').count(), 0, 'no audit rows for a non-admin');
  await shot('09-governance-not-admin');

  assert.deepEqual(foreign, [], 'requests outside this server');
  assert.deepEqual(cspErrors, [], 'Content-Security-Policy violations');
  console.log(`PASS: screenshots in ${ARTIFACTS}`);
  await cleanup();
} catch (err) {
  console.error('FAIL:', err);
  await cleanup();
  process.exit(1);
}
