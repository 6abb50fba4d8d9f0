// Reference outputs of the ORIGINAL TFJS graph models (@vladmandic/human, nsfwjs)
// on @tensorflow/tfjs (pure JS cpu backend), written as tests/golden/<model>.json.
//
//   cd tools/golden/tfjs && npm ci && node gen.mjs [--only name,name] \
//       [--human-root DIR] [--nsfwjs-root DIR] [--out DIR]
//
// DIR defaults: $ARGUS_MODEL_DIR/packages/<manifest package dir>/package
// ($ARGUS_MODEL_DIR defaults to ~/.cache/argus/models), out: tests/golden.
// Input, output names and shapes come from models/human.json and models/nsfwjs.json;
// the synthetic input is the one of models/README.md, fed NHWC as the model wants.
// Each model runs once with tf.loadGraphModel on weights read from the package
// files (tf.io.fromMemory); execute() is asked for the tensors where the ONNX
// conversion cuts the graph, so the tail past them (TopKV2 etc.) is not run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../..');
const TFJS_VERSION = '4.22.0';
const SEED = 1;
const MAX_VALUES = 512;

// Per model: the TFJS tensors behind each ONNX output (same order as the manifest
// outputs; ONNX outputs keep the TFJS element order), optional pre-processing done
// in tfjs exactly as human does it, and the tolerances written to the golden file.
const MODELS = {
  human_blazeface: {
    outputs: { classificators_1: 'Identity', classificators_2: 'Identity_1', regressors_1: 'Identity_2', regressors_2: 'Identity_3' },
    atol: 2e-3, rtol: 1e-3,
  },
  human_facemesh: {
    outputs: { mesh: 'Identity_2', faceflag: 'Identity_1', contours: 'Identity' },
    atol: 2e-3, rtol: 1e-3,
  },
  human_faceres: {
    outputs: { descriptor: 'global_pooling/Mean', gender: 'gender_pred/Sigmoid', age: 'age_pred/Softmax' },
    atol: 1e-5, rtol: 1e-3,
  },
  human_emotion: {
    outputs: { emotion: 'Identity' },
    // human src/gear/emotion.ts (grey-input model): sum(rgb * [0.2989, 0.5870, 0.1140]) - 0.5) * 2
    pre: (x) => tf.mul(tf.sub(tf.sum(tf.mul(x, tf.tensor1d([0.2989, 0.5870, 0.1140])), 3, true), 0.5), 2),
    note: 'the synthetic RGB input (0..1 after mean/scale) is turned grey in tfjs as human src/gear/emotion.ts does; the ONNX graph does that step itself',
    atol: 1e-5, rtol: 1e-3,
  },
  human_antispoof: { outputs: { antispoof: 'Identity' }, atol: 1e-5, rtol: 1e-3 },
  human_liveness: { outputs: { liveness: 'Identity' }, atol: 1e-5, rtol: 1e-3 },
  human_iris: { outputs: { iris: 'Identity' }, atol: 2e-3, rtol: 1e-3 },
  human_centernet: {
    outputs: { heatmap: 'tower_0/keypoints', wh: 'tower_0/wh' },
    atol: 1e-3, rtol: 1e-3,
  },
  nsfwjs_mobilenet_v2_mid: { outputs: { probabilities: 'Identity' }, atol: 1e-5, rtol: 1e-3 },
};

function parseArgs(argv) {
  const a = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || argv[i + 1] === undefined) throw new Error(`bad argument ${argv[i]}`);
    a[argv[i].slice(2)] = argv[i + 1];
  }
  return a;
}

// The synthetic input of models/README.md, NHWC, for channel c of the manifest color order.
function syntheticInput(input, seed) {
  const [, C, H, W] = input.shape;
  const data = new Float32Array(H * W * C);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      for (let c = 0; c < C; c++) {
        let h = (Math.imul(c, 73856093) ^ Math.imul(y, 19349663) ^ Math.imul(x, 83492791) ^ Math.imul(seed, 2654435761)) >>> 0;
        h = (h ^ (h >>> 16)) >>> 0;
        h = Math.imul(h, 0x45d9f3b) >>> 0;
        h = (h ^ (h >>> 16)) >>> 0;
        const pixel = h & 255;
        data[(y * W + x) * C + c] = (pixel - input.mean[c]) * input.scale;
      }
    }
  }
  return tf.tensor4d(data, [1, H, W, C]);
}

