// Resident memory of a browser's processes, by kind, for the memory bounds of issue 18
// (memory.test.js) and the benchmarks (bench-hash-page.mjs, bench-decrypt.mjs). Read from
// /proc: the browser is a descendant of this Node process (the drivers spawn it). Not from
// `ps`: the samplers run while what they measure runs, and spawning `ps` from Node cost about
// 6 ms of CPU a sample (12 % of a core at one sample every 50 ms, on a 2-core machine);
// reading /proc as here, under 1 ms (parents and command lines read once per process).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

const PAGE_KIB = Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' })) / 1024;
/**
 * What does not change in a process, by pid, read when it is first seen: its parent and
 * command line. Forgotten when the pid is gone.
 * @type {Map<number, {ppid: number, args: string}>}
 */
const known = new Map();

/**
 * `root` and its descendants: pid, parent, resident memory (KiB) and command line, as `ps -o
 * pid=,ppid=,rss=,args=` gives them. One pass over /proc: every pid listed (a new one's parent
 * and command line read once), the memory read for the tree only. A process that ends
 * meanwhile is left out.
 * @param {number} root
 * @returns {{pid: number, ppid: number, rss: number, args: string}[]}
 */
function tree(root) {
  const pids = fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number);
  const alive = new Set(pids);
  for (const pid of known.keys()) if (!alive.has(pid)) known.delete(pid);
  const children = new Map();
  for (const pid of pids) {
    let p = known.get(pid);
    if (!p) {
      try {
        // proc(5): the command name (field 2) is in parentheses and may hold anything; the
        // fields after its last ')' start with field 3 (state), then ppid.
        const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        const args = fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0$/, '').replaceAll('\0', ' ');
        known.set(pid, (p = { ppid, args }));
      } catch {
        continue; // gone
      }
    }
    children.set(p.ppid, [...(children.get(p.ppid) ?? []), pid]);
  }
  const rows = [];
  const stack = [root];
  while (stack.length) {
    const pid = /** @type {number} */ (stack.pop());
    stack.push(...(children.get(pid) ?? []));
    const p = known.get(pid);
    try {
      // statm: size, resident (pages), ...: the rss `ps` shows.
      const rss = Number(fs.readFileSync(`/proc/${pid}/statm`, 'latin1').split(' ')[1]) * PAGE_KIB;
      rows.push({ pid, ppid: p?.ppid ?? 0, rss, args: p?.args ?? '' });
    } catch {
      // gone
    }
  }
  return rows;
}

/**
 * Resident memory (KiB) of `root`'s descendants, by kind: `page` (Chromium: renderers other
 * than the extension's; Firefox: every content process, whose command lines do not say
 * which is the extension's), `extension` (Chromium's extension process), `other` (the
 * browser process, GPU, network, utilities). The host and Node processes are left out.
 * `each`: every process counted, by pid, with its kind.
 * @returns {{page: number, extension: number, other: number, each: Record<number, {kind: 'page' | 'extension' | 'other', rss: number}>}}
 */
export function memoryByKind(root = process.pid) {
  const out = { page: 0, extension: 0, other: 0, each: /** @type {Record<number, {kind: 'page' | 'extension' | 'other', rss: number}>} */ ({}) };
  for (const r of tree(root)) {
    if (r.pid === root || /paraphe-host|^node /.test(r.args)) continue;
    const kind = /--extension-process/.test(r.args) ? 'extension'
      : /--type=renderer|-contentproc.*\btab$/.test(r.args) ? 'page' : 'other';
    out[kind] += r.rss;
    out.each[r.pid] = { kind, rss: r.rss };
  }
  return out;
}

/**
 * Starts sampling memoryByKind every 50 ms; the returned function stops and gives, in MiB,
 * the peak growth of each kind over the start, `onePage`: the largest peak growth of one
 * process of the `page` kind (in Firefox, whose `page` sums every content process, the
 * figure for « every process »), and `started`: the peak memory of the processes that
 * started meanwhile, which the kinds leave out. Browsers keep a spare content process or
 * renderer ready and start the next one when a tab takes it, on their own time: in Firefox
 * that one came up in the middle of reading a file (76 MiB, the size of an idle content
 * process), and counted from nothing it made the page API's growth « +76 MiB » at 100 MiB
 * in some runs. No process is started by the work measured here (workers are threads; the
 * consent window and the pages are open before the sampling starts).
 * @returns {() => {page: number, extension: number, other: number, onePage: number, started: number}}
 */
export function sampleMemory(root = process.pid) {
  const { each: before } = memoryByKind(root);
  const sums = (/** @type {Record<number, {kind: string, rss: number}>} */ each) => {
    const out = { page: 0, extension: 0, other: 0 };
    for (const [pid, { kind, rss }] of Object.entries(each)) if (before[pid]) out[kind] += rss;
    return out;
  };
  const base = sums(before);
  const peak = { ...base };
  /** Peak RSS of each process, those there at the start and those started since. */
  const top = /** @type {Record<number, number>} */ ({});
  const tick = () => {
    const { each } = memoryByKind(root);
    const now = sums(each);
    for (const k of Object.keys(peak)) peak[k] = Math.max(peak[k], now[k]);
    for (const [pid, { rss }] of Object.entries(each)) top[pid] = Math.max(top[pid] ?? 0, rss);
  };
  const timer = setInterval(tick, 50);
  return () => {
    clearInterval(timer);
    tick();
    let onePage = 0;
    let started = 0;
    for (const [pid, rss] of Object.entries(top)) {
      const was = before[pid];
      if (!was) started += rss;
      else if (was.kind === 'page') onePage = Math.max(onePage, rss - was.rss);
    }
    return { ...Object.fromEntries(Object.keys(peak).map((k) => [k, (peak[k] - base[k]) / 1024])), onePage: onePage / 1024, started: started / 1024 };
  };
}

/**
 * Peak growth of each kind while `big()` runs, over its growth while `small()` runs: what
 * the larger input adds, without what both share (a consent window, the request itself).
 */
export async function growthOver(small, big, root = process.pid) {
  const a = await sampled(small, root);
  const b = await sampled(big, root);
  // What started meanwhile is not a difference: what started during `big()`.
  return Object.fromEntries(Object.keys(b).map((k) => [k, k === 'started' ? b[k] : b[k] - a[k]]));
}

/**
 * The peak growth of each kind while `fn()` runs. The sampling stops whatever `fn` does: a
 * sampler left running when `fn` threw kept its test file's process alive for ever, and with
 * it the CI run (ea487db).
 */
async function sampled(fn, root) {
  const stop = sampleMemory(root);
  try {
    await fn();
  } catch (e) {
    stop();
    throw e;
  }
  return stop();
}
