// The peer of `argus bench faces`: the face-api weights through their own
// JavaScript runtime (@vladmandic/face-api on @tensorflow/tfjs with the WASM
// backend), timed per image.
//
//   node faces.js JOB.json
//
// JOB.json: {"model": DIR (face-api's model/ folder), "threads": N,
//            "warmup": W, "repeat": R,
//            "images": [{"name", "rgb": FILE, "width", "height"}, ...]}
// where FILE holds width*height*3 bytes of RGB pixels, rows top to bottom
// (argus decodes the images, so both sides see the same pixels and neither
// side's time includes JPEG decoding).
//
// Prints one JSON object on stdout: versions, backend, SIMD, threads, and per
// image the faces found (box in pixels, score, descriptor of the first run)
// and the milliseconds of each timed run of
// detectAllFaces(SsdMobilenetv1Options).withFaceLandmarks().withFaceDescriptors().
'use strict';

const fs = require('fs');
const path = require('path');

async function main() {
  if (process.argv.length !== 3) {
    process.stderr.write('usage: node faces.js JOB.json\n');
    process.exit(2);
  }
  const job = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const tf = require('@tensorflow/tfjs');
  const wasm = require('@tensorflow/tfjs-backend-wasm');
  const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');

  // The .wasm binaries from the installed package (read with fs, never
  // fetched from a CDN).
  const wasmDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  wasm.setWasmPaths(wasmDir + path.sep, false);
  // XNNPACK's thread pool size; tfjs-backend-wasm 4.x reports no thread
  // support under Node (WASM_HAS_MULTITHREAD_SUPPORT is false when IS_NODE),
  // so the backend runs on one thread whatever is asked: getThreadsCount()
  // below reports what it really uses.
  wasm.setThreadsCount(Math.max(1, job.threads | 0));
  if (!(await tf.setBackend('wasm'))) throw new Error('the tfjs wasm backend did not initialise');
  await tf.ready();

  await faceapi.nets.ssdMobilenetv1.loadFromDisk(job.model);
  await faceapi.nets.faceLandmark68Net.loadFromDisk(job.model);
  await faceapi.nets.faceRecognitionNet.loadFromDisk(job.model);
  // face-api's defaults, the same as argus's DetectFaces defaults.
  const options = new faceapi.SsdMobilenetv1Options({ minConfidence: 0.5, maxResults: 100 });
  const run = (t) => faceapi.detectAllFaces(t, options).withFaceLandmarks().withFaceDescriptors();

  const out = {
    versions: { 'face-api': faceapi.version, 'tfjs-core': tf.version_core, 'tfjs-backend-wasm': wasm.version_wasm, node: process.versions.node },
    backend: tf.getBackend(),
    simd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'),
    multithread: await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'),
    threads: wasm.getThreadsCount(),
    warmup: job.warmup,
    images: [],
  };
  for (const img of job.images) {
    const bytes = fs.readFileSync(img.rgb);
    if (bytes.length !== img.width * img.height * 3) throw new Error(`${img.rgb}: expected ${img.width * img.height * 3} bytes, found ${bytes.length}`);
    const tensor = tf.tensor3d(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), [img.height, img.width, 3], 'int32');
    let first = null;
    for (let i = 0; i < job.warmup; i++) first = first || (await run(tensor));
    const ms = [];
    for (let i = 0; i < job.repeat; i++) {
      const t0 = performance.now();
      const r = await run(tensor);
      ms.push(performance.now() - t0);
      first = first || r;
    }
    tensor.dispose();
    out.images.push({
      name: img.name,
      ms,
      faces: (first || []).map((f) => ({
        box: [f.detection.box.x, f.detection.box.y, f.detection.box.width, f.detection.box.height],
        score: f.detection.score,
        descriptor: Array.from(f.descriptor),
      })),
    });
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => {
  process.stderr.write(`face-api peer: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