// Browserified CommonJS module (nsfwjs dist/models/*/*.min.js): its module.exports.
function requireMinJs(file) {
  const sandbox = { module: { exports: {} } };
  sandbox.exports = sandbox.module.exports;
  vm.runInNewContext(fs.readFileSync(file, 'utf8'), sandbox, { filename: file });
  return sandbox.module.exports;
}

// model.json (+ .bin shards) or model.min.js (+ <shard>.min.js base64) -> ModelArtifacts
function loadArtifacts(source) {
  const dir = path.dirname(source);
  let json;
  let readShard;
  if (source.endsWith('.js')) {
    json = requireMinJs(source);
    readShard = (p) => Buffer.from(requireMinJs(path.join(dir, `${p}.min.js`)), 'base64');
  } else {
    json = JSON.parse(fs.readFileSync(source, 'utf8'));
    readShard = (p) => fs.readFileSync(path.join(dir, p));
  }
  const weightSpecs = [];
  const buffers = [];
  for (const group of json.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const p of group.paths) buffers.push(readShard(p));
  }
  const all = Buffer.concat(buffers);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  return {
    modelTopology: json.modelTopology,
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy,
    signature: json.signature,
    userDefinedMetadata: json.userDefinedMetadata,
    weightSpecs,
    weightData,
  };
}

function pickIndices(total) {
  if (total <= MAX_VALUES) return Array.from({ length: total }, (_, i) => i);
  return Array.from({ length: MAX_VALUES }, (_, k) => Math.floor((k * total) / MAX_VALUES));
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const modelDir = process.env.ARGUS_MODEL_DIR || path.join(os.homedir(), '.cache/argus/models');
  const outDir = path.resolve(args.out || path.join(repo, 'tests/golden'));
  const only = args.only ? args.only.split(',') : null;
  await tf.setBackend('cpu');
  await tf.ready();

  for (const part of ['human.json', 'nsfwjs.json']) {
    const manifest = JSON.parse(fs.readFileSync(path.join(repo, 'models', part), 'utf8'));
    for (const m of manifest.models) {
      if (!MODELS[m.name] || (only && !only.includes(m.name))) continue;
      const cfg = MODELS[m.name];
      const pkg = manifest.packages.find((p) => p.name === m.package);
      const rootArg = pkg.name === 'nsfwjs' ? args['nsfwjs-root'] : args['human-root'];
      const root = rootArg || path.join(modelDir, 'packages', pkg.dir, 'package');
      const source = path.join(root, m.source);
      const t0 = Date.now();
      const model = await tf.loadGraphModel(tf.io.fromMemory(loadArtifacts(source)));
      const x = syntheticInput(m.input, SEED);
      const input = cfg.pre ? cfg.pre(x) : x;
      const names = m.outputs.map((o) => cfg.outputs[o.name]);
      let res = model.execute(input, names);
      if (!Array.isArray(res)) res = [res];
      const outputs = [];
      for (let i = 0; i < m.outputs.length; i++) {
        const o = m.outputs[i];
        const t = res[i];
        const total = o.shape.reduce((a, b) => a * b, 1);
        if (t.size !== total || t.shape.length !== o.shape.length || t.shape.some((d, k) => d !== o.shape[k])) {
          throw new Error(`${m.name}/${o.name}: tfjs shape [${t.shape}] vs manifest [${o.shape}]`);
        }
        const data = await t.data();
        const indices = pickIndices(total);
        outputs.push({ name: o.name, shape: o.shape, indices, values: indices.map((k) => data[k]) });
      }
      const golden = {
        model: m.name,
        runtime: `${pkg.name} ${pkg.version} ${m.source} on @tensorflow/tfjs ${TFJS_VERSION} (cpu)`,
        input: { seed: SEED },
        atol: cfg.atol,
        rtol: cfg.rtol,
      };
      if (cfg.note) golden.note = cfg.note;
      golden.outputs = outputs;
      fs.mkdirSync(outDir, { recursive: true });
      fs.writeFileSync(path.join(outDir, `${m.name}.json`), `${JSON.stringify(golden)}\n`);
      tf.dispose([x, input, ...res]);
      model.dispose();
      console.log(`${m.name}: ${outputs.map((o) => `${o.name}[${o.shape}]`).join(' ')} in ${Date.now() - t0} ms`);
    }
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
