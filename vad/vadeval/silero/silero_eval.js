// Scores Silero VAD (ONNX, from @ricky0123/vad-web) on a labels.csv set
// written by `ivr eval vad --write DIR`: per 20 ms hop, the probability of
// the 32 ms Silero window containing the hop's centre.
const ort = require('onnxruntime-node');
const fs = require('fs');
const path = require('path');
const [,, csvPath, modelName] = process.argv;
function readWav(p) {
  const b = fs.readFileSync(p);
  let off = 12, rate = 0, data = null;
  while (off + 8 <= b.length) {
    const id = b.toString('ascii', off, off + 4), size = b.readUInt32LE(off + 4);
    if (id === 'fmt ') rate = b.readUInt32LE(off + 12);
    if (id === 'data') { data = new Int16Array(b.buffer.slice(b.byteOffset + off + 8, b.byteOffset + off + 8 + size)); break; }
    off += 8 + size + (size & 1);
  }
  return { rate, data };
}
function parseCSV(text) {
  const rows = [];
  for (const line of text.split('\n').slice(1)) {
    if (!line.trim()) continue;
    const m = line.match(/^([^,]*),([^,]*),([^,]*)/);
    rows.push([m[1], m[2], m[3]]);
  }
  return rows;
}
function auc(scores, labels) {
  const idx = scores.map((_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let pos = 0, neg = 0, rankSum = 0;
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j < idx.length && scores[idx[j]] === scores[idx[i]]) j++;
    const r = (i + j + 1) / 2;
    for (let k = i; k < j; k++) { if (labels[idx[k]]) { pos++; rankSum += r; } else neg++; }
    i = j;
  }
  return (rankSum - pos * (pos + 1) / 2) / (pos * neg);
}
(async () => {
  const sess = await ort.InferenceSession.create(path.join(__dirname, 'node_modules/@ricky0123/vad-web/dist', modelName || 'silero_vad_v5.onnx'));
  const dir = path.dirname(csvPath);
  const segs = new Map();
  for (const [f, s, e] of parseCSV(fs.readFileSync(csvPath, 'utf8'))) {
    if (!segs.has(f)) segs.set(f, []);
    if (s !== '') segs.get(f).push([+s, +e]);
  }
  const all = [], labels = [];
  let windows = 0; const t0 = process.hrtime.bigint();
  for (const [f, ss] of segs) {
    const { rate, data } = readWav(path.join(dir, f));
    const win = rate === 16000 ? 512 : 256, ctx = rate === 16000 ? 64 : 32;
    let state = new ort.Tensor('float32', new Float32Array(2 * 128), [2, 1, 128]);
    const sr = new ort.Tensor('int64', BigInt64Array.from([BigInt(rate)]), []);
    let context = new Float32Array(ctx);
    const probs = [];
    for (let o = 0; o + win <= data.length; o += win) {
      const x = new Float32Array(ctx + win);
      x.set(context, 0);
      for (let i = 0; i < win; i++) x[ctx + i] = data[o + i] / 32768;
      context = x.slice(x.length - ctx);
      const out = await sess.run({ input: new ort.Tensor('float32', x, [1, ctx + win]), state, sr });
      state = out.stateN;
      probs.push(out.output.data[0]);
      windows++;
    }
    const hop = rate / 50, hops = Math.floor(data.length / hop);
    for (let h = 0; h < hops; h++) {
      const centre = (h + 0.5) * 0.02;
      const w = Math.min(Math.floor(centre * rate / win), probs.length - 1);
      all.push(probs[Math.max(w, 0)] ?? 0);
      labels.push(ss.some(([s, e]) => centre >= s && centre < e));
    }
  }
  const ns = Number(process.hrtime.bigint() - t0) / windows;
  let tp = 0, fp = 0, fn = 0;
  for (let i = 0; i < all.length; i++) { const p = all[i] >= 0.5; if (p && labels[i]) tp++; else if (p) fp++; else if (labels[i]) fn++; }
  console.log(JSON.stringify({ model: modelName || 'silero_vad_v5.onnx', hops: all.length, roc_auc: auc(all, labels), precision: tp / (tp + fp), recall: tp / (tp + fn), ns_per_window: ns }));
})();
