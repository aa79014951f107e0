import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { RgbPixels } from '../image/variants.js';
import type { SafetyClassifier, SafetyResult, SafetyScores } from './safety-classifier.js';

export const NSFWJS_MODEL = 'nsfwjs-mobilenet-v2';

/**
 * The worker's body, plain JavaScript so it runs the same from src (tests) and dist. It loads
 * TensorFlow.js on its WASM backend and nsfwjs's MobileNetV2 (the weights ship inside the nsfwjs
 * package: nothing is downloaded), then classifies the pixels it is sent.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const ready = (async () => {
  const tf = await import(workerData.tfjs);
  const wasm = await import(workerData.wasm);
  wasm.setWasmPaths(workerData.wasmDir);
  if (!(await tf.setBackend('wasm'))) throw new Error('TensorFlow.js could not start its WASM backend');
  await tf.ready();
  const { load } = await import(workerData.nsfwjs);
  const { MobileNetV2Model } = await import(workerData.mobilenet);
  console.info = () => {}; // nsfwjs announces the model it loads; a server's log is not the place
  return { tf, model: await load('MobileNetV2', { modelDefinitions: [MobileNetV2Model] }) };
})();
// A model that would not load is not retried in this thread: it answers the images waiting and
// exits, and the next image starts a fresh thread.
let loadFailed = false;
ready.catch(() => { loadFailed = true; });
parentPort.on('message', async ({ id, data, width, height }) => {
  try {
    const { tf, model } = await ready;
    const image = tf.tensor3d(data, [height, width, 3], 'int32');
    try {
      const predictions = await model.classify(image, 5);
      parentPort.postMessage({ id, scores: Object.fromEntries(predictions.map((p) => [p.className.toLowerCase(), p.probability])) });
    } finally {
      image.dispose();
    }
  } catch (error) {
    parentPort.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
    if (loadFailed) setImmediate(() => process.exit(1));
  }
});
`;

/**
 * The file URL of a package's ES module build of `subpath`, from its `exports`. nsfwjs's
 * CommonJS build decodes its bundled weights in ~8 s here where its ES module build takes
 * under 1 s, and this module's `require.resolve` would pick the CommonJS one.
 */
function esmEntry(name: string, subpath: string): string {
  const require = createRequire(import.meta.url);
  let dir = dirname(require.resolve(name));
  while (!existsSync(join(dir, 'package.json')) || (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name !== name) {
    if (dirname(dir) === dir) throw new Error(`Cannot find the package.json of ${name}`);
    dir = dirname(dir);
  }
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { exports?: Record<string, { import?: string }> };
  const entry = manifest.exports?.[subpath]?.import;
  if (!entry) throw new Error(`Expected an ES module entry for ${name}/${subpath.slice(2)} in its exports`);
  return pathToFileURL(join(dir, entry)).href;
}

interface Pending {
  readonly resolve: (scores: SafetyScores) => void;
  readonly reject: (error: Error) => void;
}

// One thread and one copy of the model per process, whoever asks (a server, a bench, several
// test servers in one file): the load costs seconds and ~30 MB.
let worker: Worker | undefined;
let nextId = 0;
const pending = new Map<number, Pending>();

/**
 * The built-in classifier: nsfwjs's MobileNetV2 (224² input) on TensorFlow.js's WASM backend,
 * in a worker thread started on the first image and then shared by every job of the process.
 * WASM runs the network in ~70 ms here where tfjs's pure-JS CPU backend takes ~1 s, and unlike
 * tfjs-node it needs no native download at install; the thread keeps that computation off the
 * event loop that answers HTTP.
 *
 * @example const { scores } = await createNsfwjsClassifier().classify({ data, width: 224, height: 224 })
 */
export function createNsfwjsClassifier(): SafetyClassifier {
  function start(): Worker {
    const require = createRequire(import.meta.url);
    const url = (specifier: string) => pathToFileURL(require.resolve(specifier)).href;
    const started = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        tfjs: url('@tensorflow/tfjs'),
        wasm: url('@tensorflow/tfjs-backend-wasm'),
        wasmDir: `${dirname(require.resolve('@tensorflow/tfjs-backend-wasm'))}/`,
        nsfwjs: esmEntry('nsfwjs', './core'),
        mobilenet: esmEntry('nsfwjs', './models/mobilenet_v2'),
      },
    });
    // Idle between images, it must not keep a finished CLI command or test process alive; while
    // an image is out, it must (see classify).
    started.unref();
    started.on('message', (message: { id: number; scores?: SafetyScores; error?: string }) => {
      const waiter = pending.get(message.id);
      pending.delete(message.id);
      if (pending.size === 0) started.unref();
      if (message.scores) waiter?.resolve(message.scores);
      else waiter?.reject(new Error(`The safety model failed: ${message.error}`));
    });
    const fail = (error: Error) => {
      // The next image starts a new thread; the ones in flight fail (and their jobs retry).
      if (worker !== started) return;
      worker = undefined;
      for (const waiter of pending.values()) waiter.reject(error);
      pending.clear();
    };
    started.on('error', (error) => fail(new Error(`The safety model's thread failed: ${error.message}`, { cause: error })));
    started.on('exit', (code) => fail(new Error(`The safety model's thread exited (code ${code})`)));
    return started;
  }

  return {
    model: NSFWJS_MODEL,
    classify(pixels: RgbPixels): Promise<SafetyResult> {
      const { data, width, height } = pixels;
      if (data.length !== width * height * 3) return Promise.reject(new Error(`Expected ${width}×${height} RGB pixels (${width * height * 3} bytes) but received ${data.length} bytes`));
      worker ??= start();
      worker.ref();
      const id = nextId++;
      const scores = new Promise<SafetyScores>((resolve, reject) => pending.set(id, { resolve, reject }));
      // A copy: the caller's buffer may be a view into a larger pooled one.
      worker.postMessage({ id, data: new Uint8Array(data), width, height });
      return scores.then((s) => ({ model: NSFWJS_MODEL, scores: s }));
    },
  };
}
