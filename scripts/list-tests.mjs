// Prints every *.test.ts under src/ and test/ (Node 20's --test has no glob support).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const only = process.argv[2];
const files = [...walk('src', []), ...walk('test', [])].filter((f) => !only || f.includes(only)).sort();
process.stdout.write(files.join(' '));
