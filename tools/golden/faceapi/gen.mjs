// Reference outputs of the original @vladmandic/face-api models (tests/golden/faceapi_*.json).
//
// Runs each model through face-api's own network class (net.forward on an image tensor, i.e.
// the package's forwardInput) on @tensorflow/tfjs's pure-JS cpu backend, with the weights read
// from the package's own model/*-weights_manifest.json + .bin files.
//
//   cd tools/golden/faceapi && npm ci && node gen.mjs [--out ../../../tests/golden]
//
// face-api's bundled ESM build crashes in node; dist/face-api.esm-nobundle.js works once its
// `@tensorflow/*/dist/index.js` imports point at the package names, so a patched copy of it is
// written next to node_modules and imported from there.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

import * as tf from '@tensorflow/tfjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const pkgRoot = path.dirname(require.resolve('@vladmandic/face-api/package.json'));
const pkgVersion = JSON.parse(fs.readFileSync(path.join(pkgRoot, 'package.json'), 'utf8')).version;
const tfVersion = JSON.parse(fs.readFileSync(require.resolve('@tensorflow/tfjs/package.json'), 'utf8')).version;

const args = process.argv.slice(2);
const outIdx = args.indexOf('--out');
const outDir = outIdx >= 0 ? path.resolve(args[outIdx + 1]) : path.resolve(here, '../../../tests/golden');

async function loadFaceApi() {
  let src = fs.readFileSync(path.join(pkgRoot, 'dist/face-api.esm-nobundle.js'), 'utf8');
  src = src.replace(/(["'])(@tensorflow\/[a-z0-9-]+)\/dist\/index\.js\1/g, '$1$2$1');
  const patched = path.join(here, 'node_modules', '.face-api.esm-nobundle.patched.mjs');
  fs.writeFileSync(patched, src);
  return import(pathToFileURL(patched).href);
}

// The synthetic image of models/README.md: pixel value (0..255) for channel c, row y, column x.
function pixel(c, y, x, seed) {
  let h = (Math.imul(c, 73856093) ^ Math.imul(y, 19349663) ^ Math.imul(x, 83492791)
    ^ Math.imul(seed, 2654435761)) >>> 0;
  h = (h ^ (h >>> 16)) >>> 0;
  h = Math.imul(h, 0x45d9f3b) >>> 0;
  h = (h ^ (h >>> 16)) >>> 0;
  return h & 255;
}

// face-api takes the raw RGB image (0..255) as a [1, H, W, 3] tensor and normalises it itself.
function syntheticImage(size, seed) {
  const data = new Float32Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < 3; c++) data[(y * size + x) * 3 + c] = pixel(c, y, x, seed);
    }
  }
  return tf.tensor4d(data, [1, size, size, 3], 'float32');
}

function loadWeightMap(manifestFile) {
  const manifestPath = path.join(pkgRoot, 'model', manifestFile);
  const groups = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
  const weightMap = {};
  for (const group of groups) {
    const buffers = group.paths.map((p) => fs.readFileSync(path.join(path.dirname(manifestPath), p)));
    const buf = Buffer.concat(buffers);
    const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
    Object.assign(weightMap, tf.io.decodeWeights(ab, group.weights));
  }
  return weightMap;
}

// Every element when there are at most 512, otherwise 512 evenly spaced ones.
function sample(name, shape, data) {
  const n = data.length;
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== n) throw new Error(`${name}: shape ${shape} does not hold ${n} values`);
  const indices = [];
  if (n <= 512) for (let i = 0; i < n; i++) indices.push(i);
  else for (let i = 0; i < 512; i++) indices.push(Math.floor((i * n) / 512));
  return { name, shape, indices, values: indices.map((i) => data[i]) };
}

function writeGolden(model, outputs, tolerances) {
  const doc = {
    model,
    runtime: `@vladmandic/face-api ${pkgVersion} on @tensorflow/tfjs ${tfVersion} (${tf.getBackend()})`,
    input: { seed: 1 },
    atol: tolerances.atol,
    rtol: tolerances.rtol,
    outputs,
  };
  fs.mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `${model}.json`);
  fs.writeFileSync(file, `${JSON.stringify(doc)}\n`);
  console.log(`wrote ${file}`);
}

const faceapi = await loadFaceApi();
await tf.setBackend('cpu');
await tf.ready();

const seed = 1;
const tol = { atol: 1e-4, rtol: 1e-3 };

{ // SSD MobileNetV1: forwardInput returns per-batch decoded boxes [5118,4] and face scores [5118].
  const net = new faceapi.SsdMobilenetv1();
  net.loadFromWeightMap(loadWeightMap('ssd_mobilenetv1_model-weights_manifest.json'));
  const { boxes, scores } = await net.forward(syntheticImage(512, seed));
  writeGolden('faceapi_ssd_mobilenetv1', [
    sample('boxes', [1, 5118, 4], boxes[0].dataSync()),
    sample('scores', [1, 5118], scores[0].dataSync()),
  ], tol);
}

{ // 68 landmarks: forward gives [1,136] x,y pairs relative to the (square, unpadded) input.
  const net = new faceapi.FaceLandmark68Net();
  net.loadFromWeightMap(loadWeightMap('face_landmark_68_model-weights_manifest.json'));
  const out = await net.forward(syntheticImage(112, seed));
  writeGolden('faceapi_landmark68', [sample('landmarks', [1, 136], out.dataSync())], tol);
}

{ // 128-d descriptor.
  const net = new faceapi.FaceRecognitionNet();
  net.loadFromWeightMap(loadWeightMap('face_recognition_model-weights_manifest.json'));
  const out = await net.forward(syntheticImage(150, seed));
  writeGolden('faceapi_recognition', [sample('descriptor', [1, 128], out.dataSync())], tol);
}

{ // Age (regression) and gender (softmax; index 0 = male, 1 = female in predictAgeAndGender).
  const net = new faceapi.AgeGenderNet();
  net.loadFromWeightMap(loadWeightMap('age_gender_model-weights_manifest.json'));
  const { age, gender } = await net.forward(syntheticImage(112, seed));
  writeGolden('faceapi_age_gender', [
    sample('age', [1, 1], age.dataSync()),
    sample('gender', [1, 2], gender.dataSync()),
  ], tol);
}

{ // 7 expression probabilities in FACE_EXPRESSION_LABELS order.
  const net = new faceapi.FaceExpressionNet();
  net.loadFromWeightMap(loadWeightMap('face_expression_model-weights_manifest.json'));
  const out = await net.forward(syntheticImage(112, seed));
  writeGolden('faceapi_expression', [sample('expressions', [1, 7], out.dataSync())], tol);
}
