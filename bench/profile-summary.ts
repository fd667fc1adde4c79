// Summarises a V8 .cpuprofile (from `npm run bench -- --cpu-prof`): self time by function and by file,
// so the hot path's avoidable work stands out. Usage: node --import tsx bench/profile-summary.ts FILE [N]

import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
  children?: number[];
}

const [file, top = '30'] = process.argv.slice(2);
const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
// Percentages are of busy time: idle samples (the process waiting on the network) are left out.
const idle = profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').reduce((s, n) => s + n.hitCount, 0);
const total = profile.samples.length - idle;
const byFunction = new Map<string, number>();
const byFile = new Map<string, number>();
for (const node of profile.nodes) {
  if (node.callFrame.functionName === '(idle)') continue;
  const url = node.callFrame.url.replace(/^.*node_modules\//, 'npm:').replace(/^file:\/\/.*?\/(dist|src)\//, '$1/');
  const name = `${node.callFrame.functionName || '(anonymous)'}  ${url}:${node.callFrame.lineNumber + 1}`;
  byFunction.set(name, (byFunction.get(name) ?? 0) + node.hitCount);
  const pkg = url.startsWith('npm:') ? url.split('/').slice(0, url.startsWith('npm:@') ? 2 : 1).join('/') : url || node.callFrame.functionName;
  byFile.set(pkg, (byFile.get(pkg) ?? 0) + node.hitCount);
}
const show = (title: string, map: Map<string, number>) => {
  process.stdout.write(`\n${title}\n`);
  for (const [name, hits] of [...map].sort((a, b) => b[1] - a[1]).slice(0, Number(top))) {
    process.stdout.write(`${((hits / total) * 100).toFixed(1).padStart(5)} %  ${name}\n`);
  }
};
// Inclusive time of the gateway's own functions (its code and what it calls), counted once per sample stack.
const parent = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
const nodesById = new Map(profile.nodes.map((n) => [n.id, n]));
const inclusive = new Map<string, number>();
for (const node of profile.nodes) {
  if (!node.hitCount) continue;
  const seen = new Set<string>();
  for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
    const frame = nodesById.get(id)!.callFrame;
    if (!/\/(dist|src)\//.test(frame.url) || frame.url.includes('node_modules')) continue;
    const name = `${frame.functionName || '(anonymous)'}  ${frame.url.replace(/^file:\/\/.*?\/(dist|src)\//, '$1/')}:${frame.lineNumber + 1}`;
    if (seen.has(name)) continue;
    seen.add(name);
    inclusive.set(name, (inclusive.get(name) ?? 0) + node.hitCount);
  }
}
show('Self time by function', byFunction);
show('Inclusive time of the gateway code', inclusive);
show('Self time by file or package', byFile);
